"""The output-size formula OH = (H + 2P - FH) / S + 1 with its working, for the playground."""

from __future__ import annotations

from app.engine.shapes import conv_output_length, dilated_length, transposed_output_length

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


def _transposed_size(H, W, FH, FW, P, S, D, output_padding) -> OutputSize:
    """H here is the transposed convolution's input (the forward's OH)."""
    oh = transposed_output_length(H, FH, P, S, D, output_padding, "H")
    ow = transposed_output_length(W, FW, P, S, D, output_padding, "W")

    def formula(n: int, f: int, out: int) -> str:
        extra = f" + {output_padding}" if output_padding else ""
        return f"({n} - 1)*{S} - 2*{P} + {D}*({f} - 1) + 1{extra} = {out}"

    return OutputSize(
        OH=oh,
        OW=ow,
        exact_h=True,
        exact_w=True,
        exact=True,
        formula_h=formula(H, FH, oh),
        formula_w=formula(W, FW, ow),
    )
