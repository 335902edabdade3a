"""The same SimpleConvNet in PyTorch on the CPU, the reference the engine is measured against.

torch is imported lazily: importing this module never fails, `torch_version()` says whether
torch is there, and only `TorchConvNet` needs it.
"""

from __future__ import annotations

import numpy as np


def torch_version() -> str | None:
    """The installed torch version, or None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    return torch.__version__


class TorchConvNet:
    """conv(30 5x5) - relu - maxpool 2x2 - linear 100 - relu - linear 10, cross-entropy, Adam."""

    def __init__(self, seed: int = 0, lr: float = 1e-3):
        import torch
        from torch import nn

        self.torch = torch
        torch.manual_seed(seed)
        self.net = nn.Sequential(
            nn.Conv2d(1, 30, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),  # (N, 30, 12, 12) -> (N, 4320) in (C, H, W) order, as the book flattens
            nn.Linear(4320, 100),
            nn.ReLU(),
            nn.Linear(100, 10),
        )
        self.loss_fn = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=lr)

    @staticmethod
    def set_threads(n: int) -> None:
        import torch

        torch.set_num_threads(n)

    def train_step(self, x: np.ndarray, t: np.ndarray) -> float:
        """One step on a NumPy batch: x (N, 1, 28, 28) float32, t (N,) int64 labels."""
        torch = self.torch
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.net(torch.from_numpy(x)), torch.from_numpy(t))
        loss.backward()
        self.optimizer.step()
        return loss.item()

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Logits (N, 10) of a NumPy batch, without autograd bookkeeping."""
        with self.torch.inference_mode():
            return self.net(self.torch.from_numpy(x)).numpy()

    def gradient(self, x: np.ndarray, t: np.ndarray) -> tuple[float, dict[str, np.ndarray]]:
        """Loss and gradients in the book's parameter names and layouts (for cross-checks)."""
        torch = self.torch
        self.net.zero_grad(set_to_none=True)
        loss = self.loss_fn(self.net(torch.from_numpy(x)), torch.from_numpy(t))
        loss.backward()
        conv, fc1, fc2 = self.net[0], self.net[4], self.net[6]
        grads = {
            "W1": conv.weight.grad,
            "b1": conv.bias.grad,
            "W2": fc1.weight.grad.T,
            "b2": fc1.bias.grad,
            "W3": fc2.weight.grad.T,
            "b3": fc2.bias.grad,
        }
        self.net.zero_grad(set_to_none=True)
        return loss.item(), {k: v.numpy().copy() for k, v in grads.items()}

    def load_params(self, params: dict[str, np.ndarray]) -> None:
        """Take the book's W1 (30,1,5,5), b1, W2 (4320,100), b2, W3 (100,10), b3."""
        torch = self.torch
        conv, fc1, fc2 = self.net[0], self.net[4], self.net[6]
        pairs = [
            (conv.weight, params["W1"]),
            (conv.bias, params["b1"]),
            (fc1.weight, params["W2"].T),
            (fc1.bias, params["b2"]),
            (fc2.weight, params["W3"].T),
            (fc2.bias, params["b3"]),
        ]
        with torch.no_grad():
            for tensor, value in pairs:
                tensor.copy_(torch.from_numpy(np.ascontiguousarray(value, np.float32)))
