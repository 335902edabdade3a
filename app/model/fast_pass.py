"""The training pass and batch inference, each layer in the memory layout its fastest kernel
wants.

Network.forward and Network.backward keep the chapter's (N, C, H, W) maps, which the explorer's
figures read layer by layer. Training and predict only need the numbers, so here:

* a one-channel conv followed by ReLU and a tiling max pool (the chapter's first layer) is
  one fused step with the output pixels in pooling-window order (app.engine.conv_pool);
* every other conv and every pool runs channels last (app.engine.channels_last): one GEMM
  for the batch, block copies for im2col, runs of C numbers to compare when pooling;
* ReLU before a max pool is applied after it (they commute; a quarter of the values);
* activations change layout only where the next kernel needs it, and affine layers still read
  the maps flattened in (C, H, W) order, so the weights are the book's.

The same function as Network.forward / backward, to rounding: tests/model/test_fast_pass.py.
"""

from __future__ import annotations

import numpy as np

from app.engine import channels_last as CL
from app.engine import layers as L
from app.engine.conv_pool import conv_max_pool_backward, conv_max_pool_forward

from .architecture import Architecture

BOOK, LAST = "channels first", "channels last"  # (N, C, H, W) and (N, H, W, C)


def supported(arch: Architecture) -> bool:
    """Every pool tiles its input (K x K windows, stride K): the layouts here need that."""
    return all(
        layer.size == (layer.size[0], layer.size[0]) and layer.stride == layer.size[0]
        for layer in arch.layers
        if layer.kind == "pool"
    )


def _tiling_max_pool_after_relu(arch: Architecture, i: int) -> int | None:
    """K when layer i is a ReLU followed by a K x K max pool with stride K."""
    if i + 1 >= len(arch.layers) or arch.layers[i].kind != "relu":
        return None
    pool = arch.layers[i + 1]
    if pool.kind != "pool" or pool.mode != "max":
        return None
    return pool.size[0]


def _convert(x: np.ndarray, to: str) -> np.ndarray:
    """(N, C, H, W) <-> (N, H, W, C), as a contiguous copy: kernels that mix memory orders
    crawl."""
    axes = (0, 2, 3, 1) if to == LAST else (0, 3, 1, 2)
    return np.ascontiguousarray(x.transpose(axes))


def forward(net, x: np.ndarray, rng: np.random.Generator | None = None, track: bool = True):
    """-> (logits, caches for backward, features: the last affine layer's input (N, D)).
    track=False (inference) skips what only backward needs."""
    arch = net.arch
    x = np.asarray(x, net.dtype)
    layout, caches, features = BOOK, [], None
    i, last = 0, len(arch.layers) - 1  # the softmax is left out: callers want logits

    def to(wanted: str) -> None:
        nonlocal x, layout
        if layout != wanted and x.ndim == 4:
            x = _convert(x, wanted)
            caches.append(("layout", layout, wanted))
        layout = wanted

    while i < last:
        layer = arch.layers[i]
        if layer.kind == "conv":
            W, b = net.weights_of(i)
            k = _tiling_max_pool_after_relu(arch, i + 1)
            if k and W.shape[1] == 1:
                to(BOOK)
                out, cache = conv_max_pool_forward(x, W, b, layer.stride, layer.pad, k, track)
                x, mask = L.relu_forward(out)
                caches.append(("conv_pool_relu", i, cache, mask))
                i += 3
                continue
            to(LAST)
            x, cache = CL.conv_forward(x, W, b, layer.stride, layer.pad)
            caches.append(("conv", i, cache))
        elif layer.kind == "relu" and (k := _tiling_max_pool_after_relu(arch, i)):
            to(LAST)
            out, cache = CL.pool_forward(x, k, "max", track)
            x, mask = L.relu_forward(out)
            caches.append(("pool_relu", cache, mask))
            i += 2
            continue
        elif layer.kind == "pool":
            to(LAST)
            x, cache = CL.pool_forward(x, layer.size[0], layer.mode, track)
            caches.append(("pool", cache))
        elif layer.kind == "relu":
            x, mask = L.relu_forward(x)
            caches.append(("relu", mask))
        elif layer.kind == "affine":
            to(BOOK)
            if i == net.last_affine:
                features = x.reshape(len(x), -1)
            W, b = net.weights_of(i)
            x, cache = L.affine_forward(x, W, b)
            caches.append(("affine", i, cache))
        else:  # dropout
            x, mask = L.dropout_forward(x, layer.rate, rng)
            caches.append(("dropout", mask))
        i += 1
    return x, caches, features


def backward(net, dlogits: np.ndarray, caches: list, need_dx: bool = False):
    """-> (gradient of every parameter, dL/dx in (N, C, H, W) or None)."""
    grads: dict[str, np.ndarray] = {}
    first = next(n for n, entry in enumerate(caches) if entry[0] != "layout")
    d = dlogits
    for n in range(len(caches) - 1, -1, -1):
        entry, dx_wanted = caches[n], need_dx or n > first
        kind = entry[0]
        if d is None:  # the first layer's dx, not wanted: nothing is left to send back
            break
        if kind == "layout":
            d = _convert(d, entry[1])
        elif kind in ("conv_pool_relu", "conv"):
            i, cache = entry[1], entry[2]
            if kind == "conv_pool_relu":
                d = L.relu_backward(d, entry[3])
                back = conv_max_pool_backward
            else:
                back = CL.conv_backward
            k = net.param_index(i)
            d, grads[f"W{k}"], grads[f"b{k}"] = back(d, cache, need_dx=dx_wanted)
        elif kind == "pool_relu":
            d = CL.pool_backward(L.relu_backward(d, entry[2]), entry[1])
        elif kind == "pool":
            d = CL.pool_backward(d, entry[1])
        elif kind == "relu":
            d = L.relu_backward(d, entry[1])
        elif kind == "affine":
            k = net.param_index(entry[1])
            d, grads[f"W{k}"], grads[f"b{k}"] = L.affine_backward(d, entry[2], need_dx=dx_wanted)
        else:  # dropout
            d = L.dropout_backward(d, entry[1])
    return grads, d
