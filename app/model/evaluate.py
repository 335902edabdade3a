"""Test-set accuracy, per-class accuracy and the confusion matrix."""

from __future__ import annotations

import numpy as np

from .network import Network


def confusion_matrix(net: Network, x: np.ndarray, t: np.ndarray, batch: int = 500):
    """(10, 10) counts: row = true digit, column = predicted digit."""
    k = net.arch.num_classes
    matrix = np.zeros((k, k), dtype=np.int64)
    for i in range(0, len(x), batch):
        pred = net.predict(x[i : i + batch]).argmax(axis=1)
        np.add.at(matrix, (t[i : i + batch], pred), 1)
    return matrix


def summarize(matrix: np.ndarray) -> dict:
    per_class = matrix.diagonal() / np.maximum(matrix.sum(axis=1), 1)
    return {
        "accuracy": float(matrix.trace() / matrix.sum()),
        "per_class_accuracy": [round(float(a), 4) for a in per_class],
        "confusion_matrix": matrix.tolist(),
    }


def format_report(report: dict) -> str:
    lines = [f"test accuracy {report['accuracy']:.4f}", "", "per class:"]
    lines += [f"  {d}: {a:.4f}" for d, a in enumerate(report["per_class_accuracy"])]
    lines += ["", "confusion matrix (rows: true, columns: predicted)"]
    lines += ["      " + " ".join(f"{d:5d}" for d in range(10))]
    for d, row in enumerate(report["confusion_matrix"]):
        lines.append(f"  {d}:  " + " ".join(f"{v:5d}" for v in row))
    return "\n".join(lines)
