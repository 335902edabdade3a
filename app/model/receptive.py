"""What each conv unit looks for: its receptive field and its top test-set patches (Fig. 7-26).

A unit of a deeper conv layer sees a larger window of the input: every conv and pool layer
widens it by (k - 1) times the distance between neighbouring units (the jump). Scanning the
test digits for each channel's largest responses shows what that unit has learned: layer-1
units respond to edges, deeper units to strokes and parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .architecture import Architecture
from .network import Network

TOP = 9


@dataclass(frozen=True)
class Field:
    """Unit (y, x) of a layer sees input rows offset + y*jump ... + size - 1 (same for cols)."""

    jump: int
    offset: int
    size: int

    def box(self, y: int, x: int, height: int, width: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right), inclusive, clipped to the image: padding is not input."""
        top, left = self.offset + y * self.jump, self.offset + x * self.jump
        return (
            max(top, 0),
            max(left, 0),
            min(top + self.size - 1, height - 1),
            min(left + self.size - 1, width - 1),
        )


def receptive_fields(arch: Architecture) -> dict[int, Field]:
    """The receptive field of every conv and pool layer, by layer index."""
    jump, offset, size = 1, 0, 1
    fields = {}
    for i, layer in enumerate(arch.layers):
        if layer.kind in ("conv", "pool"):
            k = layer.size[0]
            pad = layer.pad if layer.kind == "conv" else 0
            offset -= pad * jump
            size += (k - 1) * jump
            jump *= layer.stride
            fields[i] = Field(jump, offset, size)
        elif layer.kind == "affine":
            break
    return fields


def top_patches(net: Network, images: np.ndarray, batch: int = 250) -> dict[str, dict]:
    """For every channel of every conv layer: the TOP strongest responses over `images`
    (N, 1, H, W) as (image index, y, x, value), strongest first, one image at most once."""
    convs = net.conv_layers()
    names = net.arch.names()
    best: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for start in range(0, len(images), batch):
        acts = {a.index: a.value for a in net.trace(images[start : start + batch])}
        for i in convs:
            a = acts[i]  # (n, FN, OH, OW)
            n, fn, oh, ow = a.shape
            flat = a.reshape(n, fn, oh * ow)
            where = flat.argmax(axis=2)  # each image's strongest position per channel
            value = np.take_along_axis(flat, where[..., None], axis=2)[..., 0].T  # (FN, n)
            index = np.broadcast_to(np.arange(start, start + n), (fn, n))
            pos = where.T
            if i in best:
                value = np.concatenate([best[i][0], value], axis=1)
                index = np.concatenate([best[i][1], index], axis=1)
                pos = np.concatenate([best[i][2], pos], axis=1)
            keep = np.argsort(-value, axis=1, kind="stable")[:, :TOP]
            best[i] = tuple(np.take_along_axis(m, keep, axis=1) for m in (value, index, pos))
    out = {}
    for i in convs:
        value, index, pos = best[i]
        ow = net.arch.shapes[i][2]
        out[names[i]] = {
            "value": value.astype(np.float32),
            "index": index.astype(np.int32),
            "y": (pos // ow).astype(np.int32),
            "x": (pos % ow).astype(np.int32),
        }
    return out


def save_units(path, patches: dict[str, dict], images: np.ndarray, labels: np.ndarray) -> None:
    """Write the top patches with the digits they come from (uint8, each digit once) to an
    .npz (no pickles): `<layer>.<field>` arrays, `digits` and `labels`."""
    used = np.unique(np.concatenate([p["index"].ravel() for p in patches.values()]))
    remap = np.full(len(images), -1, np.int32)
    remap[used] = np.arange(len(used))
    arrays = {
        "digits": np.round(images[used, 0] * 255).astype(np.uint8),
        "labels": labels[used].astype(np.uint8),
        "source_index": used.astype(np.int32),
    }
    for layer, p in patches.items():
        for key, a in p.items():
            arrays[f"{layer}.{key}"] = remap[a] if key == "index" else a
    np.savez_compressed(path, **arrays)


def load_units(path) -> dict:
    """{'digits', 'labels', 'layers': {name: {value, index, y, x}}} from save_units' file."""
    with np.load(path, allow_pickle=False) as npz:
        layers: dict[str, dict] = {}
        for key in npz.files:
            if "." in key:
                layer, field = key.split(".", 1)
                layers.setdefault(layer, {})[field] = npz[key]
        return {"digits": npz["digits"], "labels": npz["labels"], "layers": layers}
