"""The output-size formula OH = (H + 2P - FH) / S + 1, written once for the whole project."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple


class ShapeError(ValueError):
    """A filter, stride or pad that cannot produce an output for the given input."""


class OutputLength(NamedTuple):
    size: int
    exact: bool  # False when (H + 2P - FH) is not divisible by S and the last rows are dropped


def conv_output_length(
    input_len: int, filter_len: int, pad: int, stride: int, axis: str = "H"
) -> OutputLength:
    """Length of a convolution or pooling output along one axis.

    When (H + 2P - FH) is not divisible by S we follow the common convention (PyTorch, Caffe):
    take the floor, i.e. the windows that do not fit are dropped, and report exact=False.
    Impossible shapes raise ShapeError with a message that names the offending values.
    """
    f = "F" + axis
    if input_len < 1:
        raise ShapeError(f"{axis} must be at least 1, got {input_len}")
    if filter_len < 1:
        raise ShapeError(f"{f} must be at least 1, got {filter_len}")
    if stride < 1:
        raise ShapeError(f"stride S must be at least 1, got {stride}")
    if pad < 0:
        raise ShapeError(f"pad P must be 0 or more, got {pad}")
    span = input_len + 2 * pad - filter_len
    if span < 0:
        raise ShapeError(
            f"filter {f}={filter_len} is larger than the padded input "
            f"{axis}+2P={input_len + 2 * pad}"
        )
    return OutputLength(span // stride + 1, span % stride == 0)


@lru_cache(maxsize=4096)  # pure; the batch-1 forward asks the same question several times
def conv_output_shape(
    h: int, w: int, fh: int, fw: int, pad: int = 0, stride: int = 1
) -> tuple[int, int]:
    """(OH, OW) with the floor convention; raises ShapeError for impossible shapes."""
    return (
        conv_output_length(h, fh, pad, stride, "H").size,
        conv_output_length(w, fw, pad, stride, "W").size,
    )
