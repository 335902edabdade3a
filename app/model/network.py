"""One network for every architecture: a layer list, its parameters, and the passes over them.

The object only holds parameters. Every pass returns its intermediates instead of storing them,
so one instance serves concurrent requests safely. Dropout masks come from a generator passed
to the training pass, never from shared state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.engine import layers as L
from app.engine.numerics import flush_subnormals

from . import fast_pass
from .architecture import Architecture


@dataclass(frozen=True)
class Activation:
    """One named intermediate of a forward pass: conv1, relu1, pool1, ..., probs."""

    name: str
    index: int  # position in the architecture's layer list
    value: np.ndarray


def init_params(arch: Architecture, seed: int) -> dict[str, np.ndarray]:
    """Reproducible initial weights: He (std sqrt(2 / fan_in)) or one fixed std (the book's
    SimpleConvNet uses 0.01). Biases start at zero."""
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in arch.param_shapes().items():
        if name.startswith("b"):
            params[name] = np.zeros(shape, dtype=np.float32)
            continue
        fan_in = int(np.prod(shape[1:])) if len(shape) == 4 else shape[0]
        std = np.sqrt(2.0 / fan_in) if arch.init == "he" else float(arch.init)
        params[name] = (std * rng.standard_normal(shape)).astype(np.float32)
    return params


def _relu_then_max_pool(arch: Architecture, i: int) -> bool:
    """ReLU followed by max pooling: they commute (max(relu(a), relu(b)) = relu(max(a, b))),
    so the fast passes pool first and apply ReLU to a quarter of the values, exactly."""
    nxt = arch.layers[i + 1] if i + 1 < len(arch.layers) else None
    return (
        arch.layers[i].kind == "relu"
        and nxt is not None
        and nxt.kind == "pool"
        and (nxt.mode == "max")
    )


class Network:
    def __init__(self, arch: Architecture, params: dict[str, np.ndarray], dtype=np.float32):
        """dtype float64 gives the slow, exact passes a gradient check needs."""
        shapes = arch.param_shapes()
        for name, shape in shapes.items():
            if name not in params:
                raise ValueError(f"parameter {name} is missing")
            if params[name].shape != shape:
                raise ValueError(
                    f"parameter {name} has shape {params[name].shape}, expected {shape}"
                )
        self.arch = arch
        self.dtype = np.dtype(dtype)
        # its own copies: training updates them in place, and subnormals go (numerics.py)
        self.params = {
            name: flush_subnormals(np.array(params[name], self.dtype, order="C")) for name in shapes
        }
        self._param_of = {i: k for i, k in arch.param_layers()}
        self.last_affine = max(i for i, layer in enumerate(arch.layers) if layer.kind == "affine")
        self._fast = fast_pass.supported(arch)

    @classmethod
    def initial(cls, arch: Architecture, seed: int = 0) -> Network:
        return cls(arch, init_params(arch, seed))

    def param_index(self, index: int) -> int:
        """k of W{k}, b{k}: the book's number of the conv or affine layer at `index`."""
        return self._param_of[index]

    def weights_of(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """(W, b) of the conv or affine layer at `index` in the layer list."""
        k = self._param_of[index]
        return self.params[f"W{k}"], self.params[f"b{k}"]

    def conv_layers(self) -> list[int]:
        return [i for i, layer in enumerate(self.arch.layers) if layer.kind == "conv"]

    # ------------------------------------------------------------ inference

    def _apply(self, i: int, x: np.ndarray) -> np.ndarray:
        """Layer i at inference, without what backward would need."""
        layer = self.arch.layers[i]
        if layer.kind == "conv":
            W, b = self.weights_of(i)
            return L.conv_forward(x, W, b, layer.stride, layer.pad)[0]
        if layer.kind == "relu":
            return np.maximum(x, 0)
        if layer.kind == "pool":
            ph, pw = layer.size
            if layer.mode == "max":
                return L.max_pool(x, ph, pw, layer.stride)
            return L.avg_pool_forward(x, ph, pw, layer.stride)[0]
        if layer.kind == "affine":
            W, b = self.weights_of(i)
            return L.affine_forward(x, W, b)[0]
        if layer.kind == "dropout":
            return x * np.float32(1 - layer.rate)
        return L.softmax(x)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """x (N, C, H, W), pixels in 0..1 with 1 = ink -> logits (N, classes)."""
        return self.logits_and_features(x)[0]

    def features(self, x: np.ndarray) -> np.ndarray:
        """The input of the last affine layer (N, D): what the classifier reads."""
        return self.logits_and_features(x)[1]

    def logits_and_features(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """predict and features from one pass."""
        if self._fast:
            logits, _, features = fast_pass.forward(self, x, track=False)
            return logits, features
        x = np.asarray(x, self.dtype)
        features, i, last = None, 0, len(self.arch.layers) - 1
        while i < last:  # the softmax is left out: callers want logits
            if i == self.last_affine:
                features = x.reshape(len(x), -1)
            if _relu_then_max_pool(self.arch, i):
                x = self._apply(i + 1, x)
                np.maximum(x, 0, out=x)
                i += 2
                continue
            x = self._apply(i, x)
            i += 1
        return x, features

    def trace(self, x: np.ndarray) -> list[Activation]:
        """Every layer's output, in the book's order, named conv1, relu1, pool1, ..., probs."""
        x = np.asarray(x, self.dtype)
        out = []
        for i, name in enumerate(self.arch.names()):
            x = self._apply(i, x)
            out.append(Activation(name, i, x))
        return out

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        return L.softmax_cross_entropy(self.predict(x), t)[0]

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int = 500) -> float:
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        correct = 0
        for i in range(0, len(x), batch_size):
            batch = slice(i, i + batch_size)
            correct += int((self.predict(x[batch]).argmax(1) == labels[batch]).sum())
        return correct / len(x)

    # ------------------------------------------------------------ training

    def forward(self, x: np.ndarray, rng: np.random.Generator | None = None):
        """The training pass in the chapter's layout -> (logits, caches): every conv map and
        pool window in (N, C, H, W), as the explorer's figures read them (training itself uses
        app.model.fast_pass). Dropout draws its masks from `rng`; without one it acts as at
        inference (a deterministic pass, e.g. for input gradients)."""
        x = np.asarray(x, self.dtype)
        caches: list[tuple] = []
        i, last = 0, len(self.arch.layers) - 1
        while i < last:
            layer = self.arch.layers[i]
            if _relu_then_max_pool(self.arch, i):
                pool = self.arch.layers[i + 1]
                x, pool_cache = L.max_pool_forward(x, *pool.size, pool.stride)
                x, mask = L.relu_forward(x)
                caches.append(("pool_relu", pool_cache, mask))
                i += 2
                continue
            if layer.kind == "conv":
                W, b = self.weights_of(i)
                x, cache = L.conv_forward(x, W, b, layer.stride, layer.pad)
            elif layer.kind == "affine":
                W, b = self.weights_of(i)
                x, cache = L.affine_forward(x, W, b)
            elif layer.kind == "relu":
                x, cache = L.relu_forward(x)
            elif layer.kind == "pool":
                pool_fn = L.max_pool_forward if layer.mode == "max" else L.avg_pool_forward
                x, cache = pool_fn(x, *layer.size, layer.stride)
            else:  # dropout
                x, cache = L.dropout_forward(x, layer.rate, rng)
            caches.append((i, cache))
            i += 1
        return x, caches

    def backward(self, dlogits: np.ndarray, caches, need_dx: bool = False):
        """Backpropagate d(loss)/d(logits) -> (gradient of every parameter, dL/dx or None)."""
        grads: dict[str, np.ndarray] = {}
        d = dlogits
        for n, entry in enumerate(reversed(caches)):
            first = n == len(caches) - 1
            if entry[0] == "pool_relu":
                _, pool_cache, mask = entry
                d = L.max_pool_backward(L.relu_backward(d, mask), pool_cache)
                continue
            i, cache = entry
            layer = self.arch.layers[i]
            if layer.kind in ("conv", "affine"):
                k = self._param_of[i]
                back = L.conv_backward if layer.kind == "conv" else L.affine_backward
                d, grads[f"W{k}"], grads[f"b{k}"] = back(d, cache, need_dx=need_dx or not first)
            elif layer.kind == "relu":
                d = L.relu_backward(d, cache)
            elif layer.kind == "pool":
                pool_back = L.max_pool_backward if layer.mode == "max" else L.avg_pool_backward
                d = pool_back(d, cache)
            else:
                d = L.dropout_backward(d, cache)
        return grads, d

    def gradient(self, x: np.ndarray, t: np.ndarray, rng: np.random.Generator | None = None):
        """Backpropagation: (mean loss, gradient of every parameter)."""
        if not self._fast:
            logits, caches = self.forward(x, rng)
            loss, dlogits = L.softmax_cross_entropy(logits, t)
            return loss, self.backward(dlogits, caches)[0]
        logits, caches, _ = fast_pass.forward(self, x, rng)
        loss, dlogits = L.softmax_cross_entropy(logits, t)
        return loss, fast_pass.backward(self, dlogits, caches)[0]

    def input_gradient(self, x: np.ndarray, dlogits: np.ndarray) -> np.ndarray:
        """d(sum(dlogits * logits))/dx: the gradient of any linear read-out of the logits
        with respect to the input, through the engine's own backward pass."""
        _, caches = self.forward(x)
        return self.backward(np.asarray(dlogits, self.dtype), caches, need_dx=True)[1]
