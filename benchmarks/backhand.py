"""A personal handwriting style the MNIST model reads badly: a heavy back-slant with a skipping pen.

Someone who writes "backhand" (the top of every digit leans far to the left, about 40 degrees) with
a pen that skips (two short gaps across the strokes). Neither is in MNIST or in the training
augmentation (shear up to 0.15, rotation up to 12 degrees, no gaps), nor among the styles of
``training/styles.py``. Digits are rendered as 4x scans, dark ink on white paper, so they go through
the app's whole preprocessing like an upload does.
"""

from __future__ import annotations

import cv2
import numpy as np

SCALE = 4
SHEAR = (0.8, 1.0)  # x shift per unit of height, top to the left
GAPS = 2  # skips of the pen per digit
GAP_LENGTH = 10  # half-length of a cut, in scan pixels
GAP_WIDTH = 3  # width of a cut, in scan pixels (under one MNIST pixel)


def backhand(digit28: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One MNIST digit (28x28, white on black) written backhand with a skipping pen: a uint8 scan, dark on light."""
    big = cv2.resize(digit28, None, fx=SCALE, fy=SCALE, interpolation=cv2.INTER_CUBIC)
    pad = int(big.shape[0] * 0.6)
    big = cv2.copyMakeBorder(big, 20, 20, pad, pad, cv2.BORDER_CONSTANT, value=0)
    h, w = big.shape
    shear = rng.uniform(*SHEAR)
    # x' = x + shear * (y - h/2): the bottom moves right and the top left, about the middle.
    big = cv2.warpAffine(big, np.float32([[1, shear, -shear * h / 2], [0, 1, 0]]), (w, h), flags=cv2.INTER_LINEAR)
    for _ in range(GAPS):
        ys, xs = np.nonzero(big > 128)
        if len(ys) == 0:
            break
        k = rng.integers(len(ys))
        angle = rng.uniform(0, np.pi)
        dx, dy = np.cos(angle) * GAP_LENGTH, np.sin(angle) * GAP_LENGTH
        cv2.line(big, (int(xs[k] - dx), int(ys[k] - dy)), (int(xs[k] + dx), int(ys[k] + dy)), 0, GAP_WIDTH)
    return 255 - big


def backhand_set(images: np.ndarray, seed: int) -> list[np.ndarray]:
    """The style applied to each of ``images`` (uint8 N x 28 x 28), reproducibly."""
    rng = np.random.default_rng(seed)
    return [backhand(image, rng) for image in images]
