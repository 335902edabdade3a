"""POST /api/train: a live training streamed as NDJSON, on the shipped sample (in process).

Tiny runs only: 1000 sample digits, batches of 50, a few dozen steps.
"""

from __future__ import annotations

import json
import threading

import pytest

from app.explorer.training_results import TrainRequest
from app.explorer.training_stream import line, plan_training, run_events
from app.settings import Settings
from tests.helpers.app import app_client

NO_DATA = "/nonexistent/mnist"  # no full MNIST here: the runs use the shipped sample
TINY = {"steps": 12, "batch_size": 50, "report_every": 5}


@pytest.fixture(scope="module")
def trainer():
    with app_client(data_dir=NO_DATA) as c:
        yield c


def events_of(client, body) -> list[dict]:
    with client.stream("POST", "/api/train", json=body) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"].startswith("application/x-ndjson")
        return [json.loads(line) for line in r.iter_lines() if line]


@pytest.fixture(scope="module")
def tiny_run(trainer):
    return events_of(trainer, {**TINY, "inspect_filter": 4})


def test_the_stream_is_start_ready_reports_at_0_5_10_and_the_last_step_then_done(tiny_run):
    kinds = [e["type"] for e in tiny_run]
    assert kinds == ["start", "ready", "report", "report", "report", "report", "done"]
    assert [e["step"] for e in tiny_run if e["type"] == "report"] == [0, 5, 10, 12]
    done = tiny_run[-1]
    assert done["steps"] == done["total_steps"] == 12 and done["stopped"] is False


def test_the_first_event_says_which_data_and_the_recipe_fills_what_was_left_out(tiny_run):
    start, ready = tiny_run[0], tiny_run[1]
    assert start["data"]["source"] == "sample"
    assert start["config"]["arch"] == "simple" and start["config"]["init"] == 0.01
    assert start["config"]["optimizer"] == "adam" and start["config"]["batch_size"] == 50
    assert ready["train_size"] == 1000 and ready["steps_per_epoch"] == 20
    assert ready["layer"] == "conv1" and ready["probe"]["png"].startswith("data:image/png")
    assert "--steps 12" in ready["replay"] and "--threads 1" in ready["replay"]


def test_every_step_has_its_loss_once_and_each_report_carries_filters_and_probe_maps(tiny_run):
    reports = [e for e in tiny_run if e["type"] == "report"]
    assert [len(r["losses"]) for r in reports] == [0, 5, 5, 2]
    assert reports[0]["loss"] is None and reports[0]["lr"] is None
    for r in reports:
        assert r["filters"]["shape"] == [30, 1, 5, 5] and len(r["filters"]["filters"]) == 30
        assert len(r["probe"]["maps"]) == 30
        assert 0 <= r["test_acc"] <= 1 and 0 <= r["train_acc"] <= 1
    # the filters move: the last report's weights are not the random start's
    assert (
        reports[-1]["filters"]["filters"][0]["weights"]
        != reports[0]["filters"]["filters"][0]["weights"]
    )


def test_inspect_this_step_shows_old_w_minus_adams_step_equals_new_w(tiny_run):
    """Adam: new W = old W - lr_t m / (sqrt(v) + eps), lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)."""
    import numpy as np

    report = next(e for e in tiny_run if e["type"] == "report" and e["step"] == 5)
    ins = report["inspect"]
    assert ins["filter"] == 4 and ins["step"] == 5 and ins["optimizer"] == "adam"
    before, after = np.array(ins["W_before"]), np.array(ins["W_after"])
    m, v = np.array(ins["state"]["m"]), np.array(ins["state"]["v"])
    lr_t = ins["lr"] * np.sqrt(1 - 0.999**5) / (1 - 0.9**5)
    np.testing.assert_allclose(after, before - lr_t * m / (np.sqrt(v) + 1e-7), rtol=1e-4, atol=1e-7)
    assert np.array(ins["dW"]).shape == before.shape == (1, 5, 5)
    # the report's filter bank shows the same new W
    np.testing.assert_allclose(report["filters"]["filters"][4]["weights"], after, atol=1e-6)


def test_same_seed_same_losses_other_seed_other_losses(trainer, tiny_run):
    losses = [x for e in tiny_run if e["type"] == "report" for x in e["losses"]]
    again = events_of(trainer, {**TINY, "inspect_filter": 4})
    assert [x for e in again if e["type"] == "report" for x in e["losses"]] == losses
    other = events_of(trainer, {**TINY, "seed": 1})
    assert [x for e in other if e["type"] == "report" for x in e["losses"]] != losses


def test_a_net_without_conv_layers_streams_no_filters(trainer):
    events = events_of(trainer, {"arch": "mlp", "steps": 3, "batch_size": 50, "report_every": 3})
    reports = [e for e in events if e["type"] == "report"]
    assert events[1]["layer"] is None
    assert all(r["filters"] is None and r["probe"] is None for r in reports)


@pytest.mark.parametrize(
    "body, limit",
    [
        ({"steps": 6001}, "CONV_EXPLORER_MAX_TRAIN_STEPS"),
        ({"batch_size": 501}, "CONV_EXPLORER_MAX_TRAIN_BATCH"),
        ({"train_size": 60001}, "CONV_EXPLORER_MAX_TRAIN_SIZE"),
        ({"train_size": 2000}, "the sample set has 1000"),
        ({"steps": 5000, "report_every": 1}, "reports 5000 is over the limit of 1000"),
        ({"steps": 10, "epochs": 1}, "steps or epochs, not both"),
        ({"init": "glorot"}, 'neither "he" nor a number'),
        ({"inspect_filter": 30}, "30 filters"),
        ({"arch": "mlp", "inspect_filter": 0}, "no first conv layer"),
    ],
)
def test_a_run_over_a_limit_is_a_422_naming_it(trainer, body, limit):
    r = trainer.post("/api/train", json=body)
    assert r.status_code == 422
    assert limit in r.json()["detail"]


@pytest.mark.parametrize("body", [{"arch": "book"}, {"lr": -1}, {"steps": 0}, {"colour": "red"}])
def test_a_malformed_config_is_a_422(trainer, body):
    assert trainer.post("/api/train", json=body).status_code == 422


def test_the_limits_come_from_the_settings(trainer):
    with app_client(data_dir=NO_DATA, max_train_steps=10) as small:
        r = small.post("/api/train", json={"steps": 11})
        assert r.status_code == 422 and "limit of 10" in r.json()["detail"]


def test_a_training_beyond_max_trainings_is_a_429_with_retry_after():
    with app_client(data_dir=NO_DATA, max_trainings=1) as c:
        body = {"steps": 400, "batch_size": 50, "report_every": 200}
        with c.stream("POST", "/api/train", json=body) as first:
            lines = first.iter_lines()
            assert json.loads(next(lines))["type"] == "start"
            assert c.get("/api/train/status").json()["running"] == 1
            r = c.post("/api/train", json=TINY)
            assert r.status_code == 429
            assert int(r.headers["retry-after"]) > 0
            assert "1 trainings are running" in r.json()["detail"]


def test_a_stop_ends_the_run_after_the_step_in_hand():
    """What a closed connection does: the worker's stop flag is checked before every step."""
    plan = plan_training(
        TrainRequest(steps=400, batch_size=50, report_every=3), Settings(data_dir=NO_DATA)
    )
    stop = threading.Event()
    events = []
    for event in run_events(plan, stop):
        events.append(event)
        if event["type"] == "report" and event["step"] == 6:
            stop.set()
    assert [e["type"] for e in events][-2:] == ["report", "done"]
    done = events[-1]
    assert done["stopped"] is True and done["steps"] == 6 and done["test_acc"] is None


def strict(line: str) -> dict:
    """JSON as a browser reads it: no NaN or Infinity."""
    return json.loads(line, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))


def test_a_loss_that_is_not_a_number_ends_the_run_with_valid_json(monkeypatch):
    """This engine's log-softmax rarely overflows, so the blow-up is staged: the fourth step's
    gradient comes back NaN, as from weights that grew past float32."""
    import numpy as np

    from app.model.network import Network

    gradient, calls = Network.gradient, []

    def blowing_up(self, x, t, rng=None):
        loss, grads = gradient(self, x, t, rng)
        calls.append(1)
        if len(calls) >= 4:
            return float("nan"), {k: np.full_like(g, np.nan) for k, g in grads.items()}
        return loss, grads

    monkeypatch.setattr(Network, "gradient", blowing_up)
    plan = plan_training(
        TrainRequest(steps=20, batch_size=50, report_every=10, inspect_filter=0),
        Settings(data_dir=NO_DATA),
    )
    events = [strict(line(e).decode()) for e in run_events(plan, threading.Event())]
    done, last = events[-1], events[-2]
    assert done["type"] == "done" and done["diverged_at"] == done["steps"] == 4
    assert last["type"] == "report" and last["step"] == 4
    assert all(isinstance(v, float) for v in last["losses"][:3])
    assert last["losses"][3] is None and last["test_loss"] is None
    assert last["filters"] is None and last["inspect"] is None  # NaN weights: nothing to draw
