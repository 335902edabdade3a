"""Pydantic response schemas: they document the API (/docs) and are checked by the fuzzer."""

from __future__ import annotations

from pydantic import BaseModel, Field

DATA_URL = "data:image/png;base64,iVBORw0KGgo..."


class Error(BaseModel):
    detail: str | list = Field(examples=["the image has no ink to read: draw a digit"])


class TopClass(BaseModel):
    digit: int
    probability: float


class StageImage(BaseModel):
    name: str = Field(examples=["cropped"])
    title: str
    width: int
    height: int
    png: str = Field(examples=[DATA_URL])


class InputImage(BaseModel):
    pixels: list[list[float]] = Field(description="28x28, 0..1, 1 = ink: what was classified")
    png: str


class Preprocessing(BaseModel):
    inverted: bool = Field(description="the input was dark ink on a light background")
    stages: list[StageImage]


class Prediction(BaseModel):
    label: int = Field(examples=[7])
    probabilities: list[float] = Field(description="softmax output for digits 0..9")
    logits: list[float]
    top: list[TopClass]
    input: InputImage
    preprocessing: Preprocessing
    warnings: list[str] = Field(description="e.g. the input looks like a photo, not a digit")


class FeatureMap(BaseModel):
    index: int
    png: str
    values: list[list[float]] | None = Field(None, description="raw numbers with values=true")


class Stage(BaseModel):
    name: str = Field(examples=["conv"])
    title: str
    shape: list[int] = Field(examples=[[30, 24, 24]])
    scale: str = Field(
        description="'diverging': purple < 0, near-white 0, orange > 0, each sign scaled to its "
        "own extreme (range[0] is the darkest purple, range[1] the darkest orange), the same at "
        "every stage, so ReLU and pooling keep the conv's colours for the values they keep"
    )
    range: list[float] = Field(description="[min(0, min), max(0, max)]: the scale's two ends")
    min: float
    max: float
    maps: list[FeatureMap]


class Hidden(BaseModel):
    values: list[float] = Field(description="the 100 hidden activations after ReLU")
    png: str


class Exploration(Prediction):
    stages: list[Stage]
    hidden: Hidden


class Filter(BaseModel):
    index: int
    weights: list[list[float]]
    bias: float
    png: str


class FilterBank(BaseModel):
    shape: list[int]
    range: list[float]
    filters: list[Filter]


class Filters(BaseModel):
    learned: FilterBank
    initial: FilterBank = Field(description="the same filters before training")


class ResponseMap(BaseModel):
    name: str = Field(examples=["sobel_x"])
    shape: list[int]
    exact: bool = Field(description="(H + 2P - FH) divisible by S in both directions")
    range: list[float] = Field(description="[min, max] of the map: black and white in its PNG")
    png: str
    values: list[list[float]] | None = None


class Convolution(BaseModel):
    input_shape: list[int] = Field(description="(C, H, W) after any downscaling")
    input_png: str
    stride: int
    pad: int
    macs: int = Field(description="multiply-adds this call cost")
    scale: str = Field(examples=["gray"], description="the one colour scale of every map")
    scale_rule: str = Field(description="how each map is put on that scale, in words")
    maps: list[ResponseMap]


class KernelInfo(BaseModel):
    name: str
    title: str
    weights: list[list[float]]


class OutputSize(BaseModel):
    OH: int
    OW: int
    exact_h: bool
    exact_w: bool
    exact: bool = Field(description="false when a division was not exact and the floor was taken")
    formula_h: str = Field(examples=["(28 + 2*0 - 5) / 1 + 1 = 24"])
    formula_w: str


class Layer(BaseModel):
    name: str
    output_shape: list[int]
    params: int


class ModelInfo(BaseModel):
    architecture: str
    layers: list[Layer]
    total_params: int
    config: dict
    training: dict
    test_accuracy: float | None
    per_class_accuracy: list[float] | None
    history: list[dict]
    sha256: str


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    model: str
    model_sha256: str
