"""The "this does not look like a digit" warning (app/novelty.py): a network trained on MNIST
answers 0-9 whatever it is shown, so the answer must say when the input is unlike its training
digits. Drawings go through the API's preprocessing, as a drawing on the page does."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app import novelty
from app.explorer.digits import digit_report, read_digit
from app.explorer.models import LoadedModel
from app.imaging.preprocess import PreprocessOptions
from app.model.architecture import mlp, simple_convnet
from app.model.mnist import load_mnist
from app.model.network import Network
from app.model.storage import load_model
from tests.helpers.models import default_model_id, require_model
from tests.helpers.paths import MNIST_DIR, SAMPLE_DIR

CANVAS = 280
PEN = 21  # the page's pen: 7.5 % of the canvas


@pytest.fixture(scope="module")
def sample():
    return load_mnist(SAMPLE_DIR)


@pytest.fixture(scope="module")
def shipped():
    net, meta = load_model(require_model(default_model_id()))
    return net, meta


@pytest.fixture(scope="module")
def calibration(shipped):
    """The model's own calibration when its metadata has one, else fitted on the 60 000
    training digits (1000 are too few: the class models would fit their quirks)."""
    net, meta = shipped
    if "novelty" in meta:
        return meta["novelty"]
    if not MNIST_DIR.is_dir():
        pytest.skip(f"no calibration in the metadata and no full MNIST at {MNIST_DIR}")
    mnist = load_mnist(MNIST_DIR)
    return novelty.calibrate(net, mnist.train_images, mnist.train_labels)


def canvas(draw_on) -> np.ndarray:
    """A 280x280 white canvas with dark strokes drawn by draw_on(ImageDraw), as the page's
    brightness array (1 = white)."""
    img = Image.new("L", (CANVAS, CANVAS), 255)
    draw_on(ImageDraw.Draw(img))
    return np.asarray(img, np.float32) / 255


def preprocess(gray: np.ndarray):
    return read_digit(gray, None, PreprocessOptions())


def pen(draw, points):
    draw.line(points, fill=17, width=PEN, joint="curve")
    for x, y in (points[0], points[-1]):
        draw.ellipse([x - PEN / 2, y - PEN / 2, x + PEN / 2, y + PEN / 2], fill=17)


def dot(draw, x=140, y=140, d=PEN):
    draw.ellipse([x - d / 2, y - d / 2, x + d / 2, y + d / 2], fill=17)


def an_x(draw):
    pen(draw, [(60, 60), (220, 220)])
    pen(draw, [(220, 60), (60, 220)])


def smiley(draw):
    draw.ellipse([40, 40, 240, 240], outline=17, width=PEN)
    dot(draw, 105, 110)
    dot(draw, 175, 110)
    pen(draw, [(95, 170), (120, 190), (160, 190), (185, 170)])


def zigzag(draw):
    pen(draw, [(40 + 25 * i, 90 if i % 2 else 190) for i in range(9)])


def drawn_digit(digit: np.ndarray) -> np.ndarray:
    """An MNIST digit scaled 8x onto the canvas, dark on white."""
    big = Image.fromarray(np.uint8(255 - digit * 255)).resize((224, 224), Image.BICUBIC)
    img = Image.new("L", (CANVAS, CANVAS), 255)
    img.paste(big, (28, 28))
    return np.asarray(img, np.float32) / 255


# ------------------------------------------------------------------ the warning


@pytest.mark.parametrize("shape", [dot, an_x, zigzag], ids=["dot", "X", "zig-zag"])
def test_a_dot_an_x_and_a_scribble_are_not_digits(shipped, calibration, shape):
    net, _ = shipped
    pre = preprocess(canvas(shape))
    finding = novelty.assess(net, pre.digit, calibration)[0]
    assert finding.flagged, f"score {finding.score} under the threshold {finding.threshold}"
    assert finding.warning.startswith("this does not look like a digit: ")
    assert novelty.warnings_for(net, pre, calibration)[-1] == finding.warning


@pytest.mark.parametrize("explore", [False, True], ids=["predict", "explore"])
def test_a_request_reads_the_features_from_its_own_forward_pass(shipped, calibration, explore):
    """/api/predict and /api/explore run the network once and hand its features to the check:
    the warnings equal those of the check computing the features itself."""
    net, meta = shipped
    model = LoadedModel("shipped", net, {**meta, "novelty": calibration}, None, "", None)
    for shape in (an_x, smiley):
        pre = preprocess(canvas(shape))
        report = digit_report(model, pre, explore, values=False)
        assert report.warnings == [*pre.warnings, *novelty.warnings_for(net, pre, calibration)]
        assert any(w.startswith("this does not look like a digit") for w in report.warnings)


def test_at_least_98_percent_of_real_test_digits_pass(shipped, calibration, sample):
    net, _ = shipped
    flagged = novelty.flags(net, sample.test_images, calibration)
    assert flagged.mean() <= 0.02, f"{flagged.sum()} of {flagged.size} test digits flagged"


def test_a_digit_drawn_on_the_canvas_passes(shipped, calibration, sample):
    net, _ = shipped
    pre = preprocess(drawn_digit(sample.test_images[0, 0]))
    assert novelty.warnings_for(net, pre, calibration) == []


def test_full_mnist_test_set_flags_at_most_2_percent(shipped, calibration):
    if not MNIST_DIR.is_dir():
        pytest.skip(f"no full MNIST at {MNIST_DIR}")
    net, _ = shipped
    flagged = novelty.flags(net, load_mnist(MNIST_DIR).test_images, calibration)
    assert flagged.mean() <= 0.02, f"{flagged.mean():.2%} of the 10 000 test digits flagged"


# ------------------------------------------------------------------ the calibration


@pytest.fixture(scope="module")
def fitted_on_sample(shipped, sample):
    """The class models fitted on the sample's 1000 training digits, threshold not yet set:
    too few digits for a calibration to ship, enough to test the mechanics."""
    net, _ = shipped
    return novelty.fit(net, sample.train_images, sample.train_labels)


def test_the_calibration_survives_a_trip_through_json(shipped, sample, fitted_on_sample):
    net, _ = shipped
    fitted = novelty.set_threshold(*fitted_on_sample, novelty.FLAG_RATE)
    text = json.dumps(fitted)
    back = json.loads(text)
    assert back == fitted
    assert len(text) < 100_000  # it is stored in the model's metadata file
    digits = sample.test_images[:50]
    before = novelty.assess(net, digits, fitted)
    after = novelty.assess(net, digits, back)
    assert [f.to_dict() for f in before] == [f.to_dict() for f in after]


def test_a_drawing_in_more_pieces_than_digits_have_is_flagged(shipped, fitted_on_sample):
    """A smiley is 4 pieces: face, two eyes, mouth. 99.9 % of MNIST training digits are at most
    3 (calibrate measures it on the whole training set)."""
    net, _ = shipped
    calibration = novelty.set_threshold(*fitted_on_sample, novelty.FLAG_RATE)
    calibration["ink"]["max_pieces"] = 3
    finding = novelty.assess(net, preprocess(canvas(smiley)).digit, calibration)[0]
    assert finding.flagged
    assert any("4 separate pieces" in r for r in finding.reasons), finding.reasons


def test_a_calibration_made_before_the_pieces_rule_still_works(shipped, fitted_on_sample, sample):
    net, _ = shipped
    calibration = novelty.set_threshold(*fitted_on_sample, novelty.FLAG_RATE)
    older = {**calibration, "ink": dict(calibration["ink"])}
    del older["ink"]["max_pieces"]
    specks = np.zeros((28, 28), np.float32)  # 3 pieces: within max_pieces, Euler number 3
    specks[5, 5] = specks[20, 20] = specks[5, 20] = 1
    digits = np.concatenate([sample.test_images[:20], specks[None, None]])
    assert [f.to_dict() for f in novelty.assess(net, digits, older)] == [
        f.to_dict() for f in novelty.assess(net, digits, calibration)
    ]


def test_the_threshold_flags_the_chosen_share_of_held_out_training_digits(sample, fitted_on_sample):
    fitted = novelty.set_threshold(*fitted_on_sample, 0.05)
    assert fitted["held_out"] == len(sample.train_labels) // novelty.HOLD_OUT
    assert fitted["held_out_flagged"] == pytest.approx(0.05, abs=1 / fitted["held_out"])


@pytest.mark.parametrize(
    "arch", [simple_convnet(init="he"), mlp((64,))], ids=["untrained convnet", "mlp 64"]
)
def test_any_network_with_features_and_predict_can_be_calibrated(arch, sample):
    """An untrained network's features are random, but they still place a blob away from
    digits; the width of the feature vector is the network's own."""
    net = Network.initial(arch, seed=1)
    fitted = novelty.calibrate(net, sample.train_images, sample.train_labels)
    width = net.features(sample.test_images[:1]).shape[1]
    assert fitted["features"] == width
    findings = novelty.assess(net, sample.test_images[:20], fitted)
    assert len(findings) == 20 and all(f.threshold == fitted["threshold"] for f in findings)
    blob = preprocess(canvas(lambda d: dot(d, d=120))).digit
    assert novelty.assess(net, blob, fitted)[0].flagged


def test_a_calibration_for_another_width_is_refused(shipped, sample):
    net, _ = shipped
    other = Network.initial(mlp((64,)), seed=1)
    fitted = novelty.calibrate(other, sample.train_images, sample.train_labels)
    with pytest.raises(ValueError, match="64 features"):
        novelty.assess(net, sample.test_images[:1], fitted)


# ------------------------------------------------------------------ the ink's shape


def ring(radius_out: float, radius_in: float) -> np.ndarray:
    y, x = np.mgrid[:28, :28]
    r = np.hypot(y - 13.5, x - 13.5)
    return ((r <= radius_out) & (r >= radius_in)).astype(np.float32)


def test_a_filled_disc_is_thicker_than_a_stroke():
    thickness, _ = novelty.ink_statistics(np.stack([ring(10, 0), ring(10, 8)]))
    assert thickness[0] >= 9 and thickness[1] <= 2


def test_euler_number_is_pieces_minus_holes():
    """A 0 (a ring) is 1 piece with 1 hole: 0. An 8: 1 piece, 2 holes: -1. A 1: 1. Three
    specks: 3. A smiley, 4 pieces around 1 hole: 3, like the specks; counting its pieces
    tells them apart."""
    eight = np.maximum(np.roll(ring(6, 4), -6, axis=0), np.roll(ring(6, 4), 6, axis=0))
    one = np.zeros((28, 28), np.float32)
    one[4:24, 13:15] = 1
    specks = np.zeros((28, 28), np.float32)
    specks[5, 5] = specks[20, 20] = specks[5, 20] = 1
    smiley = ring(12, 10)
    smiley[9, 9] = smiley[9, 18] = 1
    smiley[18, 10:18] = 1
    digits = np.stack([ring(9, 7), eight, one, specks, smiley])
    _, euler = novelty.ink_statistics(digits)
    assert euler.tolist() == [0, -1, 1, 3, 3]
    assert novelty.ink_pieces(digits).tolist() == [1, 1, 1, 3, 4]
    assert novelty.pieces_and_holes(eight) == (1, 2)
    assert novelty.pieces_and_holes(specks) == (3, 0)
    assert novelty.pieces_and_holes(smiley) == (4, 1)


# ------------------------------------------------------------------ a tiny mark


def test_a_5_pixel_dot_is_reported_as_blown_up():
    pre = preprocess(canvas(lambda d: dot(d, 200, 70, d=5)))
    (warning,) = novelty.tiny_mark_warnings(pre)
    assert "tiny mark" in warning and "enlarged" in warning and "not a digit" in warning
    fraction, pixels = novelty.mark_extent(pre)
    assert fraction < 0.05 and pixels <= 7


def test_a_normal_digit_is_not_a_tiny_mark(sample):
    pre = preprocess(drawn_digit(sample.test_images[0, 0]))
    assert novelty.tiny_mark_warnings(pre) == []
    fraction, _ = novelty.mark_extent(pre)
    assert fraction > 0.3


def test_no_tiny_mark_warning_when_nothing_was_scaled():
    gray = canvas(lambda d: dot(d, 200, 70, d=5))
    pre = read_digit(gray, None, PreprocessOptions(scale=False))
    assert novelty.mark_extent(pre) is None and novelty.tiny_mark_warnings(pre) == []
