"""Why this answer: an attribution map of one digit for one class, and the numbers that test it.

attribute() runs one method (attribution_methods) on any model of the zoo and puts beside each
map its proof (attribution_checks): completeness for Integrated Gradients, deletion and
insertion against a seeded random order, and the same map from an untrained network with the
rank correlation between the two. Costs are bounded before any work starts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from app.engine.layers import softmax
from app.imaging.render import render_signed
from app.model.network import Network

from . import attribution_checks as checks
from . import attribution_methods as methods
from .attribution_results import (
    Attribution,
    AttributionMap,
    Completeness,
    CurvePoints,
    CurveProof,
    Sanity,
)
from .mean_digit import MeanDigitMissing, load_mean_digit
from .models import LoadedModel

METHODS = {
    "gradient": (
        "Gradient",
        "how far the target's logit moves per unit of ink added at each pixel",
    ),
    "gradient_x_input": (
        "Gradient × input",
        "the gradient times the pixel's ink: each pixel's first-order share of the logit, "
        "zero where there is no ink",
    ),
    "smoothgrad": (
        "SmoothGrad",
        "the gradient averaged over copies of the digit with Gaussian noise added",
    ),
    "integrated_gradients": (
        "Integrated Gradients",
        "the pixel's difference from a baseline times the gradient averaged along the straight "
        "path from the baseline: the map sums to the logit's rise from the baseline",
    ),
    "occlusion": (
        "Occlusion",
        "how far the target's logit falls when a square patch is erased (or inked), averaged "
        "over the patches that cover the pixel",
    ),
    "grad_cam": (
        "Grad-CAM",
        "a stage's channels weighed by their mean gradient, summed, negatives cut; spread back "
        "over each unit's receptive field",
    ),
}

# Bounded cost: every image a call sends through the network is counted by one of these.
LIMITS = {
    "steps": (512, "integration steps"),
    "samples": (256, "SmoothGrad samples"),
    "windows": (400, "occlusion windows"),
    "curve_pixels": (784, "curve pixels"),
}
# ... and all of a call's passes together, in multiply-adds: the chapter-8 net costs 10x the
# chapter-7 one per image, so the same options can be fine for one model and too much for another.
# The server's limit is the setting max_attribution_macs; this is its default.
MAX_MACS = 20_000_000_000
READ_AT = 30  # the pixel count the one-line readings quote
SCALE = (
    "diverging, the same rule for every map: purple below 0, near-white 0, orange above 0, "
    "each map symmetric around 0 with its largest |value| at the two ends (its range); orange "
    "is for the target (gradient, SmoothGrad: more ink there would raise its logit; the others: "
    "the pixel as it is adds to it), purple against it"
)


class AttributionError(ValueError):
    """A request the server will not compute: over a cost limit, or impossible (a 422)."""


@dataclass(frozen=True)
class AttributionOptions:
    method: str
    target: int | None = None  # None: the predicted class
    steps: int = 64  # Integrated Gradients
    baseline: str = "black"  # Integrated Gradients: "black" or "mean" (the mean training digit)
    samples: int = 32  # SmoothGrad
    noise: float = 0.15  # SmoothGrad: noise std as a fraction of the input's range
    seed: int = 0  # SmoothGrad's noise and the curves' random order
    patch: int = 4  # occlusion
    stride: int = 2  # occlusion
    ink: str = "erase"  # occlusion: "erase" (set to 0) or "add" (set to 1)
    curve_pixels: int = 100  # deletion and insertion curves run over 0..curve_pixels
    curves: bool = False  # send the curves' points
    sanity: bool = True  # compute the untrained network's map and the rank correlation

    OWN = {
        "integrated_gradients": ("steps", "baseline"),
        "smoothgrad": ("samples", "noise", "seed"),
        "occlusion": ("patch", "stride", "ink"),
    }

    def used(self) -> dict:
        """The options this method was computed with (the curves' seed and length too)."""
        d = asdict(self)
        keep = (*self.OWN.get(self.method, ()), "seed", "curve_pixels")
        return {k: d[k] for k in keep}


def title_of(options: AttributionOptions) -> str:
    title = METHODS[options.method][0]
    if options.method == "integrated_gradients":
        return f"{title}, {'black' if options.baseline == 'black' else 'mean-digit'} baseline"
    if options.method == "occlusion":
        verb = "erased" if options.ink == "erase" else "inked"
        return f"{title}, {options.patch}×{options.patch} {verb}, stride {options.stride}"
    return title


def check(options: AttributionOptions, model: LoadedModel) -> None:
    """Refuse, before any work, what is impossible or over a limit; the message names it."""
    arch = model.net.arch
    if options.method not in METHODS:
        raise AttributionError(f"method {options.method!r} is unknown; known: {', '.join(METHODS)}")
    classes = arch.num_classes
    if options.target is not None and not 0 <= options.target < classes:
        raise AttributionError(
            f"target {options.target}: model {model.id} has classes 0..{classes - 1}"
        )
    _, h, w = arch.input_shape
    if options.method == "occlusion" and not 1 <= options.patch <= min(h, w):
        raise AttributionError(f"patch {options.patch}: must be 1..{min(h, w)} for a {h}x{w} input")
    if options.method == "occlusion" and not 1 <= options.stride <= min(h, w):
        raise AttributionError(f"stride {options.stride}: must be 1..{min(h, w)}")
    costs = {"curve_pixels": options.curve_pixels}
    if options.method == "integrated_gradients":
        costs["steps"] = options.steps
    if options.method == "smoothgrad":
        costs["samples"] = options.samples
    if options.method == "occlusion":
        costs["windows"] = methods.occlusion_windows((h, w), options.patch, options.stride)
    for name, value in costs.items():
        limit, what = LIMITS[name]
        if value > limit:
            hint = "; a larger patch or stride needs fewer" if name == "windows" else ""
            raise AttributionError(
                f"{name}: {value} {what} is over the limit of {limit} per call{hint}"
            )
    if options.curve_pixels > h * w:
        raise AttributionError(
            f"curve_pixels: {options.curve_pixels} is more than the {h * w} the input has"
        )


def macs_per_image(arch) -> int:
    """Multiply-adds of one forward pass: FN*C*FH*FW*OH*OW per conv, D*units per affine."""
    total = 0
    for i, layer in enumerate(arch.layers):
        before, after = arch.input_shape_of(i), arch.shapes[i]
        if layer.kind == "conv":
            total += after[0] * before[0] * layer.size[0] * layer.size[1] * after[1] * after[2]
        elif layer.kind == "affine":
            total += math.prod(before) * layer.units
    return total


def cost(options: AttributionOptions, arch, ink_pixels: int) -> int:
    """An upper bound of a call's multiply-adds, before any work: a backward pass counted as
    two forward passes; the untrained reference doubles the method; each curve sends one image
    per step that touches ink (at most 1 + min(curve_pixels, ink_pixels))."""
    _, h, w = arch.input_shape
    stages = len(methods.cam_stages(arch))
    forward_backward = {
        "smoothgrad": options.samples,
        "integrated_gradients": options.steps,
        "grad_cam": stages,
        "occlusion": 0,
    }.get(options.method, 1)
    forward = {"integrated_gradients": 2, "grad_cam": 1}.get(options.method, 0)
    if options.method == "occlusion":  # patch and stride mean nothing to the other methods
        forward = methods.occlusion_windows((h, w), options.patch, options.stride) + 1
    method = 3 * forward_backward + forward
    maps = stages if options.method == "grad_cam" else 1
    curves = (maps + 1) * 2 * (1 + min(options.curve_pixels, ink_pixels))
    return macs_per_image(arch) * (method * (2 if options.sanity else 1) + curves)


def check_cost(
    options: AttributionOptions, model: LoadedModel, ink_pixels: int, limit: int = MAX_MACS
) -> int:
    """The call's multiply-adds, or an AttributionError that says what to lower. Before the
    digit is known, ink_pixels=0 gives a lower bound, so a refusal then is certain."""
    macs = cost(options, model.net.arch, ink_pixels)
    if macs > limit:
        raise AttributionError(
            f"this call would cost {macs / 1e9:.3g} billion multiply-adds on {model.id}, over "
            f"the limit of {limit / 1e9:g} billion per call (CONV_EXPLORER_MAX_ATTRIBUTION_MACS): "
            "fewer steps, samples, windows or curve pixels, or sanity=false"
        )
    return macs


# ------------------------------------------------------------------ the maps


@dataclass(frozen=True)
class RawMap:
    name: str
    title: str
    values: np.ndarray  # (H, W) on the input grid
    stage: np.ndarray | None = None  # Grad-CAM: the map at the stage's own size
    ig: methods.IntegratedGradients | None = None


def baseline_of(options: AttributionOptions, x: np.ndarray) -> np.ndarray:
    if options.baseline == "black":
        return np.zeros_like(x)
    try:
        mean = load_mean_digit()
    except MeanDigitMissing as err:
        raise AttributionError(str(err)) from None
    if mean.shape != x.shape[1:]:
        raise AttributionError(f"the mean-digit baseline is {mean.shape}, the input {x.shape[1:]}")
    return np.broadcast_to(mean, x.shape).astype(np.float32)


def raw_maps(net: Network, x: np.ndarray, target: int, o: AttributionOptions) -> list[RawMap]:
    """The method's map(s) for x (C, H, W); Grad-CAM gives one per stage (none without convs)."""
    title = title_of(o)
    if o.method == "gradient":
        return [RawMap("map", title, methods.gradient(net, x, target))]
    if o.method == "gradient_x_input":
        return [RawMap("map", title, methods.gradient_x_input(net, x, target))]
    if o.method == "smoothgrad":
        m = methods.smoothgrad(net, x, target, o.samples, o.noise, o.seed)
        return [RawMap("map", title, m)]
    if o.method == "integrated_gradients":
        ig = methods.integrated_gradients(net, x, target, baseline_of(o, x), o.steps)
        return [RawMap("map", title, ig.map, ig=ig)]
    if o.method == "occlusion":
        return [RawMap("map", title, methods.occlusion(net, x, target, o.patch, o.stride, o.ink))]
    titles = stage_titles(net)
    return [
        RawMap(s.name, f"Grad-CAM at {titles[s.index]}", s.on_input, stage=s.cam)
        for s in methods.grad_cam(net, x, target)
    ]


def stage_titles(net: Network) -> dict[int, str]:
    """'relu1 (conv1 after ReLU), 24×24' for every Grad-CAM stage."""
    names, arch, out = net.arch.names(), net.arch, {}
    for i in methods.cam_stages(arch):
        _, oh, ow = arch.shapes[i]
        what = f"{names[i - 1]} after ReLU" if arch.layers[i].kind == "relu" else names[i]
        out[i] = f"{what}, {oh}×{ow}"
    return out


# ------------------------------------------------------------------ the untrained reference

_REFERENCES: dict[tuple[str, str], tuple[str, Network]] = {}


def sanity_reference(
    model: LoadedModel, untrained: LoadedModel | None
) -> tuple[str, Network] | None:
    """The untrained network a map is compared with: the zoo's `untrained` model when it has
    the same layers, else this model's own recorded start (its seed), else a fresh start of the
    same layers from seed 0. None for the untrained model itself."""
    if model.id == "untrained":
        return None
    arch = model.net.arch
    same = untrained is not None and (
        untrained.net.arch.layers == arch.layers
        and tuple(untrained.net.arch.input_shape) == tuple(arch.input_shape)
    )
    if same:  # the served untrained model itself, never a cached copy of another instance
        return untrained.id, untrained.net
    key = (model.id, model.sha256)
    if key not in _REFERENCES:  # built once: a network of this model's starting weights
        if model.initial is not None:
            _REFERENCES[key] = (f"{model.id} before training", Network(arch, model.initial))
        else:
            _REFERENCES[key] = (
                f"{model.id}'s layers, random start (seed 0)",
                Network.initial(arch),
            )
    return _REFERENCES[key]


# ------------------------------------------------------------------ shaping


def _limit(values: np.ndarray) -> float:
    return max(float(np.abs(values).max(initial=0.0)), 1e-12)


def _rounded(values: np.ndarray, limit: float) -> list:
    """About six significant digits of the largest value, whatever the map's units."""
    digits = max(0, 5 - math.floor(math.log10(limit)))
    return np.round(values.astype(np.float64), digits).tolist()


def _picture(values: np.ndarray) -> tuple[list[float], str, list]:
    limit = _limit(values)
    return (
        [round(-limit, 9) + 0.0, round(limit, 9)],  # + 0.0: no -0.0 for a flat map
        render_signed(values, limit),
        _rounded(values, limit),
    )


def _curve_proof(c: checks.Curves, deletion: bool, at: int, target: int) -> CurveProof:
    curve, rand = (c.deletion, c.deletion_random) if deletion else (c.insertion, c.insertion_random)
    name = f"P({target})"
    reading = checks.deletion_reading if deletion else checks.insertion_reading
    area, random_area = checks.Curves.area(curve), checks.Curves.area(rand)
    return CurveProof(
        area=round(area, 6),
        random_area=round(random_area, 6),
        at=at,
        value_at=round(float(curve[at]), 6),
        random_value_at=round(float(rand[at]), 6),
        verdict=checks.verdict(area, random_area, lower_is_better=deletion),
        reading=reading(c, at, name),
    )


def _completeness(ig: methods.IntegratedGradients) -> Completeness:
    error = checks.completeness_error(ig.total, ig.gap)
    return Completeness(
        total=round(ig.total, 6),
        gap=round(ig.gap, 6),
        logit_input=round(ig.logit_x, 6),
        logit_baseline=round(ig.logit_baseline, 6),
        error=round(error, 8),
        reading=checks.completeness_reading(ig.total, ig.gap, error),
    )


def attribute(
    model: LoadedModel,
    digit: np.ndarray,
    options: AttributionOptions,
    untrained: LoadedModel | None = None,
    max_macs: int = MAX_MACS,
) -> Attribution:
    """digit (H, W) 0..1, 1 = ink -> the method's map(s), each with its proof."""
    check(options, model)
    check_cost(options, model, int(np.count_nonzero(digit)), max_macs)
    net = model.net
    x = np.asarray(digit, np.float32)[None]
    logits = net.predict(x[None])[0]
    probs = softmax(logits.astype(np.float64))
    predicted = int(np.argmax(logits))
    target = predicted if options.target is None else options.target
    title, about = METHODS[options.method]
    maps = raw_maps(net, x, target, options)
    reference = sanity_reference(model, untrained) if options.sanity else None
    references = {}
    if reference is not None and maps:
        references = {m.name: m for m in raw_maps(reference[1], x, target, options)}
    at = min(READ_AT, options.curve_pixels)
    shaped = []
    order = checks.random_order(x.shape[1:], options.seed)
    random = checks.order_curves(net, x, target, order, options.curve_pixels)
    for m in maps:
        c = checks.curves(net, x, target, m.values, options.curve_pixels, random)
        rng, png, values = _picture(m.values)
        sanity = None
        if m.name in references:
            ref = references[m.name].values
            rho = checks.spearman(np.abs(m.values), np.abs(ref))
            r_range, r_png, r_values = _picture(ref)
            sanity = Sanity(
                reference=reference[0],
                spearman=None if rho is None else round(rho, 6),
                reading=checks.sanity_reading(rho),
                range=r_range,
                png=r_png,
                values=r_values,
            )
        stage_png = None
        if m.stage is not None:
            stage_png = render_signed(m.stage, _limit(m.stage))
        shaped.append(
            AttributionMap(
                name=m.name,
                title=m.title,
                values=values,
                range=rng,
                png=png,
                stage_shape=None if m.stage is None else list(m.stage.shape),
                stage_png=stage_png,
                completeness=None if m.ig is None else _completeness(m.ig),
                deletion=_curve_proof(c, True, at, target),
                insertion=_curve_proof(c, False, at, target),
                sanity=sanity,
                curves=_points(c) if options.curves else None,
            )
        )
    note = None
    if options.method == "grad_cam" and not maps:
        note = f"{model.id} has no conv layers, so Grad-CAM has no stage to weigh"
    elif options.sanity and reference is None:
        note = f"{model.id} is the untrained network: there is no untrained reference to compare"
    return Attribution(
        model=model.id,
        method=options.method,
        title=title_of(options),
        about=f"{title}: {about}",
        target=target,
        predicted=predicted,
        logit=round(float(logits[target]), 6),
        probability=round(float(probs[target]), 6),
        options=options.used(),
        scale=SCALE,
        maps=shaped,
        note=note,
    )


def _points(c: checks.Curves) -> CurvePoints:
    r = lambda a: np.round(a.astype(np.float64), 6).tolist()  # noqa: E731
    return CurvePoints(
        pixels=c.pixels.tolist(),
        deletion=r(c.deletion),
        deletion_random=r(c.deletion_random),
        insertion=r(c.insertion),
        insertion_random=r(c.insertion_random),
    )
