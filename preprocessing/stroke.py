"""Stroke width: measure it, thin strokes to a one-pixel skeleton, and redraw at a chosen width."""

from __future__ import annotations

import cv2
import numpy as np


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


def thin(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen skeleton (uint8 0/1) of a mask, by OpenCV's ximgproc (opencv-contrib)."""
    binary = np.where(mask > 0, 255, 0).astype(np.uint8)
    return (cv2.ximgproc.thinning(binary, thinningType=cv2.ximgproc.THINNING_ZHANGSUEN) > 0).astype(np.uint8)


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
