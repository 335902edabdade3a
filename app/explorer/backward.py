"""The backward pass on the user's digit, the part the chapter leaves "to do" (Fig. 7-19, 7-22).

dL/dx for a chosen class through the engine's own backward pass; one input pixel's gradient as
the col2im sum of the window contributions it received; how many windows cover each pixel,
col2im(im2col(ones)), which is why col2im adds with `+=`; and max pooling's gradient routing,
where only each window's winner receives gradient.
"""

from __future__ import annotations

import numpy as np

from app.engine import layers as L
from app.engine.im2col import col2im_by_image, im2col_by_image, window_view
from app.model.network import Network

from .models import LoadedModel
from .results import Backward, LedgerEntry, PixelLedger, PoolRouting
from .views import input_view, render_split, rounded, split_range


class NoConvLayerError(ValueError):
    """The model does not start with a conv layer, so there is no im2col to take apart."""


def cache_layers(net: Network, caches: list) -> list[int]:
    """The layer index each forward cache entry starts at (a ReLU + max pool pair is one)."""
    starts, i = [], 0
    for entry in caches:
        starts.append(i)
        i += 2 if entry[0] == "pool_relu" else 1
    return starts


def loss_gradient(logits: np.ndarray, target: int):
    """Cross-entropy of softmax(logits) against `target` -> (loss, dL/dlogits), batch of one."""
    return L.softmax_cross_entropy(logits, np.array([target]))


def overlap_counts(input_shape: tuple[int, int], fh: int, fw: int, stride: int, pad: int):
    """How many filter windows cover each input pixel: col2im(im2col(ones))."""
    ones = np.ones((1, 1, *input_shape))
    col = im2col_by_image(ones, fh, fw, stride, pad)
    return col2im_by_image(np.ones_like(col), ones.shape, fh, fw, stride, pad)[0, 0]


def pixel_ledger(dcol: np.ndarray, row: int, col: int, geometry, dx: float) -> PixelLedger:
    """Every window that read pixel (row, col) and what it sent back: dcol's entry at the
    pixel's tap (a, b) in that window. Their sum is dL/dx there (col2im's +=)."""
    fh, fw, stride, pad, oh, ow = geometry
    entries = []
    for a in range(fh):
        for b in range(fw):
            i, j = row + pad - a, col + pad - b
            if i % stride or j % stride:
                continue
            i, j = i // stride, j // stride
            if 0 <= i < oh and 0 <= j < ow:
                value = float(dcol[a * fw + b, i * ow + j])
                entries.append(LedgerEntry(tap=[a, b], window=[i, j], value=round(value, 9)))
    total = sum(e.value for e in entries)
    return PixelLedger(
        pixel=[row, col],
        gradient=round(dx, 9),
        total=round(total, 9),
        windows=len(entries),
        entries=entries,
    )


def pool_ties(x: np.ndarray, ph: int, pw: int, stride: int):
    """Per window of x (C, H, W): the first winner's (row, col) in row-major order (the
    engine's rule), whether the maximum is reached more than once, the maximum, and the gap
    between the two largest values (0 for a tie)."""
    win = window_view(np.ascontiguousarray(x)[None], ph, pw, stride)[0]  # (C, OH, OW, PH, PW)
    flat = win.reshape(*win.shape[:3], ph * pw)
    best = flat.max(axis=-1)
    tied = (flat == best[..., None]).sum(axis=-1) > 1
    arg = flat.argmax(axis=-1)
    oh, ow = win.shape[1:3]
    rows = np.arange(oh)[:, None] * stride + arg // pw
    cols = np.arange(ow)[None, :] * stride + arg % pw
    top2 = np.sort(flat, axis=-1)[..., -2:] if ph * pw > 1 else np.stack([best, best - np.inf], -1)
    return rows, cols, tied, best, top2[..., -1] - top2[..., -2]


def _pool_routing(net: Network, acts, caches, dlogits, channel: int | None) -> PoolRouting | None:
    """Gradient at the first max pool's output, routed back to its input by the engine."""
    starts = cache_layers(net, caches)
    for e, entry in enumerate(caches):
        if entry[0] == "pool_relu":
            index, (_, pool_cache, mask) = starts[e] + 1, entry
            d_after = net.backward(dlogits, caches[e + 1 :], need_dx=True)[1]
            dout = L.relu_backward(d_after, mask)
            din = L.max_pool_backward(dout, pool_cache)
            break
        if net.arch.layers[starts[e]].kind == "pool" and net.arch.layers[starts[e]].mode == "max":
            index = starts[e]
            dout = net.backward(dlogits, caches[e + 1 :], need_dx=True)[1]
            din = L.max_pool_backward(dout, entry[1])
            break
    else:
        return None
    layer = net.arch.layers[index]
    ph, pw = layer.size
    x = acts[index - 1].value[0]  # what the chapter's max pool reads: the ReLU's output
    rows, cols, tied, best, _ = pool_ties(x, ph, pw, layer.stride)
    if channel is None:  # the channel that sends the most gradient back
        channel = int(np.abs(din[0]).sum(axis=(1, 2)).argmax())
    channel = min(max(channel, 0), x.shape[0] - 1)
    t = tied[channel]
    carrying = t & (best[channel] > 0)
    low, high = split_range(din[0, channel])
    return PoolRouting(
        layer=acts[index].name,
        mode=layer.mode,
        size=[ph, pw],
        stride=layer.stride,
        channels=int(x.shape[0]),
        channel=channel,
        input=rounded(x[channel], 6),
        dout=rounded(dout[0, channel], 9),
        din=rounded(din[0, channel], 9),
        din_png=render_split(din[0, channel], low, high),
        winners=np.stack([rows[channel], cols[channel]], axis=-1).tolist(),
        tied=np.argwhere(t).tolist(),
        tied_windows=int(t.sum()),
        tied_with_gradient=int(carrying.sum()),
        tied_all_channels=int(tied.sum()),
        windows_all_channels=int(tied.size),
    )


def digit_backward(
    model: LoadedModel,
    digit: np.ndarray,
    target: int | None = None,
    row: int | None = None,
    col: int | None = None,
    channel: int | None = None,
) -> Backward:
    """digit (28, 28), 1 = ink. target: the class the loss is taken against (default: the
    predicted one). (row, col): the pixel whose ledger to show (default: the largest |dL/dx|).
    channel: which channel of the first max pool to show (default: the busiest)."""
    net = model.net
    if net.arch.layers[0].kind != "conv":
        raise NoConvLayerError(f"model {model.id!r} does not start with a conv layer")
    x = digit[None, None].astype(np.float32)
    logits, caches = net.forward(x)
    label = int(logits[0].argmax())
    target = label if target is None else target
    loss, dlogits = loss_gradient(logits, target)
    _, dx = net.backward(dlogits, caches, need_dx=True)
    d_conv = net.backward(dlogits, caches[1:], need_dx=True)[1]  # dL/d(conv1 output)
    W, _ = net.weights_of(0)
    fn, _, fh, fw = W.shape
    conv = net.arch.layers[0]
    _, _, oh, ow = d_conv.shape
    dcol = W.reshape(fn, -1).T @ d_conv.reshape(fn, oh * ow)  # (C*FH*FW, OH*OW), channel 0
    grad = dx[0, 0]
    if row is None or col is None:
        row, col = (int(v) for v in np.unravel_index(np.abs(grad).argmax(), grad.shape))
    row, col = min(max(row, 0), grad.shape[0] - 1), min(max(col, 0), grad.shape[1] - 1)
    geometry = (fh, fw, conv.stride, conv.pad, oh, ow)
    counts = overlap_counts(grad.shape, fh, fw, conv.stride, conv.pad)
    low, high = split_range(grad)
    acts = net.trace(x)
    return Backward(
        model=model.id,
        label=label,
        target=target,
        loss=round(loss, 6),
        layer=acts[0].name,
        filter=[fh, fw],
        filters=fn,
        stride=conv.stride,
        pad=conv.pad,
        gradient=rounded(grad, 9),
        range=[round(low, 9), round(high, 9)],
        gradient_png=render_split(grad, low, high),
        overlap=counts.astype(int).tolist(),
        ledger=pixel_ledger(dcol, row, col, geometry, float(grad[row, col])),
        pool=_pool_routing(net, acts, caches, dlogits, channel),
        input=input_view(digit),
    )
