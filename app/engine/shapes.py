"""The output-size formula OH = (H + 2P - FH) / S + 1, written once for the whole project.

Dilation D spreads the FH taps D pixels apart, so the filter covers D(FH - 1) + 1 pixels and
that span takes FH's place. The transposed convolution runs the formula backwards:
H = (OH - 1)S - 2P + D(FH - 1) + 1 + output_padding.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple


class ShapeError(ValueError):
    """A filter, stride or pad that cannot produce an output for the given input."""


class OutputLength(NamedTuple):
    size: int
    exact: bool  # False when (H + 2P - FH) is not divisible by S and the last rows are dropped


def dilated_length(filter_len: int, dilation: int = 1) -> int:
    """The pixels a filter of filter_len taps, D apart, covers: D(F - 1) + 1."""
    return dilation * (filter_len - 1) + 1


def conv_output_length(
    input_len: int, filter_len: int, pad: int, stride: int, axis: str = "H", dilation: int = 1
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
    if dilation < 1:
        raise ShapeError(f"dilation D must be at least 1, got {dilation}")
    covered = dilated_length(filter_len, dilation)
    span = input_len + 2 * pad - covered
    if span < 0:
        spread = f" dilated by D={dilation} to {covered}" if dilation > 1 else ""
        raise ShapeError(
            f"filter {f}={filter_len}{spread} is larger than the padded input "
            f"{axis}+2P={input_len + 2 * pad}"
        )
    return OutputLength(span // stride + 1, span % stride == 0)


@lru_cache(maxsize=4096)  # pure; the batch-1 forward asks the same question several times
def conv_output_shape(
    h: int, w: int, fh: int, fw: int, pad: int = 0, stride: int = 1, dilation: int = 1
) -> tuple[int, int]:
    """(OH, OW) with the floor convention; raises ShapeError for impossible shapes."""
    return (
        conv_output_length(h, fh, pad, stride, "H", dilation).size,
        conv_output_length(w, fw, pad, stride, "W", dilation).size,
    )


def transposed_output_length(
    input_len: int,
    filter_len: int,
    pad: int,
    stride: int,
    dilation: int = 1,
    output_padding: int = 0,
    axis: str = "H",
) -> int:
    """Length of a transposed convolution's output: the input length of the convolution it
    is the adjoint of, (OH - 1)S - 2P + D(FH - 1) + 1, plus output_padding for the rows a
    floored forward dropped (0 <= output_padding < S)."""
    if input_len < 1 or filter_len < 1 or stride < 1 or pad < 0 or dilation < 1:
        raise ShapeError(
            f"transposed {axis}: need input and filter at least 1, S and D at least 1, P >= 0"
        )
    if not 0 <= output_padding < stride:
        raise ShapeError(f"output_padding must lie in 0..S-1, got {output_padding} for S={stride}")
    covered = dilated_length(filter_len, dilation)
    size = (input_len - 1) * stride - 2 * pad + covered + output_padding
    if size < 1:
        raise ShapeError(f"transposed {axis}: pad P={pad} removes the whole output ({size})")
    return size
