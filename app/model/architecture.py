"""A network described by its layers: specs, the shapes they produce, their parameters.

A model is an input shape plus a list of layer specs (conv, relu, pool, affine, dropout,
softmax). Parameters are numbered over the layers that have them, as the book numbers them:
W1, b1 for the first conv or affine layer, W2, b2 for the next, and so on. So SimpleConvNet's
files keep W1 (30, 1, 5, 5) ... W3 (100, 10), and the chapter-8 net's W1 ... W8.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from app.engine.shapes import conv_output_shape


class ArchitectureError(ValueError):
    """A layer list that cannot be built (bad value, impossible shape, unknown kind)."""


@dataclass(frozen=True)
class Conv:
    """FN filters of FH x FW over all input channels, with stride and zero padding."""

    filters: int
    size: tuple[int, int]
    stride: int = 1
    pad: int = 0
    kind = "conv"

    def describe(self) -> str:
        fh, fw = self.size
        return f"conv {self.filters} filters {fh}x{fw}, stride {self.stride}, pad {self.pad}"


@dataclass(frozen=True)
class Relu:
    kind = "relu"

    def describe(self) -> str:
        return "relu"


@dataclass(frozen=True)
class Pool:
    """Max or average over PH x PW windows; stride defaults to the window (no overlap)."""

    size: tuple[int, int] = (2, 2)
    stride: int = 2
    mode: str = "max"  # "max" or "avg"
    kind = "pool"

    def describe(self) -> str:
        ph, pw = self.size
        return f"{self.mode} pool {ph}x{pw}, stride {self.stride}"


@dataclass(frozen=True)
class Affine:
    """Fully connected: the input flattened in (C, H, W) order, times W (D, units), plus b."""

    units: int
    kind = "affine"

    def describe(self) -> str:
        return f"affine -> {self.units}"


@dataclass(frozen=True)
class Dropout:
    """The book's dropout: training zeroes each value with probability `rate`; inference
    multiplies by (1 - rate) instead, so the book's published weights give its numbers."""

    rate: float = 0.5
    kind = "dropout"

    def describe(self) -> str:
        return f"dropout {self.rate:g}"


@dataclass(frozen=True)
class Softmax:
    """Softmax at inference; softmax-with-cross-entropy loss in training. Always last."""

    kind = "softmax"

    def describe(self) -> str:
        return "softmax"


Layer = Conv | Relu | Pool | Affine | Dropout | Softmax
KINDS = {cls.kind: cls for cls in (Conv, Relu, Pool, Affine, Dropout, Softmax)}
PARAM_KINDS = ("conv", "affine")


def layer_to_dict(layer: Layer) -> dict:
    d = {"type": layer.kind, **asdict(layer)}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


def layer_from_dict(d: dict) -> Layer:
    d = dict(d)
    kind = d.pop("type", None)
    if kind not in KINDS:
        raise ArchitectureError(f"unknown layer type {kind!r}; known: {', '.join(KINDS)}")
    cls = KINDS[kind]
    names = {f.name for f in fields(cls)}
    unknown = set(d) - names
    if unknown:
        raise ArchitectureError(f"{kind} layer has unknown fields {sorted(unknown)}")
    if "size" in d:
        size = d["size"]
        d["size"] = (size, size) if isinstance(size, int) else tuple(size)
    return cls(**d)


@dataclass(frozen=True)
class Architecture:
    """Input shape (C, H, W), the layers in order, and how weights start ("he" or a std)."""

    input_shape: tuple[int, int, int]
    layers: tuple[Layer, ...]
    init: str | float = "he"
    shapes: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "shapes", tuple(self._output_shapes()))
        if not self.layers or self.layers[-1].kind != "softmax":
            raise ArchitectureError("the last layer must be softmax")
        if self.init != "he" and not (isinstance(self.init, float) and self.init > 0):
            raise ArchitectureError(f'init must be "he" or a positive std, not {self.init!r}')

    def _output_shapes(self):
        shape = tuple(self.input_shape)
        for i, layer in enumerate(self.layers):
            try:
                shape = _next_shape(shape, layer)
            except ValueError as err:
                raise ArchitectureError(f"layer {i + 1} ({layer.describe()}): {err}") from err
            yield shape

    @property
    def num_classes(self) -> int:
        return self.shapes[-1][0]

    def param_layers(self) -> list[tuple[int, int]]:
        """(layer index, parameter number k of W{k}/b{k}) for every conv and affine layer."""
        indices = [i for i, layer in enumerate(self.layers) if layer.kind in PARAM_KINDS]
        return [(i, k) for k, i in enumerate(indices, start=1)]

    def input_shape_of(self, index: int) -> tuple[int, ...]:
        return tuple(self.input_shape) if index == 0 else self.shapes[index - 1]

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes = {}
        for i, k in self.param_layers():
            layer, before = self.layers[i], self.input_shape_of(i)
            if layer.kind == "conv":
                shapes[f"W{k}"] = (layer.filters, before[0], *layer.size)
                shapes[f"b{k}"] = (layer.filters,)
            else:
                fan_in = 1
                for n in before:
                    fan_in *= n
                shapes[f"W{k}"] = (fan_in, layer.units)
                shapes[f"b{k}"] = (layer.units,)
        return shapes

    def param_count(self) -> int:
        total = 0
        for shape in self.param_shapes().values():
            count = 1
            for n in shape:
                count *= n
            total += count
        return total

    def names(self) -> list[str]:
        """conv1, relu1, pool1, affine1, relu2, ...: each layer's output, counted per kind."""
        counts: dict[str, int] = {}
        names = []
        for layer in self.layers:
            counts[layer.kind] = counts.get(layer.kind, 0) + 1
            names.append(
                "probs" if layer.kind == "softmax" else f"{layer.kind}{counts[layer.kind]}"
            )
        return names

    def summary(self) -> str:
        """One line: 'conv 30 5x5 - relu - max pool 2x2 - affine 100 - relu - affine 10'."""
        parts = []
        for layer in self.layers:
            if layer.kind == "conv":
                fh, fw = layer.size
                pad = f" pad {layer.pad}" if layer.pad else ""
                stride = f" stride {layer.stride}" if layer.stride != 1 else ""
                parts.append(f"conv {layer.filters} {fh}x{fw}{stride}{pad}")
            elif layer.kind == "affine":
                parts.append(f"affine {layer.units}")
            elif layer.kind == "pool":
                parts.append(f"{layer.mode} pool {layer.size[0]}x{layer.size[1]}")
            else:
                parts.append(layer.describe())
        return " - ".join(parts)

    def to_dict(self) -> dict:
        return {
            "input_shape": list(self.input_shape),
            "layers": [layer_to_dict(layer) for layer in self.layers],
            "init": self.init,
        }

    @classmethod
    def from_dict(cls, d: dict) -> Architecture:
        """Reads this format and the first release's SimpleConvNet config (filter_num, ...)."""
        if "filter_num" in d:
            return simple_convnet(
                filters=d["filter_num"],
                size=d["filter_size"],
                stride=d.get("stride", 1),
                pad=d.get("pad", 0),
                pool=d.get("pool_size", 2),
                hidden=d.get("hidden_size", 100),
                classes=d.get("output_size", 10),
                input_shape=tuple(d.get("input_dim", (1, 28, 28))),
                init=d.get("weight_init", "he"),
            )
        try:
            layers = tuple(layer_from_dict(x) for x in d["layers"])
            init = d.get("init", "he")
            return cls(tuple(d["input_shape"]), layers, float(init) if init != "he" else init)
        except (KeyError, TypeError) as err:
            raise ArchitectureError(f"architecture is malformed: {err!r}") from err


def _next_shape(shape: tuple[int, ...], layer: Layer) -> tuple[int, ...]:
    if layer.kind == "conv":
        if len(shape) != 3:
            raise ValueError("conv needs a (C, H, W) input")
        if layer.filters < 1 or min(layer.size) < 1:
            raise ValueError("filters and filter size must be at least 1")
        fh, fw = layer.size
        oh, ow = conv_output_shape(shape[1], shape[2], fh, fw, layer.pad, layer.stride)
        return (layer.filters, oh, ow)
    if layer.kind == "pool":
        if len(shape) != 3:
            raise ValueError("pooling needs a (C, H, W) input")
        if layer.mode not in ("max", "avg"):
            raise ValueError(f'pool mode must be "max" or "avg", not {layer.mode!r}')
        ph, pw = layer.size
        oh, ow = conv_output_shape(shape[1], shape[2], ph, pw, 0, layer.stride)
        return (shape[0], oh, ow)
    if layer.kind == "affine":
        if layer.units < 1:
            raise ValueError("an affine layer needs at least 1 unit")
        return (layer.units,)
    if layer.kind == "dropout" and not 0 <= layer.rate < 1:
        raise ValueError("dropout rate must be in [0, 1)")
    if layer.kind == "softmax" and len(shape) != 1:
        raise ValueError("softmax needs a flat input")
    return shape


def simple_convnet(
    filters: int = 30,
    size: int = 5,
    stride: int = 1,
    pad: int = 0,
    pool: int = 2,
    pool_mode: str = "max",
    hidden: int = 100,
    classes: int = 10,
    input_shape: tuple[int, int, int] = (1, 28, 28),
    init: str | float = "he",
) -> Architecture:
    """The chapter's SimpleConvNet: conv - relu - pool - affine - relu - affine - softmax."""
    return Architecture(
        tuple(input_shape),
        (
            Conv(filters, (size, size), stride, pad),
            Relu(),
            Pool((pool, pool), pool, pool_mode),
            Affine(hidden),
            Relu(),
            Affine(classes),
            Softmax(),
        ),
        init,
    )


def deep_convnet(init: str | float = "he", final_dropout: bool = False) -> Architecture:
    """The chapter-8 DeepConvNet: six 3x3 convs (16, 16, 32, 32, 64, 64) in three pooled
    pairs, affine 50, dropout, affine 10. The book's own file also drops out the logits."""
    conv3 = [(16, 1), (16, 1), (32, 1), (32, 2), (64, 1), (64, 1)]
    layers: list[Layer] = []
    for i, (fn, pad) in enumerate(conv3):
        layers += [Conv(fn, (3, 3), 1, pad), Relu()]
        if i % 2 == 1:
            layers.append(Pool((2, 2), 2, "max"))
    layers += [Affine(50), Relu(), Dropout(0.5), Affine(10)]
    if final_dropout:
        layers.append(Dropout(0.5))
    layers.append(Softmax())
    return Architecture((1, 28, 28), tuple(layers), init)


def mlp(hidden: tuple[int, ...] = (100, 100), init: str | float = "he") -> Architecture:
    """Fig. 7-1: the image flattened to 784 numbers, then Affine-ReLU layers, then softmax."""
    layers: list[Layer] = []
    for units in hidden:
        layers += [Affine(units), Relu()]
    layers += [Affine(10), Softmax()]
    return Architecture((1, 28, 28), tuple(layers), init)
