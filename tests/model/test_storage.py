"""Model files: .npz weights (never pickles) and .json metadata, written atomically."""

from __future__ import annotations

import hashlib
import json
import pathlib

import numpy as np
import pytest

from app.model.architecture import deep_convnet, simple_convnet
from app.model.network import Network
from app.model.storage import ModelFileError, load_model, metadata_path, save_model

SMALL = simple_convnet(filters=3, size=3, hidden=5, input_shape=(1, 10, 10))
PARAM_NAMES = ["W1", "b1", "W2", "b2", "W3", "b3"]


@pytest.fixture
def saved(tmp_path):
    net = Network.initial(SMALL, seed=11)
    path = tmp_path / "net.npz"
    save_model(net, path, {"seed": 11, "history": [{"epoch": 1, "test_acc": 0.5}]})
    return net, path


class RunsCodeWhenUnpickled:
    """Unpickling this creates a file: proof that a loader ran code from a model file."""

    def __init__(self, marker: pathlib.Path):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def test_save_then_load_gives_back_the_same_parameters_and_metadata(saved):
    net, path = saved
    loaded, meta = load_model(path)
    assert loaded.arch == SMALL
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(loaded.params[name], net.params[name])
        assert loaded.params[name].dtype == np.float32
    assert meta["seed"] == 11
    assert meta["history"] == [{"epoch": 1, "test_acc": 0.5}]
    assert meta["config"] == json.loads(json.dumps(SMALL.to_dict()))
    assert meta["weights_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_metadata_sits_beside_the_weights_as_json(saved):
    _, path = saved
    assert metadata_path(path) == path.with_suffix(".json")
    assert json.loads(path.with_suffix(".json").read_text())["seed"] == 11
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(PARAM_NAMES)


def test_any_layer_list_is_saved_with_its_config_and_loads_back_the_same(tmp_path):
    """The chapter-8 net: eight weight matrices, pads 1 and 2, three pools, two dropouts."""
    arch = deep_convnet(init=0.01, final_dropout=True)
    net = Network.initial(arch, seed=3)
    path = tmp_path / "deep.npz"
    save_model(net, path, {"id": "deep"})
    loaded, meta = load_model(path)
    assert loaded.arch == arch
    assert meta["config"]["layers"][7] == {"type": "conv", "filters": 32, "size": [3, 3],
                                           "stride": 1, "pad": 2}  # fmt: skip
    with np.load(path, allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(arch.param_shapes())
    x = np.random.default_rng(0).random((2, 1, 28, 28), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict(x), net.predict(x))


def test_an_impossible_config_in_the_json_is_a_model_file_error(saved):
    _, path = saved
    meta = json.loads(path.with_suffix(".json").read_text())
    meta["config"]["layers"][0]["size"] = [11, 11]  # larger than the 10x10 input
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=r"metadata .* unreadable.*FH=11.*larger") as err:
        load_model(path)
    assert str(path.with_suffix(".json")) in str(err.value)


def test_a_config_that_does_not_fit_the_weights_is_a_model_file_error(saved):
    """Filters 3x3 on disk, 5x5 in the config."""
    _, path = saved
    meta = json.loads(path.with_suffix(".json").read_text())
    meta["config"]["layers"][0]["size"] = [5, 5]
    path.with_suffix(".json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match=r"does not match.*W1.*\(3, 1, 3, 3\)"):
        load_model(path)


def test_a_loaded_model_predicts_like_the_saved_one(saved):
    net, path = saved
    x = np.random.default_rng(0).random((3, 1, 10, 10), dtype=np.float32)
    np.testing.assert_array_equal(load_model(path)[0].predict(x), net.predict(x))


def test_a_missing_npz_is_a_model_file_error_naming_the_file(tmp_path):
    path = tmp_path / "absent.npz"
    with pytest.raises(ModelFileError, match="not found") as err:
        load_model(path)
    assert str(path) in str(err.value)


def test_a_missing_json_is_a_model_file_error_naming_the_json(saved):
    _, path = saved
    path.with_suffix(".json").unlink()
    with pytest.raises(ModelFileError, match="not found") as err:
        load_model(path)
    assert str(path.with_suffix(".json")) in str(err.value)


def test_unreadable_metadata_is_a_model_file_error(saved):
    _, path = saved
    path.with_suffix(".json").write_text("{not json")
    with pytest.raises(ModelFileError, match="metadata .* unreadable"):
        load_model(path)


@pytest.mark.parametrize(
    "garbage",
    [b"this is not a zip file", b"PK\x03\x04" + b"\x00" * 40, bytes(range(256)) * 4],
    ids=["text", "broken zip header", "binary"],
)
def test_a_corrupt_npz_is_a_model_file_error(saved, garbage):
    _, path = saved
    path.write_bytes(garbage)
    with pytest.raises(ModelFileError, match="corrupt") as err:
        load_model(path)
    assert str(path) in str(err.value)


def test_a_truncated_npz_is_a_model_file_error(saved):
    _, path = saved
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(ModelFileError, match="corrupt"):
        load_model(path)


def test_a_parameter_of_the_wrong_shape_is_a_model_file_error_naming_it(saved):
    net, path = saved
    params = dict(net.params, W2=np.zeros((48, 7), np.float32))
    np.savez(path, **params)
    with pytest.raises(ModelFileError, match=r"does not match.*W2") as err:
        load_model(path)
    assert "(48, 7)" in str(err.value)


def test_a_missing_parameter_is_a_model_file_error_naming_it(saved):
    net, path = saved
    np.savez(path, **{k: v for k, v in net.params.items() if k != "b3"})
    with pytest.raises(ModelFileError, match="lacks parameters b3"):
        load_model(path)


def test_an_npz_holding_an_object_array_is_refused_and_never_unpickled(saved, tmp_path):
    net, path = saved
    marker = tmp_path / "code-ran"
    evil = np.array([RunsCodeWhenUnpickled(marker)], dtype=object)
    np.savez(path, **dict(net.params, W1=evil))  # np.savez pickles object arrays
    assert not marker.exists()
    with pytest.raises(ModelFileError, match="corrupt") as err:
        load_model(path)
    assert "pickle" in str(err.value).lower()
    assert not marker.exists(), "loading the model ran code from the file"


def test_an_interrupted_save_leaves_no_partial_file(tmp_path, monkeypatch):
    net = Network.initial(SMALL, seed=1)
    path = tmp_path / "models" / "net.npz"
    real_savez = np.savez

    def savez_then_interrupt(file, **arrays):
        real_savez(file, W1=arrays["W1"])  # half the work is on disk ...
        raise KeyboardInterrupt  # ... when the user presses Ctrl-C

    monkeypatch.setattr(np, "savez", savez_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        save_model(net, path, {"seed": 1})
    assert not path.exists()
    assert not path.with_suffix(".json").exists()
    assert list(path.parent.iterdir()) == []  # no *.tmp left behind


def test_an_interrupted_save_keeps_the_previous_model_intact(saved, monkeypatch):
    net, path = saved
    before = path.read_bytes(), path.with_suffix(".json").read_bytes()

    def interrupt(file, **arrays):
        file.write(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", interrupt)
    with pytest.raises(KeyboardInterrupt):
        save_model(Network.initial(SMALL, seed=2), path, {"seed": 2})
    assert (path.read_bytes(), path.with_suffix(".json").read_bytes()) == before
    assert not list(path.parent.glob("*.tmp"))
    assert load_model(path)[1]["seed"] == 11


def test_saved_files_are_readable_by_others(saved):
    _, path = saved
    assert path.stat().st_mode & 0o044 == 0o044
    assert path.with_suffix(".json").stat().st_mode & 0o044 == 0o044
