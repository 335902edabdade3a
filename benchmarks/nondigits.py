"""Things people draw on the page that are not digits, as 280x280 canvases (dark ink on white).

`nondigits(seed)` gives (name, image) pairs, the family being the name's part before "/":
dots, specks, lines, letters (pen strokes), font letters, scribbles, shapes and noise. Strokes
use the page's round pen, 7.5 % of the canvas (21 px), varied a little, and are anti-aliased
as a browser canvas draws them (drawn at 4x, box-averaged down). `digit_like(seed)` gives the
controls that ARE digits to the network and to a person: a vertical stroke (a 1), a ring
(a 0), the letters O, I, S, Z, B, G. They are reported apart, never counted as non-digits.

`preprocess(image)` sends a canvas through what the API does to an upload (`read_digit`).
"""

from __future__ import annotations

import io
import math

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from app.explorer.digits import DIGIT_WORK_SIDE, read_digit
from app.imaging.decode import decode_to_array
from app.imaging.errors import ImageInputError
from app.imaging.preprocess import Preprocessed, PreprocessOptions

CANVAS = 280
PEN = 0.075  # the page's stroke width as a fraction of the canvas (static/js/draw.js, LINE)
MAX_PIXELS = 40_000_000  # far above a canvas: the decoder's size limit never applies
SUPER = 4  # drawn at 4x and box-averaged down: the anti-aliased rim of a canvas stroke

# Letters as pen strokes, the way people print them: "x,y x,y ... | next stroke", in percent
# of the box (y down).
PEN_LETTERS = {
    "A": "20,90 50,10 80,90 | 32,60 68,60",
    "C": "78,22 60,10 35,14 20,40 22,68 40,88 65,90 80,78",
    "E": "75,10 25,10 25,90 75,90 | 25,50 65,50",
    "F": "75,10 25,10 25,90 | 25,50 65,50",
    "H": "22,10 22,90 | 78,10 78,90 | 22,50 78,50",
    "K": "25,10 25,90 | 75,10 25,55 | 40,45 78,90",
    "M": "15,90 20,10 50,60 80,10 85,90",
    "N": "22,90 22,10 78,90 78,10",
    "P": "25,90 25,10 60,10 75,22 75,38 60,50 25,50",
    "R": "25,90 25,10 60,10 75,22 75,38 60,50 25,50 | 45,50 78,90",
    "T": "15,10 85,10 | 50,10 50,90",
    "U": "22,10 22,70 35,88 65,88 78,70 78,10",
    "V": "18,10 50,90 82,10",
    "W": "10,10 30,90 50,35 70,90 90,10",
    "Y": "20,10 50,50 80,10 | 50,50 50,90",
    "e": "25,55 75,55 70,35 50,28 30,38 25,60 35,82 55,88 75,80",
    "h": "28,5 28,90 | 28,55 45,40 65,42 72,60 72,90",
    "k": "30,5 30,90 | 70,35 30,65 | 42,56 72,90",
    "m": "15,35 15,90 | 15,45 30,35 45,45 45,90 | 45,45 60,35 75,45 75,90",
    "w": "12,35 30,88 50,50 70,88 88,35",
}
# Letters that are digits to anyone: counted as controls, not as non-digits.
LOOKALIKE_LETTERS = {
    "O": "50,8 25,20 18,50 25,80 50,92 75,80 82,50 75,20 50,8",
    "I": "30,10 70,10 | 50,10 50,90 | 30,90 70,90",
    "S": "75,20 55,10 32,15 28,35 50,50 72,65 68,85 45,92 25,80",
    "Z": "20,10 80,10 20,90 80,90",
    "B": "25,90 25,10 60,10 72,20 72,38 58,48 25,48 | 58,48 76,60 76,80 60,90 25,90",
    "G": "78,22 60,10 35,14 20,40 22,68 40,88 65,90 80,75 80,55 55,55",
}
# Printed letters (Pillow's built-in font) without an obvious digit twin.
FONT_LETTERS = "AEFHKMNPRTVWXYacefhkmnrtuvwxy"


def nondigits(seed: int = 0) -> list[tuple[str, Image.Image]]:
    """Every family, in a fixed order; the same seed gives the same pixels."""
    rng = np.random.default_rng(seed)
    out = []
    for family in (dots, specks, lines, pen_letters, font_letters, scribbles, shapes, noise):
        out += family(rng)
    return out


def digit_like(seed: int = 0) -> list[tuple[str, Image.Image]]:
    """Controls that a network is right to read as digits: a 1, a 0 and lookalike letters."""
    rng = np.random.default_rng(seed + 1)
    out = []
    for i in range(6):
        tilt = rng.uniform(-12, 12)
        out.append(
            (f"digit-like/vertical-stroke-{i}", _draw([_line(0.5, 0.5, 0.6, 90 + tilt)], rng))
        )
    for i in range(6):
        out.append(
            (f"digit-like/ring-{i}", _draw([_ellipse(0.5, 0.5, 0.22, 0.3)], rng, jitter=True))
        )
    for name, strokes in LOOKALIKE_LETTERS.items():
        for i in range(2):
            out.append((f"digit-like/letter-{name}-{i}", _draw(_parse(strokes), rng, jitter=True)))
    return out


def preprocess(image: Image.Image) -> Preprocessed | None:
    """What /api/predict does to a canvas sent as a PNG (decode, shrink, read_digit with the
    default options); None when it refuses the picture as blank (422)."""
    buf = io.BytesIO()
    image.save(buf, "PNG")
    try:
        gray = decode_to_array(buf.getvalue(), MAX_PIXELS, DIGIT_WORK_SIDE, "gray")
        return read_digit(gray, None, PreprocessOptions())
    except ImageInputError:
        return None


# ------------------------------------------------------------------ families


def dots(rng) -> list:
    """One round dot: from a 5 px pin-prick to a tap of the page's pen (21 px) and bigger."""
    out = []
    for i, d in enumerate((5, 6, 8, 10, 12, 15, 18, 21, 21, 21, 21, 24, 28, 32, 40, 50)):
        x, y = rng.uniform(0.15, 0.85, 2)
        r = d / 2 / CANVAS
        out.append(
            (f"dots/{d}px-{i}", _draw([[(x - r / 10, y), (x + r / 10, y)]], rng, width=d / CANVAS))
        )
    for i in range(4):  # two or three taps
        pts = rng.uniform(0.2, 0.8, (2 + i % 2, 2))
        out.append((f"dots/taps-{i}", _draw([[tuple(p)] for p in pts], rng)))
    return out


def specks(rng) -> list:
    """Blank-ish canvases: a few specks of 1-4 px, sometimes grey."""
    out = []
    for i in range(10):
        img = Image.new("L", (CANVAS, CANVAS), 255)
        draw = ImageDraw.Draw(img)
        for _ in range(1 + i % 4):
            x, y = rng.integers(10, CANVAS - 10, 2)
            s = int(rng.integers(1, 5))
            draw.ellipse([x, y, x + s, y + s], fill=int(rng.choice([17, 17, 120])))
        out.append((f"specks/{i}", img))
    return out


def lines(rng) -> list:
    """Straight strokes from horizontal to 40 degrees off it; steeper ones read as a 1."""
    out = []
    for i, angle in enumerate(
        (0, 0, 10, -10, 20, -20, 30, -30, 40, -40, 5, -5, 15, -15, 25, -25, 35, -35, 0, 40)
    ):
        length = rng.uniform(0.3, 0.8)
        cx, cy = rng.uniform(0.35, 0.65, 2)
        out.append((f"lines/{angle:+d}deg-{i}", _draw([_line(cx, cy, length, angle)], rng)))
    return out


def pen_letters(rng) -> list:
    out = []
    for name, strokes in PEN_LETTERS.items():
        out.append((f"letters/{name}", _draw(_parse(strokes), rng, jitter=True)))
    return out


def font_letters(rng) -> list:
    font = ImageFont.load_default(size=180)
    out = []
    for ch in FONT_LETTERS:
        img = Image.new("L", (CANVAS, CANVAS), 255)
        draw = ImageDraw.Draw(img)
        left, top, right, bottom = draw.textbbox((0, 0), ch, font=font)
        x = (CANVAS - (right - left)) / 2 - left + rng.uniform(-30, 30)
        y = (CANVAS - (bottom - top)) / 2 - top + rng.uniform(-30, 30)
        draw.text(
            (x, y), ch, fill=17, font=font, stroke_width=int(rng.integers(2, 7)), stroke_fill=17
        )
        out.append((f"font letters/{ch}", img))
    return out


def scribbles(rng) -> list:
    out = []
    for i in range(8):  # zig-zags
        teeth = int(rng.integers(3, 9))
        x = np.linspace(0.15, 0.85, 2 * teeth + 1)
        amp = rng.uniform(0.08, 0.3)
        y = 0.5 + amp * np.where(np.arange(x.size) % 2, 1, -1)
        out.append(
            (
                f"scribbles/zigzag-{i}",
                _draw([list(zip(x, y, strict=True))], rng, jitter=True, rotate=True),
            )
        )
    for i in range(8):  # random walks
        pts = np.clip(
            0.5 + np.cumsum(rng.normal(0, 0.15, (int(rng.integers(6, 14)), 2)), axis=0), 0.1, 0.9
        )
        out.append((f"scribbles/walk-{i}", _draw([_smooth(pts)], rng)))
    for i in range(6):  # loops, as "eeee" or a telephone cord
        t = np.linspace(0, 2 * math.pi * rng.integers(3, 7), 200)
        x = 0.15 + 0.7 * t / t[-1] + 0.07 * np.cos(t)
        y = 0.5 + rng.uniform(0.08, 0.18) * np.sin(t)
        out.append(
            (f"scribbles/loops-{i}", _draw([list(zip(x, y, strict=True))], rng, rotate=True))
        )
    for i in range(6):  # scratched-out: back and forth over one patch
        n = int(rng.integers(6, 14))
        x = np.where(np.arange(n) % 2, 0.75, 0.25) + rng.normal(0, 0.04, n)
        y = np.linspace(0.3, 0.7, n) + rng.normal(0, 0.03, n)
        out.append(
            (f"scribbles/scratch-{i}", _draw([list(zip(x, y, strict=True))], rng, rotate=True))
        )
    return out


def shapes(rng) -> list:
    t = np.linspace(0, 2 * math.pi, 120)
    kinds = {
        "x": lambda: [_line(0.5, 0.5, 0.7, 45), _line(0.5, 0.5, 0.7, -45)],
        "plus": lambda: [_line(0.5, 0.5, 0.7, 0), _line(0.5, 0.5, 0.7, 90)],
        "smiley": lambda: [
            _ellipse(0.5, 0.5, 0.38, 0.38),
            [(0.38, 0.38), (0.385, 0.38)],
            [(0.62, 0.38), (0.625, 0.38)],
            list(
                zip(
                    0.5 + 0.2 * np.cos(t[5:55] / 2 + 0.3),
                    0.55 + 0.15 * np.sin(t[5:55] / 2 + 0.3),
                    strict=True,
                )
            ),
        ],
        "triangle": lambda: [[(0.5, 0.15), (0.85, 0.8), (0.15, 0.8), (0.5, 0.15)]],
        "square": lambda: [[(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8), (0.2, 0.2)]],
        "star": lambda: [
            [
                (
                    0.5 + 0.38 * math.sin(k * 4 * math.pi / 5),
                    0.52 - 0.38 * math.cos(k * 4 * math.pi / 5),
                )
                for k in range(6)
            ]
        ],
        "spiral": lambda: [
            list(
                zip(0.5 + t * 3 / 60 * np.cos(t * 3), 0.5 + t * 3 / 60 * np.sin(t * 3), strict=True)
            )
        ],
        "hash": lambda: [
            _line(0.5, 0.37, 0.7, 0),
            _line(0.5, 0.63, 0.7, 0),
            _line(0.37, 0.5, 0.7, 80),
            _line(0.63, 0.5, 0.7, 80),
        ],
        "heart": lambda: [
            list(
                zip(
                    0.5 + 0.025 * 16 * np.sin(t) ** 3,
                    0.45
                    - 0.025
                    * (13 * np.cos(t) - 5 * np.cos(2 * t) - 2 * np.cos(3 * t) - np.cos(4 * t)),
                    strict=True,
                )
            )
        ],
    }
    out = []
    for name, make in kinds.items():
        for i in range(4):
            out.append((f"shapes/{name}-{i}", _draw(make(), rng, jitter=True, rotate=i > 1)))
    return out


def noise(rng) -> list:
    out = []
    for i in range(3):  # grey noise over the whole canvas
        a = rng.uniform(0, 255, (CANVAS, CANVAS))
        out.append((f"noise/grey-{i}", Image.fromarray(a.astype(np.uint8))))
    for i in range(3):  # salt and pepper on white paper
        a = np.where(rng.random((CANVAS, CANVAS)) < 0.02 * (i + 1), 17, 255)
        out.append((f"noise/pepper-{i}", Image.fromarray(a.astype(np.uint8))))
    for i in range(4):  # many short random strokes over the canvas
        strokes = [
            [tuple(p), tuple(p + rng.normal(0, 0.08, 2))]
            for p in rng.uniform(0.1, 0.9, (int(rng.integers(8, 20)), 2))
        ]
        out.append((f"noise/strokes-{i}", _draw(strokes, rng, width=0.03)))
    for i in range(3):  # blotches: a smoothed random field, thresholded
        a = rng.random((CANVAS // 20, CANVAS // 20))
        img = Image.fromarray((a * 255).astype(np.uint8)).resize(
            (CANVAS, CANVAS), Image.Resampling.BICUBIC
        )
        out.append((f"noise/blotches-{i}", img.point(lambda v: 17 if v > 150 else 255)))
    return out


# ------------------------------------------------------------------ drawing


def _parse(strokes: str) -> list:
    """ "20,90 50,10 | 32,60 68,60" -> polylines in 0..1 coordinates."""
    return [
        [tuple(int(v) / 100 for v in point.split(",")) for point in stroke.split()]
        for stroke in strokes.split("|")
    ]


def _line(cx: float, cy: float, length: float, degrees: float) -> list:
    """A segment through (cx, cy); degrees from horizontal, counter-clockwise on screen."""
    dx = length / 2 * math.cos(math.radians(degrees))
    dy = -length / 2 * math.sin(math.radians(degrees))
    return [(cx - dx, cy - dy), (cx + dx, cy + dy)]


def _ellipse(cx: float, cy: float, rx: float, ry: float) -> list:
    t = np.linspace(0, 2 * math.pi, 90)
    return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t), strict=True))


def _smooth(pts: np.ndarray) -> list:
    """Chaikin corner cutting, twice: a hand's curve through random points."""
    for _ in range(2):
        q = 0.75 * pts[:-1] + 0.25 * pts[1:]
        r = 0.25 * pts[:-1] + 0.75 * pts[1:]
        pts = np.vstack([pts[:1], np.column_stack([q, r]).reshape(-1, 2), pts[-1:]])
    return [tuple(p) for p in pts]


def _draw(
    strokes, rng, width: float | None = None, jitter: bool = False, rotate: bool = False
) -> Image.Image:
    """Polylines in 0..1 coordinates with a round pen on a white canvas ("L", 17 = ink).

    jitter: a random scale (0.55-1) and shift; rotate: a random turn about the centre. The pen
    is the page's, 80-120 % of it, unless `width` (a fraction of the canvas) is given.
    """
    pen = width if width is not None else PEN * rng.uniform(0.8, 1.2)
    pts = [np.asarray(s, dtype=np.float64).reshape(-1, 2) for s in strokes]
    if rotate:
        a = rng.uniform(0, 2 * math.pi)
        turn = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        pts = [(p - 0.5) @ turn.T + 0.5 for p in pts]
    if jitter:
        scale = rng.uniform(0.55, 1.0)
        shift = rng.uniform(-(1 - scale) / 2, (1 - scale) / 2, 2)
        pts = [(p - 0.5) * scale + 0.5 + shift for p in pts]
    side = CANVAS * SUPER
    img = Image.new("L", (side, side), 255)
    draw = ImageDraw.Draw(img)
    w = max(1.0, pen * side)
    for p in pts:
        xy = [tuple(v) for v in p * side]
        if len(xy) > 1:
            draw.line(xy, fill=17, width=round(w), joint="curve")
        for x, y in xy if len(xy) <= 2 else (xy[0], xy[-1]):  # round caps (and dots)
            draw.ellipse([x - w / 2, y - w / 2, x + w / 2, y + w / 2], fill=17)
    return img.resize((CANVAS, CANVAS), Image.Resampling.BOX)


FAMILIES = ("dots", "specks", "lines", "letters", "font letters", "scribbles", "shapes", "noise")
