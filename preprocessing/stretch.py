"""Undo the stretch of a digit scanned small and stretched to fill its box.

Some forms and old datasets scan each digit at 16x16 and stretch it to fill that box, aspect
not kept: a 1 with a flag becomes as wide as tall, the shape of a bold 7, and the network reads
it as one. The stretch cannot be read off the box (it is the box), but it can be read off the
strokes: a pen draws lines as wide one way as the other, so a picture whose upright strokes are
wider than its level strokes are tall was stretched sideways, by about that ratio.
"""

from __future__ import annotations

import cv2
import numpy as np

from preprocessing.ink import INK_LEVEL

# Pen widths this much wider across than down mean a sideways stretch (MNIST test digits cropped
# tight, not stretched, mostly measure 0.67-1.5: a stroke's width in whole pixels is coarse).
MIN_STRETCH = 1.1
# A stretch is undone at most down to this share of the width: a 1, MNIST's narrowest digit, is on
# average 0.41 as wide as tall, and a narrower squeeze than this turns a wide 0 into a 1.
MAX_SQUEEZE = 0.5
# Fewer ink pixels than this on the upright or the level strokes: no measure.
_MIN_PIXELS = 3


def run_lengths(mask: np.ndarray, axis: int) -> np.ndarray:
    """Per pixel, the length of the run of ink along ``axis`` (1: the row, 0: the column) it lies in; 0 off ink."""
    lines = np.asarray(mask, bool) if axis == 1 else np.asarray(mask, bool).T
    h, w = lines.shape
    # Each line padded with a blank pixel, so that no run continues from one line into the next.
    flat = np.zeros((h, w + 1), bool)
    flat[:, :w] = lines
    flat = flat.ravel()
    edges = np.diff(np.concatenate([[False], flat, [False]]).astype(np.int8))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    out = np.zeros(flat.size, np.int32)
    if len(starts):
        lengths = ends - starts
        # Each run's length at its start, minus it after its end: a cumulative sum fills the run.
        step = np.zeros(flat.size + 1, np.int64)
        np.add.at(step, starts, lengths)
        np.add.at(step, ends, -lengths)
        out = np.cumsum(step)[:-1].astype(np.int32) * flat
    out = out.reshape(h, w + 1)[:, :w]
    return out if axis == 1 else out.T


def sideways_stretch(ink: np.ndarray) -> float:
    """How much wider the pen is across than down: the median width of the upright strokes
    (ink whose run across is shorter than its run down) over the median height of the level ones.
    1.0 where either is too small to measure."""
    mask = ink >= INK_LEVEL
    across, down = run_lengths(mask, 1), run_lengths(mask, 0)
    upright, level = mask & (across < down), mask & (down < across)
    if np.count_nonzero(upright) < _MIN_PIXELS or np.count_nonzero(level) < _MIN_PIXELS:
        return 1.0
    return float(np.median(across[upright]) / np.median(down[level]))


def unstretch(ink: np.ndarray) -> np.ndarray:
    """``ink`` (a digit's uint8 ink crop) squeezed sideways by its measured stretch, when there is one
    (``MIN_STRETCH``; at most to ``MAX_SQUEEZE`` of its width); otherwise ``ink`` itself."""
    stretch = sideways_stretch(ink)
    if stretch < MIN_STRETCH:
        return ink
    h, w = ink.shape
    width = max(1, round(w * max(MAX_SQUEEZE, 1.0 / stretch)))
    return cv2.resize(ink, (width, h), interpolation=cv2.INTER_AREA)
