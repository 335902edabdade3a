"""The model zoo: every network the explorer ships, by id, with the recipe that made it.

Each entry names its architecture and its training recipe, so `conv-explorer train --arch ID`
replays the recipe (same seed, data and thread count): bit for bit with the engine that made
the file, the same model to rounding with a later engine (README, "Reproducing a file").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .architecture import Architecture, deep_convnet, mlp, simple_convnet
from .train import TrainConfig

DEFAULT_MODEL_ID = "simple"


@dataclass(frozen=True)
class ZooEntry:
    id: str
    title: str
    shows: str  # what the model is in the zoo for, one sentence
    arch: Architecture
    train: TrainConfig = field(default_factory=TrainConfig)
    source: str = "trained"  # "trained", "untrained" (the random start) or "book" (imported)


ZOO: dict[str, ZooEntry] = {
    e.id: e
    for e in (
        ZooEntry(
            "simple",
            "SimpleConvNet (book init)",
            "the chapter's network; its filters grew from near-zero into smooth edge and blob "
            "detectors, as in Fig. 7-24",
            simple_convnet(init=0.01),
            TrainConfig(epochs=20, weight_decay=1e-4),
        ),
        ZooEntry(
            "simple-he",
            "SimpleConvNet (He init)",
            "the same network started from He-scaled noise: as accurate, but its filters stay "
            "close to their random start",
            simple_convnet(init="he"),
            TrainConfig(epochs=30),
        ),
        ZooEntry(
            "avgpool",
            "SimpleConvNet, average pooling",
            "max pooling swapped for average pooling (Fig. 7-14 names both)",
            simple_convnet(init=0.01, pool_mode="avg"),
            TrainConfig(epochs=20, weight_decay=1e-4),
        ),
        ZooEntry(
            "deep",
            "DeepConvNet (chapter 8)",
            "six 3x3 conv layers: deeper units respond to strokes and parts (Fig. 7-26)",
            deep_convnet(),
            TrainConfig(epochs=10),
        ),
        ZooEntry(
            "mlp",
            "Fully connected (Fig. 7-1)",
            "Affine-ReLU layers on the flattened image: no filters, no notion of neighbouring "
            "pixels",
            mlp((100, 100)),
            TrainConfig(epochs=20),
        ),
        ZooEntry(
            "untrained",
            "SimpleConvNet, untrained",
            "the random start of `simple`: chance accuracy, for before/after and sanity checks",
            simple_convnet(init=0.01),
            TrainConfig(epochs=0),
            source="untrained",
        ),
        ZooEntry(
            "book",
            "The book's SimpleConvNet weights",
            "the weights the book publishes (ch07/params.pkl), run by this engine",
            simple_convnet(init=0.01),
            source="book",
        ),
        ZooEntry(
            "book-deep",
            "The book's DeepConvNet weights",
            "the weights the book publishes (ch08/deep_convnet_params.pkl), run by this engine",
            deep_convnet(final_dropout=True),
            source="book",
        ),
    )
}

BOOK_FILES = {"book": "ch07_simple_convnet.npz", "book-deep": "ch08_deep_convnet.npz"}
