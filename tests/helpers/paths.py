"""Where the tests find the repository, the MNIST files and the place to leave artifacts."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MNIST_DIR = ROOT.parent / "shared" / "data" / "mnist"  # the full set, when this machine has it
SAMPLE_DIR = ROOT / "tests" / "data" / "mnist-sample"  # a small slice, always here
ARTIFACTS = ROOT / "test-artifacts"
