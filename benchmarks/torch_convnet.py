"""PyTorch twins of the zoo's networks on the CPU, the reference the engine is measured against.

`TorchConvNet(arch)` builds the same layers as an `app.model.architecture.Architecture`:
Conv -> nn.Conv2d, Relu -> nn.ReLU, Pool -> nn.MaxPool2d / nn.AvgPool2d, Affine -> nn.Linear
(after one nn.Flatten before the first of them), Dropout -> nn.Dropout, and the final Softmax
-> nothing (nn.CrossEntropyLoss takes the logits). Without `arch` it is the chapter's
SimpleConvNet. Parameters go in and out in the engine's names and layouts: W1, b1, W2, ...
numbered over the conv and affine layers, conv weights (FN, C, FH, FW) as they are, affine
weights (in, out), the transpose of nn.Linear's.

PyTorch's dropout scales the kept values by 1 / (1 - rate) in training and does nothing at
inference; the book's (ours) does not scale in training and multiplies by (1 - rate) at
inference. Same cost, different function: compare functions on an architecture without dropout.

torch is imported lazily: importing this module never fails, `torch_version()` says whether
torch is there, and only `TorchConvNet` needs it.
"""

from __future__ import annotations

import numpy as np

from app.model.architecture import Architecture, simple_convnet


def torch_version() -> str | None:
    """The installed torch version, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch.__version__


def torch_layers(arch: Architecture) -> tuple[list, dict[int, tuple[object, str]]]:
    """nn modules for arch's layers, and {k: (module, kind)} for the parameters W{k}, b{k}."""
    from torch import nn

    modules, params, flattened = [], {}, False
    numbers = dict(arch.param_layers())
    for i, layer in enumerate(arch.layers):
        before = arch.input_shape_of(i)
        if layer.kind == "conv":
            fh, fw = layer.size
            module = nn.Conv2d(before[0], layer.filters, (fh, fw), layer.stride, layer.pad)
        elif layer.kind == "relu":
            module = nn.ReLU()
        elif layer.kind == "pool":
            pool = nn.MaxPool2d if layer.mode == "max" else nn.AvgPool2d
            module = pool(tuple(layer.size), layer.stride)
        elif layer.kind == "affine":
            if not flattened:
                # (N, C, H, W) -> (N, C*H*W) in (C, H, W) order, as the engine flattens
                modules.append(nn.Flatten())
                flattened = True
            module = nn.Linear(int(np.prod(before)), layer.units)
        elif layer.kind == "dropout":
            module = nn.Dropout(layer.rate)
        elif layer.kind == "softmax":
            continue  # CrossEntropyLoss works on the logits
        else:
            raise ValueError(f"no PyTorch twin for layer kind {layer.kind!r}")
        modules.append(module)
        if i in numbers:
            params[numbers[i]] = (module, layer.kind)
    return modules, params


class TorchConvNet:
    """The twin of an architecture (default: the chapter's SimpleConvNet, conv(30 5x5) - relu -
    maxpool 2x2 - linear 100 - relu - linear 10), cross-entropy, Adam."""

    def __init__(self, arch: Architecture | None = None, seed: int = 0, lr: float = 1e-3):
        import torch
        from torch import nn

        self.torch = torch
        self.arch = arch if arch is not None else simple_convnet()
        torch.manual_seed(seed)
        modules, self._params = torch_layers(self.arch)
        self.net = nn.Sequential(*modules)
        self._has_dropout = any(isinstance(m, nn.Dropout) for m in modules)
        self._training = True  # nn modules start in training mode
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=lr)

    @staticmethod
    def set_threads(n: int) -> None:
        import torch

        torch.set_num_threads(n)

    def _mode(self, training: bool) -> None:
        """Dropout on (training) or off (inference); a no-op for nets without dropout."""
        if self._has_dropout and training != self._training:
            self.net.train(training)
            self._training = training

    def train_step(self, x: np.ndarray, t: np.ndarray) -> float:
        """One step on a NumPy batch: x (N, C, H, W) float32, t (N,) int64 labels."""
        torch = self.torch
        self._mode(True)
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.net(torch.from_numpy(x)), torch.from_numpy(t))
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Logits (N, classes) of a NumPy batch, without autograd bookkeeping or dropout."""
        self._mode(False)
        with self.torch.inference_mode():
            return self.net(self.torch.from_numpy(x)).numpy()

    def gradient(self, x: np.ndarray, t: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """Loss and gradients in the engine's parameter names and layouts (for cross-checks).
        Training mode: with dropout layers the result depends on torch's random state."""
        torch = self.torch
        self._mode(True)
        self.net.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.net(torch.from_numpy(x)), torch.from_numpy(t))
        loss.backward()
        grads = {}
        for k, (module, kind) in self._params.items():
            weight = module.weight.grad
            grads[f"W{k}"] = weight.T if kind == "affine" else weight
            grads[f"b{k}"] = module.bias.grad
        self.net.zero_grad(set_to_none=True)
        return loss.item(), {k: v.numpy().copy() for k, v in grads.items()}

    def load_params(self, params: dict[str, np.ndarray]) -> None:
        """Take the engine's W1, b1, ... (for SimpleConvNet: W1 (30,1,5,5), b1, W2 (4320,100),
        b2, W3 (100,10), b3)."""
        torch = self.torch
        with torch.no_grad():
            for k, (module, kind) in self._params.items():
                weight = params[f"W{k}"]
                for tensor, value in (
                    (module.weight, weight.T if kind == "affine" else weight),
                    (module.bias, params[f"b{k}"]),
                ):
                    if tuple(tensor.shape) != value.shape:
                        raise ValueError(
                            f"W{k}/b{k}: shape {value.shape}, twin has {tuple(tensor.shape)}"
                        )
                    tensor.copy_(torch.from_numpy(np.ascontiguousarray(value, np.float32)))
