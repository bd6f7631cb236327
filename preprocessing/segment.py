"""Find the digits of a written number, left to right: the detection half of reading a number.

    seg = segment(image)        # seg.regions: one DigitRegion per digit candidate, left to right
    crop = seg.crop(region)     # the region's ink, ready for ``normalize_digit``
    zoom_box(seg, image.shape)  # digits small in a big picture: the part to segment again, closer

What is done here, without any network (pure numpy/OpenCV):

0. the printed lines of squared or ruled paper are painted over (``paper.without_paper_lines``);
1. the ink map, as for a single digit (``analyse_ink``; with the grain smoothed away where grain passed
   its threshold, ``components.grain_passed``; its other reading before "noise");
2. ruled lines, underlines, frames and box sides are taken out (``components.find_lines``, the same
   line finder as for a single digit, at the tracing level and at the ink level): a straight line
   much longer than the digits are tall is no stroke of a digit; strokes that crossed the line are mended;
3. the ink's pieces (connected components) are grouped into digits: pieces stacked above one
   another belong together (a 5's lifted bar, a 4 drawn in two strokes, a loop broken at the top),
   dots of a dotted or faint stroke join the digit they lie in; specks, box lines and other marks
   much smaller or taller than the digits are dropped.

What is left is ambiguous without recognition: a region may hold two digits that touch, and
two neighbouring regions may be halves of one broken digit. ``cut_columns`` proposes where a
region could be split, and ``DigitRegion.span`` builds any candidate (part of a region, or
neighbours merged); the reader (``model.reader``) lets the network choose among them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from preprocessing.components import (
    BLANK_REASON,
    BLOCK_REASON,
    NOISE_REASON,
    SPECKS_REASON,
    find_lines,
    grain_passed,
    is_solid_block,
)
from preprocessing.image import analysis_factor, as_uint8_image, shrink_for_analysis, to_display_rgb
from preprocessing.ink import INK_LEVEL, analyse_ink
from preprocessing.paper import without_paper_lines
from preprocessing.stroke import stroke_width

# Pieces are traced at this lower level (hysteresis), as for single digits.
_LOW_LEVEL = 80
# Regions shorter than this fraction of the digits' height are specks, dots or punctuation.
_MIN_HEIGHT = 0.4
# Thin marks taller than this many digit heights are box lines or scanner edges.
_MAX_HEIGHT = 1.45
# At most this many pieces (the largest) are grouped; the rest are specks.
_MAX_PIECES = 300
# Rim kept around a region's pixels so their anti-aliased edges come along.
_EDGE_PIXELS = 2
# A dot grid or a halftone: at least this many solid round marks of one size (filling this share of their
# box, as wide as tall within these ratios); a number has at most MAX_DIGITS digits.
_GRID_DOTS = 12
_DOT_FILL = 0.6
_DOT_ASPECT = (0.6, 1.6)
# Digits shorter than this in the ink map of a picture shrunk for analysis (a number written small
# in a big phone photo) are looked at again in the input's own pixels (``zoom_box``), with this many
# digit heights of paper around them.
ZOOM_BELOW = 40
ZOOM_MARGIN = 1.0


@dataclass(frozen=True)
class DigitRegion:
    """Ink that may be one digit. ``box``: (x, y, w, h) in ink-map pixels; ``mask``: box-sized uint8 0/255."""

    box: tuple[int, int, int, int]
    mask: np.ndarray = field(repr=False)

    @property
    def x0(self) -> int:
        return self.box[0]

    @property
    def x1(self) -> int:
        return self.box[0] + self.box[2]

    def between(self, left: np.ndarray | None, right: np.ndarray | None) -> DigitRegion | None:
        """The region's ink between two cut paths (per row, the column where each cut passes; None: the
        region's edge), tightened; None if there is no ink there."""
        x, y, w, h = self.box
        cols = np.arange(w)[None, :]
        keep = np.ones((h, w), bool)
        if left is not None:
            keep &= cols >= left[:, None]
        if right is not None:
            keep &= cols < right[:, None]
        sub = np.where(keep, self.mask, 0).astype(np.uint8)
        box = _tight_box(sub)
        if box is None:
            return None
        bx, by, bw, bh = box
        return DigitRegion((x + bx, y + by, bw, bh), np.ascontiguousarray(sub[by : by + bh, bx : bx + bw]))


def merge(regions: list[DigitRegion]) -> DigitRegion:
    """One region holding the ink of all of ``regions`` (neighbours that are pieces of one digit)."""
    if len(regions) == 1:
        return regions[0]
    x0 = min(r.box[0] for r in regions)
    y0 = min(r.box[1] for r in regions)
    x1 = max(r.box[0] + r.box[2] for r in regions)
    y1 = max(r.box[1] + r.box[3] for r in regions)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for r in regions:
        x, y, w, h = r.box
        view = mask[y - y0 : y - y0 + h, x - x0 : x - x0 + w]
        np.maximum(view, r.mask, out=view)
    return DigitRegion((x0, y0, x1 - x0, y1 - y0), mask)


@dataclass(frozen=True)
class Segmentation:
    """Where the digits are. ``regions`` left to right; ``scale``: input pixels per ink-map pixel;
    ``digit_height``: the digits' typical height in ink-map pixels; ``reason`` when there is no digit."""

    ink: np.ndarray = field(repr=False)
    regions: list[DigitRegion]
    scale: float
    digit_height: float
    reason: str | None = None
    steps: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def crop(self, region: DigitRegion) -> np.ndarray:
        """The ink (grey levels) of ``region`` only, box-sized: what ``normalize_digit`` takes."""
        x, y, w, h = region.box
        near = cv2.dilate(region.mask, np.ones((2 * _EDGE_PIXELS + 1,) * 2, np.uint8))
        crop = cv2.bitwise_and(self.ink[y : y + h, x : x + w], near)
        # The region was traced below INK_LEVEL (hysteresis): all of it counts as ink.
        return np.maximum(crop, region.mask & INK_LEVEL)

    def input_box(self, region: DigitRegion) -> tuple[int, int, int, int]:
        """``region``'s box in the input image's pixels."""
        return tuple(int(round(v * self.scale)) for v in region.box)  # type: ignore[return-value]


def segment(image: np.ndarray) -> Segmentation:
    """Find the digit candidates in ``image`` (uint8 H×W, H×W×3 RGB or H×W×4 RGBA), left to right."""
    original = as_uint8_image(image)
    img = shrink_for_analysis(original)
    scale = original.shape[1] / img.shape[1]
    steps: dict[str, np.ndarray] = {"input": to_display_rgb(img)}
    img = without_paper_lines(img, steps)
    ink_map = analyse_ink(img)
    if grain_passed(ink_map):
        # Grain just above the plain threshold (a thin pen on grainy paper, a digit small in a big
        # photo) would be read as digits of its own: look again with the grain smoothed away. Where
        # nothing stands out of it, the grainy map is not kept: its clusters of grain were read as
        # numbers ("88" on blank paper). "Noise", unless the other reading below finds ink (the
        # reader then asks the single-digit pipeline, which looks more ways).
        ink_map = analyse_ink(img, small_ink=True)
    if ink_map.status == "noise" and ink_map.source != "alpha":
        # Before answering "noise", the picture's other reading (the other ink polarity, or a
        # two-tone background), as for a single digit; smoothed too where grain passed it.
        other = analyse_ink(img, other_reading=True)
        if grain_passed(other):
            other = analyse_ink(img, textured=True, other_reading=True)
        if other.status == "ok":
            ink_map = other
    ink = ink_map.ink
    steps["ink"] = ink
    if ink_map.status != "ok":
        reason = NOISE_REASON if ink_map.status == "noise" else BLANK_REASON
        return Segmentation(ink, [], scale, 0.0, reason, steps)
    lines = find_lines(ink, _LOW_LEVEL)
    # At the low level a digit cut by the crop's edge can run into a box line near the line's end,
    # as a 7's stem hangs from its bar; at the ink level the line stands clear of it.
    strong_lines = find_lines(ink)
    if strong_lines is not None:
        lines = strong_lines if lines is None else cv2.bitwise_or(lines, strong_lines)
    if lines is not None:
        # The band and its faint anti-aliased rim, which pieces traced at _LOW_LEVEL would still follow.
        lines = cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 5)))
        ink = cv2.bitwise_and(ink, ink, mask=cv2.bitwise_not(lines * 255))
        steps["lines removed"] = ink
    binary, pieces = _hysteresis(ink)
    if lines is not None:
        binary, pieces = _mend(binary, lines), None
    if not binary.any():
        return Segmentation(ink, [], scale, 0.0, BLANK_REASON, steps)
    regions, height = _group(binary, pieces)
    digits = [r for r in regions if not is_solid_block(r.mask)]
    if not digits:
        return Segmentation(ink, [], scale, 0.0, BLOCK_REASON if regions else SPECKS_REASON, steps)
    return Segmentation(ink, digits, scale, height, None, steps)


def zoom_box(seg: Segmentation, shape: tuple[int, ...]) -> tuple[int, int, int, int] | None:
    """Where to look again, closer: the found digits with ZOOM_MARGIN digit heights of paper around
    them, (x, y, w, h) in the input's pixels (``shape``: the input's).

    None unless the input was shrunk for analysis, its digits came out shorter than ZOOM_BELOW ink-map
    pixels, and that part of it would be shrunk less. Shrunk to 800 px, a number 75 px tall in a
    2,000 px photo is 25 px: its strokes one or two pixels, its loops blurred shut ("0603" read "2153").
    """
    if not seg.regions or seg.scale <= 1 or seg.digit_height >= ZOOM_BELOW:
        return None
    margin = ZOOM_MARGIN * seg.digit_height
    x, y, w, h = merge(seg.regions).box
    rows, cols = shape[:2]
    x0, y0 = max(0, int((x - margin) * seg.scale)), max(0, int((y - margin) * seg.scale))
    x1, y1 = min(cols, int(np.ceil((x + w + margin) * seg.scale))), min(rows, int(np.ceil((y + h + margin) * seg.scale)))
    if analysis_factor((y1 - y0, x1 - x0)) >= analysis_factor(shape):
        return None
    return x0, y0, x1 - x0, y1 - y0


def _hysteresis(ink: np.ndarray) -> tuple[np.ndarray, tuple[int, np.ndarray, np.ndarray] | None]:
    """0/255 mask of the pieces traced at the low level that reach the ink level somewhere.

    Also returns the mask's pieces (count, labels, statistics as ``connectedComponentsWithStats``
    gives them) when they are the traced pieces themselves (all of them reach the ink level: the
    common case), else None.
    """
    low = cv2.threshold(ink, _LOW_LEVEL - 1, 255, cv2.THRESH_BINARY)[1]
    n, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(low, 8, cv2.CV_32S, cv2.CCL_GRANA)
    strong = np.bincount(labels[ink >= INK_LEVEL], minlength=n) > 0
    strong[0] = False
    if strong[1:].all():
        return low, (n, labels, stats)
    return np.where(strong[labels], 255, 0).astype(np.uint8), None


def _mend(binary: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Bridge the digit strokes that crossed an erased line (``lines``: 0/1): where ink lies just
    above and below the line's band, the band is filled in again."""
    counts = np.count_nonzero(lines, axis=0)
    thickness = int(np.median(counts[counts > 0]))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (1, thickness + 3))
    bridge = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, kernel)
    return cv2.bitwise_or(binary, cv2.bitwise_and(bridge, lines * 255))


def _tight_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    x, y, w, h = cv2.boundingRect(mask)
    return None if w == 0 or h == 0 else (int(x), int(y), int(w), int(h))


def _group(binary: np.ndarray, pieces: tuple[int, np.ndarray, np.ndarray] | None = None) -> tuple[list[DigitRegion], float]:
    """Group the mask's pieces into digit regions, left to right; also return the digits' height.

    ``pieces``: the mask's connected components when already known (see ``_hysteresis``).
    """
    if pieces is None:
        pieces = cv2.connectedComponentsWithStatsWithAlgorithm(binary, 8, cv2.CV_32S, cv2.CCL_GRANA)[:3]
    n, labels, stats = pieces
    if n <= 1:
        return [], 0.0
    boxes = stats[1:, :4].astype(np.int64)
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.int64)
    # The row's height: where nearly all the ink is, top to bottom (a speck far off does not count).
    rows = np.cumsum(cv2.reduce(binary, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() // 255)
    top, bottom = np.searchsorted(rows, [0.01 * rows[-1], 0.99 * rows[-1]])
    row_height = float(max(bottom - top + 1, 1))
    # Pairs of pieces are compared all at once: keep that bounded on a speckled photo.
    largest = np.argsort(-areas)[:_MAX_PIECES]
    joined = _join_pieces(boxes[largest], row_height, stroke_width(binary), binary.shape)
    groups = [[int(largest[k]) for k in g] for g in joined]
    regions = []
    for members in groups:
        gx0 = int(boxes[members, 0].min())
        gy0 = int(boxes[members, 1].min())
        gx1 = int((boxes[members, 0] + boxes[members, 2]).max())
        gy1 = int((boxes[members, 1] + boxes[members, 3]).max())
        lut = np.zeros(n, np.uint8)
        lut[np.asarray(members) + 1] = 255
        regions.append(DigitRegion((gx0, gy0, gx1 - gx0, gy1 - gy0), lut[labels[gy0:gy1, gx0:gx1]]))
    # The digits' height: the median of the sizeable regions.
    heights = np.array([r.box[3] for r in regions], np.float64)
    masses = np.array([np.count_nonzero(r.mask) for r in regions])
    height = float(np.median(heights[masses >= 0.25 * masses.max()]))
    kept = [r for r in regions if _is_digit_like(r, height) and not _edge_junk(r, height, binary.shape)]
    return sorted(_without_dot_grid(kept), key=lambda r: r.box[0] + r.box[2] / 2), height


def _without_dot_grid(regions: list[DigitRegion]) -> list[DigitRegion]:
    """``regions`` less the dots of a dot grid or a halftone: at least ``_GRID_DOTS`` solid round marks
    of one size. A number's digits are strokes, its pieces are joined to them; a column of such dots was
    read as a 1 (a blank dot-grid page as "1111111111")."""
    solid = [
        r for r in regions
        if _DOT_ASPECT[0] <= r.box[2] / r.box[3] <= _DOT_ASPECT[1]
        and np.count_nonzero(r.mask) >= _DOT_FILL * r.box[2] * r.box[3]
    ]
    if len(solid) < _GRID_DOTS:
        return regions
    size = np.median([r.box[2] * r.box[3] for r in solid])
    dots = {id(r) for r in solid if 0.5 * size <= r.box[2] * r.box[3] <= 2 * size}
    if len(dots) < _GRID_DOTS:
        return regions
    return [r for r in regions if id(r) not in dots]


def _join_pieces(boxes: np.ndarray, row_height: float, stroke: float, shape: tuple[int, int]) -> list[list[int]]:
    """Union pieces into digits: pieces stacked above one another (x-overlap of half the narrower
    one), and small pieces (dots and dashes of a faint or dotted stroke, a detached tip) with
    whatever lies within a pen's width or two of them. A thin line running along the picture's
    edge, or out through it, is no part of a digit (a printed line cut by the photo's edge)."""
    count = len(boxes)
    parent = list(range(count))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # All pairs at once (pieces can number in the hundreds on a speckled photo).
    x0, x1 = boxes[:, 0], boxes[:, 0] + boxes[:, 2]
    y0, y1 = boxes[:, 1], boxes[:, 1] + boxes[:, 3]
    overlap = np.minimum.outer(x1, x1) - np.maximum.outer(x0, x0)
    dy = np.maximum(0, np.maximum.outer(y0, y0) - np.minimum.outer(y1, y1))
    dx = np.maximum(0, -overlap)
    joined_w = np.maximum.outer(x1, x1) - np.minimum.outer(x0, x0)
    narrower = np.maximum(1, np.minimum.outer(boxes[:, 2], boxes[:, 2]))
    # Stacking needs substance on both sides: a speck under a 1 is not part of it.
    sizeable = np.maximum(boxes[:, 2], boxes[:, 3]) >= 0.15 * row_height
    stacked = (overlap >= 0.5 * narrower) & (dy <= 0.3 * row_height) & (joined_w <= 1.35 * row_height)
    stacked &= np.logical_and.outer(sizeable, sizeable)
    # Half a row long, too (a detached bar or tip of a digit is shorter).
    edge_line = _thin_at_the_edge(x0, y0, boxes[:, 2], boxes[:, 3], shape)
    edge_line &= np.maximum(boxes[:, 2], boxes[:, 3]) >= 0.5 * row_height
    stacked &= ~np.logical_or.outer(edge_line, edge_line)
    small = (boxes[:, 3] < 0.5 * row_height) & (boxes[:, 2] < 0.5 * row_height)
    near_small = np.logical_or.outer(small, small) & (np.hypot(dx, dy) <= max(1.5 * stroke, 0.06 * row_height))
    for i, j in zip(*np.nonzero(np.triu(stacked | near_small, 1))):
        parent[find(int(j))] = find(int(i))
    groups: dict[int, list[int]] = {}
    for i in range(count):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _edge_junk(region: DigitRegion, height: float, shape: tuple[int, int]) -> bool:
    """A mark cut by the image's edge: a scanner line, the side or corner of a box, or a piece of
    something outside the crop (a digit cut by the edge is as tall as the others)."""
    x, y, w, h = region.box
    at_edge = x == 0 or y == 0 or x + w == shape[1] or y + h == shape[0]
    return bool(_thin_at_the_edge(x, y, w, h, shape) or (at_edge and h < 0.6 * height))


def _thin_at_the_edge(x, y, w, h, shape: tuple[int, int]):
    """Whether boxes (x, y, w, h: numbers, or arrays of them) touch the picture's edge and are thin, one
    side at most 0.15 of the other (a scanner line, a box side, a printed line the photo's edge cuts)."""
    at_edge = (x == 0) | (y == 0) | (x + w == shape[1]) | (y + h == shape[0])
    return at_edge & ((w <= 0.15 * h) | (h <= 0.15 * w))


def _is_digit_like(region: DigitRegion, height: float) -> bool:
    """Not a speck, dot or dash (much smaller than the digits), nor a box line or edge (thin and taller)."""
    _, _, w, h = region.box
    if h < _MIN_HEIGHT * height and w < 0.6 * height:
        return False
    if h < 0.25 * height:  # a dash or a stray horizontal mark
        return False
    return not (h > _MAX_HEIGHT * height and w < 0.2 * h)


def cut_paths(region: DigitRegion, height: float, most: int = 4, near: tuple[float, ...] = ()) -> list[np.ndarray]:
    """Where the region could be split into two digits: up to ``most`` cuts, left to right.

    Each cut is a path from top to bottom (per row, its column) that crosses as little ink as it
    can: where two digits touch or overlap a little, it slips between them through the join.
    Cuts start from the columns with the least ink, a quarter of a digit height from each side
    and from each other; first from the columns in ``near`` (ink-map columns where another
    reader saw one digit end and the next begin), which are kept even when narrowly spaced.
    """
    h, w = region.mask.shape
    margin = max(2, int(0.25 * height))
    ink = region.mask > 0
    suggested = sorted({int(round(c - region.x0)) for c in near if 1 <= c - region.x0 <= w - 2})
    starts: list[int] = []
    for c in suggested:  # one cut near each suggested column: where exactly it goes, the ink decides
        if all(abs(c - p) >= margin // 2 for p in starts):
            starts.append(c)
    kept = len(starts)
    # No digit but a 1 is much narrower than half its height: that bounds how many a region holds.
    most = min(most, int(w / (0.5 * height)))
    if w >= 2 * margin + 1 and most >= 1:
        profile = np.convolve(np.count_nonzero(ink, axis=0).astype(np.float64), np.ones(3) / 3, mode="same")
        inner = np.arange(margin, w - margin)
        own: list[int] = []
        for c in inner[np.argsort(profile[inner], kind="stable")]:
            if all(abs(int(c) - p) >= margin for p in starts + own):
                own.append(int(c))
            if len(own) == most:
                break
        starts += own
    bands = [max(2, margin // 2) if k < kept else margin for k in range(len(starts))]
    return sorted((_least_ink_path(ink, c, b) for c, b in zip(starts, bands)), key=lambda p: float(p.mean()))


def _least_ink_path(ink: np.ndarray, column: int, band: int) -> np.ndarray:
    """Top-to-bottom path within ``band`` of ``column``, one column step at most per row, crossing the
    fewest ink pixels (ties: the straightest); a small dynamic programme over the rows."""
    h, w = ink.shape
    lo, hi = max(1, column - band), min(w - 1, column + band + 1)
    cols = np.arange(lo, hi)
    cost = ink[:, lo:hi].astype(np.float64) + 0.02 * np.abs(cols - column)[None, :] / max(band, 1)
    acc = cost[0].copy()
    back = np.zeros((h, len(cols)), np.int8)
    for y in range(1, h):
        left = np.concatenate(([np.inf], acc[:-1]))
        right = np.concatenate((acc[1:], [np.inf]))
        stacked = np.vstack([left, acc, right])
        step = stacked.argmin(axis=0)
        back[y] = step - 1
        acc = cost[y] + stacked[step, np.arange(len(cols))]
    path = np.empty(h, np.int64)
    k = int(acc.argmin())
    for y in range(h - 1, -1, -1):
        path[y] = k
        k += int(back[y, k])
    return cols[path]


def crossings(region: DigitRegion, path: np.ndarray) -> int:
    """How many strokes a cut along ``path`` crosses (runs of ink along it)."""
    on = region.mask[np.arange(len(path)), path] > 0
    return int(np.count_nonzero(on[1:] & ~on[:-1]) + on[0])
