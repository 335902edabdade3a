"""Small random affine distortions of digits: shifts, rotations, scalings.

They make the net robust to the off-centre, tilted, fat or thin digits people draw. One
bilinear resampling per batch, vectorised over the batch.
"""

from __future__ import annotations

import numpy as np


def random_affine(
    x: np.ndarray,
    rng: np.random.Generator,
    max_shift: float = 2.0,
    max_rotate_deg: float = 12.0,
    scale_range: tuple[float, float] = (0.85, 1.15),
) -> np.ndarray:
    """x (N, 1, H, W) -> a randomly rotated, scaled and shifted copy (same shape)."""
    n, _, h, w = x.shape
    angle = np.deg2rad(rng.uniform(-max_rotate_deg, max_rotate_deg, n))
    scale = rng.uniform(*scale_range, n)
    shift = rng.uniform(-max_shift, max_shift, (n, 2))
    cos, sin = np.cos(angle) / scale, np.sin(angle) / scale
    # inverse map: for every output pixel, where to read in the input (about the centre)
    cy, cx = (h - 1) / 2, (w - 1) / 2
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    yy, xx = yy.ravel() - cy, xx.ravel() - cx
    src_y = cos[:, None] * yy[None] - sin[:, None] * xx[None] + cy - shift[:, :1]
    src_x = sin[:, None] * yy[None] + cos[:, None] * xx[None] + cx - shift[:, 1:]
    return bilinear_sample(x[:, 0], src_y, src_x).reshape(n, 1, h, w).astype(x.dtype)


def bilinear_sample(img: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """Sample img (N, H, W) at float coordinates (N, P); outside the image reads as 0."""
    n, h, w = img.shape
    padded = np.zeros((n, h + 2, w + 2), img.dtype)
    padded[:, 1:-1, 1:-1] = img
    ys = np.clip(ys + 1, 0, h + 0.999)
    xs = np.clip(xs + 1, 0, w + 0.999)
    y0, x0 = np.floor(ys).astype(np.intp), np.floor(xs).astype(np.intp)
    fy, fx = ys - y0, xs - x0
    flat = padded.reshape(n, -1)
    stride = w + 2
    base = y0 * stride + x0

    def at(offset):
        return np.take_along_axis(flat, base + offset, axis=1)

    top = at(0) * (1 - fx) + at(1) * fx
    bottom = at(stride) * (1 - fx) + at(stride + 1) * fx
    return top * (1 - fy) + bottom * fy
