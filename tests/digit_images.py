"""Simple drawn digits for tests that need a clearly readable image."""

from __future__ import annotations

import cv2
import numpy as np

# Pen paths on a 280x280 canvas, one list of polylines per digit.
PATHS = {
    "0": [[(140, 45), (95, 70), (80, 140), (95, 210), (140, 235), (185, 210), (200, 140), (185, 70), (140, 45)]],
    "1": [[(120, 70), (145, 45), (145, 235)]],
    "7": [[(75, 55), (205, 55), (125, 235)]],
}


def draw_digit(digit: str, ink: int = 0, background: int = 255, size: int = 280, width: int = 18) -> np.ndarray:
    """A greyscale image of ``digit`` drawn as pen strokes."""
    img = np.full((size, size), background, np.uint8)
    scale = size / 280
    for path in PATHS[digit]:
        pts = (np.array(path, np.float32) * scale).astype(np.int32)
        cv2.polylines(img, [pts], False, int(ink), max(1, int(width * scale)), cv2.LINE_AA)
    return img


def png_bytes(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()
