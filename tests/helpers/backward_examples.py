"""The documented answers of /api/backward and /api/gradient-check, made by the app itself.

Run `python -m tests.helpers.backward_examples` to rewrite app/api/examples_backward.json;
tests/api/test_backward.py checks the file against the running app.
"""

from __future__ import annotations

import json
from pathlib import Path

from app.api.deps import image_body

FILE = Path(__file__).resolve().parents[2] / "app" / "api" / "examples_backward.json"
QUERIES = {
    "backward": ("/api/backward", "model=book&row=14&col=14"),
    "gradient_check": ("/api/gradient-check", "model=book&pixels=4&weights=4&seed=0"),
}


def example_body() -> dict:
    """The request body's documented "pixels" example."""
    content = image_body()["requestBody"]["content"]["application/json"]
    return content["examples"]["pixels"]["value"]


def trimmed(answer: dict) -> dict:
    """The answer with every array of arrays and every PNG shortened to a placeholder."""
    out = {}
    for key, value in answer.items():
        if isinstance(value, dict):
            out[key] = trimmed(value)
        elif isinstance(value, str) and value.startswith("data:image"):
            out[key] = value[:40] + "..."
        elif isinstance(value, list) and value and isinstance(value[0], list):
            out[key] = [value[0][:4]] if not isinstance(value[0][0], list) else []
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out[key] = [trimmed(v) for v in value[:3]]
        else:
            out[key] = value
    return out


def main() -> None:
    from tests.helpers.app import app_client

    examples = {}
    with app_client() as client:
        for name, (path, query) in QUERIES.items():
            r = client.post(f"{path}?{query}", json=example_body())
            r.raise_for_status()
            examples[name] = {"query": query, "response": trimmed(r.json())}
    FILE.write_text(json.dumps(examples, indent=1) + "\n")


if __name__ == "__main__":
    main()
