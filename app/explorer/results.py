"""What the application layer returns, declared once: the routes hand these to FastAPI as they
are, so the same classes document the API (/docs) and are checked by the fuzzer."""

from __future__ import annotations

from pydantic import BaseModel, Field

DATA_URL = "data:image/png;base64,iVBORw0KGgo..."


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
    model: str = Field(examples=["simple"], description="the zoo id that answered")
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
    name: str = Field(examples=["conv1"])
    title: str
    kind: str = Field(examples=["conv"], description="conv, relu or pool")
    layer: int = Field(description="index in the model's layer list (GET /api/models)")
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


class FlatLayer(BaseModel):
    name: str = Field(examples=["relu2"])
    title: str
    kind: str = Field(examples=["relu"], description="affine, relu or dropout")
    size: int
    grid: list[int] = Field(description="[rows, cols] of the picture (100 units: 10 x 10)")
    range: list[float]
    values: list[float]
    png: str


class Exploration(Prediction):
    stages: list[Stage]
    hidden: list[FlatLayer] = Field(description="every flat layer before the logits, in order")


class Filter(BaseModel):
    index: int
    weights: list[list[list[float]]] = Field(description="(C, FH, FW)")
    bias: float
    channels: list[str] = Field(description="one PNG per input channel")


class FilterBank(BaseModel):
    shape: list[int] = Field(examples=[[30, 1, 5, 5]])
    range: list[float]
    filters: list[Filter]


class FilterStructure(BaseModel):
    neighbour_correlation: list[float] = Field(
        description="per filter: Pearson correlation of each weight with its right and lower "
        "neighbours, the filter's mean removed (smooth detectors near 1, noise near 0)"
    )
    median_neighbour_correlation: float
    start_correlation: list[float] | None = Field(
        description="per filter: correlation with the random filter it started from"
    )
    median_start_correlation: float | None


class Filters(BaseModel):
    model: str
    layer: str = Field(examples=["conv1"])
    conv_layers: list[str] = Field(description="every conv layer of the model, in order")
    learned: FilterBank
    initial: FilterBank | None = Field(
        description="the same filters before training; null when unknown (imported weights)"
    )
    structure: FilterStructure


class FilterHistoryPoint(BaseModel):
    index: int = Field(description="the snapshot's position, 0 = the random start")
    step: int = Field(description="optimiser steps taken when it was recorded")
    epoch: float | None
    test_acc: float = Field(description="accuracy on the first `test_digits` test digits then")
    median_neighbour_correlation: float = Field(
        description="as in /api/filters: smooth detectors near 1, noise near 0"
    )
    median_start_correlation: float = Field(
        description="median correlation of each filter with its random start (1 at step 0)"
    )
    max_abs_weight: float = Field(description="the layer's largest |weight| at that step")


class FilterHistory(BaseModel):
    model: str
    layer: str = Field(examples=["conv1"])
    every: int = Field(description="steps between snapshots")
    test_digits: int = Field(description="how many test digits each accuracy is measured on")
    points: list[FilterHistoryPoint]


class FilterHistoryFrame(FilterHistoryPoint):
    filters: FilterBank = Field(description="the layer's filters at that step, own colour scale")


class ResponseMap(BaseModel):
    name: str = Field(examples=["sobel_x"])
    shape: list[int]
    exact: bool = Field(description="(H + 2P - FH) divisible by S in both directions")
    range: list[float] = Field(description="[min, max] of the map: black and white in its PNG")
    png: str
    values: list[list[float]] | None = None


class CodeSnippets(BaseModel):
    numpy: str = Field(description="a NumPy program whose `maps` (and `transposed`) are shown")
    pytorch: str = Field(description="the same with torch.nn.functional")


class Convolution(BaseModel):
    input_shape: list[int] = Field(description="(C, H, W) after any downscaling")
    input_png: str
    stride: int
    pad: int
    macs: int = Field(description="multiply-adds this call cost")
    scale: str = Field(examples=["gray"], description="the one colour scale of every map")
    scale_rule: str = Field(description="how each map is put on that scale, in words")
    maps: list[ResponseMap]
    # the variants (issue 10 item 8); the chapter's convolution when left at their defaults
    dilation: int = 1
    groups: int = 1
    padding: str = Field("zero", description="zero, reflect or circular")
    flip: bool = Field(False, description="kernel turned 180 degrees: true convolution")
    effective_filter: list[int] | None = Field(
        None, description="[D(FH - 1) + 1, D(FW - 1) + 1]: the pixels a dilated filter covers"
    )
    transposed_maps: list[ResponseMap] | None = Field(
        None,
        description="per kernel, the transposed convolution of the map shown: conv's backward "
        "with respect to its input (col2im of W^T y), input-sized, mean over channels",
    )
    code: CodeSnippets | None = Field(None, description="with code=true: programs for the maps")
    input_values: list[list[list[float]]] | None = Field(
        None, description="with code=true and values=true: (C, H, W) as convolved"
    )


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


class Patch(BaseModel):
    png: str = Field(description="the whole test digit, white ink on black")
    box: list[int] = Field(description="[top, left, bottom, right] inclusive: what the unit saw")
    value: float = Field(description="the unit's response (conv output) there")
    label: int


class Unit(BaseModel):
    index: int
    patches: list[Patch]


class ReceptiveField(BaseModel):
    size: int = Field(description="input pixels a unit sees along each side")
    jump: int = Field(description="input pixels between neighbouring units")
    offset: int = Field(description="where unit 0's field starts (negative: in the padding)")


class Units(BaseModel):
    model: str
    layer: str
    field: ReceptiveField
    units: list[Unit]


class Layer(BaseModel):
    index: int = Field(description="position in the layer list; -1 for the input")
    name: str = Field(examples=["conv1"])
    kind: str = Field(examples=["conv"])
    title: str = Field(examples=["conv1: conv 30 filters 5x5, stride 1, pad 0"])
    output_shape: list[int]
    params: int
    size: list[int] | None = Field(None, description="conv filter or pool window (H, W)")
    stride: int | None = None
    pad: int | None = None
    filters: int | None = None
    mode: str | None = Field(None, description="pool: max or avg")
    units: int | None = None
    rate: float | None = None
    param_names: list[str] | None = Field(None, examples=[["W1", "b1"]])


class StructureSummary(BaseModel):
    layer: str
    median_neighbour_correlation: float
    median_start_correlation: float | None


class ModelSummary(BaseModel):
    id: str = Field(examples=["simple"])
    title: str
    shows: str = Field(description="what the model is in the zoo for")
    default: bool
    architecture: str
    layers: list[Layer]
    param_count: int
    test_accuracy: float | None
    per_class_accuracy: list[float] | None
    sha256: str
    file: str
    has_initial: bool = Field(description="the untrained weights are known (not for imports)")
    has_units: bool = Field(description="GET /api/units can show its units' top patches")
    has_filter_history: bool = Field(
        description="GET /api/filters/history can show its first-layer filters forming"
    )
    filter_structure: StructureSummary | None


class ModelInfo(BaseModel):
    id: str
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
    model: str = Field(description="the default model's id")
    model_sha256: str
    models: dict[str, str] = Field(description="every model's id and file SHA-256")


# ---------------------------------------------------------------- backward (issue 10, items 6, 7)


class LedgerEntry(BaseModel):
    tap: list[int] = Field(description="[a, b]: where the pixel sits inside the window")
    window: list[int] = Field(description="[oh, ow]: the output pixel whose window it is")
    value: float = Field(
        description="what that window sent back: sum over the FN filters of W[f, 0, a, b] * "
        "dL/dout[f, oh, ow] (one entry of the column W^T dout that col2im scatters)"
    )


class PixelLedger(BaseModel):
    pixel: list[int] = Field(examples=[[14, 14]], description="[row, col]")
    gradient: float = Field(description="dL/dx at the pixel from the engine's backward pass")
    total: float = Field(description="the sum of the entries: equals gradient (col2im's +=)")
    windows: int = Field(examples=[25], description="how many windows read the pixel")
    entries: list[LedgerEntry]


class PoolRouting(BaseModel):
    layer: str = Field(examples=["pool1"])
    mode: str = Field(examples=["max"])
    size: list[int]
    stride: int
    channels: int
    channel: int = Field(description="the channel shown (default: the most gradient)")
    input: list[list[float]] = Field(description="what the pool reads (the ReLU output)")
    dout: list[list[float]] = Field(description="dL/d(pool output) of the channel")
    din: list[list[float]] = Field(description="dL/d(pool input): non-zero only at winners")
    din_png: str
    winners: list[list[list[int]]] = Field(
        description="per window [row, col] of the first maximum in row-major order"
    )
    tied: list[list[int]] = Field(description="[oh, ow] of windows whose maximum is reached twice")
    tied_windows: int
    tied_with_gradient: int = Field(description="tied windows with a maximum above 0")
    tied_all_channels: int
    windows_all_channels: int


class Backward(BaseModel):
    model: str = Field(examples=["simple-he"])
    label: int = Field(description="the predicted class")
    target: int = Field(description="the class the cross-entropy loss is taken against")
    loss: float
    layer: str = Field(examples=["conv1"])
    filter: list[int] = Field(examples=[[5, 5]])
    filters: int = Field(examples=[30])
    stride: int
    pad: int
    gradient: list[list[float]] = Field(description="dL/dx, 28x28, from the engine")
    range: list[float] = Field(description="[low <= 0, high >= 0] of the gradient's colours")
    gradient_png: str
    overlap: list[list[int]] = Field(
        description="windows covering each pixel: col2im(im2col(ones)); 25 in the middle"
    )
    ledger: PixelLedger
    pool: PoolRouting | None = Field(description="the first max pool; null without one")
    input: InputImage


class GradientEntry(BaseModel):
    param: str = Field(examples=["x"], description="'x' for an input pixel, else W1, b1, ...")
    index: list[int]
    analytic: float
    numeric: float = Field(description="(L(p + h) - L(p - h)) / 2h in float64")
    relative_error: float = Field(description="|a - n| / max(|a|, |n|, floor)")
    kink: bool = Field(
        description="p + h or p - h changed a ReLU mask or a max-pool winner: the difference "
        "straddles a kink, so this entry is left out of max_relative_error"
    )


class PoolTies(BaseModel):
    layer: str = Field(examples=["pool1"])
    windows: int = Field(description="pooling windows over all channels")
    tied: int = Field(description="windows whose maximum is reached more than once")
    tied_at_zero: int = Field(description="tied at 0 after ReLU: no gradient flows anyway")
    tied_with_gradient: int = Field(description="tied above 0: a kink the check would hit")
    smallest_gap: float | None = Field(
        description="smallest gap between a window's two largest values, over windows above 0"
    )


class GradientCheck(BaseModel):
    model: str = Field(examples=["simple-he"])
    label: int
    target: int
    loss: float
    dtype: str = Field(examples=["float64"])
    step: float = Field(examples=[1e-5], description="h of the central difference")
    jitter: float = Field(description="std of the seeded noise added to the input; 0 = none")
    seed: int
    floor: float = Field(description="smallest denominator of the relative error: 1e-4 max(1, L)")
    ties_before_jitter: list[PoolTies]
    ties_after_jitter: list[PoolTies]
    checked: int
    kinks: int = Field(description="entries whose difference straddled a kink")
    max_relative_error: float = Field(examples=[3.1e-9], description="over the smooth entries")
    worst: GradientEntry
    entries: list[GradientEntry]


# ---------------------------------------------------------------- pooling (issue 10 items 4, 5)


class PoolWindow(BaseModel):
    channel: int
    values: list[list[float]] = Field(description="the PH x PW window in this channel")
    result: float = Field(description="its max (mode=max) or mean (mode=avg)")
    winner: list[int] = Field(description="[row, col] in the pool's input of the first maximum")
    tied: bool = Field(description="the maximum is reached more than once")


class ShiftComparison(BaseModel):
    direction: str = Field(examples=["right"])
    input: list[list[float]] = Field(description="the pool's input for the shifted digit")
    output: list[list[float]] = Field(description="its pooled map")
    same: list[list[bool]] = Field(description="per pooled pixel: unchanged by the shift")
    same_pooled: int = Field(description="pooled values above 0 (all channels) left unchanged")
    lit_pooled: int = Field(description="pooled values above 0, all channels")
    same_before_pooling: int = Field(description="the same count for the pool's input")
    lit_before_pooling: int


class PoolIm2col(BaseModel):
    shape: list[int] = Field(description="[OH*OW*C, PH*PW]: the book's expanded matrix")
    rows: list[list[float]] = Field(description="the channel's rows, in (oh, ow) order")
    row_result: list[float] = Field(description="each row's max (or mean)")
    equals_engine: bool = Field(description="reshaped back, equal to the engine's pooling")


class Pooling(BaseModel):
    model: str
    layer: str = Field(examples=["pool1"])
    mode: str = Field(examples=["max"], description="max (the model's) or avg, for comparison")
    size: list[int]
    stride: int
    input_shape: list[int] = Field(description="(C, H, W) the pool reads")
    channel: int
    input: list[list[float]]
    output: list[list[float]]
    pixel: list[int] = Field(description="[row, col] of the pooled pixel explained")
    windows: list[PoolWindow] = Field(description="that pixel's window in every channel")
    shift: ShiftComparison
    im2col: PoolIm2col | None = None


class Im2colView(BaseModel):
    model: str
    layer: str = Field(examples=["conv1"])
    filter: int = Field(description="the filter whose output map is given")
    filters: int
    size: list[int] = Field(description="[FH, FW]")
    stride: int
    pad: int
    output_shape: list[int] = Field(description="[OH, OW]")
    padded: list[list[float]] = Field(description="the input with its P rows and columns of 0")
    col: list[list[float]] = Field(
        description="im2col: (OH*OW, C*FH*FW), row oh*OW + ow is the window of output (oh, ow)"
    )
    col_W: list[list[float]] = Field(description="(C*FH*FW, FN): filter f is column f")
    bias: list[float]
    output: list[list[float]] = Field(description="(col @ col_W + b)[:, filter] as OH x OW")
    equals_engine: bool = Field(description="the whole product equals the engine's conv_forward")


class BatchItem(BaseModel):
    index: int
    rows: list[int] = Field(description="[first, last + 1]: this digit's block of rows in col")
    input_png: str
    map_png: str
    map: list[list[float]] = Field(description="the chosen filter's map for this digit")
    first_row: list[float] = Field(description="the block's first row: the digit's first window")


class Batch(BaseModel):
    model: str
    layer: str = Field(examples=["conv1"])
    n: int
    filter: int
    col_shape: list[int] = Field(examples=[[2304, 25]], description="[N*OH*OW, C*FH*FW]")
    col_W_shape: list[int] = Field(examples=[[25, 30]])
    product_shape: list[int] = Field(examples=[[2304, 30]], description="one GEMM's result")
    output_shape: list[int] = Field(examples=[[4, 30, 24, 24]], description="after the reshape")
    macs: int
    equals_engine: bool = Field(description="equal to the engine's conv_forward on the batch")
    equals_one_by_one: bool = Field(description="equal to each digit through the layer alone")
    items: list[BatchItem]


class ChannelTerm(BaseModel):
    channel: int
    window: list[list[float]] = Field(description="the channel's FH x FW window")
    kernel: list[list[float]] = Field(description="the filter's slice for this channel")
    products: list[list[float]]
    partial: float = Field(description="the channel's partial sum")


class Conv3dPixel(BaseModel):
    input_shape: list[int] = Field(examples=[[3, 48, 64]], description="(C, H, W)")
    kernel_shape: list[int] = Field(examples=[[3, 3, 3, 3]], description="(FN, C, FH, FW)")
    bias: list[float] = Field(description="(FN,): one number per filter")
    bias_shape: list[int] = Field(examples=[[3, 1, 1]], description="as broadcast onto the maps")
    output_shape: list[int] = Field(examples=[[3, 46, 62]], description="(FN, OH, OW)")
    stride: int
    pad: int
    pixel: list[int]
    filter: int
    names: list[str]
    channels: list[ChannelTerm]
    total: float = Field(description="the sum of the partial sums")
    value: float = Field(description="total + bias[filter]")
    engine_value: float = Field(description="out[filter, row, col] from the engine's conv_forward")
    macs: int
    maps: list[ResponseMap] = Field(description="one map per filter")
