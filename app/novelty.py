"""Does the input look like a digit? A warning when it is far from the digits a model learnt.

A network trained on MNIST has no "none of these" answer: it reads a dot as a confident 0 and
an X as a confident 4. Three checks, each calibrated on the TRAINING digits, say when its
answer is a guess:

1. **The network's view** (differs by model). `net.features(x)`, the input of the last affine
   layer, is what the classifier reads. Each class's training features are modelled as a
   Gaussian whose covariance is 8 principal axes plus equal variance across the rest (PPCA).
   The score is the negative log-likelihood under the nearest class: large when the input
   sits where no training digit of any class does. Features are first divided by
   (|f| + m), m being the median training |f|: mostly their direction, which separates
   better than raw features, yet an input that barely activates the layer stays near 0.
2. **The ink's shape** (the same for every model), on the 28x28 input: strokes thicker than
   99.9 % of training digits' (a filled blob), more separate pieces than 99.9 % of them (a
   smiley's eyes and mouth, scattered specks), or an Euler number (pieces minus enclosed
   holes) outside what 99.8 % of them have (a spiral's many loops).
3. **A tiny mark** (from the preprocessing stages): a mark a few percent of the picture wide
   that cropping and scaling blew up to a full digit.

`calibrate` fits 1 and 2 on five training digits in six and picks the score threshold so that
checks 1 and 2 together flag 1.5 % (`FLAG_RATE`) of the sixth: the false alarms accepted, by
design. The result is a JSON-ready dict (about 9 000 numbers for 100 features), stored in each
model's metadata under "novelty". `assess` applies it; `tiny_mark_warnings` is check 3;
`warnings_for` gives the API's sentences for one preprocessed input.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from app.imaging.preprocess import BOX, SIDE, Preprocessed

VERSION = 1
AXES = 8  # principal axes per class; the other D - 8 directions share one variance
FLAG_RATE = 0.015  # share of held-out training digits flagged: under 2 % of test digits
INK_LEVEL = 0.5  # a pixel of the 28x28 input above this is solid ink
INK_TAIL = 0.001  # an ink rule fires beyond what 99.9 % of training digits do (each tail)
TINY_MARK = 0.10  # a mark whose longer side is under 10 % of the picture's is tiny
# (the page's pen is 7.5 % of the canvas: one tap is under it, any digit drawn is far above)
DIGITS = 10
SIGNIFICANT = 4  # digits kept for each stored number: the metadata stays readable and small
BATCH = 1000
HOLD_OUT = 6  # one training digit in 6 sets the threshold, the other 5 fit the class models


@dataclass
class Finding:
    """What `assess` says about one input."""

    score: float  # the network's-view score (larger = further from the training digits)
    threshold: float  # scores above it are flagged
    percentile: float  # share of training digits with a lower score, 0..100
    flagged: bool  # any check fired
    reasons: list[str]  # one phrase per check that fired
    warning: str | None  # the sentence to show, when flagged

    def to_dict(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------ calibration


def calibrate(
    net,
    train_images: np.ndarray,
    train_labels: np.ndarray,
    flag_rate: float = FLAG_RATE,
    axes: int = AXES,
) -> dict:
    """Fit the checks on training digits (N, 1, 28, 28) and their labels -> a JSON-ready dict.

    The threshold is computed with the rounded numbers that are stored, so a model flags
    `flag_rate` of these digits whichever copy of the calibration it reads.
    """
    calibration, scores, by_ink = fit(net, train_images, train_labels, axes)
    return set_threshold(calibration, scores, by_ink, flag_rate)


def fit(net, train_images: np.ndarray, train_labels: np.ndarray, axes: int = AXES):
    """The calibration without its threshold, and the held-out training digits' scores and
    ink flags, from which set_threshold picks it.

    Every HOLD_OUT-th digit is kept out of the class models: a model scores the digits it was
    fitted on as closer than new ones, so a threshold taken on them would flag more test
    digits than intended (with 1000 digits, 9 % instead of 1.5 %).
    """
    train_labels = np.asarray(train_labels)
    features = _features(net, train_images)
    offset = _round(np.median(np.linalg.norm(features, axis=1)))
    z = _squash(features, offset)
    held = np.arange(len(z)) % HOLD_OUT == HOLD_OUT - 1
    thickness, euler = ink_statistics(train_images)
    pieces = ink_pieces(train_images)
    calibration = {
        "version": VERSION,
        "method": "per-class PPCA on penultimate features / (|f| + offset), plus ink rules",
        "features": int(features.shape[1]),
        "offset": offset,
        "classes": [_fit_class(z[~held & (train_labels == c)], axes) for c in range(DIGITS)],
        "ink": {
            "max_thickness": int(np.quantile(thickness, 1 - INK_TAIL, method="higher")),
            "euler_range": [
                int(np.quantile(euler, INK_TAIL, method="lower")),
                int(np.quantile(euler, 1 - INK_TAIL, method="higher")),
            ],
            "max_pieces": int(np.quantile(pieces, 1 - INK_TAIL, method="higher")),
        },
        "fitted_on": int(np.count_nonzero(~held)),
    }
    rules = _ink_rules(thickness[held], euler[held], calibration["ink"], pieces[held])
    return calibration, _scores(z[held], calibration), np.logical_or.reduce(list(rules.values()))


def set_threshold(calibration: dict, scores: np.ndarray, by_ink: np.ndarray, flag_rate: float):
    """A copy of calibration whose threshold flags `flag_rate` of the held-out training digits,
    counting those the ink rules flag already."""
    ink_rate = float(by_ink.mean())
    rest = max(flag_rate - ink_rate, 0) / max(1 - ink_rate, 1e-9)  # share left to the score
    threshold = float(np.quantile(scores[~by_ink], 1 - rest)) if rest > 0 else float("inf")
    threshold = _round(threshold)
    flagged = by_ink | (scores > threshold)
    return {
        **calibration,
        "threshold": threshold,
        "flag_rate": flag_rate,
        "held_out": int(len(scores)),
        "held_out_flagged": round(float(flagged.mean()), 5),
        # 101 quantiles of their scores: enough to say "further than 99 % of training digits"
        "train_score_percentiles": [_round(q) for q in np.quantile(scores, np.linspace(0, 1, 101))],
    }


def _fit_class(z: np.ndarray, axes: int) -> dict:
    """Mean, the top `axes` principal directions with their variances, the rest's variance."""
    d = z.shape[1]
    axes = min(axes, d - 1, max(len(z) - 2, 1))
    mean = z.mean(axis=0)
    centred = z - mean
    w, v = np.linalg.eigh(centred.T @ centred / max(len(z) - 1, 1))
    w, v = w[::-1], v[:, ::-1]
    floor = 1e-6 * max(float(w.mean()), 1e-12)  # dead units have no variance at all
    return {
        "mean": _round(mean),
        "axes": _round(v[:, :axes].T),
        "variances": _round(np.maximum(w[:axes], floor)),
        "residual_variance": _round(max(float(w[axes:].mean()), floor)),
    }


# ------------------------------------------------------------------ assessment


def assess(
    net, digits: np.ndarray, calibration: dict, features: np.ndarray | None = None
) -> list[Finding]:
    """digits (N, 1, 28, 28) or (N, 28, 28), 1 = ink -> one Finding per digit."""
    x = np.asarray(digits, dtype=np.float32).reshape(-1, 1, SIDE, SIDE)
    scores, rules = score(net, x, calibration, features)
    threshold = float(calibration["threshold"])
    table = np.asarray(calibration["train_score_percentiles"])
    findings = []
    for i, value in enumerate(scores):
        percentile = float(np.interp(value, table, np.linspace(0, 100, table.size)))
        reasons = [_ink_phrase(rule, x[i]) for rule, fired in rules.items() if fired[i]]
        reasons = list(dict.fromkeys(reasons))  # two rules about pieces say the same thing
        if value > threshold:
            than = (
                "any training digit"
                if value > table[-1]
                else f"{percentile:.1f} % of the training digits"
            )
            reasons.append(
                f"the network's hidden layer places it further from the digits it learnt "
                f"than {than}"
            )
        warning = None
        if reasons:
            warning = (
                "this does not look like a digit: " + "; ".join(reasons) + ". The network "
                "can only answer 0-9, so its answer is a guess however sure it seems"
            )
        findings.append(
            Finding(float(value), threshold, percentile, bool(reasons), reasons, warning)
        )
    return findings


def flags(net, digits: np.ndarray, calibration: dict) -> np.ndarray:
    """(N,) bool: which digits assess would flag, without the sentences (for measuring)."""
    scores, rules = score(net, digits, calibration)
    return np.logical_or.reduce([scores > calibration["threshold"], *rules.values()])


def score(net, digits: np.ndarray, calibration: dict, features: np.ndarray | None = None):
    """The network's-view scores (N,) and the ink rules' verdicts {rule: (N,) bool}.
    `features` (N, D): net.features of the digits, if already computed."""
    x = np.asarray(digits, dtype=np.float32).reshape(-1, 1, SIDE, SIDE)
    if calibration.get("version") != VERSION:
        raise ValueError(f"novelty calibration version {calibration.get('version')} != {VERSION}")
    features = _features(net, x) if features is None else np.asarray(features, np.float64)
    if features.shape[1] != calibration["features"]:
        raise ValueError(
            f"the novelty calibration is for {calibration['features']} features; this "
            f"network has {features.shape[1]}"
        )
    scores = _scores(_squash(features, calibration["offset"]), calibration)
    ink = calibration["ink"]
    pieces = ink_pieces(x) if "max_pieces" in ink else None
    return scores, _ink_rules(*ink_statistics(x), ink, pieces)


def _features(net, x: np.ndarray) -> np.ndarray:
    return np.concatenate(
        [np.asarray(net.features(x[i : i + BATCH]), np.float64) for i in range(0, len(x), BATCH)]
    )


def _squash(features: np.ndarray, offset: float) -> np.ndarray:
    return features / (np.linalg.norm(features, axis=1, keepdims=True) + offset)


def _scores(z: np.ndarray, calibration: dict) -> np.ndarray:
    """Negative log-likelihood (up to a constant) under the best-fitting class, (N,)."""
    best = np.full(len(z), np.inf)
    for c in calibration["classes"]:
        v = np.asarray(c["axes"], np.float64)  # (k, D)
        w = np.asarray(c["variances"], np.float64)
        s2 = float(c["residual_variance"])
        d = z - np.asarray(c["mean"], np.float64)
        p = d @ v.T
        residual = np.maximum((d * d).sum(axis=1) - (p * p).sum(axis=1), 0)
        logdet = float(np.log(w).sum()) + (z.shape[1] - w.size) * np.log(s2)
        best = np.minimum(best, (p * p / w).sum(axis=1) + residual / s2 + logdet)
    return best


# ------------------------------------------------------------------ the ink's shape


def ink_statistics(digits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stroke thickness and Euler number of each 28x28 digit's solid ink (> INK_LEVEL).

    thickness: how many 4-neighbour erosions the ink survives (a 2-3 px MNIST stroke: 1-2, a
    filled disc 20 px across: 9). Euler number: pieces minus enclosed holes, 8-connected ink,
    by counting 2x2 patterns (Gray 1971): an 8 is -1, a 0 is 0, a 1 is 1, three specks are 3.
    """
    ink = np.asarray(digits).reshape(-1, SIDE, SIDE) > INK_LEVEL
    return _thickness(ink), _euler(ink)


def _thickness(ink: np.ndarray) -> np.ndarray:
    count = np.zeros(len(ink), np.int64)
    m = ink.copy()
    while m.any():
        count += m.any(axis=(1, 2))
        e = m.copy()
        e[:, 1:] &= m[:, :-1]
        e[:, :-1] &= m[:, 1:]
        e[:, :, 1:] &= m[:, :, :-1]
        e[:, :, :-1] &= m[:, :, 1:]
        e[:, 0] = e[:, -1] = e[:, :, 0] = e[:, :, -1] = False  # outside the image is no ink
        m = e
    return count


def _euler(ink: np.ndarray) -> np.ndarray:
    p = np.pad(ink, ((0, 0), (1, 1), (1, 1))).astype(np.int8)
    a, b, c, d = p[:, :-1, :-1], p[:, :-1, 1:], p[:, 1:, :-1], p[:, 1:, 1:]
    n = a + b + c + d
    one = (n == 1).sum(axis=(1, 2))
    three = (n == 3).sum(axis=(1, 2))
    diagonal = ((n == 2) & (a == d)).sum(axis=(1, 2))
    return (one - three - 2 * diagonal) // 4


def ink_pieces(digits: np.ndarray) -> np.ndarray:
    """Separate 8-connected pieces of each 28x28 digit's solid ink, (N,): a 1 is 1, a smiley
    (face, two eyes, a mouth) 4."""
    ink = np.asarray(digits).reshape(-1, SIDE, SIDE) > INK_LEVEL
    return np.concatenate(
        [_regions(ink[i : i + BATCH], STEPS_8) for i in range(0, len(ink), BATCH)]
    )


def _ink_rules(thickness, euler, ink: dict, pieces=None) -> dict[str, np.ndarray]:
    """Which ink rule fires for which digit: name -> (N,) bool. Calibrations made before the
    pieces rule have no "max_pieces" and go without it."""
    low, high = ink["euler_range"]
    rules = {
        "no solid ink": thickness == 0,
        "blob": thickness > ink["max_thickness"],
        "euler high": euler > high,
        "euler low": euler < low,
    }
    if pieces is not None and "max_pieces" in ink:
        rules["pieces"] = pieces > ink["max_pieces"]
    return rules


def _ink_phrase(rule: str, digit: np.ndarray) -> str:
    if rule == "no solid ink":
        return "it has no solid ink, only grey, unlike every training digit"
    if rule == "blob":
        return "it is a blob: its ink is thicker than the strokes of 99.9 % of training digits"
    pieces, holes = pieces_and_holes(digit)
    return (
        f"it has {pieces} separate piece{'s' * (pieces != 1)} and {holes} enclosed "
        f"loop{'s' * (holes != 1)}, a mix fewer than 0.1 % of training digits have"
    )


def pieces_and_holes(digit: np.ndarray) -> tuple[int, int]:
    """Separate pieces of solid ink (8-connected) and the holes they enclose (4-connected
    background not reaching the border) in one 28x28 digit."""
    ink = np.asarray(digit).reshape(1, SIDE, SIDE) > INK_LEVEL
    background = np.pad(~ink, ((0, 0), (1, 1), (1, 1)), constant_values=True)
    return int(_regions(ink, STEPS_8)[0]), int(_regions(background, STEPS_4)[0]) - 1


STEPS_4 = [(0, 1), (0, -1), (1, 0), (-1, 0)]
STEPS_8 = STEPS_4 + [(1, 1), (1, -1), (-1, 1), (-1, -1)]


def _regions(mask: np.ndarray, steps: list) -> np.ndarray:
    """Connected regions of each small boolean image in mask (N, H, W) -> (N,).

    Every pixel starts labelled with its own index; it takes its neighbours' smallest label,
    then the label of the pixel its label names (pointer jumping), until nothing changes. A
    region is counted at the one pixel whose label is itself.
    """
    n, h, w = mask.shape
    size = h * w
    own = np.arange(size, dtype=np.int16).reshape(1, h, w)
    label = np.where(mask, own, np.int16(size))
    rows = np.arange(n)[:, None]
    while True:
        padded = np.pad(label, ((0, 0), (1, 1), (1, 1)), constant_values=size)
        low = label.copy()
        for dy, dx in steps:
            np.minimum(low, padded[:, 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w], out=low)
        low[~mask] = size
        flat = np.concatenate([low.reshape(n, size), np.full((n, 1), size, np.int16)], axis=1)
        while True:
            jumped = flat[rows, flat]
            if np.array_equal(jumped, flat):
                break
            flat = jumped
        low = flat[:, :size].reshape(n, h, w)
        if np.array_equal(low, label):
            return (mask & (label == own)).sum(axis=(1, 2))
        label = low


# ------------------------------------------------------------------ a tiny mark


def mark_extent(pre: Preprocessed) -> tuple[float, int] | None:
    """(longer side of the ink's box / the picture's longer side, that side in pixels), or
    None when crop or scale was off (then nothing was blown up).

    Read from the stages preprocess_digit returns: the "polarity" stage is the whole levelled
    picture (a thumbnail at most 112 px: the fraction is good to about 1 %); the "cropped"
    stage is the ink's box, exact when at most 112 px, as every tiny mark is.
    """
    stages = {s.name: s.image for s in pre.stages}
    if not {"polarity", "cropped", "scaled"} <= stages.keys():
        return None
    picture, box = stages["polarity"], stages["cropped"]
    rows = np.flatnonzero((picture > INK_LEVEL / 2).any(axis=1))
    cols = np.flatnonzero((picture > INK_LEVEL / 2).any(axis=0))
    if rows.size == 0:  # a mark so faint the thumbnail lost it
        return 0.0, max(box.shape)
    side = max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1)
    return side / max(picture.shape), max(box.shape)


def tiny_mark_warnings(pre: Preprocessed) -> list[str]:
    """A warning when cropping and scaling turned a mark a few percent of the picture wide
    into a full-size digit; [] otherwise."""
    extent = mark_extent(pre)
    if extent is None or extent[0] >= TINY_MARK:
        return []
    fraction, pixels = extent
    shown = max(fraction, 0.005)
    enlarged = (BOX / SIDE) / shown  # its share of the 28x28 input over its share of the picture
    return [
        f"the ink is a tiny mark ({pixels} px across, {shown:.1%} of the picture's side): "
        f"preprocessing enlarged it {enlarged:.0f}x relative to the picture to fill the "
        f"{BOX}-px box of an MNIST digit, so it is probably not a digit"
    ]


def warnings_for(
    net, pre: Preprocessed, calibration: dict | None, features: np.ndarray | None = None
) -> list[str]:
    """Everything this module has to say about one preprocessed input, as warning sentences:
    what the API adds to its `warnings` list. Without a calibration only the tiny-mark rule
    runs; a calibration made for another network raises ValueError. `features`: the digit's
    net.features, when the caller's forward pass already has them."""
    notes = tiny_mark_warnings(pre)
    if calibration is not None:
        finding = assess(net, pre.digit, calibration, features)[0]
        if finding.warning:
            notes.append(finding.warning)
    return notes


def _round(a):
    """Floats (or nested lists of them) kept to SIGNIFICANT digits, as plain Python numbers."""
    if np.ndim(a) == 0:
        return float(f"{float(a):.{SIGNIFICANT}g}")
    return [_round(x) for x in a]
