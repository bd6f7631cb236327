"""Personal handwriting styles from ``training/styles.py``, rendered as scans for the whole pipeline.

``european``: someone who writes 1 with a long flag and 7 with a crossbar, as much of Europe does
(MNIST has almost none of either; the committed model reads a flagged 1 as 7 about half the time).
``thin_broken``, ``small_scan``: a thin pen that leaves 1-3 gaps, or digits scanned at 10-16 px and
stretched to fill their box, on every digit. The styled 28x28 digits are rendered as 4x scans, dark
ink on white paper, so they go through the app's whole preprocessing like an upload does.
"""

from __future__ import annotations

import cv2
import numpy as np

from training.styles import STYLES, crossed_seven, european_one

SCALE = 4
_EUROPEAN = {1: european_one, 7: crossed_seven}
# Each style and the digits it is written with.
STYLE_DIGITS = {"european": tuple(_EUROPEAN), "thin_broken": tuple(range(10)), "small_scan": tuple(range(10))}


def styled_scan(digit28: np.ndarray, label: int, style: str, rng: np.random.Generator) -> np.ndarray:
    """One MNIST digit (28x28, white on black) in ``style``: a uint8 scan, dark on light."""
    styled = _EUROPEAN[label](digit28, rng) if style == "european" else STYLES[style].make(digit28, rng)
    big = cv2.resize(styled, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)
    big = cv2.copyMakeBorder(big, 20, 20, 20, 20, cv2.BORDER_CONSTANT, value=0)
    return 255 - big


def styled_scans(images: np.ndarray, labels: np.ndarray, style: str, seed: int) -> list[np.ndarray]:
    """``style`` applied to each of ``images`` (uint8 N x 28 x 28 with their ``labels``), reproducibly."""
    rng = np.random.default_rng(seed)
    return [styled_scan(image, int(label), style, rng) for image, label in zip(images, labels)]
