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


# Centre lines of digits in a 100 x 140 box (x, y), one list of points per pen stroke.
STROKES = {
    "0": [[(50, 10), (20, 35), (12, 70), (20, 110), (50, 130), (80, 110), (88, 70), (80, 35), (50, 10)]],
    "1": [[(40, 30), (60, 10), (60, 130)]],
    "2": [[(18, 40), (30, 15), (55, 8), (80, 22), (82, 50), (60, 80), (15, 128), (90, 128)]],
    "3": [[(18, 22), (50, 8), (80, 25), (75, 55), (45, 68), (80, 82), (85, 112), (50, 132), (15, 118)]],
    "4": [[(62, 10), (15, 90), (90, 90)], [(68, 50), (68, 132)]],
    "5": [[(25, 15), (20, 65), (55, 58), (82, 80), (80, 112), (50, 130), (18, 118)], [(28, 12), (85, 12)]],
    "7": [[(12, 15), (88, 15)], [(88, 15), (40, 132)]],
    "8": [[(50, 68), (22, 45), (28, 15), (50, 8), (75, 15), (78, 45), (50, 68), (20, 95), (28, 125), (50, 132), (75, 125),
           (82, 95), (50, 68)]],
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


def write(text: str, *, gap: int = 30, width: int = 9, height: int = 140, ink: int = 0, paper: int = 255,
          detached: dict[int, int] | None = None) -> np.ndarray:
    """A number drawn with a pen: each digit's strokes in its own 100 px wide cell, ``gap`` px apart.

    ``detached`` maps a digit's position to a lift in px of its second stroke (a 5's bar drawn apart).
    """
    cell = 100
    img = np.full((height + 80, 40 + len(text) * (cell + gap)), paper, np.uint8)
    for k, ch in enumerate(text):
        x0 = 20 + k * (cell + gap)
        for s, stroke in enumerate(STROKES[ch]):
            lift = (detached or {}).get(k, 0) if s > 0 else 0
            pts = np.array([(x0 + x, 40 + y * height / 140 - lift) for x, y in stroke], np.int32)
            cv2.polylines(img, [pts], False, ink, width, cv2.LINE_AA)
    return img
