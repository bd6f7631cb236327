"""How well lone digits are read after each rendering of the number corpus.

    MNIST_DIR=... python benchmarks/renderers.py [--digits 3000] [--seed 0] [--model PATH]

Renders the first N MNIST *test* digits one by one with each renderer of ``tests/number_corpus.py``
(the app's canvas, a transparent canvas, a phone photo, a grey scan, a hair-thin pen, a fat marker),
reads each image with ``DigitClassifier.predict_batch`` (the whole single-digit pipeline) and prints
a table: accuracy per renderer and its most frequent confusions, beside the MNIST image itself read
through the same pipeline. A number of 4.5 digits is read right only as often as all its digits
are, so this shows which renderings hold the number reader back, without the segmentation in the way.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from model import DEFAULT_MODEL_PATH, load_classifier  # noqa: E402
from tests.number_corpus import RENDERERS  # noqa: E402
from training.data import load_for_command  # noqa: E402

# Blank columns and rows around each digit, in MNIST pixels: the renderers expect ink with a margin.
MARGIN = 6


def render_digits(images: np.ndarray, renderer: str, seed: int) -> list[np.ndarray]:
    """Each uint8 28x28 digit rendered alone by ``renderer`` (one random stream per renderer)."""
    rng = np.random.default_rng(seed)
    return [RENDERERS[renderer](np.pad(x.astype(np.float32) / 255.0, MARGIN), rng) for x in images]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--digits", type=int, default=3000, help="first N MNIST test digits (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--model", default=str(DEFAULT_MODEL_PATH))
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    mnist = load_for_command(args.data_dir)
    images, labels = mnist.x_test[: args.digits], mnist.y_test[: args.digits]
    clf = load_classifier(args.model)
    print("| renderer | digits | accuracy | most frequent confusions (true → read × count) |")
    print("|---|---:|---:|---|")
    for name in ["MNIST image itself", *RENDERERS]:
        rendered = list(images) if name not in RENDERERS else render_digits(images, name, args.seed)
        answers = [prediction.digit for prediction in clf.predict_batch(rendered)]
        right = np.mean([a == t for a, t in zip(answers, labels)])
        wrong = Counter(f"{t} → {'none' if a is None else a}" for a, t in zip(answers, labels) if a != t)
        confusions = ", ".join(f"{k} × {v}" for k, v in wrong.most_common(4))
        print(f"| {name} | {len(labels)} | {right:.2%} | {confusions} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
