"""POST /api/train fuzzed from its own OpenAPI schema, on an app whose training limits are tiny
(5 steps, 200 digits of the shipped sample, batches of 20), so every accepted run ends at once:
no 5xx, every answer as documented."""

from __future__ import annotations

from dataclasses import replace

import schemathesis
from hypothesis import HealthCheck, settings

from app.api.app import create_app
from app.settings import Settings

TINY = {"max_train_steps": 5, "max_train_size": 200, "max_train_batch": 20}
app = create_app(replace(Settings.from_env(), data_dir="/nonexistent/mnist", **TINY))
schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path_regex="^/api/train")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_live_training_never_fails_and_matches_its_schema(case):
    case.call_and_validate(excluded_checks=[schemathesis.checks.positive_data_acceptance])
