""" "Copy as code": NumPy and PyTorch programs that reproduce the maps /api/convolve shows.

The NumPy program is the chapter's sliding window written with sliding_window_view and one
einsum; tests/api/test_variants_api.py runs it and compares with the API's numbers, and
tests/api/test_pytorch_snippet.py runs the PyTorch one (torch.nn.functional) against both.
Numbers are written with every digit of their float32 value, so the program starts from the
same bits.
"""

from __future__ import annotations

import json

import numpy as np

from .kernels import Kernel

INLINE_LIMIT = 3 * 28 * 28  # inputs up to this many numbers are written into the program


def _literal(a: np.ndarray) -> str:
    return json.dumps(np.asarray(a, np.float32).astype(np.float64).tolist())


def _input_lines(image: np.ndarray, lib: str) -> list[str]:
    c, h, w = image.shape
    what = f"({c}, {h}, {w}): the picture as the server convolved it, 0..1"
    if image.size <= INLINE_LIMIT:
        return [
            f"x = {lib}([  # {what}",
            *(f"    {_literal(p)}," for p in image),
            "]" + (", dtype=np.float32)" if lib == "np.array" else ", dtype=torch.float32)"),
        ]
    load = "np.load('input.npy')" if lib == "np.array" else "torch.from_numpy(np.load('input.npy'))"
    return [
        f"# {what}; save it as input.npy (POST /api/convolve with values=true&code=true",
        "# returns it as input_values)",
        f"x = {load}",
    ]


_PAD_MODE = {"zero": "constant", "reflect": "reflect", "circular": "wrap"}


def numpy_snippet(image, kernels: list[Kernel], stride, pad, variant, relu):
    """A NumPy program whose `maps` (and `transposed`) are the arrays the API shows."""
    v = variant
    lines = [
        "import numpy as np",
        "from numpy.lib.stride_tricks import sliding_window_view",
        "",
        *_input_lines(image, "np.array"),
        f"kernels = np.array({_literal(np.stack([k.weights for k in kernels]))}, "
        f"dtype=np.float32)  # (K, C, FH, FW): {', '.join(k.name for k in kernels)}",
        f"bias = np.array({_literal([k.bias for k in kernels])}, dtype=np.float32)",
        f"S, P, D, G = {stride}, {pad}, {v.dilation}, {v.groups}  # stride, pad, dilation, groups",
        "",
        f"xp = np.pad(x, ((0, 0), (P, P), (P, P)), mode={_PAD_MODE[v.padding]!r})"
        f"  # {v.padding} padding",
    ]
    if v.flip:
        lines.append("kernels = kernels[:, :, ::-1, ::-1]  # flipped: true convolution")
    lines += [
        "K, C, FH, FW = kernels.shape",
        "# every window, its taps D apart: (C, OH, OW, FH, FW)",
        "win = sliding_window_view(xp, (D * (FH - 1) + 1, D * (FW - 1) + 1), axis=(1, 2))",
        "win = win[:, ::S, ::S, ::D, ::D]",
        "Cg = C // G  # group g reads channels g*Cg ... (g+1)*Cg - 1",
        "maps = np.concatenate([",
        "    np.einsum('chwij,kcij->khw', win[g * Cg : (g + 1) * Cg],",
        "              kernels[:, g * Cg : (g + 1) * Cg])",
        "    + bias[:, None, None]",
        "    for g in range(G)",
        "])  # (G*K, OH, OW): every kernel's map for group 0, then group 1, ...",
    ]
    if relu:
        lines.append("maps = np.maximum(maps, 0)  # ReLU")
    if v.transposed:
        lines += [
            "",
            "# transposed convolution = conv's backward w.r.t. its input: each map value goes",
            "# back through its kernel onto the window it came from, and overlaps add (col2im)",
            "H, W = x.shape[1:]",
            "OH, OW = maps.shape[1:]",
            "back = np.zeros((K, C, H + 2 * P, W + 2 * P), dtype=np.float32)",
            "for i in range(FH):",
            "    for j in range(FW):",
            "        back[:, :, i * D : i * D + S * OH : S, j * D : j * D + S * OW : S] += (",
            "            kernels[:, :, i, j][:, :, None, None] * maps[:, None]",
            "        )",
            "transposed = back[:, :, P : P + H, P : P + W].mean(axis=1)  # (K, H, W), mean over C",
        ]
    return "\n".join(lines) + "\n"


def pytorch_snippet(image, kernels: list[Kernel], stride, pad, variant, relu):
    """The same arrays with torch.nn.functional (conv2d, conv_transpose2d)."""
    v = variant
    c, h, w = image.shape
    fh, fw = kernels[0].weights.shape[1:]
    lines = [
        "import numpy as np",
        "import torch",
        "import torch.nn.functional as F",
        "",
        *_input_lines(image, "torch.tensor"),
        f"kernels = torch.tensor({_literal(np.stack([k.weights for k in kernels]))})"
        "  # (K, C, FH, FW)",
        f"bias = torch.tensor({_literal([k.bias for k in kernels])})",
        f"S, P, D, G = {stride}, {pad}, {v.dilation}, {v.groups}",
        "K, C = kernels.shape[:2]",
        "Cg = C // G",
    ]
    if v.flip:
        lines.append("kernels = kernels.flip(-1, -2)  # true convolution")
    lines.append(
        "weight = torch.cat([kernels[:, g * Cg : (g + 1) * Cg] for g in range(G)])  # group-major"
    )
    if v.padding == "zero":
        lines.append(
            "maps = F.conv2d(x[None], weight, bias.repeat(G), stride=S, padding=P, dilation=D,"
            " groups=G)[0]"
        )
    else:
        mode = "reflect" if v.padding == "reflect" else "circular"
        lines += [
            f"xp = F.pad(x[None], (P, P, P, P), mode={mode!r})",
            "maps = F.conv2d(xp, weight, bias.repeat(G), stride=S, dilation=D, groups=G)[0]",
        ]
    if relu:
        lines.append("maps = F.relu(maps)")
    if v.transposed:
        op = (
            (h + 2 * pad - (v.dilation * (fh - 1) + 1)) % stride,
            (w + 2 * pad - (v.dilation * (fw - 1) + 1)) % stride,
        )
        lines += [
            "# conv's backward w.r.t. its input, one kernel at a time, mean over C",
            "transposed = torch.stack([",
            "    F.conv_transpose2d(maps[k][None, None], kernels[k : k + 1], stride=S, padding=P,",
            f"                       output_padding={op}, dilation=D)[0].mean(0)",
            "    for k in range(K)",
            "])",
        ]
    return "\n".join(lines) + "\n"
