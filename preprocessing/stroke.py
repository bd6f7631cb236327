"""Strokes: measure their width, thin them to a one-pixel skeleton, redraw them at a chosen width,
and bridge the gaps a skipping pen left in them."""

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


# A gap is bridged when it is at most this share of the digit's longer side, and when the stroke
# at each loose end points across it (within _BRIDGE_ANGLE degrees): a pen skipping on paper.
_BRIDGE_GAP = 0.3
_BRIDGE_ANGLE = 60.0
# The pixels within this share of the longer side of a loose end give the stroke's direction there.
_TANGENT_REACH = 0.08
# Pieces with less than this share of the ink (specks) are neither bridged nor bridged to.
_BRIDGE_MIN_PIECE = 0.03


def bridge_gaps(mask: np.ndarray) -> np.ndarray:
    """``mask`` (0/1 uint8, one digit) with the gaps of broken strokes drawn in.

    A thin pen skips, a stroke is lifted a little early: a 0 in two or three arcs, a 9 whose stem
    stops short of its loop. Two loose ends of different pieces are joined (at the stroke's own
    width) when they are close and each stroke points at the other end, as the eye continues a
    line; ends that merely lie near each other (a 4's open top, a 5's lifted bar) stay apart.
    """
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    speck = _BRIDGE_MIN_PIECE * areas.sum()
    if count < 3 or np.count_nonzero(areas >= speck) < 2:
        return mask
    size = max(mask.shape)
    skeleton = thin(mask)
    neighbours = cv2.filter2D(skeleton, -1, np.ones((3, 3), np.float32), borderType=cv2.BORDER_CONSTANT) - skeleton
    ys, xs = np.nonzero((skeleton > 0) & (neighbours == 1))
    reach = max(3.0, _TANGENT_REACH * size)
    sy, sx = np.nonzero(skeleton)
    ends = []  # (point, outward direction, piece)
    for y, x in zip(ys, xs):
        piece = labels[y, x]
        if areas[piece - 1] < speck:
            continue
        near = (np.hypot(sy - y, sx - x) <= reach) & (labels[sy, sx] == piece)
        direction = np.array([x - sx[near].mean(), y - sy[near].mean()])
        norm = np.hypot(*direction)
        if norm > 0.5:
            ends.append((np.array([x, y], np.float64), direction / norm, piece))
    cos_limit = np.cos(np.radians(_BRIDGE_ANGLE))
    pairs = []
    for i in range(len(ends)):
        for j in range(i + 1, len(ends)):
            (a, da, pa), (b, db, pb) = ends[i], ends[j]
            gap = np.hypot(*(b - a))
            if pa == pb or gap == 0 or gap > _BRIDGE_GAP * size:
                continue
            across = (b - a) / gap
            if da @ across >= cos_limit and db @ -across >= cos_limit:
                pairs.append((gap, i, j))
    if not pairs:
        return mask
    width = max(1, round(stroke_width(mask)))
    out = mask.copy()
    used: set[int] = set()
    for _, i, j in sorted(pairs):
        if i in used or j in used:
            continue
        used |= {i, j}
        cv2.line(out, tuple(int(v) for v in ends[i][0]), tuple(int(v) for v in ends[j][0]), 1, width)
    return out


def largest_piece_share(mask: np.ndarray) -> float:
    """The share of ``mask``'s ink (non-zero) in its largest 8-connected piece once the gaps of a skipping
    pen are bridged (``bridge_gaps``: a 1 whose pen skipped is one stroke); 1.0 when it has no ink."""
    ink = (mask > 0).astype(np.uint8)
    count, labels = cv2.connectedComponents(bridge_gaps(ink), connectivity=8)
    # Only the ink counts, not the bridges drawn: joining two specks must not shrink the main stroke's share.
    areas = np.bincount(labels[ink > 0], minlength=count)[1:]
    return float(areas.max() / areas.sum()) if areas.sum() else 1.0
