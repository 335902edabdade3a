"""Property-based fuzzing of every route from the app's own OpenAPI schema: no 5xx, and
every response matches its documented schema."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings

from app.main import app

# POST /api/train trains for up to the server's step limit, POST /api/attribute may compute for
# seconds: fuzzed with tiny limits in test_training_fuzz.py and test_attribution_fuzz.py
schema = (
    schemathesis.openapi.from_asgi("/openapi.json", app)
    .exclude(path="/api/train")
    .exclude(path="/api/attribute")
)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_never_fails_and_matches_its_schema(case):
    # A schema-valid upload can still be a picture we refuse (random bytes are no PNG), so
    # "positive data acceptance" does not apply to image routes.
    case.call_and_validate(excluded_checks=[schemathesis.checks.positive_data_acceptance])
