"""The whole preprocessing: any image in, one MNIST-style 28x28 digit (or a reason why not) out."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from preprocessing.components import (
    BLANK_REASON,
    BLOCK_REASON,
    NOISE_REASON,
    DigitSelection,
    grain_passed,
    is_solid_block,
    select_digit,
)
from preprocessing.image import as_uint8_image, shrink_for_analysis, to_display_rgb
from preprocessing.ink import CROP_INK_PIECES, CROP_PAPER_PIECES, CROP_PIECE, INK_LEVEL, InkMap, analyse_ink, paper_colour
from preprocessing.normalize import normalize_digit
from preprocessing.paper import without_paper_lines
from preprocessing.stretch import unstretch

# The kept components are grown by this many pixels so their anti-aliased edges come along.
_EDGE_PIXELS = 2
# Pictures smaller than this (shorter side, px) may be tight crops whose digit touches every edge.
_TIGHT_CROP_SIDE = 100
# A picture whose sides differ by at most this ratio may be a small scan stretched to fill its box.
_SQUARISH = 1.25
# A picture at most this wide for its height, or tall for its width, may be a 1 cropped to its own
# ink; it is framed with this share of its longer side of paper (any size: under 100 px only, 81 of
# MNIST's first 4,000 test digits cropped tight at 128-256 px were still "noise", all 1s).
_NARROW = 0.5
_FRAME = 0.25
# Ink reaching all four edges of a bigger picture is a digit cropped to its ink only when it is in at
# most CROP_INK_PIECES pieces (of CROP_PIECE of the box or more) enclosing at most this many loops, with
# the paper between them in at most CROP_PAPER_PIECES pieces (of this share of the box or more).
_HOLES = 2
_PAPER_PIECE = 0.001
# Grey levels per unit of colour distance (CIELAB a-b, 8-bit) in the colour look: a green marker on
# kraft paper lies 25 units from it, the paper's grain about 1. What it finds must lie at least this
# many units from the paper (its median), and this many times the typical pixel's distance (a green
# 2 on kraft and a thin 0 on coloured paper: 21 and 28 units, 15 and 10 times; a cluster of colour
# noise on blank grainy paper read "2": 4 units, 3 times).
_CHROMA_GAIN = 8.0
_CHROMA_INK = 10.0
_CHROMA_OUT = 5.0


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
    img = without_paper_lines(img, steps)
    # A 1 cropped to its own ink is looked at with paper around it (the frame is cut off the box again).
    framed = _framed(img)
    img, offset = framed if framed is not None else (img, 0)
    ink = analyse_ink(img)
    selection = select_digit(ink.ink) if ink.status == "ok" else None
    grainy = grain_passed(ink)
    if grainy:
        # Grain all over a photo around its digit (a digit small in a big photo): look with the grain
        # smoothed away first.
        ink, selection = _smoothed_look(img, small_ink=True) or (ink, selection)
    if ink.status == "noise" or (selection is not None and selection.reason == NOISE_REASON):
        ink, selection = _second_look(img, ink, selection, smoothed=grainy)
    if ink.status != "ok" or selection is None:
        steps["ink"] = ink.ink
        return Preprocessed(None, NOISE_REASON if ink.status == "noise" else BLANK_REASON, steps)
    frame_filled = selection.box is not None and _fills_the_frame(selection.box, img.shape[:2])
    if frame_filled and ink.source != "alpha" and not _cropped_to_it(selection):
        # A digit photographed or scanned has paper around it, or is cropped to its ink; other ink
        # that reaches all four edges of a picture this size is grain or pattern.
        selection = DigitSelection(None, None, NOISE_REASON)
    elif selection.box is not None and selection.mask is not None:
        x, y, w, h = selection.box
        if is_solid_block(selection.mask[y : y + h, x : x + w]):
            selection = DigitSelection(None, None, BLOCK_REASON)
    steps["ink"] = ink.ink
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
    if _fills_its_box(selection.box, img.shape[:2]):
        # The picture is the digit's box: it may be a small scan stretched to fill it.
        crop = unstretch(crop)
    result = normalize_digit(crop)
    steps["stroke"] = result.work
    steps["20x20"] = result.box20
    steps["28x28"] = result.digit
    x, y = max(0, x - offset), max(0, y - offset)
    w, h = min(w, img.shape[1] - 2 * offset - x), min(h, img.shape[0] - 2 * offset - y)
    return Preprocessed(result.digit, None, steps, tuple(int(round(v * scale)) for v in (x, y, w, h)))


def _smoothed_look(img: np.ndarray, other_reading: bool = False, small_ink: bool = False) -> tuple[InkMap, DigitSelection] | None:
    """The picture looked at with its grain smoothed away, and the digit found there, or None. What a
    smoothed look finds must keep clear of the image's edges, as a digit on paper does (smoothing
    fine stripes or a checkerboard away leaves the outermost row or a corner square standing); a
    digit small in a big photo (``small_ink``) may be cut by one edge of it."""
    ink = analyse_ink(img, textured=True, other_reading=other_reading, small_ink=small_ink)
    selection = _digit_within_edges(ink, img.shape[:2], 1 if small_ink else 0)
    return None if selection is None else (ink, selection)


def _digit_within_edges(ink: InkMap, shape: tuple[int, int], edges: int) -> DigitSelection | None:
    """The digit ``select_digit`` finds in an ink map that has ink, if it reaches at most ``edges`` of
    the picture's edges (a look that may find smoothed stripes or grain's highs standing at an edge)."""
    if ink.status != "ok":
        return None
    selection = select_digit(ink.ink)
    if selection.reason is not None or selection.box is None or _edges_reached(selection.box, shape) > edges:
        return None
    return selection


def _second_look(
    img: np.ndarray, ink: InkMap, selection: DigitSelection | None, smoothed: bool = False
) -> tuple[InkMap, DigitSelection | None]:
    """Look again before answering "noise": a clear digit must not be called noise.

    Grain just above the plain threshold (a thin pen on grainy paper) breaks into hundreds of
    pieces around the digit: look again with the grain smoothed away. Then the picture's other
    reading (``analyse_ink``'s ``other_reading``: the other ink polarity, or a two-tone
    background), plain and with the grain smoothed away. What a smoothed look finds must keep clear
    of the image's edges, as a digit on paper does (smoothing fine stripes away leaves the outermost
    one standing); what the plain other reading finds may reach an edge (a bold digit cut by the
    picture's edge), but not fill the frame. Last, the picture's colour without its brightness
    (``_chroma_look``). Otherwise the first look stands. ``smoothed``: the first reading was already
    looked at with its grain smoothed away."""
    if ink.status == "ok" and not ink.textured and not smoothed:
        found = _smoothed_look(img)
        if found is not None:
            return found
    if ink.source == "alpha":
        return ink, selection
    other = analyse_ink(img, other_reading=True)
    if other.status == "ok":
        again = select_digit(other.ink)
        if again.reason is None and again.box is not None and (
            not _fills_the_frame(again.box, img.shape[:2]) or _cropped_to_it(again)
        ):
            return other, again
    return _smoothed_look(img, other_reading=True) or _chroma_look(img) or (ink, selection)


def _chroma_look(img: np.ndarray) -> tuple[InkMap, DigitSelection] | None:
    """The picture's colour without its brightness, last before "noise": a marker that differs from its
    paper in hue more than in brightness, on a grain that hides it in brightness (a green marker on
    kraft paper; grain is light and shade, so the colour plane has next to none). Each pixel's distance
    from the paper's colour in CIELAB's a-b plane (the median), ``_CHROMA_GAIN`` grey levels per unit,
    as dark ink on white; what it finds must keep clear of the picture's edges but one."""
    if img.ndim != 3 or img.shape[2] != 3:
        return None
    lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB)
    a, b = (cv2.extractChannel(lab, k).astype(np.float32) for k in (1, 2))
    distance = cv2.magnitude(a - float(np.median(a)), b - float(np.median(b)))
    ink = analyse_ink((255.0 - np.minimum(_CHROMA_GAIN * distance, 255.0)).astype(np.uint8))
    selection = _digit_within_edges(ink, img.shape[:2], 1)
    if selection is None or selection.mask is None:
        return None
    # Colour noise (JPEG, the sensor) clusters too: the ink must lie far out in colour, not just out.
    units = float(np.median(distance[selection.mask > 0]))
    return (ink, selection) if units >= max(_CHROMA_INK, _CHROMA_OUT * float(np.median(distance))) else None


def _framed(img: np.ndarray) -> tuple[np.ndarray, int] | None:
    """A narrow crop of one stroke (a 1 cropped to its own ink, ``ink.paper_colour``) with a
    frame of its own paper around it, and the frame's width; None for any other picture, or one with
    transparency.

    So little paper is left in such a crop that the stroke's soft edge is most of the paper tone,
    whose spread then reads as grain ("noise"), and a straight 1 fills the border, which then passes
    for paper (its rounded ends read as a 7). Framed, it is a digit on paper again."""
    h, w = img.shape[:2]
    if min(h, w) > _NARROW * max(h, w) or (img.ndim == 3 and img.shape[2] == 4):
        return None
    paper = paper_colour(img)
    if paper is None:
        return None
    pad = max(2, round(_FRAME * max(h, w)))
    value = [float(v) for v in np.atleast_1d(paper)]
    return cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=value), pad


def _edges_reached(box: tuple[int, int, int, int], shape: tuple[int, int]) -> int:
    x, y, w, h = box
    return int(x <= 0) + int(y <= 0) + int(x + w >= shape[1]) + int(y + h >= shape[0])


def _fills_its_box(box: tuple[int, int, int, int], shape: tuple[int, int]) -> bool:
    """Whether ``box`` reaches (within a pixel) all four edges of a squarish picture.

    Only squarish ones: a tall tight crop of a digit is its natural shape (squeezing those too read
    MNIST test digits cropped tight 81 -> 89 wrong of 4,000), a square box the shape of a form's box."""
    x, y, w, h = box
    rows, cols = shape
    squarish = 1 / _SQUARISH <= cols / rows <= _SQUARISH
    return squarish and x <= 1 and y <= 1 and x + w >= cols - 1 and y + h >= rows - 1


def _cropped_to_it(selection: DigitSelection) -> bool:
    """Whether ink that fills the frame is a digit cropped to its ink rather than grain or a pattern:
    at most ``CROP_INK_PIECES`` pieces of ink enclosing at most ``_HOLES`` loops, with paper between them
    in 1 to ``CROP_PAPER_PIECES`` pieces (a checkerboard, a mesh of blotches or graph paper leave many)."""
    x, y, w, h = selection.box
    ink = (selection.mask[y : y + h, x : x + w] > 0).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    strokes = np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] >= CROP_PIECE * ink.size)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(1 - ink, connectivity=4)
    paper = stats[1:, cv2.CC_STAT_AREA] >= _PAPER_PIECE * ink.size
    on_border = np.zeros(n, bool)
    on_border[np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])] = True
    holes = np.count_nonzero(paper & ~on_border[1:])
    return 1 <= np.count_nonzero(paper) <= CROP_PAPER_PIECES and strokes <= CROP_INK_PIECES and holes <= _HOLES


def _fills_the_frame(box: tuple[int, int, int, int], shape: tuple[int, int]) -> bool:
    """Whether ``box`` reaches all four edges of an image too big to be a tiny crop of one digit."""
    x, y, w, h = box
    return min(shape) >= _TIGHT_CROP_SIDE and x <= 0 and y <= 0 and x + w >= shape[1] and y + h >= shape[0]
