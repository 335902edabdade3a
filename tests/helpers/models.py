"""The zoo's files as the tests find them: which are shipped yet, and which one is the default.

The zoo's trained files land in models/ one by one (training takes hours), so a test about a
model that is not there yet skips and says which command makes it; once the file exists, the
test runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.model.zoo import DEFAULT_MODEL_ID, ZOO
from tests.helpers.paths import ROOT

MODELS_DIR = ROOT / "models"
FALLBACK_DEFAULT = "simple-he"  # the first release's model, served until `simple` is trained
ENV_DEFAULT = "CONV_EXPLORER_DEFAULT_MODEL"


def model_file(model_id: str) -> Path:
    return MODELS_DIR / f"{model_id}.npz"


def shipped_ids() -> list[str]:
    """Zoo ids whose file is in models/, in zoo order."""
    return [m for m in ZOO if model_file(m).is_file()]


def default_model_id() -> str:
    """`simple` once models/simple.npz exists, else simple-he (unless the environment says)."""
    if ENV_DEFAULT in os.environ:
        return os.environ[ENV_DEFAULT]
    return DEFAULT_MODEL_ID if model_file(DEFAULT_MODEL_ID).is_file() else FALLBACK_DEFAULT


def how_to_make(model_id: str) -> str:
    entry = ZOO[model_id]
    if entry.source == "book":
        return "conv-explorer import-book"
    return f"conv-explorer train --arch {model_id}"


def require_model(model_id: str) -> Path:
    """The file of a zoo model, or a skip that names the command which makes it."""
    path = model_file(model_id)
    if not path.is_file():
        pytest.skip(f"{path.relative_to(ROOT)} is not shipped yet ({how_to_make(model_id)})")
    return path
