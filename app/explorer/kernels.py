"""Classic hand-made kernels, to set beside the learned filters on a user's picture."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_G = np.array([1, 4, 6, 4, 1], dtype=np.float32)

CLASSIC_KERNELS: dict[str, tuple[str, np.ndarray]] = {
    "sobel_x": ("Sobel x: vertical edges", np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])),
    "sobel_y": ("Sobel y: horizontal edges", np.array([[-1, -2, -1], [0, 0, 0], [1, 2, 1]])),
    "laplacian": ("Laplacian: blobs and fine detail", np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]])),
    "gaussian": ("Gaussian 5x5 blur", np.outer(_G, _G) / 256),
    "sharpen": ("Sharpen", np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])),
    "identity": ("Identity", np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]])),
    "box_blur": ("Box blur 3x3", np.full((3, 3), 1 / 9)),
    "emboss": ("Emboss", np.array([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]])),
}


def classic_kernel(name: str) -> np.ndarray:
    """(FH, FW) float32 kernel by name; KeyError lists the known names."""
    try:
        return np.asarray(CLASSIC_KERNELS[name][1], dtype=np.float32)
    except KeyError:
        known = ", ".join(CLASSIC_KERNELS)
        raise KeyError(f"unknown kernel {name!r}; known kernels: {known}") from None


class KernelError(ValueError):
    """A kernel request that names an unknown kernel or sends an unusable array."""


@dataclass(frozen=True)
class Kernel:
    name: str
    weights: np.ndarray  # (C, FH, FW) float32
    bias: float = 0.0


def to_channels(kernel2d: np.ndarray, channels: int) -> np.ndarray:
    """A 2-D kernel for a C-channel image: the same weights on every channel, divided by C,
    i.e. the kernel applied to the channel mean (what a gray image would give)."""
    return np.repeat(kernel2d[None] / channels, channels, axis=0).astype(np.float32)


def custom_kernel(data, channels: int, max_side: int) -> Kernel:
    """Validate a user kernel: FH x FW or C x FH x FW finite numbers (C = image channels)."""
    try:
        arr = np.array(data, dtype=np.float64)
    except (ValueError, TypeError):
        raise KernelError("'kernel' must be a rectangular array of numbers") from None
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise KernelError(f"'kernel' must be FH x FW or C x FH x FW, got {arr.ndim} dimensions")
    if not np.isfinite(arr).all():
        raise KernelError("'kernel' holds NaN or infinite values")
    if np.abs(arr).max() > 1e6:
        raise KernelError("'kernel' values must lie within +-1e6")
    if max(arr.shape[-2:]) > max_side:
        raise KernelError(
            f"kernel {arr.shape[-2]}x{arr.shape[-1]} is over the {max_side}x{max_side} limit"
        )
    if arr.ndim == 3 and arr.shape[0] != channels:
        raise KernelError(
            f"kernel has {arr.shape[0]} channels but the image has {channels}; "
            "use mode=rgb for a 3-channel kernel"
        )
    weights = arr.astype(np.float32) if arr.ndim == 3 else to_channels(arr, channels)
    return Kernel("custom", weights)


def resolve_kernels(
    names: list[str],
    channels: int,
    learned: tuple[np.ndarray, np.ndarray] | None,
    bias: bool,
) -> list[Kernel]:
    """'learned' expands to every first-layer filter of the model (learned_0, learned_1, ...);
    other names are classic kernels. The learned filters take their bias only when `bias` is
    true (the book's figure shows them without). `learned` is None for a model without conv
    layers, which then has no filters to lend."""
    kernels = []
    for name in names:
        if name == "learned":
            if learned is None:
                raise KernelError("this model has no conv layers, so no learned filters")
            for i, (w, b) in enumerate(zip(*learned, strict=True)):
                kernels.append(
                    Kernel(f"learned_{i}", to_channels(w[0], channels), float(b) if bias else 0.0)
                )
        elif name in CLASSIC_KERNELS:
            kernels.append(Kernel(name, to_channels(classic_kernel(name), channels)))
        else:
            known = ", ".join(["learned", *CLASSIC_KERNELS])
            raise KernelError(f"unknown kernel {name!r}; known kernels: {known}")
    return kernels
