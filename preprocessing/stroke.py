"""Stroke width: measure it, thin strokes to a one-pixel skeleton, and redraw at a chosen width."""

from __future__ import annotations

import cv2
import numpy as np

# Neighbour weights for the Zhang-Suen thinning code (cv2.filter2D correlates, so the kernel
# reads the neighbourhood as laid out): P2 = north = bit 0, clockwise to P9 = north-west = bit 7.
_NEIGHBOUR_KERNEL = np.array([[128, 1, 2], [64, 0, 4], [32, 16, 8]], np.float32)


def stroke_width(mask: np.ndarray) -> float:
    """Mean stroke width in pixels of a 0/non-zero mask: 2 * area / perimeter.

    A stroke of length L and width w has area L*w and perimeter ~2L, so this is w for any
    shape made of strokes; contours of holes count towards the perimeter too.
    """
    binary = (mask > 0).astype(np.uint8)
    area = int(np.count_nonzero(binary))
    if area == 0:
        return 0.0
    contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    # Contours run through boundary pixel centres; +1 per contour restores the outer half pixels
    # of a one-pixel line, whose contour length is 2(L-1).
    perimeter = sum(cv2.arcLength(c, True) for c in contours) + 2.0 * len(contours)
    return 2.0 * area / max(perimeter, 1.0)


def _zhang_suen_tables() -> tuple[np.ndarray, np.ndarray]:
    """Deletion look-up tables for the two Zhang-Suen sub-iterations, indexed by neighbour code."""
    first = np.zeros(256, np.uint8)
    second = np.zeros(256, np.uint8)
    for code in range(256):
        p = [(code >> k) & 1 for k in range(8)]  # P2..P9
        count = sum(p)
        transitions = sum(1 for k in range(8) if p[k] == 0 and p[(k + 1) % 8] == 1)
        if not (2 <= count <= 6 and transitions == 1):
            continue
        p2, _, p4, _, p6, _, p8, _ = p
        if p2 * p4 * p6 == 0 and p4 * p6 * p8 == 0:
            first[code] = 1
        if p2 * p4 * p8 == 0 and p2 * p6 * p8 == 0:
            second[code] = 1
    return first, second


_TABLES = _zhang_suen_tables()


def thin(mask: np.ndarray, max_iterations: int = 200) -> np.ndarray:
    """Zhang-Suen skeleton (uint8 0/1) of a mask; each pass is two filter2D + LUT operations."""
    img = (mask > 0).astype(np.uint8)
    for _ in range(max_iterations):
        changed = False
        for table in _TABLES:
            code = cv2.filter2D(img, cv2.CV_32F, _NEIGHBOUR_KERNEL, borderType=cv2.BORDER_CONSTANT)
            delete = cv2.LUT(code.astype(np.uint8), table) & img
            if delete.any():
                img = img - delete
                changed = True
        if not changed:
            break
    return img


def draw_at_width(skeleton: np.ndarray, width: float) -> np.ndarray:
    """Redraw a skeleton (non-zero = centre line) as round strokes ``width`` px wide, anti-aliased.

    Returns float32 coverage in [0, 1].
    """
    outside = np.where(skeleton > 0, 0, 255).astype(np.uint8)
    dist = cv2.distanceTransform(outside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return np.clip(width / 2.0 + 0.5 - dist, 0.0, 1.0)


def widen(mask: np.ndarray, extra: float) -> np.ndarray:
    """Grow the strokes of a mask by ``extra`` px in total width (``extra / 2`` per side), anti-aliased.

    Returns float32 coverage in [0, 1].
    """
    outside = np.where(mask > 0, 0, 255).astype(np.uint8)
    dist = cv2.distanceTransform(outside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    # Inside pixels have distance 0, so they stay fully covered.
    return np.clip(max(extra, 1.0) / 2.0 + 0.5 - dist, 0.0, 1.0)
