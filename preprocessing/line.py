"""The line of writing as the sequence reader sees it: all the found digits' ink in one strip.

The digit classifier reads one 28x28 digit at a time, so it depends on where the digits were cut.
The sequence reader (``model.sequence``) reads the whole line at once and says which digits it
holds, left to right, without being told where one ends: what two touching digits need. Its
input is the ink of the segmentation's regions (ruled lines, specks and edge marks already left
out), scaled so the digits are ``DIGIT_ROWS`` px tall, in a fixed ``LINE`` strip.

    strip, columns = line_image(seg)   # columns(x) -> strip column of ink-map column x, and back
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from preprocessing.segment import Segmentation, merge

# Strip size (rows, columns); the digits' typical height in it; the blank margin at each end.
LINE = (32, 256)
DIGIT_ROWS = 22
MARGIN = 4


@dataclass(frozen=True)
class LineMapping:
    """Maps strip columns to ink-map columns: ``x_ink = x0 + (column - offset) / scale``."""

    x0: float
    offset: float
    scale: float

    def to_ink(self, column: float) -> float:
        return self.x0 + (column - self.offset) / self.scale

    def to_strip(self, x: float) -> float:
        return self.offset + (x - self.x0) * self.scale


def line_image(seg: Segmentation) -> tuple[np.ndarray, LineMapping]:
    """uint8 ``LINE`` strip of the regions' ink (ink bright), and where its columns lie in the ink map."""
    rows, cols = LINE
    line = merge(seg.regions)
    ink = seg.crop(line)  # only the regions' own ink: no ruled line, speck or edge mark
    x0 = line.box[0]
    # One scale for both axes, unless the line is too long for the strip: then it is squeezed.
    scale = min(DIGIT_ROWS / max(seg.digit_height, 1.0), (rows - 2) / ink.shape[0])
    sx = min(scale, (cols - 2 * MARGIN) / ink.shape[1])
    size = (max(1, round(ink.shape[1] * sx)), max(1, round(ink.shape[0] * scale)))
    small = cv2.resize(ink, size, interpolation=cv2.INTER_AREA)
    strip = np.zeros(LINE, np.uint8)
    top = (rows - size[1]) // 2
    strip[top : top + size[1], MARGIN : MARGIN + size[0]] = small
    return strip, LineMapping(float(x0), float(MARGIN), size[0] / ink.shape[1])
