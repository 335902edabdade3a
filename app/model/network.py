"""SimpleConvNet of chapter 7: conv - relu - pool - affine - relu - affine - softmax.

Parameters keep the book's names and layout (W1 (30,1,5,5), b1, W2 (4320,100), b2, W3 (100,10),
b3; pooled maps flattened in (C, H, W) order) so weights compare one-to-one with the book's.
The network object only holds parameters; every pass returns its intermediates instead of
storing them, so one instance serves concurrent requests safely.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from app.engine import layers
from app.engine.shapes import conv_output_shape

PARAM_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")


@dataclass(frozen=True)
class ConvNetConfig:
    input_dim: tuple[int, int, int] = (1, 28, 28)
    filter_num: int = 30
    filter_size: int = 5
    pad: int = 0
    stride: int = 1
    pool_size: int = 2
    hidden_size: int = 100
    output_size: int = 10
    weight_init: str | float = "he"  # "he", or a float: the book's weight_init_std (0.01)

    @property
    def conv_shape(self) -> tuple[int, int]:
        _, h, w = self.input_dim
        fs = self.filter_size
        return conv_output_shape(h, w, fs, fs, self.pad, self.stride)

    @property
    def pool_shape(self) -> tuple[int, int]:
        oh, ow = self.conv_shape
        return conv_output_shape(oh, ow, self.pool_size, self.pool_size, 0, self.pool_size)

    @property
    def flat_size(self) -> int:
        ph, pw = self.pool_shape
        return self.filter_num * ph * pw

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        c = self.input_dim[0]
        fs = self.filter_size
        return {
            "W1": (self.filter_num, c, fs, fs),
            "b1": (self.filter_num,),
            "W2": (self.flat_size, self.hidden_size),
            "b2": (self.hidden_size,),
            "W3": (self.hidden_size, self.output_size),
            "b3": (self.output_size,),
        }

    def to_dict(self) -> dict:
        d = asdict(self)
        d["input_dim"] = list(self.input_dim)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ConvNetConfig:
        d = dict(d)
        d["input_dim"] = tuple(d["input_dim"])
        return cls(**d)


def init_params(config: ConvNetConfig, seed: int) -> dict[str, np.ndarray]:
    """Reproducible initial weights: He (std sqrt(2 / fan_in)) or a fixed std as in the book."""
    rng = np.random.default_rng(seed)
    params = {}
    for name, shape in config.param_shapes().items():
        if name.startswith("b"):
            params[name] = np.zeros(shape, dtype=np.float32)
            continue
        fan_in = int(np.prod(shape[1:])) if name == "W1" else shape[0]
        he = config.weight_init == "he"
        std = np.sqrt(2.0 / fan_in) if he else float(config.weight_init)
        params[name] = (std * rng.standard_normal(shape)).astype(np.float32)
    return params


class SimpleConvNet:
    def __init__(self, config: ConvNetConfig, params: dict[str, np.ndarray]):
        shapes = config.param_shapes()
        for name in PARAM_NAMES:
            if params[name].shape != shapes[name]:
                raise ValueError(
                    f"parameter {name} has shape {params[name].shape}, expected {shapes[name]}"
                )
        self.config = config
        self.params = {name: np.ascontiguousarray(params[name], np.float32) for name in PARAM_NAMES}

    @classmethod
    def initial(cls, config: ConvNetConfig | None = None, seed: int = 0) -> SimpleConvNet:
        config = config or ConvNetConfig()
        return cls(config, init_params(config, seed))

    # ------------------------------------------------------------ passes

    def _forward(self, x: np.ndarray):
        """conv -> pool -> relu -> affine -> relu -> affine.

        ReLU and max pooling commute (max(relu(a), relu(b)) = relu(max(a, b))), so we pool
        first and apply ReLU to a quarter of the values; the numbers are exactly the book's
        conv -> relu -> pool, which the tests check.
        """
        p, cfg = self.params, self.config
        conv, conv_c = layers.conv_forward(x, p["W1"], p["b1"], cfg.stride, cfg.pad)
        pool_pre, pool_c = layers.max_pool_forward(conv, cfg.pool_size, cfg.pool_size)
        pool, relu1_c = layers.relu_forward(pool_pre)
        hidden_pre, aff1_c = layers.affine_forward(pool, p["W2"], p["b2"])
        hidden, relu2_c = layers.relu_forward(hidden_pre)
        logits, aff2_c = layers.affine_forward(hidden, p["W3"], p["b3"])
        acts = {"conv": conv, "pool": pool, "hidden": hidden, "logits": logits}
        return acts, (conv_c, pool_c, relu1_c, aff1_c, relu2_c, aff2_c)

    def _infer(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """The same pass as _forward without what backward needs (masks, argmax indices):
        the server runs one per request, where that bookkeeping is a third of the time."""
        p, cfg = self.params, self.config
        x = np.asarray(x, np.float32)
        conv, _ = layers.conv_forward(x, p["W1"], p["b1"], cfg.stride, cfg.pad)
        pool = layers.max_pool(conv, cfg.pool_size, cfg.pool_size)
        np.maximum(pool, 0, out=pool)
        hidden, _ = layers.affine_forward(pool, p["W2"], p["b2"])
        np.maximum(hidden, 0, out=hidden)
        logits, _ = layers.affine_forward(hidden, p["W3"], p["b3"])
        return {"conv": conv, "pool": pool, "hidden": hidden, "logits": logits}

    def predict(self, x: np.ndarray) -> np.ndarray:
        """x (N, C, H, W), pixels in 0..1 with 1 = ink -> logits (N, 10)."""
        return self._infer(x)["logits"]

    def features(self, x: np.ndarray) -> np.ndarray:
        """The input of the last affine layer (N, D): what the classifier reads."""
        return self._infer(x)["hidden"]

    def trace(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Every intermediate of one forward pass: conv, relu, pool, hidden, logits, probs."""
        acts = self._infer(x)
        return {
            "conv": acts["conv"],
            "relu": np.maximum(acts["conv"], 0),
            "pool": acts["pool"],
            "hidden": acts["hidden"],
            "logits": acts["logits"],
            "probs": layers.softmax(acts["logits"]),
        }

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        return layers.softmax_cross_entropy(self.predict(x), t)[0]

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int = 500) -> float:
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        correct = 0
        for i in range(0, len(x), batch_size):
            batch = slice(i, i + batch_size)
            correct += int((self.predict(x[batch]).argmax(1) == labels[batch]).sum())
        return correct / len(x)

    def gradient(self, x: np.ndarray, t: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """Backpropagation: (mean loss, gradient of every parameter)."""
        acts, (conv_c, pool_c, relu1_c, aff1_c, relu2_c, aff2_c) = self._forward(x)
        loss, d = layers.softmax_cross_entropy(acts["logits"], t)
        d, dW3, db3 = layers.affine_backward(d, aff2_c)
        d = layers.relu_backward(d, relu2_c)
        d, dW2, db2 = layers.affine_backward(d, aff1_c)
        d = layers.relu_backward(d, relu1_c)
        d = layers.max_pool_backward(d, pool_c)
        _, dW1, db1 = layers.conv_backward(d, conv_c, need_dx=False)
        grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "W3": dW3, "b3": db3}
        return loss, grads
