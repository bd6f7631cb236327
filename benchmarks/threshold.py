"""Choose the low-confidence threshold from data: what each threshold flags, and what it catches.

    MNIST_DIR=... python benchmarks/threshold.py

For each candidate threshold, on the MNIST test set (clean, in-distribution) and on the
project's generated corpus of realistic inputs (``tests/corpus.py``: canvas, photos, scans,
thin and fat strokes): the share of answers flagged as unsure, the accuracy of the answers
shown as certain, and the share of all errors that the flag catches.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model import LOW_CONFIDENCE, load_classifier  # noqa: E402
from tests.corpus import generate_corpus  # noqa: E402
from training.data import load_mnist  # noqa: E402

THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)


def rows(confidence: np.ndarray, correct: np.ndarray) -> list[str]:
    """One markdown row per threshold: flagged share, accuracy when not flagged, errors caught."""
    out = []
    errors = max(1, int((~correct).sum()))
    for t in THRESHOLDS:
        flagged = confidence < t
        shown = ~flagged
        accuracy = correct[shown].mean() if shown.any() else float("nan")
        caught = (flagged & ~correct).sum() / errors
        out.append(f"{t:.2f} | {flagged.mean():.2%} | {accuracy:.3%} | {caught:.0%}")
    return out


def main() -> None:
    clf = load_classifier()
    data = load_mnist()
    probs = clf.probabilities(data.x_test)
    mnist = rows(probs.max(axis=1), probs.argmax(axis=1) == data.y_test)

    samples = generate_corpus()
    predictions = clf.predict_batch([s.image for s in samples])
    found = [p.ok for p in predictions]
    conf = np.array([p.confidence if p.ok else 0.0 for p in predictions])
    correct = np.array([p.ok and p.digit == s.label for p, s in zip(predictions, samples)])
    corpus = rows(conf, correct)

    print(
        f"MNIST test: {len(data.y_test)} images, {int((probs.argmax(1) != data.y_test).sum())} errors; "
        f"corpus: {len(samples)} images, {int((~correct).sum())} errors ({len(found) - sum(found)} without a digit)"
    )
    print(
        "| threshold | MNIST flagged | MNIST accuracy when not flagged | MNIST errors caught "
        "| corpus flagged | corpus accuracy when not flagged | corpus errors caught |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for a, b in zip(mnist, corpus):
        print(f"| {a} | {b.split(' | ', 1)[1]} |")
    print(f"current LOW_CONFIDENCE = {LOW_CONFIDENCE}")


if __name__ == "__main__":
    main()
