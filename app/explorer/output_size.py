"""The output-size formula with its working, for the playground (static/js/convmath.js
computes the same on the page): forward OH = floor((H + 2P - D(FH - 1) - 1) / S) + 1, transposed
OH = (H - 1)S - 2P + D(FH - 1) + output_padding + 1, both exactly as PyTorch's conv2d and
conv_transpose2d size their outputs, including which settings they refuse."""

from __future__ import annotations

from app.engine.shapes import ShapeError, conv_output_length, dilated_length

from .results import OutputSize


def output_size(
    H: int,
    W: int,
    FH: int,
    FW: int,
    P: int,
    S: int,
    D: int = 1,
    transposed: bool = False,
    output_padding: int = 0,
) -> OutputSize:
    """Both output sides, whether each division was exact, and the formula as written.
    D > 1 puts the dilated span D(F - 1) + 1 in F's place; transposed runs it backwards."""
    if transposed:
        return _transposed_size(H, W, FH, FW, P, S, D, output_padding)
    oh = conv_output_length(H, FH, P, S, "H", D)
    ow = conv_output_length(W, FW, P, S, "W", D)

    def formula(n: int, f: int, out: int) -> str:
        if D > 1:
            span = dilated_length(f, D)
            return (
                f"({n} + 2*{P} - ({D}*({f} - 1) + 1)) / {S} + 1 = "
                f"{(n + 2 * P - span) / S + 1:g} -> {out}"
            )
        return f"({n} + 2*{P} - {f}) / {S} + 1 = {(n + 2 * P - f) / S + 1:g} -> {out}"

    return OutputSize(
        OH=oh.size,
        OW=ow.size,
        exact_h=oh.exact,
        exact_w=ow.exact,
        exact=oh.exact and ow.exact,
        formula_h=formula(H, FH, oh.size),
        formula_w=formula(W, FW, ow.size),
    )


def transposed_length(
    n: int, f: int, P: int, S: int, D: int, output_padding: int, axis: str
) -> int:
    """PyTorch's conv_transpose2d length: (n - 1)S - 2P + D(f - 1) + 1 + output_padding, with
    output_padding below S or below D, and at least 1. The engine's conv_transpose (the adjoint
    of a forward) takes output_padding below S only: the rows a floored forward dropped;
    below S the two agree (tests/api/test_variants_api.py)."""
    if n < 1 or f < 1 or S < 1 or P < 0 or D < 1:
        raise ShapeError(
            f"transposed {axis}: need input and filter at least 1, S and D at least 1, P >= 0"
        )
    if not (0 <= output_padding < S or output_padding < D):
        raise ShapeError(
            f"output_padding must be 0 or more and below S or below D (PyTorch's rule), "
            f"got {output_padding} for S={S}, D={D}"
        )
    size = (n - 1) * S - 2 * P + dilated_length(f, D) + output_padding
    if size < 1:
        raise ShapeError(
            f"transposed {axis}: the padding P={P} cuts away the whole output ({size} left)"
        )
    return size


def _transposed_size(H, W, FH, FW, P, S, D, output_padding) -> OutputSize:
    """H here is the transposed convolution's input (the forward's OH)."""
    oh = transposed_length(H, FH, P, S, D, output_padding, "H")
    ow = transposed_length(W, FW, P, S, D, output_padding, "W")

    def formula(n: int, f: int, out: int) -> str:
        return f"({n} - 1)*{S} - 2*{P} + {D}*({f} - 1) + {output_padding} + 1 = {out}"

    return OutputSize(
        OH=oh,
        OW=ow,
        exact_h=True,
        exact_w=True,
        exact=True,
        formula_h=formula(H, FH, oh),
        formula_w=formula(W, FW, ow),
    )
