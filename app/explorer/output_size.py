"""The output-size formula OH = (H + 2P - FH) / S + 1 with its working, for the playground."""

from __future__ import annotations

from app.engine.shapes import conv_output_length

from .results import OutputSize


def output_size(H: int, W: int, FH: int, FW: int, P: int, S: int) -> OutputSize:
    """Both output sides, whether each division was exact, and the formula as written."""
    oh = conv_output_length(H, FH, P, S, "H")
    ow = conv_output_length(W, FW, P, S, "W")

    def formula(n: int, f: int, out: int) -> str:
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
