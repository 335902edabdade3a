"""Weights as .npz (never pickles) with a .json metadata file beside them.

Writes go to a temporary file that is renamed into place, so an interrupted save never leaves
a half-written model behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .architecture import Architecture, ArchitectureError
from .network import Network


class ModelFileError(RuntimeError):
    """A model file that is missing, unreadable or does not fit the architecture."""


def metadata_path(weights_path: str | Path) -> Path:
    return Path(weights_path).with_suffix(".json")


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _atomic_write(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a model file is meant to be shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_model(net: Network, path: str | Path, metadata: dict) -> None:
    """Write `path` (.npz) and its .json metadata (config added) atomically."""
    path = Path(path)
    meta = {**metadata, "config": net.arch.to_dict()}
    _atomic_write(path, lambda f: np.savez(f, **net.params))
    meta["weights_sha256"] = file_sha256(path)
    text = json.dumps(meta, indent=1).encode()
    _atomic_write(metadata_path(path), lambda f: f.write(text))


def update_metadata(path: str | Path, **fields) -> None:
    """Add fields to a model's .json (atomically); the weights are not touched."""
    meta_path = metadata_path(path)
    meta = {**json.loads(meta_path.read_text()), **fields}
    text = json.dumps(meta, indent=1).encode()
    _atomic_write(meta_path, lambda f: f.write(text))


def load_model(path: str | Path) -> tuple[Network, dict]:
    """Load weights and metadata; any problem is one ModelFileError with a clear message."""
    path = Path(path)
    meta_path = metadata_path(path)
    for p in (path, meta_path):
        if not p.is_file():
            raise ModelFileError(f"model file {p} not found")
    try:
        meta = json.loads(meta_path.read_text())
        arch = Architecture.from_dict(meta["config"])
    except (ArchitectureError, ValueError, KeyError, TypeError) as err:
        raise ModelFileError(f"model metadata {meta_path} is unreadable: {err}") from err
    try:
        with np.load(path, allow_pickle=False) as npz:
            names = list(arch.param_shapes())
            missing = [n for n in names if n not in npz.files]
            if missing:
                raise ModelFileError(f"model file {path} lacks parameters {', '.join(missing)}")
            params = {name: npz[name] for name in names}
    except ModelFileError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise ModelFileError(f"model file {path} is corrupt: {err}") from err
    try:
        net = Network(arch, params)
    except ValueError as err:
        raise ModelFileError(f"model file {path} does not match its metadata: {err}") from err
    return net, meta
