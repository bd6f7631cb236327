"""Digits scanned small and stretched to fill their box, and digits cropped tight, read whole.

    MNIST_DIR=... python benchmarks/stretched_scans.py [--digits 4000] [--sizes 16 24 32 48 64]

Each of the first N MNIST *test* digits is cropped to its ink and made into two pictures, dark
on light: scanned at 16x16 stretched to fill that box (binarised at random, shown at 16-64 px,
nearest or linear), as some forms and old datasets store digits; and cropped tight at its own
shape, shown 16-64 px tall (``--sizes``: other heights, e.g. 128 160 256 for crops big enough that
ink reaching every edge could be grain). Both are read by the committed classifier (``predict_batch``), with
and without the squeeze that undoes a measured stretch (``preprocessing.stretch``), and the
errors are counted: the tight crops say what the squeeze costs where nothing was stretched.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path
from unittest import mock

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from model import load_classifier  # noqa: E402
from preprocessing import pipeline  # noqa: E402
from training.data import load_for_command  # noqa: E402

SIZES = (16, 24, 32, 48, 64)


def pictures(
    images: np.ndarray, labels: np.ndarray, seed: int = 0, sizes: tuple[int, ...] = SIZES
) -> dict[str, list[tuple[np.ndarray, int]]]:
    """Per kind, (uint8 picture, label) for each MNIST digit (28x28 uint8, white on black); the
    squarish tight crops (width 0.8-1.25 of the height) are the ones a stretch may be looked for in."""
    rng = np.random.default_rng(seed)
    kinds: dict[str, list[tuple[np.ndarray, int]]] = {"stretched 16x16 scan": [], "tight crop": [], "tight crop, squarish": []}
    for digit, label in zip(images, labels):
        ink = digit.astype(np.float32) / 255
        ys, xs = np.nonzero(ink > 0.1)
        ink = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        small = cv2.resize(ink, (16, 16), interpolation=cv2.INTER_AREA)
        if rng.random() < 0.4:
            small = (small > 0.4).astype(np.float32)
        size = int(rng.choice(sizes))
        shown = cv2.resize(small, (size, size), interpolation=cv2.INTER_NEAREST if rng.random() < 0.5 else cv2.INTER_LINEAR)
        kinds["stretched 16x16 scan"].append((np.round(230 - 210 * shown).astype(np.uint8), int(label)))
        size = int(rng.choice(sizes))
        width = max(1, round(ink.shape[1] * size / ink.shape[0]))
        tight = np.round(230 - 210 * cv2.resize(ink, (width, size), interpolation=cv2.INTER_LINEAR)).astype(np.uint8)
        kinds["tight crop"].append((tight, int(label)))
        if 0.8 <= width / size <= 1.25:
            kinds["tight crop, squarish"].append((tight, int(label)))
    return kinds


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--digits", type=int, default=4000, help="first N MNIST test digits (default: %(default)s)")
    p.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="heights shown (default: %(default)s)")
    p.add_argument("--data-dir")
    args = p.parse_args(argv)
    mnist = load_for_command(args.data_dir)
    clf = load_classifier()
    n = min(args.digits, len(mnist.x_test))
    kinds = pictures(mnist.x_test[:n], mnist.y_test[:n], sizes=tuple(args.sizes))
    print("| pictures | images | wrong, stretch not undone | wrong | most frequent confusions (true → read × count) |")
    print("|---|---:|---:|---:|---|")
    for kind, samples in kinds.items():
        images, truth = [image for image, _ in samples], [label for _, label in samples]
        with mock.patch.object(pipeline, "unstretch", lambda ink: ink):
            before = [r.digit for r in clf.predict_batch(images)]
        after = [r.digit for r in clf.predict_batch(images)]
        wrong = [(t, a) for t, a in zip(truth, after) if t != a]
        common = ", ".join(f"{t} → {'none' if a is None else a} × {c}" for (t, a), c in Counter(wrong).most_common(4))
        was = sum(t != b for t, b in zip(truth, before))
        print(f"| {kind} | {len(images)} | {was} | **{len(wrong)}** | {common} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
