"""What POST /api/attribute returns: a map per method (one per stage for Grad-CAM), each with
the numbers that test it."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CurveProof(BaseModel):
    area: float = Field(
        description="area under the target's probability curve over 0..pixels changed, divided "
        "by pixels: its mean probability while the map's top pixels go (deletion) or come "
        "(insertion). Deletion: lower is better; insertion: higher is better"
    )
    random_area: float = Field(description="the same for a random pixel order (seeded)")
    at: int = Field(description="the pixel count the reading quotes")
    value_at: float = Field(description="the target's probability after `at` pixels")
    random_value_at: float
    verdict: str = Field(
        examples=["better"],
        description="'better', 'same' or 'worse' than random: the areas differ by more than "
        "0.02 in the right (or wrong) direction, or not",
    )
    reading: str


class Completeness(BaseModel):
    total: float = Field(description="the sum of the map")
    gap: float = Field(description="logit(x) - logit(baseline)")
    logit_input: float
    logit_baseline: float
    error: float = Field(description="|total - gap| / |gap|")
    reading: str


class Sanity(BaseModel):
    reference: str = Field(examples=["untrained"], description="the untrained network used")
    spearman: float | None = Field(
        description="rank correlation of |map| with |the untrained network's map| over the "
        "pixels (tied ranks averaged); null when a map is flat"
    )
    reading: str
    range: list[float]
    png: str
    values: list[list[float]]


class CurvePoints(BaseModel):
    pixels: list[int]
    deletion: list[float]
    deletion_random: list[float]
    insertion: list[float]
    insertion_random: list[float]


class AttributionMap(BaseModel):
    name: str = Field(examples=["map", "relu1"], description="'map', or the Grad-CAM stage")
    title: str
    values: list[list[float]] = Field(description="the map on the input grid, logit units")
    range: list[float] = Field(description="[-limit, limit]: the PNG's two ends")
    png: str
    stage_shape: list[int] | None = Field(None, description="Grad-CAM: the stage's own (H, W)")
    stage_png: str | None = Field(None, description="Grad-CAM: the map at the stage's size")
    completeness: Completeness | None = Field(None, description="Integrated Gradients only")
    deletion: CurveProof
    insertion: CurveProof
    sanity: Sanity | None = Field(None, description="with sanity=true")
    curves: CurvePoints | None = Field(None, description="with curves=true")


class Attribution(BaseModel):
    model: str
    method: str = Field(examples=["integrated_gradients"])
    title: str = Field(examples=["Integrated Gradients, black baseline"])
    about: str = Field(description="what the map measures, in one sentence")
    target: int = Field(description="the class explained")
    predicted: int
    logit: float = Field(description="the target's logit for the input")
    probability: float
    options: dict = Field(description="every option the map was made with, defaults included")
    scale: str = Field(description="the one colour rule of every map")
    maps: list[AttributionMap] = Field(description="one map; Grad-CAM: one per stage")
    note: str | None = Field(None, description="why there is no map, e.g. Grad-CAM without conv")
