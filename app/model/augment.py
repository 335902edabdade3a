"""Small random affine distortions of digits: shifts, rotations, scalings.

They make the net robust to the off-centre, tilted, fat or thin digits people draw. One
bilinear resampling per batch, vectorised over the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AffineDraw:
    """One random distortion per digit of a batch: rotation (radians), scale, shift (dy, dx)."""

    angle: np.ndarray
    scale: np.ndarray
    shift: np.ndarray

    def rows(self, rows: np.ndarray) -> AffineDraw:
        """The draws of some digits of the batch, e.g. one gradient thread's share."""
        return AffineDraw(self.angle[rows], self.scale[rows], self.shift[rows])


def draw_affine(
    rng: np.random.Generator,
    n: int,
    max_shift: float = 2.0,
    max_rotate_deg: float = 12.0,
    scale_range: tuple[float, float] = (0.85, 1.15),
) -> AffineDraw:
    """The random part, drawn in one fixed order, so that where the resampling runs (one
    thread or several) never changes the numbers."""
    angle = np.deg2rad(rng.uniform(-max_rotate_deg, max_rotate_deg, n))
    scale = rng.uniform(*scale_range, n)
    shift = rng.uniform(-max_shift, max_shift, (n, 2))
    return AffineDraw(angle, scale, shift)


def apply_affine(x: np.ndarray, draw: AffineDraw) -> np.ndarray:
    """x (N, 1, H, W) rotated, scaled and shifted by `draw` (same shape). The coordinates are
    float32: a training step resamples 78 400 of them, and float64 made this as slow as the
    step itself."""
    n, _, h, w = x.shape
    cos = (np.cos(draw.angle) / draw.scale).astype(np.float32)[:, None]
    sin = (np.sin(draw.angle) / draw.scale).astype(np.float32)[:, None]
    # inverse map: for every output pixel, where to read in the input (about the centre)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy, xx = yy.ravel() - np.float32(cy), xx.ravel() - np.float32(cx)
    src_y = cos * yy - sin * xx
    src_y += (cy - draw.shift[:, :1]).astype(np.float32)
    src_x = sin * yy + cos * xx
    src_x += (cx - draw.shift[:, 1:]).astype(np.float32)
    return bilinear_sample(x[:, 0], src_y, src_x).reshape(n, 1, h, w).astype(x.dtype)


def random_affine(
    x: np.ndarray,
    rng: np.random.Generator,
    max_shift: float = 2.0,
    max_rotate_deg: float = 12.0,
    scale_range: tuple[float, float] = (0.85, 1.15),
) -> np.ndarray:
    """x (N, 1, H, W) -> a randomly rotated, scaled and shifted copy (same shape)."""
    draw = draw_affine(rng, len(x), max_shift, max_rotate_deg, scale_range)
    return apply_affine(x, draw)


def bilinear_sample(img: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Sample img (N, H, W) at float coordinates (N, P); outside the image reads as 0."""
    n, h, w = img.shape
    stride = w + 2
    padded = np.zeros((n, h + 2, stride), np.float32)
    padded[:, 1:-1, 1:-1] = img
    ys = np.clip(ys + 1, 0, h + 0.999).astype(np.float32, copy=False)
    xs = np.clip(xs + 1, 0, w + 0.999).astype(np.float32, copy=False)
    y0, x0 = np.floor(ys), np.floor(xs)
    fy, fx = ys - y0, xs - x0
    # flat indices into the whole padded batch: np.take on one axis, no per-row fancy indexing
    corner = (y0 * stride + x0).astype(np.int32)
    corner += (np.arange(n, dtype=np.int32) * ((h + 2) * stride))[:, None]
    flat = padded.ravel()
    top = flat.take(corner) * (1 - fx) + flat.take(corner + 1) * fx
    bottom = flat.take(corner + stride) * (1 - fx) + flat.take(corner + stride + 1) * fx
    return top * (1 - fy) + bottom * fy
