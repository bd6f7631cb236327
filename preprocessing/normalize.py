"""Turn one digit's ink crop into a 28x28 image drawn the way MNIST digits are.

MNIST's convention: the digit's bounding box is scaled (aspect kept, anti-aliased) so its longer
side is 20 px, then placed in a 28x28 field so that its centre of mass is at the centre.
Centre of mass here is sum(index * value) / sum(value) over pixel indices 0..27; MNIST's own
digits average (13.99, 14.01) by that measure, so the target is (14, 14). Like MNIST we shift by
whole pixels (no resampling blur, the 20-px box stays 20 px), so the centre of mass ends within
0.5 px of (14, 14).

Gaps a skipping pen left in a stroke are bridged first (``stroke.bridge_gaps``: a thin 0 in two
arcs is a 0, not a 9). Thin strokes are widened: a 1-px pen line is drawn out to MNIST's typical
width for the digit's size, about 2.5-3 px at 28x28. Fat strokes are kept as drawn: the network
was trained with strokes thickened, and redrawing a marker's digit along its skeleton loses its
shape (a loop filled in becomes a line).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from preprocessing.ink import INK_LEVEL
from preprocessing.stroke import bridge_gaps, stroke_width, widen

MNIST_SIZE = 28
BOX_SIZE = 20
# Working resolution: the digit's longer side is resampled to this many pixels (4x the 20-px
# box), fine enough for width changes, small enough for sub-millisecond morphology.
WORK_SIZE = 80
# MNIST's median stroke width relative to the box's longer side (measured by stroke_width at
# the working resolution on MNIST test digits run through this pipeline).
STROKE_RATIO = 0.135
# Strokes thinner than this fraction of the target are widened to it (MNIST's own 3rd percentile).
# Fat strokes are not thinned: redrawing those wider than 1.8x the target along their skeleton
# (as until 2026-12-06) cost MNIST test digits through the pipeline 99.49% -> 99.31%, and
# the number corpus (seeds 0-3) 87 -> 105 misread digits, most of them fat-marker digits.
_WIDEN_BELOW = 0.6
# Gaussian smoothing at the working resolution: MNIST strokes have soft, blurred edges.
_SMOOTH_SIGMA = 0.6
# Moment slant (mu11 / mu02: x shift per row) beyond which a digit is sheared back to this
# value. MNIST's own digits lie within -0.40..0.37 (5th-95th percentile).
SLANT_LIMIT = 0.3


@dataclass(frozen=True)
class Normalised:
    """The 28x28 result plus the stages worth showing: the stroke-normalised working image and the 20x20 box."""

    digit: np.ndarray
    work: np.ndarray
    box20: np.ndarray


def to_mnist(ink_crop: np.ndarray) -> np.ndarray:
    """28x28 uint8 MNIST-style digit (white on black) from a uint8 ink map of one digit."""
    return normalize_digit(ink_crop).digit


def tight_box(image: np.ndarray, level: float = 0) -> tuple[int, int, int, int] | None:
    """(x, y, w, h) of the pixels above ``level``, or None when there are none."""
    points = cv2.findNonZero((image > level).astype(np.uint8))
    if points is None:
        return None
    x, y, w, h = cv2.boundingRect(points)
    return int(x), int(y), int(w), int(h)


def normalize_digit(ink_crop: np.ndarray) -> Normalised:
    """Like to_mnist, but also returns the intermediate images for display."""
    if ink_crop.ndim != 2 or ink_crop.dtype != np.uint8:
        raise ValueError(f"expected a 2-D uint8 ink map, got {ink_crop.dtype} {ink_crop.shape}")
    box = tight_box(ink_crop, INK_LEVEL - 1)
    if box is None:
        empty = np.zeros((MNIST_SIZE, MNIST_SIZE), np.uint8)
        return Normalised(empty, empty, np.zeros((BOX_SIZE, BOX_SIZE), np.uint8))
    x, y, w, h = box
    crop = ink_crop[y : y + h, x : x + w]
    mask = bridge_gaps(limit_slant(to_working_mask(crop)))
    coverage = normalise_stroke(mask)
    coverage = cv2.GaussianBlur(coverage, (0, 0), _SMOOTH_SIGMA)
    box20 = fit_box(coverage, BOX_SIZE)
    return Normalised(centre_by_mass(box20, MNIST_SIZE), (coverage * 255).round().astype(np.uint8), box20)


def to_working_mask(crop: np.ndarray) -> np.ndarray:
    """Resample a tight ink crop so its longer side is WORK_SIZE, as a 0/1 uint8 mask.

    Shrinking averages the ink mask; a thin line's coverage drops with the scale, so the
    threshold follows it down and lines never break apart.
    """
    h, w = crop.shape
    scale = WORK_SIZE / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if scale >= 1:
        return (cv2.resize(crop, size, interpolation=cv2.INTER_LINEAR) >= INK_LEVEL).astype(np.uint8)
    binary = (crop >= INK_LEVEL).astype(np.uint8)
    expected = min(1.0, stroke_width(binary) * scale)
    coverage = cv2.resize(binary.astype(np.float32), size, interpolation=cv2.INTER_AREA)
    return (coverage >= max(0.1, 0.45 * expected)).astype(np.uint8)


def limit_slant(mask: np.ndarray, limit: float = SLANT_LIMIT) -> np.ndarray:
    """``mask`` (0/1 uint8) sheared so that its moment slant is at most ``limit`` either way.

    A heavily slanted hand (backhand, or a strong forward lean) lies outside what MNIST showed
    the network; only the excess is sheared away, so a slant within MNIST's range stays as drawn.
    """
    m = cv2.moments(mask, binaryImage=True)
    if m["mu02"] <= 0:
        return mask
    slant = m["mu11"] / m["mu02"]
    if abs(slant) <= limit:
        return mask
    k = slant - np.sign(slant) * limit
    h, w = mask.shape
    cy = m["m01"] / m["m00"]
    # x' = x - k (y - cy), moved right so that nothing falls off the left edge.
    lo = min(k * cy, -k * (h - 1 - cy))
    matrix = np.float32([[1, -k, k * cy - lo + 1], [0, 1, 0]])
    size = (int(np.ceil(w + abs(k) * (h - 1))) + 2, h)
    sheared = cv2.warpAffine(mask.astype(np.float32), matrix, size, flags=cv2.INTER_LINEAR)
    return (sheared >= 0.5).astype(np.uint8)


def normalise_stroke(mask: np.ndarray) -> np.ndarray:
    """Coverage (float32 0..1), thin strokes widened to MNIST's width relative to the digit's size.

    Widening changes the box (by the width change), so the target solves
    target = STROKE_RATIO * (skeleton extent + target).
    """
    width = stroke_width(mask)
    box = tight_box(mask)
    if box is None or width == 0:
        return mask.astype(np.float32)
    extent = max(box[2], box[3]) - width
    target = STROKE_RATIO * max(extent, 1.0) / (1.0 - STROKE_RATIO)
    ratio = width / target
    pad = int(np.ceil(target / 2)) + 4
    padded = cv2.copyMakeBorder(mask, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
    if ratio < _WIDEN_BELOW:
        return widen(padded, target - width)
    return padded.astype(np.float32)


def fit_box(coverage: np.ndarray, size: int = BOX_SIZE) -> np.ndarray:
    """Crop to the ink and shrink (area-averaged) so the longer side is ``size``; uint8, max 255."""
    box = tight_box(coverage, 0.02)
    if box is None:
        return np.zeros((size, size), np.uint8)
    x, y, w, h = box
    crop = coverage[y : y + h, x : x + w]
    scale = size / max(w, h)
    dsize = (max(1, min(size, round(w * scale))), max(1, min(size, round(h * scale))))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(crop, dsize, interpolation=interpolation)
    peak = float(small.max())
    if peak <= 0:
        return np.zeros((dsize[1], dsize[0]), np.uint8)
    # MNIST strokes have a saturated core: scale the strongest pixel to 255.
    return np.clip(small * (255.0 / peak), 0, 255).round().astype(np.uint8)


def centre_by_mass(box: np.ndarray, size: int = MNIST_SIZE) -> np.ndarray:
    """Place ``box`` in a size x size field with its centre of mass at (size/2, size/2), whole-pixel shift."""
    m = cv2.moments(box, binaryImage=False)
    h, w = box.shape
    if m["m00"] <= 0:
        cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    else:
        cx, cy = m["m10"] / m["m00"], m["m01"] / m["m00"]
    dx, dy = int(np.floor(size / 2.0 - cx + 0.5)), int(np.floor(size / 2.0 - cy + 0.5))
    shift = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(box, shift, (size, size), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
