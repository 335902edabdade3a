"""The zoo as the server holds it: every model file loaded once at start, read-only after."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.model.network import Network, init_params
from app.model.storage import ModelFileError, file_sha256, load_model
from app.model.zoo import ZOO


class UnknownModelError(LookupError):
    """A model id the server does not hold; the message lists the ids it does."""


@dataclass(frozen=True)
class LoadedModel:
    id: str
    net: Network
    metadata: dict
    path: Path
    sha256: str
    initial: dict[str, np.ndarray] | None  # the untrained weights, when known (not the book's)

    @property
    def title(self) -> str:
        return self.metadata.get("title", self.id)


def units_path(model: LoadedModel) -> Path:
    """Where `conv-explorer units` keeps a model's top test patches."""
    return model.path.parent / "units" / f"{model.id}.npz"


def snapshots_path(model: LoadedModel) -> Path | None:
    """Where `conv-explorer train --snapshot-every N` kept the first layer's history, if it
    did (the model's JSON names the file)."""
    record = model.metadata.get("snapshots")
    return model.path.parent / record["file"] if record else None


def _initial_params(net: Network, meta: dict) -> dict[str, np.ndarray] | None:
    """The weights training started from: regenerated from the recorded seed (the same
    draws as at training), or None for imported weights whose start is unknown."""
    if meta.get("initial", "regenerate from seed") is None:
        return None
    return init_params(net.arch, int(meta.get("seed", 0)))


def load_one(path: Path) -> LoadedModel:
    """Raises ModelFileError (one clear message) for a missing, corrupt or mismatched file."""
    net, meta = load_model(path)
    model_id = meta.get("id", path.stem)
    return LoadedModel(model_id, net, meta, path, file_sha256(path), _initial_params(net, meta))


class ModelRegistry:
    """Models by id, in zoo order, and which one answers when a request names none."""

    def __init__(self, models: list[LoadedModel], default_id: str):
        order = list(ZOO)
        ranked = sorted(models, key=lambda m: order.index(m.id) if m.id in order else len(order))
        self.models = {m.id: m for m in ranked}
        if default_id not in self.models:
            raise ModelFileError(f"default model {default_id!r} is not among {self.known()}")
        self.default_id = default_id

    @classmethod
    def from_dir(cls, models_dir: Path, default_id: str, extra: Path | None = None):
        """Every .npz in models_dir; `extra` (a file given by path) becomes the default."""
        paths = sorted(Path(models_dir).glob("*.npz"))
        models = [load_one(p) for p in paths if extra is None or p.resolve() != extra.resolve()]
        if extra is not None:
            chosen = load_one(extra)
            models = [m for m in models if m.id != chosen.id] + [chosen]
            default_id = chosen.id
        if not models:
            raise ModelFileError(f"no model files (*.npz) in {models_dir}")
        return cls(models, default_id)

    def known(self) -> str:
        return ", ".join(self.models)

    def get(self, model_id: str | None = None) -> LoadedModel:
        if model_id is None:
            return self.models[self.default_id]
        try:
            return self.models[model_id]
        except KeyError:
            raise UnknownModelError(f"unknown model {model_id!r}; known: {self.known()}") from None

    @property
    def default(self) -> LoadedModel:
        return self.models[self.default_id]
