"""The loaded model and what the API serves about it; built once at start, read-only after."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.model.network import ConvNetConfig, SimpleConvNet, init_params
from app.model.storage import file_sha256, load_model


@dataclass(frozen=True)
class LoadedModel:
    net: SimpleConvNet
    metadata: dict
    path: Path
    sha256: str
    initial_W1: np.ndarray  # the untrained first-layer filters, for the before/after view
    initial_b1: np.ndarray


def load_service_model(path: Path) -> LoadedModel:
    """Raises ModelFileError (one clear message) for a missing, corrupt or mismatched file."""
    net, meta = load_model(path)
    if "initial_W1" in meta:
        W1 = np.asarray(meta["initial_W1"], dtype=np.float32).reshape(net.params["W1"].shape)
        b1 = np.asarray(meta.get("initial_b1", np.zeros(len(W1))), dtype=np.float32)
    else:  # regenerate from the seed
        init = init_params(ConvNetConfig.from_dict(meta["config"]), int(meta.get("seed", 0)))
        W1, b1 = init["W1"], init["b1"]
    return LoadedModel(net, meta, path, file_sha256(path), W1, b1)


def layer_table(config: ConvNetConfig) -> list[dict]:
    """Layers with output shapes and parameter counts, for /api/model."""
    c, h, w = config.input_dim
    fn, fs = config.filter_num, config.filter_size
    oh, ow = config.conv_shape
    ph, pw = config.pool_shape
    p = config.pool_size
    return [
        {"name": "input", "output_shape": [c, h, w], "params": 0},
        {
            "name": f"conv {fn} filters {fs}x{fs}, stride {config.stride}, pad {config.pad}",
            "output_shape": [fn, oh, ow],
            "params": fn * c * fs * fs + fn,
        },
        {"name": "relu", "output_shape": [fn, oh, ow], "params": 0},
        {"name": f"max pool {p}x{p}, stride {p}", "output_shape": [fn, ph, pw], "params": 0},
        {
            "name": f"affine {config.flat_size} -> {config.hidden_size}",
            "output_shape": [config.hidden_size],
            "params": config.flat_size * config.hidden_size + config.hidden_size,
        },
        {"name": "relu", "output_shape": [config.hidden_size], "params": 0},
        {
            "name": f"affine {config.hidden_size} -> {config.output_size}",
            "output_shape": [config.output_size],
            "params": config.hidden_size * config.output_size + config.output_size,
        },
        {"name": "softmax", "output_shape": [config.output_size], "params": 0},
    ]
