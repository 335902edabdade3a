"""MNIST-style preprocessing: what turns a canvas drawing or a photo into the input the net knows.

MNIST digits are white ink on black; the ink's bounding box was scaled so its longer side is
20 px (aspect kept, anti-aliased) and pasted into 28x28 with the centre of mass at the centre.
A drawing that skips these steps is classified confidently wrong, so each step is kept as a
stage the page can show.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .errors import ImageInputError

SIDE = 28  # MNIST image side
BOX = 20  # MNIST's bounding box side
CENTRE = (SIDE - 1) / 2  # 13.5: the array's centre in pixel-index coordinates
INK = 0.3  # levelled ink above this counts for the bounding box; below is anti-aliasing or noise
MIN_INK_FRACTION = 2e-4  # fewer ink pixels than this (a stray dot) is an empty canvas
MIN_CONTRAST = 0.1  # ink that differs less from the background is no ink
WORK_SIDE = 1024  # larger inputs are box-averaged down first: the 20 px result loses nothing
STAGE_SIDE = 112  # stage images are shrunk to this for display
# "Far from MNIST" warnings. Measured on 3000 MNIST test digits upscaled to 280x280: ink covers
# at most 36% of the image, mid-grey pixels at most 14% of it (99%: 12%), and mid-grey pixels
# outnumber solid ink 2x in 1% of digits. Photos and shaded pictures exceed these clearly.
MAX_COVERAGE = 0.45
MAX_GREY_AREA = 0.18
MAX_GREY_PER_SOLID = 4
LOW_CONTRAST = 0.4


@dataclass(frozen=True)
class PreprocessOptions:
    """Which steps run; the page switches them off one by one to show why each matters."""

    invert: str = "auto"  # "auto": detect dark ink on light paper; "yes" / "no" force it
    crop: bool = True
    scale: bool = True
    center: bool = True

    def __post_init__(self):
        if self.invert not in ("auto", "yes", "no"):
            raise ValueError(f"invert must be 'auto', 'yes' or 'no', not {self.invert!r}")


@dataclass
class Step:
    """One step's result, for the page to show in order."""

    name: str
    title: str
    image: np.ndarray  # (h, w) float32 0..1, 1 = ink


@dataclass
class Preprocessed:
    """The digit the network classifies, and how it got there."""

    digit: np.ndarray  # (28, 28) float32 0..1, 1 = ink: what the net sees
    stages: list[Step]
    inverted: bool
    warnings: list[str]


def preprocess_digit(gray: np.ndarray, options: PreprocessOptions | None = None) -> Preprocessed:
    """gray (H, W) 0..1 with 1 = white (from to_gray) -> the 28x28 digit, MNIST-style.

    Stages: input, polarity, cropped, scaled, then centered (or "placed" when centring is off);
    a step switched off leaves no stage and the next steps work on what they get. Raises
    ImageInputError(422) when there is no ink to read.
    """
    options = options or PreprocessOptions()
    gray = _working_size(np.asarray(gray, dtype=np.float32))
    inverted = _needs_inversion(gray, options.invert)
    raw = 1 - gray if inverted else gray
    ink, background = _level(raw)
    mask = ink > INK
    if np.count_nonzero(mask) < max(1, MIN_INK_FRACTION * mask.size):
        raise _no_ink()
    notes = _warnings(raw, ink, mask, background)
    polarity = "Inverted to white ink on black" if inverted else "White ink on black"
    if background < 0.5:
        polarity += ", background levelled to 0"
    stages = [
        Step("input", "Your image, ink shown white", _thumbnail(raw)),
        Step("polarity", polarity, _thumbnail(ink)),
    ]
    box = ink
    if options.crop:
        box = _crop(ink, mask)
        title = f"Cropped to the ink's bounding box, {box.shape[1]}x{box.shape[0]}"
        stages.append(Step("cropped", title, _thumbnail(box)))
    if options.scale:
        box = _fit(box, BOX)
        title = f"Scaled to {box.shape[1]}x{box.shape[0]}: longer side {BOX} px"
        stages.append(Step("scaled", title, box))
    digit = _place(box, options.center)
    if options.center:
        stages.append(Step("centered", "28x28, centre of mass at the centre", digit))
    else:
        stages.append(Step("placed", "28x28, the box's middle at the centre", digit))
    brightest = float(digit.max())
    if brightest < 0.5:
        notes.append(
            f"the 28x28 digit is faint (brightest pixel {brightest:.2f}): "
            "MNIST strokes are 2-3 px of full white, so draw with a thicker pen"
        )
    return Preprocessed(digit, stages, inverted, notes)


def _working_size(gray: np.ndarray) -> np.ndarray:
    """Box-average a huge photo down first, so every later step is fast and small."""
    factor = math.ceil(max(gray.shape) / WORK_SIDE)
    if factor == 1:
        return gray
    h, w = gray.shape
    return _resize(gray, (max(1, w // factor), max(1, h // factor)), Image.Resampling.BOX)


def _border(a: np.ndarray) -> np.ndarray:
    return np.concatenate([a[0], a[-1], a[1:-1, 0], a[1:-1, -1]])


def _needs_inversion(gray: np.ndarray, invert: str) -> bool:
    """auto: a light border means dark ink on paper (the median ignores strokes that touch it)."""
    if invert != "auto":
        return invert == "yes"
    return float(np.median(_border(gray))) > 0.5


def _level(raw: np.ndarray) -> tuple[np.ndarray, float]:
    """Stretch so the background (the border's median) is 0 and the strongest ink is 1.

    MNIST backgrounds are exactly 0; photographed paper is never pure white. A light
    background, left after forcing the polarity against the picture, is kept as it is (but a
    blank image is blank whatever its shade).
    """
    background = float(np.median(_border(raw)))
    peak = float(raw.max())
    lowest = background if background < 0.5 else float(raw.min())
    if peak - lowest < MIN_CONTRAST:
        raise _no_ink()
    if background >= 0.5:
        return raw, background
    return np.clip((raw - background) / (peak - background), 0, 1), background


def _no_ink() -> ImageInputError:
    return ImageInputError(
        422,
        "the image has no ink to read: draw a digit, or send a picture of one on a plain "
        "background",
    )


def _warnings(raw: np.ndarray, ink: np.ndarray, mask: np.ndarray, background: float) -> list[str]:
    """Short notes when the picture is far from MNIST; it is still classified."""
    notes = []
    if background >= 0.5:
        notes.append(
            "the background is light: the network was trained on white digits on black "
            "(try invert=auto)"
        )
    elif float(raw.max()) - background < LOW_CONTRAST:
        notes.append("low contrast: the ink is barely darker than the paper")
    coverage = np.count_nonzero(mask) / mask.size
    if coverage > MAX_COVERAGE:
        notes.append(
            f"ink covers {coverage:.0%} of the image; MNIST digits are strokes on an empty "
            "background (a photo? crop it to the digit)"
        )
    greys = np.count_nonzero((ink > 0.1) & (ink < 0.6))
    solid = np.count_nonzero(ink >= 0.6)
    if greys > MAX_GREY_AREA * ink.size or greys > MAX_GREY_PER_SOLID * solid:
        notes.append(
            "many mid-grey pixels: this looks like a photo or shading, not the clean strokes "
            "of MNIST"
        )
    return notes


def _crop(ink: np.ndarray, mask: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _fit(box: np.ndarray, side: int) -> np.ndarray:
    """Scale so the longer side is `side`, aspect kept: area-averaged when shrinking (MNIST's
    anti-aliasing), bilinear when growing."""
    h, w = box.shape
    ratio = side / max(h, w)
    size = (max(1, round(w * ratio)), max(1, round(h * ratio)))
    shrink = ratio < 1
    return _resize(box, size, Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR)


def _thumbnail(a: np.ndarray) -> np.ndarray:
    h, w = a.shape
    if max(h, w) <= STAGE_SIDE:
        return a
    ratio = STAGE_SIDE / max(h, w)
    size = (max(1, round(w * ratio)), max(1, round(h * ratio)))
    return _resize(a, size, Image.Resampling.BOX)


def _resize(a: np.ndarray, size: tuple[int, int], resample: Image.Resampling) -> np.ndarray:
    """Pillow's resize on a float32 ("F") image: C speed, no 8-bit rounding."""
    img = Image.fromarray(np.ascontiguousarray(a, dtype=np.float32), mode="F")
    return np.asarray(img.resize(size, resample))


def _place(box: np.ndarray, center: bool) -> np.ndarray:
    """Paste box into 28x28 with its centre of mass (or its middle) on the array's centre.

    Integer shifts, as MNIST. A box that fits stays whole (the shift is limited); a larger one
    (scaling off) is cut to the 28x28 window around that point.
    """
    h, w = box.shape
    anchor = _centre_of_mass(box) if center else ((h - 1) / 2, (w - 1) / 2)
    (dst_y, src_y), (dst_x, src_x) = _span(h, anchor[0]), _span(w, anchor[1])
    digit = np.zeros((SIDE, SIDE), dtype=np.float32)
    digit[dst_y, dst_x] = box[src_y, src_x]
    return digit


def _centre_of_mass(box: np.ndarray) -> tuple[float, float]:
    """(row, column) weighted by ink, as MNIST's centring used the grey values."""
    total = float(box.sum())
    rows = np.arange(box.shape[0], dtype=np.float32) @ box.sum(axis=1)
    cols = np.arange(box.shape[1], dtype=np.float32) @ box.sum(axis=0)
    return float(rows) / total, float(cols) / total


def _span(n: int, anchor: float) -> tuple[slice, slice]:
    """(destination, source) slices along one axis that put `anchor` on CENTRE."""
    offset = math.floor(CENTRE - anchor + 0.5)
    offset = min(max(offset, min(0, SIDE - n)), max(0, SIDE - n))
    start, stop = max(offset, 0), min(offset + n, SIDE)
    return slice(start, stop), slice(start - offset, stop - offset)


def digit_from_pixels(pixels) -> np.ndarray:
    """A JSON-style 28x28 nested list of numbers in 0..1 (1 = ink) -> (28, 28) float32.

    The message of the ImageInputError(422) names the first bad row or value.
    """
    if not isinstance(pixels, list | tuple):
        raise ImageInputError(422, f"pixels must be a list of {SIDE} rows, not {_kind(pixels)}")
    if len(pixels) != SIDE:
        raise ImageInputError(422, f"pixels has {len(pixels)} rows; expected {SIDE}")
    for i, row in enumerate(pixels):
        if not isinstance(row, list | tuple):
            nesting = " (wrong nesting)" if isinstance(row, numbers.Real) else ""
            raise ImageInputError(
                422, f"pixels[{i}] is {_kind(row)}; expected a row of {SIDE} numbers{nesting}"
            )
        if len(row) != SIDE:
            raise ImageInputError(422, f"pixels[{i}] has {len(row)} values; expected {SIDE}")
        for j, value in enumerate(row):
            problem = _pixel_problem(value)
            if problem:
                raise ImageInputError(422, f"pixels[{i}][{j}] {problem}; expected a number in 0..1")
    return np.array(pixels, dtype=np.float32)


def _pixel_problem(value) -> str | None:
    """What is wrong with one value, or None. Comparisons first: huge ints do not fit a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        nested = " (wrong nesting)" if isinstance(value, list | tuple) else ""
        return f"is {_kind(value)}{nested}"
    if 0 <= value <= 1:
        return None
    if value != value:
        return "is NaN"
    if value in (math.inf, -math.inf):
        return f"is {'-' if value < 0 else ''}Infinity"
    shown = f"{value:.6g}" if abs(value) < 1e15 else "a huge number"
    return f"is {shown}, outside 0..1"


def _kind(value) -> str:
    """How a JSON value reads in a message: 'a list', 'a string', 'true (a boolean)'."""
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, numbers.Real):
        return "a number"
    names = {list: "a list", tuple: "a list", dict: "an object", str: "a string"}
    return names.get(type(value), "null" if value is None else f"a {type(value).__name__}")
