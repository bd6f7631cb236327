"""Find the digits of a written number, left to right: the detection half of reading a number.

    seg = segment(image)        # seg.regions: one DigitRegion per digit candidate, left to right
    crop = seg.crop(region)     # the region's ink, ready for ``normalize_digit``

What is done here, without any network (pure numpy/OpenCV):

1. the ink map, as for a single digit (``analyse_ink``);
2. ruled lines and underlines are taken out: a horizontal run of ink much longer than the
   digits are tall is no stroke of a digit; strokes that cross the line are mended;
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

from preprocessing.components import BLANK_REASON, NOISE_REASON, SPECKS_REASON
from preprocessing.image import as_uint8_image, shrink_for_analysis, to_display_rgb
from preprocessing.ink import INK_LEVEL, analyse_ink

# Pieces are traced at this lower level (hysteresis), as for single digits.
_LOW_LEVEL = 80
# A horizontal run longer than this many digit heights is a ruled line or an underline.
_LINE_LENGTH = 1.5
# Regions shorter than this fraction of the digits' height are specks, dots or punctuation.
_MIN_HEIGHT = 0.4
# Thin marks taller than this many digit heights are box lines or scanner edges.
_MAX_HEIGHT = 1.45
# Rim kept around a region's pixels so their anti-aliased edges come along.
_EDGE_PIXELS = 2


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

    def part(self, a: int, b: int) -> DigitRegion | None:
        """The region's ink between columns ``a`` and ``b`` (relative to the box), tightened; None if empty."""
        x, y, _, _ = self.box
        sub = self.mask[:, a:b]
        box = _tight_box(sub)
        if box is None:
            return None
        bx, by, bw, bh = box
        return DigitRegion((x + a + bx, y + by, bw, bh), np.ascontiguousarray(sub[by : by + bh, bx : bx + bw]))


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
    ink_map = analyse_ink(img)
    ink = ink_map.ink
    steps["ink"] = ink
    if ink_map.status != "ok":
        reason = NOISE_REASON if ink_map.status == "noise" else BLANK_REASON
        return Segmentation(ink, [], scale, 0.0, reason, steps)
    binary = _hysteresis(ink)
    if not binary.any():
        return Segmentation(ink, [], scale, 0.0, BLANK_REASON, steps)
    binary, lines = remove_lines(binary)
    if lines.any():
        ink = cv2.bitwise_and(ink, cv2.bitwise_not(lines))
        steps["lines removed"] = ink
    regions, height = _group(binary)
    if not regions:
        return Segmentation(ink, [], scale, 0.0, SPECKS_REASON, steps)
    return Segmentation(ink, regions, scale, height, None, steps)


def _hysteresis(ink: np.ndarray) -> np.ndarray:
    """0/255 mask of the pieces traced at the low level that reach the ink level somewhere."""
    low = cv2.threshold(ink, _LOW_LEVEL - 1, 255, cv2.THRESH_BINARY)[1]
    n, labels = cv2.connectedComponents(low, connectivity=8)
    strong = np.zeros(n, bool)
    strong[np.unique(labels[ink >= INK_LEVEL])] = True
    strong[0] = False
    return np.where(strong[labels], 255, 0).astype(np.uint8)


def _runs(binary: np.ndarray, length: int) -> np.ndarray:
    """Pixels lying on a horizontal run of at least ``length`` pixels (a morphological opening)."""
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (max(1, length), 1))
    return cv2.morphologyEx(binary, cv2.MORPH_OPEN, kernel)


def remove_lines(binary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Take ruled lines and underlines out of a 0/255 ink mask; return (mask without them, the lines).

    A run is a line when it is longer than ``_LINE_LENGTH`` times the height of the ink that is
    left without it (no digit has a bar that long), and thin. Digit strokes that cross or touch the
    line keep their pixels where the line passes (ink right above and below is bridged).
    """
    h, w = binary.shape
    span = cv2.boundingRect(binary)
    # Candidates: runs over half the ink's width. A 7's bar in a tight crop is one, so it is
    # only confirmed against the height of the rest of the ink.
    long_runs = _runs(binary, max(8, span[2] // 2))
    if not long_runs.any():
        return binary, np.zeros_like(binary)
    rest = cv2.subtract(binary, long_runs)
    height = _typical_height(rest)
    if height == 0:
        return binary, np.zeros_like(binary)
    lines = _runs(long_runs, int(_LINE_LENGTH * height))
    if not lines.any():
        return binary, lines
    # A line is thin: drop candidate rows where the "run" is really a filled block.
    thickness = np.count_nonzero(lines, axis=0).max()
    if thickness > 0.35 * height:
        return binary, np.zeros_like(binary)
    kept = cv2.subtract(binary, lines)
    # Mend strokes cut by the line: close vertically across the line's thickness, on the line only.
    bridge = cv2.morphologyEx(kept, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, int(thickness) + 3)))
    kept = cv2.bitwise_or(kept, cv2.bitwise_and(bridge, lines))
    return kept, cv2.subtract(lines, kept)


def _typical_height(binary: np.ndarray) -> float:
    """Height of the tallest sizeable pieces of ink (the digits), 0 when there is no ink."""
    n, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n <= 1:
        return 0.0
    heights = stats[1:, cv2.CC_STAT_HEIGHT].astype(np.float64)
    areas = stats[1:, cv2.CC_STAT_AREA]
    sizeable = heights[areas >= 0.2 * areas.max()]
    return float(np.median(sizeable)) if len(sizeable) else float(heights.max())


def _tight_box(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    x, y, w, h = cv2.boundingRect(mask)
    return None if w == 0 or h == 0 else (int(x), int(y), int(w), int(h))


def _group(binary: np.ndarray) -> tuple[list[DigitRegion], float]:
    """Group the mask's pieces into digit regions, left to right; also return the digits' height."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n <= 1:
        return [], 0.0
    boxes = stats[1:, :4].astype(np.int64)
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.int64)
    big = areas >= 0.15 * areas.max()
    height = float(np.median(boxes[big, 3]))
    # Pieces stacked above one another (overlapping a lot in x) are one digit; small pieces
    # (dots of a faint stroke, a detached tip) join the digit they are closest to.
    groups = _stack(boxes, areas, height)
    regions = []
    for members in groups:
        gx0 = int(boxes[members, 0].min())
        gy0 = int(boxes[members, 1].min())
        gx1 = int((boxes[members, 0] + boxes[members, 2]).max())
        gy1 = int((boxes[members, 1] + boxes[members, 3]).max())
        lut = np.zeros(n, np.uint8)
        lut[np.asarray(members) + 1] = 255
        regions.append(DigitRegion((gx0, gy0, gx1 - gx0, gy1 - gy0), lut[labels[gy0:gy1, gx0:gx1]]))
    # The digits' height from the regions now that pieces are joined: the median of sizeable ones.
    heights = np.array([r.box[3] for r in regions], np.float64)
    masses = np.array([np.count_nonzero(r.mask) for r in regions])
    height = float(np.median(heights[masses >= 0.25 * masses.max()]))
    kept = [r for r in regions if _is_digit_like(r, height)]
    return sorted(kept, key=lambda r: r.box[0] + r.box[2] / 2), height


def _stack(boxes: np.ndarray, areas: np.ndarray, height: float) -> list[list[int]]:
    """Union pieces into digits: x-overlap of half the narrower piece, or a small piece close by."""
    parent = list(range(len(boxes)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = np.argsort(-areas)
    x0, x1 = boxes[:, 0], boxes[:, 0] + boxes[:, 2]
    y0, y1 = boxes[:, 1], boxes[:, 1] + boxes[:, 3]
    small = areas < 0.12 * np.median(areas[areas >= 0.15 * areas.max()])
    for a_pos, i in enumerate(order):
        for j in order[a_pos + 1 :]:
            overlap = min(x1[i], x1[j]) - max(x0[i], x0[j])
            narrower = max(1, min(boxes[i, 2], boxes[j, 2]))
            dy = max(0, max(y0[i], y0[j]) - min(y1[i], y1[j]))
            dx = max(0, -overlap)
            joined_w = max(x1[i], x1[j]) - min(x0[i], x0[j])
            stacked = overlap >= 0.5 * narrower and dy <= 0.35 * height and joined_w <= 1.2 * height
            close_dot = (small[i] or small[j]) and np.hypot(dx, dy) <= 0.15 * height
            if stacked or close_dot:
                parent[find(j)] = find(i)
    groups: dict[int, list[int]] = {}
    for i in range(len(boxes)):
        groups.setdefault(find(i), []).append(i)
    return list(groups.values())


def _is_digit_like(region: DigitRegion, height: float) -> bool:
    """Not a speck, dot or dash (much smaller than the digits), nor a box line or edge (thin and taller)."""
    _, _, w, h = region.box
    if h < _MIN_HEIGHT * height and w < 0.6 * height:
        return False
    if h < 0.25 * height:  # a dash or a stray horizontal mark
        return False
    return not (h > _MAX_HEIGHT * height and w < 0.2 * h)


def cut_columns(region: DigitRegion, height: float, most: int = 4) -> list[int]:
    """Columns (relative to the region) where it could be split into two digits, best first.

    Where two digits touch, little ink crosses the join: the columns with the least ink, at
    least a third of a digit height from each side and from each other.
    """
    w = region.box[2]
    margin = max(2, int(0.25 * height))
    if w < 2 * margin + 1:
        return []
    profile = np.count_nonzero(region.mask, axis=0).astype(np.float64)
    profile = np.convolve(profile, np.ones(3) / 3, mode="same")
    inner = np.arange(margin, w - margin)
    picks: list[int] = []
    for c in inner[np.argsort(profile[inner], kind="stable")]:
        if all(abs(int(c) - p) >= margin for p in picks):
            picks.append(int(c))
        if len(picks) == most:
            break
    return sorted(picks)
