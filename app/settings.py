"""Server settings, read once from the environment (CONV_EXPLORER_*)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "models"
DATA_DIR = ROOT.parent / "shared" / "data" / "mnist"  # full MNIST, when the machine has it
PATH_SETTINGS = ("models_dir", "model_path", "data_dir")


@dataclass(frozen=True)
class Settings:
    models_dir: Path = MODELS_DIR  # every .npz here is served, by the id in its .json
    default_model: str = "simple"  # the model a request without `model=` gets
    model_path: Path | None = None  # one more file, served as the default (serve --model)
    max_body_bytes: int = 8 * 2**20  # whole request body, multipart or JSON
    body_timeout_seconds: float = 15.0  # a client that stops sending gets a 408
    max_image_pixels: int = 40_000_000  # width x height, checked before decoding
    max_convolve_side: int = 1024  # uploads are downscaled to at most this longer side
    max_convolve_macs: int = 150_000_000  # multiply-adds of one /api/convolve call
    max_attribution_macs: int = 20_000_000_000  # multiply-adds of one /api/attribute call
    max_kernel_side: int = 15
    max_stride: int = 16
    max_pad: int = 16
    max_concurrent_work: int = 4  # decodes and forward passes running at once
    data_dir: Path = DATA_DIR  # live training's MNIST; the shipped sample when it does not exist
    max_trainings: int = 2  # live trainings (POST /api/train) at once; the next gets a 429
    max_train_steps: int = 6000  # steps of one live training
    max_train_size: int = 60000  # training digits of one live training
    max_train_batch: int = 500  # batch size of one live training

    @classmethod
    def from_env(cls, environ=os.environ) -> Settings:
        """CONV_EXPLORER_MODELS_DIR, CONV_EXPLORER_MAX_BODY_BYTES, ... override the defaults."""
        values = {}
        for f in fields(cls):
            raw = environ.get("CONV_EXPLORER_" + f.name.upper())
            if raw is None:
                continue
            kind = Path if f.name in PATH_SETTINGS else type(f.default)
            values[f.name] = kind(raw)
        return cls(**values)
