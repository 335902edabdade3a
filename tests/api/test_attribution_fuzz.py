"""POST /api/attribute fuzzed from its own OpenAPI schema, on an app whose compute budget is tiny
(100 million multiply-adds: a plain gradient with short curves passes, 64 integration steps with
the sanity check do not), so every accepted call ends at once: no 5xx, every answer as
documented. The general fuzz leaves the route out: a valid call may take seconds."""

from __future__ import annotations

from dataclasses import replace

import schemathesis
from hypothesis import HealthCheck, settings

from app.api.app import create_app
from app.settings import Settings

app = create_app(replace(Settings.from_env(), max_attribution_macs=100_000_000))
schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(path="/api/attribute")


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_attribution_never_fails_and_matches_its_schema(case):
    case.call_and_validate(excluded_checks=[schemathesis.checks.positive_data_acceptance])
