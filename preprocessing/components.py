"""Pick the digit out of an ink map: drop specks, frames and border junk, keep the digit's pieces."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from preprocessing.ink import INK_LEVEL, InkMap
from preprocessing.stroke import stroke_width

BLANK_REASON = "The image is blank: draw or upload a digit."
SPECKS_REASON = "No digit found: only a few small specks. Draw or upload a bigger digit."
NOISE_REASON = "No single digit found: the image looks like noise or texture."
BLOCK_REASON = "No digit found: a solid block of ink, not a written digit."

# A digit's box must span at least this fraction of the image's shorter side (and 4 px).
_MIN_DIGIT_FRACTION = 0.03
# More components than this, none of them dominant, is noise rather than one digit.
_MAX_PIECES = 40
# Level at which pieces are traced (hysteresis below INK_LEVEL).
_LOW_LEVEL = 80
# A piece whose mean stroke width is under this share of its box's shorter side is drawn strokes
# (a bold digit), not a solid blob (a shadow, the table, the edge of the paper: about half).
_STROKE_LIKE = 0.3
# A piece enclosing paper of at least this share of its box has a digit's loop.
_LOOP = 0.02
# Ink filling this share of its box, the box at least _SOLID_WIDE of its height wide (wider than a 1),
# is a solid block: any written digit but a 1 leaves paper inside its box (a counter, the space beside
# a stroke).
_SOLID_FILL = 0.95
_SOLID_WIDE = 0.4
# A digit's ink touching a removed line over a run this many stroke widths long lies along it (a 7's
# bar on a form's top line), where a stroke crossing or ending on it touches it over about one width.
# 3 broke two corpus digits (lines' own bumps kept), 5 none; measured in README.
_ALONG = 5.0


@dataclass(frozen=True)
class DigitSelection:
    """Which ink is the digit. ``mask``: uint8 0/255 of the kept ink (full size) or None;
    ``box``: (x, y, w, h) of the kept ink or None; ``reason``: one line when there is no digit."""

    mask: np.ndarray | None
    box: tuple[int, int, int, int] | None
    reason: str | None


def is_solid_block(mask: np.ndarray) -> bool:
    """Whether box-sized ink (uint8, nonzero = ink) is a solid block rather than a digit's strokes."""
    h, w = mask.shape[:2]
    return w >= _SOLID_WIDE * h and cv2.countNonZero(mask) >= _SOLID_FILL * mask.size


def find_digit_box(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box (x, y, w, h) of the digit in an ink map, or None when there is none."""
    return select_digit(ink).box


def remove_lines(ink: np.ndarray) -> np.ndarray:
    """``ink`` with straight lines that are not part of a digit erased (see :func:`find_lines`).

    Only the line's band is erased, so a digit crossing it keeps its strokes on either side.
    Returns ``ink`` itself when there is no such line.
    """
    zone = find_lines(ink, around_ink=True)
    if zone is None:
        return ink
    zone = zone & ~_strokes_along(ink, zone)
    return cv2.bitwise_and(ink, ink, mask=cv2.bitwise_not(zone * 255))


def _strokes_along(ink: np.ndarray, zone: np.ndarray) -> np.ndarray:
    """The pixels of ``zone`` (0/1) to keep: where the digit's ink runs along the band's edge further
    than a stroke crossing or ending on it would (a 7's bar drawn on a form's top line)."""
    rest = ((ink >= INK_LEVEL) & (zone == 0)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(rest, 8, cv2.CV_32S, cv2.CCL_GRANA)
    if n <= 1:
        return np.zeros_like(zone)
    areas = stats[1:, cv2.CC_STAT_AREA]
    big = np.zeros(n, bool)
    big[1:] = areas >= max(4, 0.25 * areas.max())
    edge = cv2.dilate(zone, np.ones((3, 3), np.uint8)) & (1 - zone)
    contact = (edge > 0) & big[labels]
    if not contact.any():
        return np.zeros_like(zone)
    width = max(2.0, stroke_width(rest * big[labels]))
    m, _, cstats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        cv2.dilate(contact.astype(np.uint8), np.ones((3, 3), np.uint8)), 8, cv2.CV_32S, cv2.CCL_GRANA
    )
    back = np.zeros_like(zone)
    h, w = zone.shape
    for i in range(1, m):
        x, y, bw, bh = cstats[i, :4]
        if max(bw, bh) < _ALONG * width:
            continue
        # The band beside the run: its columns (rows, for an upright band), as thick as the band is there.
        if bw >= bh:
            cols = zone[:, x : x + bw]
            thick = int(np.count_nonzero(cols, axis=0).max()) + 2
            y0, y1 = max(0, y - thick), min(h, y + bh + thick)
            back[y0:y1, x : x + bw] = zone[y0:y1, x : x + bw]
        else:
            rows = zone[y : y + bh, :]
            thick = int(np.count_nonzero(rows, axis=1).max()) + 2
            x0, x1 = max(0, x - thick), min(w, x + bw + thick)
            back[y : y + bh, x0:x1] = zone[y : y + bh, x0:x1]
    return back


def find_lines(ink: np.ndarray, level: int = INK_LEVEL, around_ink: bool = False) -> np.ndarray | None:
    """The pixels (uint8 0/1, full size) of the straight lines in an ink map that are no digit's
    stroke: box and frame sides, a scanner's dark edge, ruled lines, underlines; None when none.

    A line is a straight horizontal or vertical band (a few degrees of skew allowed) at least a
    quarter of the image long (a horizontal one: of the ink's extent), of any thickness up to a fat
    marker's. It is stray when

    * it runs (almost) the whole image near one edge (a box side, a scanner edge), even where a
      digit crosses it;
    * or it lies under the other ink and reaches well past it at both ends, or out of the image at
      one of them when it is clearly longer than the digit is wide (an underline);
    * or it is horizontal, ``_LONG_LINE`` times longer than the digits are tall (no digit has a
      bar that long) and runs on past all of them at both ends (or out of the image): a ruled
      line or an underline below or above a written number, whose digits may touch or cross it.
      Five times longer and drawn solid, it needs no free end beyond the digits: an underline
      drawn from the first digit's foot.

    A digit's own bar (a 7's top, a 2's base, a 4's crossbar) ends where the digit does, so it stays.

    Lines are found in the ink at or above ``level`` (lower: also the faint lines that pieces
    traced at that level would follow), on a copy at most _LINE_SIDE pixels long (cheap on a big
    photo); the band is measured again at full resolution. With ``around_ink`` (a single digit), ink
    that is a small part of the picture is looked at in its own neighbourhood; a number's
    segmentation keeps the whole picture (short numbers read as before: 2-digit ones had their
    digits' bars taken for lines).
    """
    mask = cv2.threshold(ink, level - 1, 255, cv2.THRESH_BINARY)[1]
    x, y, w, h = cv2.boundingRect(mask)
    rows, cols = mask.shape
    if around_ink and 0 < w < _SMALL_INK * cols and 0 < h < _SMALL_INK * rows:
        # Ink that is a small part of the picture is looked at in its own neighbourhood, at a
        # resolution that follows it (a digit a tenth of a page tall got 15-20 px in the small copy).
        mx, my = round(_NEIGHBOURHOOD * w), round(_NEIGHBOURHOOD * h)
        x0, y0, x1, y1 = max(0, x - mx), max(0, y - my), min(cols, x + w + mx), min(rows, y + h + my)
        found = _lines_in(mask[y0:y1, x0:x1])
        if found is None:
            return None
        lines = np.zeros(mask.shape, np.uint8)
        lines[y0:y1, x0:x1] = found
        return lines
    return _lines_in(mask)


def _lines_in(mask: np.ndarray) -> np.ndarray | None:
    """``find_lines`` on a 0/255 ink mask."""
    if min(mask.shape) < 16:
        return None
    f = max(1, -(-max(mask.shape) // _LINE_SIDE))
    if f > 1:
        # Area averaging then a low cut: a thin line still leaves a trace in the small copy.
        h, w = mask.shape[0] // f, mask.shape[1] // f
        small = cv2.resize(mask[: h * f, : w * f], (w, h), interpolation=cv2.INTER_AREA)
        small = cv2.threshold(small, 40, 1, cv2.THRESH_BINARY)[1]
    else:
        small = mask // 255
    if min(small.shape) < 16:
        return None
    # Runs longer than a few stroke widths: a bold stroke holds short runs in every direction.
    run = max(5, int(np.ceil(2.5 * stroke_width(small))))
    # Only box sides stand upright, and a shorter line must lie in the lower half of the ink.
    _, iy, _, ih = cv2.boundingRect(small)
    bands = {False: _straight_lines(small, run, iy + ih / 2.0), True: _straight_lines(small.T, run, None)}
    if not bands[False] and not bands[True]:
        return None
    # Lines running (almost) the whole image near one edge: the sides of a box are not the digit
    # either (a 1's stem down the middle of a tight crop is as long and straight, and is the digit).
    sides = np.zeros_like(small)
    for transposed, lines in bands.items():
        along, across = (small.shape[0], small.shape[1]) if transposed else small.shape[::-1]
        for line in lines:
            if line.length >= 0.85 * along and (line.y <= 0.2 * across or line.y >= 0.8 * across):
                sides |= line.zone.T if transposed else line.zone
    # The digits' height, without any of the lines (two ruled lines must not count as one tall digit).
    without = small.copy()
    for line in bands[False]:
        without[line.zone > 0] = 0
    without[sides > 0] = 0
    height = _row_height(without) if bands[False] else 0.0
    erase = None
    for transposed, lines in bands.items():
        m, others = (small.T, sides.T) if transposed else (small, sides)
        for line in lines:
            if not _is_stray_line(line, m, others, transposed, iy + ih / 2.0, height, without):
                continue
            full = mask.T if transposed else mask
            zone = line.band(full, f)
            zone = zone.T if transposed else zone
            erase = zone if erase is None else cv2.bitwise_or(erase, zone)
    return erase


# Ink spanning less than this share of the picture's width has its lines measured against its own
# width; less than this share of both sides, it is looked at in a neighbourhood this much of its
# size wider on each side.
_SMALL_INK = 0.5
_NEIGHBOURHOOD = 0.25
# Lines are looked for on a copy of the ink map at most this many pixels long.
_LINE_SIDE = 200
# A horizontal line this many times longer than the digits are tall is no digit's bar.
_LONG_LINE = 1.5
# Longer still, it is no bar of digits joined either (two 2s' bases run into one): it is stray
# even where a digit's stroke touches or crosses it at its very end (an underline drawn from the
# first digit's foot), if it is drawn solid: the feet of a row of digits bridged into one are not.
_VERY_LONG_LINE = 5.0
_SOLID = 0.95
# A line this many times longer than the digit is wide may run out of the image at one end.
_OUT_OF_IMAGE = 1.5
# A box side running the whole picture, under this share of the touching digit's stroke width thick,
# is stray even where the digit touches its end (0.4 read two stretched 16x16 scans' 7s worse).
_THIN_SIDE = 0.3
# In an image at least this big, a line ending a pixel short of the edge runs out of it.
_EDGE_SLACK_SIDE = 32
# Pictures smaller than this (longer side, px) may be tight crops of one digit.
_TIGHT_CROP = 100
# A line is ink along at least this fraction of its length (gaps bridged: a dotted or broken line).
_LINE_COVERAGE = 0.85


def _is_stray_line(
    line: _Line,
    m: np.ndarray,
    others: np.ndarray,
    transposed: bool,
    ink_bottom_half: float,
    height: float,
    without: np.ndarray,
) -> bool:
    """Whether ``line`` (nearly horizontal in ``m``) is a box side, a ruled line or an underline,
    not a digit's stroke (see :func:`find_lines`).

    ``ink_bottom_half``: the row where the lower half of all the ink begins (an underline is below
    it); ``height``: the height of the row of digits, ``without`` (not transposed) the ink, both
    without any of the horizontal lines (0: unknown).
    """
    h, w = m.shape
    side = line.length >= 0.85 * w and (line.y <= 0.2 * h or line.y >= 0.8 * h)
    long_line = not transposed and height > 0 and line.length >= _LONG_LINE * height
    if not side and not long_line and (transposed or line.y < ink_bottom_half):
        return False  # cheap exit: only box sides stand upright or above the digit
    rest = m.copy()
    rest[(line.zone > 0) | (others > 0)] = 0
    box = _substantial_box(rest)
    if box is None:
        return False
    # Where other ink touches the line, the line must go on past it: a 7's stem hangs from
    # the end of its bar, a digit crossing a box side leaves line on both sides.
    touching = cv2.bitwise_and(rest, cv2.dilate(line.zone, np.ones((3, 3), np.uint8)))
    cols = np.flatnonzero(touching.any(axis=0))
    rx0, ry0, rx1, ry1 = box
    lo, hi = (min(rx0, cols[0]), max(rx1, cols[-1] + 1)) if cols.size else (rx0, rx1)
    if long_line and line.length >= _VERY_LONG_LINE * height and _solid(line, m):
        return True
    if long_line and _runs_past_the_digits(line, rest, touching, without, height, w):
        return True
    # What is left must be a digit, not a crumb of one (a 1's stem overhangs its own flag).
    if cv2.countNonZero(rest) < 0.3 * cv2.countNonZero(line.zone & m):
        return False
    # A box side that runs from one end of the image to the other and leaves the digit clear of
    # its ends is stray even where the digit fills the crop across it (a fat stroke along the edge,
    # an 8's flank, stops short of an end). A digit filling its crop from this side to the far one
    # may have its own bar along the edge: then only the rule below holds.
    fills = ry1 >= h - 1 if line.y < h / 2 else ry0 <= 1
    whole = line.x0 <= 1 and line.x1 >= w - 1
    if side and whole and not fills and _frees_its_ends(line, rest, touching):
        return True
    # A digit's own bar along the edge is as wide as its other strokes (a third at the least, in a
    # scan stretched to fill its box); a box side a third as thick as the bold print touching its end is none.
    if side and whole and cols.size and line.thickness < _THIN_SIDE * stroke_width(rest):
        return True
    # A box side only has to run on past the digit; a shorter line must overhang it clearly.
    margin = max(2.0, 1.5 * line.thickness) if side else max(2.0, (rx1 - rx0) / 6.0, 1.5 * line.thickness)
    if not side and not cols.size and line.length >= rx1 - rx0:
        # Apart from the digit and as long as it is wide, it need only run past it: no digit has a
        # straight bar of its own apart below it (a pen's underline a little longer than the digit).
        margin = max(2.0, 1.5 * line.thickness)
    # An underline may run out of the image beside a digit written near the edge: that end goes on
    # past the digit too, when the line is clearly longer than the digit is wide (a 2's base is not).
    # Within a pixel of the edge counts (the anti-aliased end of a line cut by the crop is often too
    # faint to be ink), but not in a tiny crop, where a digit's stem may stop a pixel short of it.
    out = line.length >= _OUT_OF_IMAGE * (rx1 - rx0)
    edge = 1 if min(h, w) >= _EDGE_SLACK_SIDE else 0
    # But not where a stroke meets a box side the digit fills a tight crop from at that end: a 7
    # cropped tight, or scanned small and stretched to fill its box, has its bar along the edge and
    # its stem hanging from the bar's end at the picture's edge.
    tight = side and fills and max(h, w) < _TIGHT_CROP and cols.size > 0
    left = line.x0 <= lo - margin or (out and line.x0 <= edge and not (tight and cols[0] <= line.x0 + margin))
    right = line.x1 >= hi + margin or (out and line.x1 >= w - edge and not (tight and cols[-1] + 1 >= line.x1 - margin))
    if not side and cols.size:
        # A stroke that meets the line within a stroke's width of its end flows into it: a 2's
        # diagonal into its base (whose corner rounds the base out a little past the diagonal).
        joined = stroke_width(rest) + 1.0
        left = left and line.x0 <= cols[0] - joined
        right = right and line.x1 >= cols[-1] + 1 + joined
    if not (left and right):
        return False
    # A shorter line counts only under the digit (an underline, a ruled line): above it, a
    # long bar is a 7's, however far it overshoots.
    return side or (not transposed and line.y >= ry1 - 0.15 * (ry1 - ry0))


def _solid(line: _Line, m: np.ndarray) -> bool:
    """Whether ink lies along nearly all of ``line`` (in ``m``) without the gaps it was found across."""
    along = (line.zone[:, line.x0 : line.x1] & m[:, line.x0 : line.x1]).any(axis=0)
    return bool(along.size) and float(along.mean()) >= _SOLID


def _frees_its_ends(line: _Line, rest: np.ndarray, touching: np.ndarray) -> bool:
    """Whether a box side (a line running almost the whole image near one edge) is free of the
    digit at its ends: a digit's own bar spanning a tight crop is joined at one end (a 7's stem,
    a 2's diagonal, a 5's upright), while a box or scanner line runs on past the digit, which may
    touch it or cross it anywhere but come close to an end only by crossing it.

    When no stroke touches it, the digit near it (a 5's lifted bar lies close to its body) must
    keep clear of its ends: a little where it runs out of the image, more where it stops inside.

    ``rest``: the ink without the lines, ``touching``: the part of it touching this line.
    """
    h, w = rest.shape
    # Crumbs of the line's own anti-aliased edge left beside its band are no strokes.
    n, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(rest, 8, cv2.CV_32S, cv2.CCL_GRANA)
    areas = stats[:, cv2.CC_STAT_AREA]
    strokes = areas >= max(4, 0.05 * areas[1:].max())
    strokes[0] = False
    ys, xs = np.nonzero(touching.astype(bool) & strokes[labels])
    free = max(2.0, 1.5 * line.thickness)
    if xs.size:
        # Columns touched from either side of the line: where both are, a stroke crosses it.
        below = ys > line.slope * xs + line.offset
        sides = np.zeros((2, w + 1), bool)
        sides[below.astype(int), xs] = True
        reach = int(np.ceil(free))
        kernel = np.ones((1, 2 * reach + 1), np.uint8)
        crossed = cv2.dilate(sides.astype(np.uint8), kernel).all(axis=0)
        ends = (xs < line.x0 + free) | (xs + 1 > line.x1 - free)
        return not ends.any() or bool(crossed[xs[ends]].all())
    rows = np.arange(h)[:, None]
    centre = line.slope * np.arange(w)[None, :] + line.offset
    near = np.flatnonzero((rest.astype(bool) & strokes[labels] & (np.abs(rows - centre) <= 0.25 * h)).any(axis=0))
    if not near.size:
        return True
    # Out of the image a line runs on unseen: the digit need only keep clear of the edge.
    clear = max(2.0, 0.5 * line.thickness)
    left = near[0] >= line.x0 + (clear if line.x0 <= 1 else free)
    right = near[-1] + 1 <= line.x1 - (clear if line.x1 >= w - 1 else free)
    return left and right


def _runs_past_the_digits(
    line: _Line, rest: np.ndarray, touching: np.ndarray, without: np.ndarray, height: float, w: int
) -> bool:
    """Whether a line longer than a digit's bar is a ruled line or an underline: it runs on past
    all the digits and the strokes touching it, at both ends (or out of the image). Strokes of
    digits that join up into a long straight run (a 3's foot meeting a 2's base) end inside the number.

    ``rest``: the ink without this line, ``touching``: the part of it touching the line,
    ``without``: the ink without any line. Crumbs left beside the line's band are no digits.
    """
    n, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(rest, 8, cv2.CV_32S, cv2.CCL_GRANA)
    strokes = stats[:, cv2.CC_STAT_HEIGHT] >= 0.25 * height
    strokes[0] = False
    cols = np.flatnonzero((touching.astype(bool) & strokes[labels]).any(axis=0))
    digits = _substantial_box(without)
    if digits is None and not cols.size:
        return True
    ends = ([digits[0], digits[2]] if digits is not None else []) + ([cols[0], cols[-1] + 1] if cols.size else [])
    # Strokes touching it must leave some of it free at each end too: a 2 whose base runs on
    # into the next 2's base has its diagonal at the line's very end.
    margin = max(1.0, line.thickness / 2.0)
    left = line.x0 <= 0 or (line.x0 < min(ends) and (not cols.size or line.x0 <= cols[0] - margin))
    right = line.x1 >= w or (line.x1 > max(ends) and (not cols.size or line.x1 >= cols[-1] + 1 + margin))
    return left and right


def _row_height(binary: np.ndarray) -> float:
    """How tall the row of ink is: the rows holding all but 2% of it at either end (0: no ink).

    Unlike the height of its pieces, this holds when the lines taken out first cut the digits
    into fragments (a 3's arcs that looked straight, a digit crossing a ruled line).
    """
    rows = np.cumsum(np.count_nonzero(binary, axis=1))
    if rows[-1] == 0:
        return 0.0
    top, bottom = np.searchsorted(rows, [0.02 * rows[-1], 0.98 * rows[-1]])
    return float(bottom - top + 1)


@dataclass(frozen=True, eq=False)
class _Line:
    """A straight, nearly horizontal band: columns x0..x1, centre row slope * x + offset, thickness;
    ``zone``: its pixels (0/1) in the mask it was found in."""

    x0: int
    x1: int
    slope: float
    offset: float
    thickness: float
    zone: np.ndarray

    @property
    def length(self) -> int:
        return self.x1 - self.x0

    @property
    def y(self) -> float:
        return self.slope * (self.x0 + self.x1) / 2.0 + self.offset

    def band(self, mask: np.ndarray, scale: int = 1) -> np.ndarray:
        """The band's pixels (0/1) in ``mask`` (0/non-zero), which is ``scale`` times the size of the
        mask the line was found in; at a larger scale the thickness is measured again there."""
        h, w = mask.shape
        reach = int(np.ceil(self.thickness)) + 2
        xs = np.arange(max(0, (self.x0 - reach) * scale), min(w, (self.x1 + reach) * scale))
        centre = (self.slope * ((xs + 0.5) / scale - 0.5) + self.offset + 0.5) * scale - 0.5
        rows = np.arange(h, dtype=np.float32)[:, None]
        distance = np.abs(rows - centre[None, :].astype(np.float32))
        thickness = self.thickness
        if scale > 1:
            # The line's own columns are the thinnest quarter (a digit crossing it only adds).
            near = (distance <= (self.thickness + 2) * scale / 2.0) & (mask[:, xs] > 0)
            counts = np.count_nonzero(near, axis=0)
            thickness = _lower_quartile(counts[counts > 0]) if counts.any() else self.thickness * scale
            # The small copy places the line to within a pixel of its own, a few here: fit the
            # band again through the ink of the line's own (thinnest) columns.
            pure = (counts > 0) & (counts <= 1.5 * thickness + 1)
            if np.count_nonzero(pure) >= 2:
                residual = (near[:, pure] * rows).sum(axis=0) / counts[pure] - centre[pure]
                px = xs[pure].astype(np.float64)
                tilt, shift = np.polyfit(px - px.mean(), residual, 1)
                # A steep correction is a digit's stroke pulling the fit: then only shift it.
                correction = shift + tilt * (xs - px.mean()) if abs(tilt) <= 0.02 else float(np.median(residual))
                centre = centre + correction
                distance = np.abs(rows - centre[None, :].astype(np.float32))
        zone = np.zeros((h, w), np.uint8)
        zone[:, xs] = distance <= thickness / 2.0 + 1.0
        return zone


def _join_collinear(lines: list[_Line]) -> list[_Line]:
    """Pieces of one straight line (broken where digits sit on it or cross it) joined into one:
    neighbours along the same straight band, at most a pen's width or two apart across it."""
    lines = sorted(lines, key=lambda line: line.x0)
    joined: list[_Line] = []
    for line in lines:
        for k, prev in enumerate(joined):
            if line.x0 < prev.x1 or abs(line.slope - prev.slope) > 0.05:
                continue
            # Where the gap is, each piece's centre line continued must meet the other's.
            drift = abs((prev.slope * line.x0 + prev.offset) - (line.slope * line.x0 + line.offset))
            if drift > max(1.5, prev.thickness, line.thickness):
                continue
            left = (prev.x0, prev.slope * prev.x0 + prev.offset)
            right = (line.x1, line.slope * line.x1 + line.offset)
            slope = (right[1] - left[1]) / max(right[0] - left[0], 1)
            offset = left[1] - slope * left[0]
            zone = np.maximum(prev.zone, line.zone)
            joined[k] = _Line(prev.x0, line.x1, slope, offset, min(prev.thickness, line.thickness), zone)
            break
        else:
            joined.append(line)
    return joined


def _lower_quartile(values: np.ndarray) -> float:
    """25th percentile (nearest rank) of a non-empty array; cheaper than np.percentile."""
    return float(np.partition(values, len(values) // 4)[len(values) // 4])


def _straight_lines(m: np.ndarray, min_run: int, short_below: float | None) -> list[_Line]:
    """Nearly horizontal straight bands in a 0/1 mask: those running (almost) its whole width, and
    those at least a quarter of the ink's width long that reach below row ``short_below`` (when given).

    A horizontal opening keeps runs at least ``min_run`` (and a twelfth of the width) long: a
    line skewed a few degrees is still made of such runs, a digit's strokes mostly are not. Each
    long piece of that is measured column by column: its thickness is that of its thinnest
    quarter of columns (a digit stroke merging with it only adds), and its centre line is
    fitted straight through the columns of that thickness; the band is that fit, widened a little.
    Shorter pieces (two runs long) count where they continue a longer one along the same band.
    Runs are also looked for with a row's slack either way, and a line found so replaces the shorter
    ones it overlaps: a thin line drawn by hand steps between rows, and where a stroke sits on it the
    runs between the steps are too short to keep.
    """
    h, w = m.shape
    extent = cv2.boundingRect(m)[2]
    if short_below is not None and 0 < extent < _SMALL_INK * w:
        # Where the ink is a small part of the picture, measured against the ink's extent: a digit
        # small in a big scan or photo has its underline as a big one has (it was shorter than a
        # quarter of the picture, and kept).
        w = extent
    run = max(min_run, w // 12)
    shortest = max(0.25 * w, 3 * run) if short_below is not None else 0.85 * w
    shortest_piece = 2 * run if short_below is not None else shortest
    found = _line_pieces(m, run, shortest, shortest_piece, short_below)
    if short_below is None:
        return found
    # The slack's lines replace only shorter ones: a stroke sitting on a line found already must not pull its fit.
    for line in _line_pieces(m, run, shortest, shortest_piece, short_below, slack=True):
        crossed = [other for other in found if _overlaps(line, other)]
        if all(other.length < line.length for other in crossed):
            found = [other for other in found if all(other is not c for c in crossed)] + [line]
    long = [line for line in found if line.length >= shortest]
    # Each line found holds a piece long enough on its own: short ones only continue it.
    return [line for line in _join_collinear(found) if any(_continues(line, piece) for piece in long)]


def _line_pieces(
    m: np.ndarray, run: int, shortest: float, shortest_piece: float, short_below: float | None, slack: bool = False
) -> list[_Line]:
    """The straight pieces at least ``shortest_piece`` long among the runs of ``m`` (with ``slack``:
    runs of ``m`` widened a row up and down), measured in ``m`` (see :func:`_straight_lines`)."""
    h, w = m.shape
    source = cv2.dilate(m, np.ones((3, 1), np.uint8)) if slack else m
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (run, 1))
    # Pieces of one line that a crossing stroke, a thin pen's wobble or a dotted scan broke apart
    # join up again (each line found must still be ink along nearly all of its length).
    # (Padded: OpenCV's default border would stretch every run near the image's edge to it.)
    opened = cv2.copyMakeBorder(cv2.morphologyEx(source, cv2.MORPH_OPEN, kernel), 0, 0, run, run, cv2.BORDER_CONSTANT, value=0)
    opened = np.ascontiguousarray(cv2.morphologyEx(opened, cv2.MORPH_CLOSE, kernel)[:, run:-run])
    # Label only the region with runs: OpenCV's component labelling costs per pixel.
    ox, oy, ow, oh = cv2.boundingRect(opened)
    if ow < shortest:
        return []
    n, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        opened[oy : oy + oh, ox : ox + ow], 8, cv2.CV_32S, cv2.CCL_GRANA
    )
    found = []
    for i in np.flatnonzero(stats[1:, cv2.CC_STAT_WIDTH] >= shortest_piece) + 1:
        x, y, bw, bh, _ = stats[i]
        if bw < 0.85 * w and short_below is not None and oy + y + bh < short_below:
            continue
        piece = labels[y : y + bh, x : x + bw] == i
        ink = piece & (m[oy + y : oy + y + bh, ox + x : ox + x + bw] > 0)
        if ink.any(axis=0).mean() < _LINE_COVERAGE:
            continue  # runs of separate strokes that only the bridging joined, not one line
        if slack:
            piece = ink  # the slack's rows are no part of the line
        counts = piece.sum(axis=0)
        # The line alone is the thinnest part of the piece (strokes merging with it only add).
        thickness = _lower_quartile(counts[counts > 0])
        pure = np.flatnonzero((counts > 0) & (counts <= 1.5 * thickness + 1))
        if pure.size < 0.3 * bw or thickness > 0.15 * bw:
            continue
        rows = np.arange(bh, dtype=np.float64)[:, None]
        centres = (piece * rows).sum(axis=0)[pure] / counts[pure]
        px = pure.astype(np.float64) - pure.mean()
        slope = float((px * (centres - centres.mean())).sum() / max(float((px * px).sum()), 1e-9))
        offset = float(centres.mean() - slope * pure.mean())
        if abs(slope) > 0.1 or np.median(np.abs(centres - (slope * pure + offset))) > 1.5:
            continue
        x0, y0 = int(x + ox), int(y + oy)
        line = _Line(x0, x0 + int(bw), float(slope), float(offset + y0 - slope * x0), thickness, np.zeros(0, np.uint8))
        found.append(_Line(line.x0, line.x1, line.slope, line.offset, thickness, line.band(m)))
    return found


def _overlaps(line: _Line, other: _Line) -> bool:
    """Whether two lines share columns and their bands touch there."""
    if line.x1 <= other.x0 or other.x1 <= line.x0:
        return False
    x = (max(line.x0, other.x0) + min(line.x1, other.x1)) / 2.0
    across = abs(line.slope * x + line.offset - (other.slope * x + other.offset))
    return across <= (line.thickness + other.thickness) / 2.0 + 2.0


def _continues(line: _Line, piece: _Line) -> bool:
    """Whether ``line`` runs along all of ``piece`` (within 2 px across)."""
    centre = line.slope * (piece.x0 + piece.x1) / 2.0 + line.offset
    return line.x0 <= piece.x0 and piece.x1 <= line.x1 and abs(centre - piece.y) <= 2.0


def _substantial_box(rest: np.ndarray) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) around the pieces of ``rest`` that are not specks, or None."""
    rx, ry, rw, rh = cv2.boundingRect(rest)
    if rw == 0 or rh == 0:
        return None
    n, _, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(rest[ry : ry + rh, rx : rx + rw], 8, cv2.CV_32S, cv2.CCL_GRANA)
    stats[:, 0] += rx
    stats[:, 1] += ry
    areas = stats[1:, cv2.CC_STAT_AREA]
    big = np.flatnonzero(areas >= max(4, 0.05 * areas.max())) + 1
    if big.size == 0:
        return None
    x0, y0 = stats[big, 0].min(), stats[big, 1].min()
    x1, y1 = (stats[big, 0] + stats[big, 2]).max(), (stats[big, 1] + stats[big, 3]).max()
    return int(x0), int(y0), int(x1), int(y1)


def select_digit(ink: np.ndarray) -> DigitSelection:
    """Choose the connected components of ``ink`` (uint8 ink map) that form the digit.

    Straight lines around the digit (box sides, scanner edges, underlines) are removed first
    (:func:`remove_lines`); the returned mask never includes them.
    """
    ink = remove_lines(ink)
    # Hysteresis: pieces are traced on a lower level, so a thin anti-aliased line does not fall
    # apart into dots, but a piece counts only if part of it reaches the ink level.
    full_h, full_w = ink.shape
    low = cv2.threshold(ink, _LOW_LEVEL - 1, 255, cv2.THRESH_BINARY)[1]
    # Label only the region that has ink (OpenCV's component statistics cost per pixel).
    rx, ry, rw, rh = cv2.boundingRect(low)
    if rw == 0 or rh == 0:
        return DigitSelection(None, None, BLANK_REASON)
    region = ink[ry : ry + rh, rx : rx + rw]
    n, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        low[ry : ry + rh, rx : rx + rw], 8, cv2.CV_32S, cv2.CCL_GRANA
    )
    stats[:, 0] += rx
    stats[:, 1] += ry
    strong = np.bincount(labels[region >= INK_LEVEL], minlength=n) > 0
    strong[0] = False
    if not strong.any():
        return DigitSelection(None, None, BLANK_REASON)
    if not strong[1:].all():
        stats[~strong, cv2.CC_STAT_AREA] = 0
    h, w = full_h, full_w
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.int64)
    boxes = stats[1:, :4].astype(np.int64)  # x, y, w, h
    boxes[areas == 0] = (0, 0, 1, 1)  # weak pieces: never chosen, never inside anything
    speck_area = max(3, int(0.0002 * h * w))
    if _looks_like_noise(areas, boxes, speck_area, h, w):
        return DigitSelection(None, None, NOISE_REASON)

    touches = (boxes[:, 0] == 0) | (boxes[:, 1] == 0) | (boxes[:, 0] + boxes[:, 2] == w) | (boxes[:, 1] + boxes[:, 3] == h)
    big_enough = areas >= speck_area
    strokes = np.zeros(len(areas), bool)
    for i in np.flatnonzero(touches & (areas >= 0.25 * h * w)):
        x, y, bw, bh = boxes[i]
        piece = labels[y - ry : y - ry + bh, x - rx : x - rx + bw] == i + 1
        strokes[i] = stroke_width(piece) < _STROKE_LIKE * min(bw, bh) or _has_loop(piece)
    # A frame or box is a closed outline; an open one round the image is a digit's thin stroke (a 0
    # broken at the top in a tiny crop, its crumb inside).
    closed = np.zeros(len(areas), bool)
    for i in np.flatnonzero(_outlines(boxes, areas, h, w)):
        x, y, bw, bh = boxes[i]
        closed[i] = _has_loop(labels[y - ry : y - ry + bh, x - rx : x - rx + bw] == i + 1)
    junk = np.array([_is_junk(i, boxes, areas, touches, strokes, closed, h, w) for i in range(len(areas))], bool)

    # Prefer components that do not touch the border; fall back to those that do (a tight
    # crop's digit touches its frame), and only then to ones that look like frames or edges.
    inner = big_enough & ~touches & ~junk
    outer = big_enough & touches & ~junk
    if inner.any():
        main = _best(inner, areas, boxes, h, w)
        # A speck in the middle must not beat a real digit that touches the border.
        if outer.any() and areas[outer].max() > 8 * areas[main]:
            main = _best(outer, areas, boxes, h, w)
    elif outer.any():
        main = _best(outer, areas, boxes, h, w)
    elif big_enough.any():
        main = _best(big_enough, areas, boxes, h, w)
    else:
        return DigitSelection(None, None, SPECKS_REASON)

    keep = _grow(main, areas, boxes, junk)
    keep = _join_pen_gaps(keep, labels, (rx, ry), areas, boxes, junk)
    x0, y0 = int(boxes[keep, 0].min()), int(boxes[keep, 1].min())
    x1, y1 = int((boxes[keep, 0] + boxes[keep, 2]).max()), int((boxes[keep, 1] + boxes[keep, 3]).max())
    bw, bh = int(x1 - x0), int(y1 - y0)
    if max(bw, bh) < max(4, _MIN_DIGIT_FRACTION * min(h, w)) or areas[keep].sum() < 6:
        return DigitSelection(None, None, SPECKS_REASON)
    lut = np.zeros(n, np.uint8)
    lut[np.asarray(keep) + 1] = 255
    crop = lut[labels[y0 - ry : y1 - ry, x0 - rx : x1 - rx]]
    if _textured(crop):
        return DigitSelection(None, None, NOISE_REASON)
    kept = np.zeros((h, w), np.uint8)
    kept[y0:y1, x0:x1] = crop
    return DigitSelection(kept, (int(x0), int(y0), bw, bh), None)


def grain_passed(ink_map: InkMap) -> bool:
    """Whether grain passed the plain ink threshold of a picture (not a canvas's alpha) along with its
    ink: dozens of pieces, none dominant, or dozens of pieces spread over most of the picture, none of
    them spanning half of it (the grain around a digit small in a big photo: traced down to the low
    level, its specks grow into clusters the size of a digit; a bold digit filling the photo stands
    out of its grain as it is). (Not :func:`_looks_like_noise`'s second test: the digits of a long
    number are ten sizeable pieces too; in the number corpus, 14 pieces at most.)"""
    if ink_map.status != "ok" or ink_map.textured or ink_map.source == "alpha":
        return False
    h, w = ink_map.ink.shape
    _, _, stats, _ = cv2.connectedComponentsWithStats((ink_map.ink >= INK_LEVEL).astype(np.uint8), connectivity=8)
    if len(stats) <= 1:
        return False
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.int64)
    if _many_pieces(areas, h, w):
        return True
    boxes = stats[1:]
    biggest = boxes[np.argmax(areas)]
    if len(areas) <= _MAX_PIECES or biggest[2] >= 0.5 * w or biggest[3] >= 0.5 * h:
        return False
    x0, y0 = boxes[:, 0].min(), boxes[:, 1].min()
    x1, y1 = (boxes[:, 0] + boxes[:, 2]).max(), (boxes[:, 1] + boxes[:, 3]).max()
    return (x1 - x0) * (y1 - y0) >= 0.5 * h * w


def _many_pieces(areas: np.ndarray, h: int, w: int) -> bool:
    total = int(areas.sum())
    return int(np.count_nonzero(areas >= 3)) > _MAX_PIECES and areas.max() < 0.5 * total and total > 0.02 * h * w


def _looks_like_noise(areas: np.ndarray, boxes: np.ndarray, speck_area: int, h: int, w: int) -> bool:
    """Many pieces and no dominant one: dozens of any size, or ten or more sizeable ones spread
    over most of the image (stripes, a patterned surface)."""
    if _many_pieces(areas, h, w):
        return True
    big = areas >= max(speck_area, 0.1 * areas.max())
    if np.count_nonzero(big) < 10 or areas.max() >= 0.3 * areas[big].sum():
        return False
    x0, y0 = boxes[big, 0].min(), boxes[big, 1].min()
    x1, y1 = (boxes[big, 0] + boxes[big, 2]).max(), (boxes[big, 1] + boxes[big, 3]).max()
    return (x1 - x0) * (y1 - y0) >= 0.5 * h * w


def _has_loop(piece: np.ndarray) -> bool:
    """Whether a piece (bool) encloses paper as a digit's loop does (a 0, 6, 8 or 9 in print so bold
    that its strokes are as wide as a shadow's blob): a shadow or the table's edge encloses none."""
    contours, hierarchy = cv2.findContours(piece.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return False
    holes = [cv2.contourArea(c) for c, link in zip(contours, hierarchy[0]) if link[3] >= 0]
    return bool(holes) and max(holes) >= _LOOP * piece.size


def _outlines(boxes: np.ndarray, areas: np.ndarray, h: int, w: int) -> np.ndarray:
    """Pieces thin for their box (under a fifth of it inked) spanning most of the image both ways."""
    return (boxes[:, 2] >= 0.7 * w) & (boxes[:, 3] >= 0.7 * h) & (areas < 0.2 * boxes[:, 2] * boxes[:, 3])


def _is_junk(
    i: int, boxes: np.ndarray, areas: np.ndarray, touches: np.ndarray, strokes: np.ndarray, closed: np.ndarray,
    h: int, w: int,
) -> bool:
    """Frames, ruled lines along an edge, and big blobs from the image border (table, shadow), but
    not a big piece made of strokes (``strokes``: a bold digit cut by the edge of its crop).
    ``closed``: which outlines enclose paper (frames and boxes do)."""
    x, y, bw, bh = boxes[i]
    # A thin closed outline around most of the image with ink inside it: a frame or box.
    if closed[i]:
        right, bottom = boxes[:, 0] + boxes[:, 2], boxes[:, 1] + boxes[:, 3]
        inside = (boxes[:, 0] > x) & (boxes[:, 1] > y) & (right < x + bw) & (bottom < y + bh)
        inside[i] = False
        if inside.any() and areas[inside].sum() >= max(6, 0.05 * areas[i]):
            return True
    if not touches[i]:
        return False
    # A long thin line hugging an edge (a frame side, a ruled line, the edge of the paper).
    if bw >= 0.5 * w and bh <= 0.1 * h and (y <= 0.15 * h or y + bh >= 0.85 * h):
        return True
    if bh >= 0.5 * h and bw <= 0.1 * w and (x <= 0.15 * w or x + bw >= 0.85 * w):
        return True
    # A large blob from the border with other ink elsewhere: table, shadow or paper edge.
    return areas[i] >= 0.25 * h * w and not strokes[i]


def _best(pool: np.ndarray, areas: np.ndarray, boxes: np.ndarray, h: int, w: int) -> int:
    """The most substantial component in ``pool``, favouring ones near the centre."""
    cx = boxes[:, 0] + boxes[:, 2] / 2.0
    cy = boxes[:, 1] + boxes[:, 3] / 2.0
    off = np.hypot((cx - w / 2.0) / w, (cy - h / 2.0) / h)  # 0 at the centre, ~0.7 in a corner
    score = np.where(pool, areas * (1.0 - 0.6 * off), -1.0)
    return int(np.argmax(score))


def _grow(main: int, areas: np.ndarray, boxes: np.ndarray, junk: np.ndarray) -> list[int]:
    """Add pieces close to the digit: a 5's separate bar, a 4 drawn in two strokes, a broken line.

    A piece joins if its box is within a fifth of the digit's size of the digit's box and it is
    not a speck; the grown box must stay digit-shaped (not much wider than tall unless the piece
    lies above or below the digit, not far bigger), so a neighbouring digit in a row is not swallowed.
    """
    keep = [main]
    x0, y0 = boxes[main, 0], boxes[main, 1]
    x1, y1 = x0 + boxes[main, 2], y0 + boxes[main, 3]
    main_area = areas[main]
    first_size = max(x1 - x0, y1 - y0)
    candidates = [i for i in np.argsort(-areas) if i != main and not junk[i] and areas[i] > 0]
    changed = True
    while changed:
        changed = False
        size = max(x1 - x0, y1 - y0)
        for i in list(candidates):
            bx, by, bw, bh = boxes[i]
            gap = np.hypot(max(0, bx - x1, x0 - (bx + bw)), max(0, by - y1, y0 - (by + bh)))
            inside = bx >= x0 and by >= y0 and bx + bw <= x1 and by + bh <= y1
            ux0, uy0, ux1, uy1 = min(x0, bx), min(y0, by), max(x1, bx + bw), max(y1, by + bh)
            not_huge = max(ux1 - ux0, uy1 - uy0) <= 2.5 * first_size
            # A piece mostly above or below the digit is part of it even when a strong slant makes
            # the whole wider than tall (a back-slanted 0 broken in two); a neighbour stands beside it.
            stacked = min(x1, bx + bw) - max(x0, bx) >= 0.5 * bw
            digit_shaped = ((ux1 - ux0) <= 1.3 * (uy1 - uy0) + 2 or stacked) and not_huge
            near = gap <= 0.2 * size and areas[i] >= 0.03 * main_area and digit_shaped
            if near or (inside and areas[i] >= 0.01 * main_area):
                keep.append(i)
                candidates.remove(i)
                x0, y0, x1, y1 = ux0, uy0, ux1, uy1
                changed = True
    return keep


# A piece joins the digit across a gap up to this fraction of the ink's extent (a skipping pen's
# dashes), and the digit may then grow to 2.5 times the larger of its first piece and this
# fraction of the extent.
_JOIN_REACH = 0.3
_JOIN_GROWTH = 0.5


def _join_pen_gaps(
    keep: list[int], labels: np.ndarray, origin: tuple[int, int], areas: np.ndarray, boxes: np.ndarray, junk: np.ndarray
) -> list[int]:
    """Add pieces that a pen's skip cut off the digit: their ink comes within a stroke width,
    or within ``_JOIN_REACH`` of the extent of all the ink that could be digit, of the digit's ink,
    however the boxes lie (a strongly slanted 2's base, a broken 0's arc, the dashes of a thin 1).

    ``labels``: the components of the region at ``origin`` (x, y), numbered from 1 as ``areas``.
    """
    main_area = areas[keep].max()
    candidates = np.flatnonzero(~junk & (areas >= 0.03 * main_area))
    candidates = np.setdiff1d(candidates, keep)
    if candidates.size == 0:
        return keep
    ox, oy = origin
    # The whole of the ink that could be this digit: a dashed thin line's pieces are each short,
    # so the gaps between them are measured against all of it, not against one dash.
    every = np.union1d(candidates, keep)
    extent = max((boxes[every, 0] + boxes[every, 2]).max() - boxes[every, 0].min(),
                 (boxes[every, 1] + boxes[every, 3]).max() - boxes[every, 1].min())
    largest = 2.5 * max(boxes[keep, 2].max(), boxes[keep, 3].max(), _JOIN_GROWTH * extent)
    keep = list(keep)
    x0, y0 = boxes[keep, 0].min() - ox, boxes[keep, 1].min() - oy
    x1, y1 = (boxes[keep, 0] + boxes[keep, 2]).max() - ox, (boxes[keep, 1] + boxes[keep, 3]).max() - oy
    changed = True
    while changed:
        changed = False
        lut = np.zeros(len(areas) + 1, np.uint8)
        lut[np.asarray(keep) + 1] = 1
        kept = lut[labels]
        reach = max(2.0, stroke_width(kept), _JOIN_REACH * extent)
        # Distance to the digit's ink: its cost does not grow with the reach, as a dilation's would.
        distance = cv2.distanceTransform(1 - kept, cv2.DIST_L2, 3)
        touched = np.unique(labels[(distance <= reach) & (labels > 0)]) - 1
        for i in np.setdiff1d(np.intersect1d(candidates, touched), keep):
            bx, by, bw, bh = boxes[i, 0] - ox, boxes[i, 1] - oy, boxes[i, 2], boxes[i, 3]
            ux0, uy0, ux1, uy1 = min(x0, bx), min(y0, by), max(x1, bx + bw), max(y1, by + bh)
            if max(ux1 - ux0, uy1 - uy0) <= largest:
                keep.append(int(i))
                x0, y0, x1, y1 = ux0, uy0, ux1, uy1
                changed = True
    return keep


def _textured(crop: np.ndarray) -> bool:
    """A digit has at most a few holes; a patch of texture has dozens.

    Pinholes (where two thin strokes cross at a shallow angle, or JPEG noise) do not count.
    """
    contours, hierarchy = cv2.findContours(crop, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return False
    min_area = max(3.0, 0.0005 * crop.size)
    holes = sum(1 for c, hier in zip(contours, hierarchy[0]) if hier[3] >= 0 and cv2.contourArea(c) >= min_area)
    return holes > 8
