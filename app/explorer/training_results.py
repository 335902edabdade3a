"""What a live training (POST /api/train) takes and the events it streams, one JSON a line.

The order is fixed: `start` (at once), `ready` (data loaded), `report` at step 0 and every
`report_every` steps (and after the last), then `done`, or `error` if something broke.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .results import FilterBank

TRAINABLE = ("simple", "simple-he", "avgpool", "deep", "mlp")  # zoo ids with a recipe


class TrainRequest(BaseModel):
    """A small training run. Left-out fields take the zoo recipe of `arch`."""

    model_config = ConfigDict(extra="forbid")

    arch: Literal[TRAINABLE] = Field("simple", description="zoo id: its layers and recipe")
    init: str | None = Field(
        None, max_length=12, examples=["he", "0.01"], description='"he" or a weight std'
    )
    optimizer: Literal["sgd", "momentum", "adagrad", "adam"] | None = None
    lr: float | None = Field(None, gt=0, le=10)
    schedule: Literal["cosine", "constant"] | None = None
    batch_size: int | None = Field(None, ge=1)
    steps: int | None = Field(None, ge=1, description="steps to take (default 300)")
    epochs: int | None = Field(None, ge=1, description="instead of steps: passes over the set")
    train_size: int | None = Field(
        None, ge=1, description="use the first N training digits (default: 10 000 or all)"
    )
    augment: bool | None = None
    weight_decay: float | None = Field(None, ge=0, le=1)
    seed: int = Field(0, ge=0, le=2**32 - 1)
    report_every: int = Field(20, ge=1, description="steps between two reports")
    probe: int = Field(0, ge=0, description="index of the probe digit in the held-out slice")
    inspect_filter: int | None = Field(
        None, ge=0, description="first-layer filter whose update each report shows in full"
    )


class DataSource(BaseModel):
    source: Literal["mnist", "sample"] = Field(
        description="the full MNIST set, or the 1000 + 300 digit sample shipped with the tests"
    )
    dir: str


class StartEvent(BaseModel):
    type: Literal["start"] = "start"
    data: DataSource
    config: dict = Field(description="the run's settings, the recipe's filled in")
    limits: dict[str, int]


class ProbeDigit(BaseModel):
    index: int
    label: int
    png: str


class ReadyEvent(BaseModel):
    type: Literal["ready"] = "ready"
    train_size: int
    steps_per_epoch: int
    total_steps: int
    eval_train: int = Field(description="training digits behind train_acc (the first N)")
    eval_test: int = Field(description="test digits behind test_acc (the first N)")
    layer: str | None = Field(description="the first conv layer, whose filters are sent")
    probe: ProbeDigit
    replay: str = Field(description="the command that repeats this run's losses exactly")


class ProbeMaps(BaseModel):
    range: list[float] = Field(description="[low <= 0, high >= 0] of the split diverging scale")
    maps: list[str] = Field(description="one PNG per filter: the probe digit convolved")


class Inspect(BaseModel):
    """One first-layer filter's update at this step: new W = old W - (the optimiser's step)."""

    filter: int
    step: int
    optimizer: str
    lr: float
    W_before: list[list[list[float]]] = Field(description="(C, FH, FW)")
    dW: list[list[list[float]]] = Field(description="the batch's gradient, weight decay in")
    state: dict[str, list[list[list[float]]]] = Field(
        description="the optimiser's memory after this step: Adam m and v, Momentum v, "
        "AdaGrad h; empty for SGD"
    )
    W_after: list[list[list[float]]]


class ReportEvent(BaseModel):
    type: Literal["report"] = "report"
    step: int
    epoch: float = Field(description="steps / steps per epoch")
    lr: float | None
    losses: list[float | None] = Field(
        description="every step's batch loss since the last report (null: not a number)"
    )
    loss: float | None = Field(description="the mean of `losses`")
    train_acc: float
    test_acc: float
    test_loss: float | None
    filters: FilterBank | None = Field(description="the first conv layer now (None: no conv)")
    probe: ProbeMaps | None
    inspect: Inspect | None = None
    seconds: float = Field(description="since the first step")


class DoneEvent(BaseModel):
    type: Literal["done"] = "done"
    steps: int = Field(description="steps taken")
    total_steps: int
    stopped: bool = Field(description="ended early because the client went away")
    seconds: float
    steps_per_second: float
    train_acc: float | None = Field(description="None when stopped")
    test_acc: float | None
    diverged_at: int | None = Field(
        None,
        description="the step whose loss was not a number (too large a learning rate): "
        "the run ends there",
    )


class ErrorEvent(BaseModel):
    type: Literal["error"] = "error"
    detail: str


class TrainingStatus(BaseModel):
    running: int = Field(description="live trainings running in this server process")
    limit: int
    finished: int = Field(description="runs ended since the server started, all steps taken")
    stopped: int = Field(description="runs ended early since the server started")
    last: DoneEvent | None = Field(description="how the last run ended (without its pictures)")
    data: DataSource = Field(description="what a run here trains on")
    train_digits: int = Field(description="training digits in that set")
    limits: dict[str, int] = Field(description="max_train_steps, max_train_size, max_train_batch")
