"""The whole preprocessing: any image in, one MNIST-style 28x28 digit (or a reason why not) out."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from preprocessing.components import BLANK_REASON, NOISE_REASON, select_digit
from preprocessing.image import as_uint8_image, shrink_for_analysis, to_display_rgb
from preprocessing.ink import INK_LEVEL, analyse_ink
from preprocessing.normalize import normalize_digit

# The kept components are grown by this many pixels so their anti-aliased edges come along.
_EDGE_PIXELS = 2


@dataclass(frozen=True)
class Preprocessed:
    """``digit``: 28x28 uint8, white on black, MNIST-normalised, or None when there is no digit.
    ``reason``: one line saying why there is no digit. ``steps``: ordered name -> uint8 image for display.
    ``box``: (x, y, w, h) of the digit's ink in the input image's pixels, or None."""

    digit: np.ndarray | None
    reason: str | None
    steps: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    box: tuple[int, int, int, int] | None = None

    @property
    def ok(self) -> bool:
        return self.digit is not None


def preprocess(image: np.ndarray) -> Preprocessed:
    """Find the digit in ``image`` (uint8 H×W, H×W×1, H×W×3 RGB or H×W×4 RGBA) and normalise it like MNIST.

    Never raises for uint8 images of those shapes; other dtypes or shapes raise ValueError.
    """
    original = as_uint8_image(image)
    img = shrink_for_analysis(original)
    scale = original.shape[1] / img.shape[1]
    steps: dict[str, np.ndarray] = {"input": to_display_rgb(img)}
    ink = analyse_ink(img)
    steps["ink"] = ink.ink
    if ink.status != "ok":
        return Preprocessed(None, NOISE_REASON if ink.status == "noise" else BLANK_REASON, steps)
    selection = select_digit(ink.ink)
    if selection.reason is not None or selection.mask is None or selection.box is None:
        return Preprocessed(None, selection.reason or BLANK_REASON, steps)
    x, y, w, h = selection.box
    # Work on the digit's box only: the kept pieces plus a rim for their anti-aliased edges;
    # the kept pieces were traced below INK_LEVEL (hysteresis), so all of them count as ink.
    kept = selection.mask[y : y + h, x : x + w]
    near = cv2.dilate(kept, np.ones((2 * _EDGE_PIXELS + 1,) * 2, np.uint8))
    crop = cv2.bitwise_and(ink.ink[y : y + h, x : x + w], near)
    crop = np.maximum(crop, kept & INK_LEVEL)
    cleaned = np.zeros_like(ink.ink)
    cleaned[y : y + h, x : x + w] = crop
    steps["cleaned"] = cleaned
    steps["crop"] = crop
    result = normalize_digit(crop)
    steps["stroke"] = result.work
    steps["20x20"] = result.box20
    steps["28x28"] = result.digit
    return Preprocessed(result.digit, None, steps, tuple(int(round(v * scale)) for v in selection.box))
