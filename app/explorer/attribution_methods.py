"""Attribution maps: which input pixels gave one class its score, for any network of the zoo.

Every gradient comes from the engine's own backward pass (Network.forward / backward), never
from finite differences. A map is (H, W), in logit units, for one image x (C, H, W) with pixels
in 0..1 (1 = ink) and one target class: positive values push the target's logit up. Channels
are summed (every zoo model reads one gray channel).

The batched methods (SmoothGrad's noisy copies, Integrated Gradients' path, occlusion's
windows) send all their images through one forward/backward pass, in chunks of CHUNK images so
a deep network's im2col matrices stay small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.model.architecture import Architecture
from app.model.network import Network
from app.model.receptive import receptive_fields

CHUNK = 128  # images per pass: the chapter-8 net's largest im2col is then ~60 MB


def _chunks(n: int):
    for start in range(0, n, CHUNK):
        yield slice(start, min(n, start + CHUNK))


def target_gradients(net: Network, images: np.ndarray, target: int):
    """images (N, C, H, W) -> (logits (N, K), d logit_target / d image (N, C, H, W))."""
    logits, grads = [], []
    for part in _chunks(len(images)):
        out, caches = net.forward(images[part])
        dlogits = np.zeros_like(out)
        dlogits[:, target] = 1
        grads.append(net.backward(dlogits, caches, need_dx=True)[1])
        logits.append(out)
    return np.concatenate(logits), np.concatenate(grads)


def logits_of(net: Network, images: np.ndarray) -> np.ndarray:
    """Inference logits (N, K) in chunks."""
    return np.concatenate([net.predict(images[part]) for part in _chunks(len(images))])


def _plane(a: np.ndarray) -> np.ndarray:
    """(C, H, W) -> (H, W): channels summed."""
    return a.sum(axis=0, dtype=np.float64).astype(np.float32)


# ------------------------------------------------------------------ gradient family


def gradient(net: Network, x: np.ndarray, target: int) -> np.ndarray:
    """d logit / d pixel: how the score would move if one pixel got a little more ink."""
    return _plane(target_gradients(net, x[None], target)[1][0])


def gradient_x_input(net: Network, x: np.ndarray, target: int) -> np.ndarray:
    """gradient * x: the first-order share of each pixel's ink in the logit (0 off the ink)."""
    return _plane(target_gradients(net, x[None], target)[1][0] * x)


def smoothgrad(
    net: Network, x: np.ndarray, target: int, samples: int, noise: float, seed: int
) -> np.ndarray:
    """The gradient averaged over `samples` copies of x with Gaussian noise of standard deviation
    noise * (max(x) - min(x)) (Smilkov et al. 2017); the draws come from `seed`."""
    rng = np.random.default_rng(seed)
    sigma = noise * float(x.max() - x.min())
    noisy = x[None] + rng.normal(0.0, sigma, (samples, *x.shape)).astype(np.float32)
    grads = target_gradients(net, noisy, target)[1]
    return _plane(grads.mean(axis=0, dtype=np.float64))


@dataclass(frozen=True)
class IntegratedGradients:
    map: np.ndarray  # (H, W)
    logit_x: float
    logit_baseline: float

    @property
    def total(self) -> float:
        return float(self.map.sum(dtype=np.float64))

    @property
    def gap(self) -> float:
        return self.logit_x - self.logit_baseline


def integrated_gradients(
    net: Network, x: np.ndarray, target: int, baseline: np.ndarray, steps: int
) -> IntegratedGradients:
    """(x - baseline) times the gradient averaged along the straight path from the baseline to x
    (Sundararajan et al. 2017). The average is Gauss-Legendre quadrature with `steps` nodes, all
    in one batch: on the zoo's networks it meets completeness (the map sums to logit(x) -
    logit(baseline)) several times closer than the midpoint rule at the same cost."""
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    alphas, weights = (nodes + 1) / 2, weights / 2  # from [-1, 1] to [0, 1]
    diff = (x - baseline).astype(np.float32)
    path = baseline[None] + alphas.astype(np.float32)[:, None, None, None] * diff[None]
    grads = target_gradients(net, path.astype(np.float32), target)[1]
    mean = np.tensordot(weights, grads.astype(np.float64), axes=1)
    ends = logits_of(net, np.stack([x, baseline]).astype(np.float32))[:, target]
    return IntegratedGradients(_plane(mean * diff), float(ends[0]), float(ends[1]))


# ------------------------------------------------------------------ occlusion


def window_starts(length: int, patch: int, stride: int) -> list[int]:
    """Where windows of `patch` start along one side, `stride` apart; a last window flush with
    the edge is added when the stride does not land there, so every pixel is covered."""
    starts = list(range(0, length - patch + 1, stride))
    if starts[-1] != length - patch:
        starts.append(length - patch)
    return starts


def occlusion_windows(shape: tuple[int, int], patch: int, stride: int) -> int:
    h, w = shape
    return len(window_starts(h, patch, stride)) * len(window_starts(w, patch, stride))


def occlusion(
    net: Network, x: np.ndarray, target: int, patch: int, stride: int, ink: str
) -> np.ndarray:
    """How far the target's logit falls when a patch x patch square is erased (set to 0, no
    ink) or inked (set to 1), per pixel the mean over the windows that cover it (Zeiler and
    Fergus 2014). Every window is one image of a single forward batch."""
    _, h, w = x.shape
    value = 0.0 if ink == "erase" else 1.0
    boxes = [
        (r, c) for r in window_starts(h, patch, stride) for c in window_starts(w, patch, stride)
    ]
    images = np.repeat(x[None], len(boxes) + 1, axis=0)
    for n, (r, c) in enumerate(boxes, start=1):
        images[n, :, r : r + patch, c : c + patch] = value
    logits = logits_of(net, images)[:, target]
    drops = logits[0] - logits[1:]
    total = np.zeros((h, w), np.float64)
    count = np.zeros((h, w), np.float64)
    for drop, (r, c) in zip(drops, boxes, strict=True):
        total[r : r + patch, c : c + patch] += drop
        count[r : r + patch, c : c + patch] += 1
    return (total / count).astype(np.float32)


# ------------------------------------------------------------------ Grad-CAM


@dataclass(frozen=True)
class CamStage:
    name: str  # the trace name of the activation: relu1, pool1, ...
    index: int  # its layer index
    cam: np.ndarray  # (OH, OW) at the stage's own resolution, >= 0
    on_input: np.ndarray  # (H, W): each unit's value spread over its receptive field


def cam_stages(arch: Architecture) -> list[int]:
    """The layer indices whose outputs Grad-CAM weighs: every conv stage's rectified output
    (a conv followed by ReLU is read after the ReLU) and every pooling output, while the
    activations are still maps."""
    stages = []
    for i, layer in enumerate(arch.layers):
        if len(arch.shapes[i]) != 3:
            break
        nxt = arch.layers[i + 1].kind if i + 1 < len(arch.layers) else None
        if (
            layer.kind == "pool"
            or (layer.kind == "relu" and i > 0)
            or (layer.kind == "conv" and nxt != "relu")
        ):
            stages.append(i)
    return stages


def tail_network(net: Network, index: int) -> Network:
    """The layers after `index`, as a network of their own whose input is that layer's output,
    its parameters renumbered W1, b1, ... from the first one it keeps."""
    arch = net.arch
    layers = arch.layers[index + 1 :]
    tail = Architecture(arch.shapes[index], layers, arch.init)
    kept = [k for i, k in arch.param_layers() if i > index]
    params = {}
    for new, old in enumerate(kept, start=1):
        params[f"W{new}"], params[f"b{new}"] = net.params[f"W{old}"], net.params[f"b{old}"]
    return Network(tail, params, dtype=net.dtype)


def _field_matrix(length: int, units: int, jump: int, offset: int, size: int) -> np.ndarray:
    """(length, units): 1 where input position p lies in unit u's receptive field."""
    p = np.arange(length)[:, None]
    start = offset + jump * np.arange(units)[None, :]
    return ((p >= start) & (p < start + size)).astype(np.float64)


def project_to_input(arch: Architecture, index: int, cam: np.ndarray) -> np.ndarray:
    """A stage map (OH, OW) on the input grid: each input pixel gets the mean of the units
    whose receptive field holds it (the field of the last conv or pool at or before index)."""
    fields = receptive_fields(arch)
    field = fields[max(i for i in fields if i <= index)]
    _, h, w = arch.input_shape
    oh, ow = cam.shape
    rows = _field_matrix(h, oh, field.jump, field.offset, field.size)
    cols = _field_matrix(w, ow, field.jump, field.offset, field.size)
    total = rows @ cam.astype(np.float64) @ cols.T
    count = rows @ np.ones_like(cam, np.float64) @ cols.T
    return (total / np.maximum(count, 1)).astype(np.float32)


def grad_cam(net: Network, x: np.ndarray, target: int) -> list[CamStage]:
    """Grad-CAM (Selvaraju et al. 2017) at every stage: weigh each channel A_k of the stage by
    the mean of d logit / d A_k over its positions, sum, keep the positive part. The gradient
    at a stage is the backward pass of the network's remaining layers."""
    trace = net.trace(x[None])
    names = net.arch.names()
    out = []
    for i in cam_stages(net.arch):
        a = trace[i].value
        _, grad = target_gradients(tail_network(net, i), a, target)
        weights = grad[0].mean(axis=(1, 2), dtype=np.float64)
        cam = np.maximum(np.tensordot(weights, a[0].astype(np.float64), axes=1), 0)
        out.append(
            CamStage(names[i], i, cam.astype(np.float32), project_to_input(net.arch, i, cam))
        )
    return out
