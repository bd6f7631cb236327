"""The printed lines of notebook paper: the squares of squared paper, the rules of ruled paper.

A digit written in a squared or ruled notebook and photographed has the paper's lines through it
and all around it; traced as ink they join its strokes into a net ("noise", or a 1 read as 4).
A printed ruling is told from a digit's strokes by what it is: straight lines running on across
the whole picture (a few degrees of skew), evenly spaced (three or more; beside them, the lines
the other way at right angles), or on clean paper other lines that each run from end to end,
thin (two rules of a close-up, a margin line); and always printed lighter than the ink, or in
another colour (the stems of a row of digits can be as evenly spaced, a pen's underline as
straight, but they are the pen's). Such lines
are painted over with the paper beside them before the ink is looked for: a stroke crossing a
line keeps its ink there (the paint comes from across the line, and the stroke runs on past it
that way), and so does a stroke lying along a line: only what is lighter than halfway between the
line's darkness and the ink's is painted (a 9's stem along a square's side was painted out, "4").

    clean = erase_paper_lines(image)   # the image itself when it has no ruling

Lines as dark as the ink (a box, a scanner edge, an underline, ruled lines drawn with the pen) are
left to the ink analysis (``components.find_lines``); so is a lone line along the picture's edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from preprocessing.image import to_display_rgb

# Lines are looked for on a copy whose longer side is at most this long, its shorter at least this (if it was).
_THUMB_SIDE = 256
_THUMB_SHORT = 128
# Skews tried (degrees): a page photographed a little askew; rows at least this long tell them apart.
_ANGLES = np.arange(-4.0, 4.01, 0.5)
_SKEW_ROW = 64
# Darker than the paper around it by this much (grey levels, in the copy) is line.
_MIN_CONTRAST = 10
# A line darkens at least this share of the picture's width (a digit's strokes cross it elsewhere).
_COVERAGE = 0.6
# Evenly spaced: at least this many lines, their gaps within this share of a whole number of the
# typical gap, the typical gap at least this many copy pixels.
_MIN_LINES = 3
_EVEN = 0.25
_MIN_GAP = 6
# Darker pictures (median grey) are not paper with printed lines on it.
_LIGHT_PAPER = 100
# Printed lines are lighter than the ink: darker than the paper by at most this share of what the
# darkest pixels (this percentile: the ink) are (the corpus's ruling: 0.45 at most, a red margin line
# 0.5-0.7; a row of digits' stems, an underline drawn with the pen: 0.9 and more).
_LIGHTER = 0.7
_INK_PERCENTILE = 0.2
# Lines as dark as the ink are printed when of another colour: this far from the paper's colour (CIELAB
# a-b units), and not the ink's way from it (the cosine of the angle between the two under _SAME_HUE).
_COLOUR = 6.0
_SAME_HUE = 0.5
# Fewer or uneven lines count only on clean paper (a typical row between them at most this much
# covered), each thin (at most this share of the picture across it, soft edges included) and dark
# along most of the first and last of these shares of its length.
_BETWEEN = 0.15
_THIN = 0.03
_END = 0.15


def erase_paper_lines(image: np.ndarray) -> np.ndarray:
    """``image`` (uint8 H×W, H×W×3 or opaque H×W×4) with the lines of squared or ruled paper painted
    over in the paper's tone, but where a stroke is darker than the line (as dark as the ink); ``image``
    itself when there are none (or it is not light paper)."""
    rgba = image.ndim == 3 and image.shape[2] == 4
    if rgba and cv2.minMaxLoc(cv2.extractChannel(image, 3))[0] < 255:
        return image  # a transparent canvas or cut-out: no paper
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGBA2GRAY if rgba else cv2.COLOR_RGB2GRAY)
    lines = find_paper_lines(grey, None if image.ndim == 2 else image)
    if lines is None:
        return image
    out = cv2.cvtColor(image, cv2.COLOR_RGBA2RGB) if rgba else image.copy()
    # Paper (the median) and ink (the darkest _INK_PERCENTILE) from the histogram: sorting a photo is slow.
    cumulative = np.cumsum(cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel()) / grey.size
    ink = float(np.searchsorted(cumulative, 0.5) - np.searchsorted(cumulative, _INK_PERCENTILE / 100))
    for mask, thickness, upright in lines:
        # Closing along the line's normal fills a thin dark line with the paper on either side of it;
        # a stroke crossing the line is longer than the kernel that way, so it stays.
        length = thickness + 4
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1) if upright else (1, length))
        closed = cv2.morphologyEx(out, cv2.MORPH_CLOSE, kernel)
        # A stroke lying along the line is not painted over with it: it is darker than the line.
        mask = _lighter_than_the_ink(cv2.subtract(_grey(closed), _grey(out)), mask, upright, ink)
        out = cv2.copyTo(closed, mask, out)
    return cv2.merge([*cv2.split(out), cv2.extractChannel(image, 3)]) if rgba else out


def _lighter_than_the_ink(darker: np.ndarray, mask: np.ndarray, upright: bool, ink: float) -> np.ndarray:
    """``mask`` (0/255, one family of lines) less the pixels darker than halfway between their line's
    darkness and ``ink``'s (``darker``: how much darker than the paint each pixel is). A line's darkness:
    the median along it of its darkest pixel across it (where a stroke lies along it or crosses it hardly
    counts). A line as dark as the ink (a blank page's) keeps nothing."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8, ltype=cv2.CV_16U)
    out = mask.copy()
    for k in range(1, count):
        x, y, w, h = stats[k, :4]
        inside = labels[y : y + h, x : x + w] == k
        band = np.where(inside, darker[y : y + h, x : x + w], 0)
        line = float(np.median(band.max(axis=1 if upright else 0)))
        cut = max(0.5 * (line + ink), line / _LIGHTER)
        out[y : y + h, x : x + w][inside & (band >= cut)] = 0
    return out


def _grey(image: np.ndarray) -> np.ndarray:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def without_paper_lines(image: np.ndarray, steps: dict[str, np.ndarray]) -> np.ndarray:
    """``erase_paper_lines(image)``, recording the result in ``steps`` as "paper lines removed" when
    there were any (the pipeline's steps shown in the app)."""
    erased = erase_paper_lines(image)
    if erased is not image:
        steps["paper lines removed"] = to_display_rgb(erased)
    return erased


@dataclass(frozen=True)
class _Lines:
    """Lines across a map turned by ``angle`` degrees: their centre rows there (``rows``: each line's
    rows, soft edges included); ``gap``: the spacing of those of them that are evenly spaced
    (``even``), None when there is no such family; ``between``: how much of a typical row is covered
    (grain covers every row; clean paper between lines, none)."""

    angle: float
    centres: list[float]
    rows: list[np.ndarray]
    gap: float | None
    even: np.ndarray
    between: float

    @property
    def thickness(self) -> int:
        return int(max(len(r) for r in self.rows))

    def only(self, keep: np.ndarray) -> _Lines | None:
        """The lines where ``keep`` is true (None when none is)."""
        if not keep.any():
            return None
        index = np.flatnonzero(keep)
        gap = self.gap if self.even[index].any() else None
        centres, rows = [self.centres[i] for i in index], [self.rows[i] for i in index]
        return _Lines(self.angle, centres, rows, gap, self.even[index], self.between)


def find_paper_lines(grey: np.ndarray, rgb: np.ndarray | None = None) -> list[tuple[np.ndarray, int, bool]] | None:
    """The rulings of ``grey`` (uint8): per family (horizontal, then upright), a 0/255 mask of its
    lines at full size, their thickness in pixels, and whether they stand upright; None when none.
    ``rgb``: the same picture in colour (RGB or opaque RGBA), where it has colour (a line of another
    colour than the ink is printed, however dark)."""
    h, w = grey.shape
    if min(h, w) < 48:
        return None
    # Thin lines must survive the shrink: the shorter side keeps _THUMB_SHORT pixels (a wide photo of a number).
    f = max(1, min(-(-max(h, w) // _THUMB_SIDE), min(h, w) // _THUMB_SHORT))

    def shrunk(image: np.ndarray) -> np.ndarray:
        return image if f == 1 else cv2.resize(image[: h // f * f, : w // f * f], (w // f, h // f), interpolation=cv2.INTER_AREA)

    small = shrunk(grey)
    paper = float(np.median(small))
    if paper < _LIGHT_PAPER:
        return None
    dark = cv2.morphologyEx(small, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    on = (dark >= _MIN_CONTRAST).astype(np.uint8)
    # Cheap exit: a line darkens at least this many pixels.
    if cv2.countNonZero(on) < _COVERAGE * min(on.shape):
        return None
    ink_level = float(np.percentile(small, _INK_PERCENTILE))
    ink = paper - ink_level
    maps = {False: on, True: np.ascontiguousarray(on.T)}
    views = {False: small, True: np.ascontiguousarray(small.T)}
    candidates = {upright: _search(view) for upright, view in maps.items()}

    def printed(lines: _Lines | None, upright: bool) -> _Lines | None:
        """The lines of ``lines`` that are the paper's. Printed lighter than the ink (a row of digits'
        stems can be as evenly spaced as a ruling): the evenly spaced ones, and on clean paper the others
        that each run from end to end, thin (a close-up of ruled paper shows two; a margin line)."""
        if lines is None:
            return None
        loose = ~lines.even
        if lines.between <= _BETWEEN and loose.any():
            turned = _turned(maps[upright], lines.angle)
            loose &= np.array([_printed_across(turned, c, r) for c, r in zip(lines.centres, lines.rows)])
        else:
            loose[:] = False
        keep = lines.even | loose
        found = lines.only(keep)
        if found is None:
            return None
        if _darkness(views[upright], found, paper) <= _LIGHTER * ink:
            return found
        if rgb is not None and _another_colour(_chroma(shrunk(rgb[..., :3])), found, upright, small <= ink_level, on):
            return found
        # As dark as the darkest ink, a ruling is the paper's only when nothing is left without it (and
        # the other way's lines): a blank page. The stems of a row of digits leave the rest of the digits.
        ruling = lines.only(lines.even)
        if ruling is None:
            return None
        bare = small.copy()
        for way, other in candidates.items():
            family = None if other is None else other.only(other.even)
            if family is not None:
                mask = _draw(family.centres, family.angle, family.thickness + 2, views[way].shape, 1)
                bare[(mask.T if way else mask) > 0] = int(paper)
        left = paper - float(np.percentile(bare, _INK_PERCENTILE))
        return ruling if left <= _LIGHTER * _darkness(views[upright], ruling, paper) else None

    rulings: dict[bool, _Lines | None] = {upright: printed(found, upright) for upright, found in candidates.items()}
    for upright in (False, True):
        other = rulings[not upright]
        if (rulings[upright] is None or rulings[upright].gap is None) and other is not None and other.gap is not None:
            # Squared paper: beside a family of evenly spaced lines, the other way at right angles and
            # the same spacing, even one or two lines are the paper's.
            tries = [printed(_lines(maps[upright], -other.angle + turn, other.gap), upright) for turn in (-0.5, 0.0, 0.5)]
            even = [t for t in tries if t is not None and t.gap is not None]
            rulings[upright] = max(even, key=lambda t: int(t.even.sum()), default=rulings[upright])
    masks = []
    for upright, ruling in rulings.items():
        if ruling is None:
            continue
        mask = _draw(ruling.centres, ruling.angle, (ruling.thickness + 2) * f, (w, h) if upright else (h, w), f)
        masks.append((mask.T.copy() if upright else mask, ruling.thickness * f, upright))
    return masks or None


def _chroma(rgb: np.ndarray) -> np.ndarray:
    """CIELAB's a and b planes of ``rgb`` (uint8 H×W×3), float32 (H, W, 2), in Lab units."""
    lab = cv2.cvtColor(np.ascontiguousarray(rgb, np.float32) / 255.0, cv2.COLOR_RGB2Lab)
    return np.ascontiguousarray(lab[..., 1:])


def _another_colour(chroma: np.ndarray, lines: _Lines, upright: bool, inked: np.ndarray, on: np.ndarray) -> bool:
    """Whether ``lines`` (of the map turned upright or not) are of another colour than the ink (the
    ``inked`` pixels): their dark pixels (``on``) lie away from the paper's colour (the median), and not
    the way the ink does. A pen's underline, a row of its digits' stems, are the pen's colour, however
    thin they are, and blended with the paper only lie between the two."""
    h, w = on.shape
    mask = _draw(lines.centres, lines.angle, lines.thickness, (w, h) if upright else (h, w), 1)
    mask = (mask.T if upright else mask) > 0
    line_pixels, ink_pixels = chroma[mask & (on > 0)], chroma[inked]
    if len(line_pixels) == 0 or len(ink_pixels) == 0:
        return False
    paper = np.median(chroma.reshape(-1, 2), axis=0)
    line, pen = np.median(line_pixels, axis=0) - paper, np.median(ink_pixels, axis=0) - paper
    if np.linalg.norm(line) < _COLOUR:
        return False
    return bool(np.dot(line, pen) < _SAME_HUE * np.linalg.norm(line) * np.linalg.norm(pen))


def _search(on: np.ndarray) -> _Lines | None:
    """The lines running across ``on`` (rows, after a small skew); None when none."""
    # Cheap exit: on a copy a quarter the size, spread up and down by what 4 degrees of skew drift
    # across it, no row is covered, so no line runs across.
    size = (max(1, on.shape[1] // 4), max(1, on.shape[0] // 4))
    pooled = cv2.resize(on * 255, size, interpolation=cv2.INTER_AREA)
    drift = int(np.ceil(size[0] * np.tan(np.radians(_ANGLES.max())))) + 1
    pooled = cv2.dilate(pooled, np.ones((2 * drift + 1, 1), np.uint8))
    if not (cv2.reduce((pooled > 0).astype(np.float32), 1, cv2.REDUCE_AVG).ravel() >= _COVERAGE).any():
        return None
    # The skew: where the rows' coverage is most uneven (lines gathered into few rows), searched coarse
    # to fine on copies a quarter and half the size; all at once on a copy whose rows stay _SKEW_ROW
    # long (a degree must move a row's end by a pixel: short rows, a wide number's upright lines, cannot
    # tell skews apart on a smaller copy).
    best = 0.0
    stages: list[tuple[int, np.ndarray | None]] = [(4, _ANGLES[::2]), (2, None)]
    if on.shape[1] < 4 * _SKEW_ROW:
        stages = [(2 if on.shape[1] >= 2 * _SKEW_ROW else 1, _ANGLES)]
    for factor, angles in stages:
        size = (max(1, on.shape[1] // factor), max(1, on.shape[0] // factor))
        small = cv2.resize(on.astype(np.float32), size, interpolation=cv2.INTER_AREA)
        candidates = angles if angles is not None else np.clip(best + np.arange(-1.0, 1.01, 0.5), _ANGLES[0], _ANGLES[-1])
        # Ties (a blurred copy cannot tell nearby skews apart) go to the straighter.
        candidates = sorted(candidates, key=abs)
        best = max(candidates, key=lambda a: float(np.square(_row_cover(small, float(a))).sum()))
    return _lines(on, float(best))


def _lines(on: np.ndarray, angle: float, known: float | None = None) -> _Lines | None:
    """The lines across ``on`` turned by ``angle`` degrees, and which of them are evenly spaced: at
    least ``_MIN_LINES`` of them, or any number ``known`` apart. None when there is no line."""
    gap = known
    cover = _row_cover(on, angle)
    if np.count_nonzero(cover >= _COVERAGE) > 0.5 * len(cover):
        return None  # grain or a texture darkens most rows alike
    # Lines: runs of rows darkened (with their soft edges), centred by coverage.
    runs = [r for r in _runs(cover >= _COVERAGE / 2) if cover[r].max() >= _COVERAGE]
    if not runs:
        return None
    centres = [float(np.average(r, weights=cover[r])) for r in runs]
    if gap is None and len(runs) >= _MIN_LINES:
        gap = float(np.median(np.diff(centres)))
        # Digits hiding every other line double the typical gap: then half of it holds more of the lines.
        if np.count_nonzero(_on_lattice(np.array(centres), gap / 2)) >= np.count_nonzero(_on_lattice(np.array(centres), gap)) + 2:
            gap /= 2
    even = np.zeros(len(runs), bool)
    if gap is not None and gap >= _MIN_GAP:
        even = _on_lattice(np.array(centres), gap)
        # At least _MIN_LINES on it, two of them one gap apart, to find a spacing (beside a known one, any).
        steps = np.round(np.diff(np.array(centres)[even]) / gap)
        if known is None and (even.sum() < _MIN_LINES or np.count_nonzero(steps == 1) < 2):
            even[:] = False
    if even.any():
        centres, runs, even = _fill_in(cover, centres, runs, even, gap)
    return _Lines(angle, centres, runs, gap if even.any() else None, even, float(np.median(cover)))


def _on_lattice(centres: np.ndarray, gap: float) -> np.ndarray:
    """Which of ``centres`` lie on the lattice of spacing ``gap`` (within ``_EVEN`` of it) that holds
    the most of them (a margin line between a squared page's lines is not on it)."""
    best = np.zeros(len(centres), bool)
    for phase in centres:
        offset = (centres - phase) / gap
        on = np.abs(offset - np.round(offset)) <= _EVEN
        if on.sum() > best.sum():
            best = on
    return best


def _fill_in(
    cover: np.ndarray, centres: list[float], runs: list[np.ndarray], even: np.ndarray, gap: float
) -> tuple[list[float], list[np.ndarray], np.ndarray]:
    """Add the lines of an evenly spaced family that digits hide: where one is due (a whole number of
    gaps from the family's) and at least half as much of its row is dark as a line needs."""
    found = list(zip(centres, runs, even))
    family = [c for c, e in zip(centres, even) if e]
    start = family[0] - gap * np.floor(family[0] / gap)
    reach = max(1, int(round(_EVEN * gap)))
    for due in np.arange(start, len(cover), gap):
        # A line already found there (a margin line off the lattice only when right on it).
        if min(abs(due - c) if e else 2 * abs(due - c) for c, e in zip(centres, even)) <= 2 * reach:
            continue
        lo, hi = max(0, int(round(due)) - reach), min(len(cover), int(round(due)) + reach + 1)
        if hi <= lo or cover[lo:hi].max() < _COVERAGE / 2:
            continue
        peak = lo + int(np.argmax(cover[lo:hi]))
        found.append((float(peak), np.arange(max(0, peak - 1), min(len(cover), peak + 2)), True))
    found.sort(key=lambda item: item[0])
    return [c for c, _, _ in found], [r for _, r, _ in found], np.array([e for _, _, e in found], bool)


def _turned(image: np.ndarray, angle: float, outside: float = 2, flags: int = cv2.INTER_NEAREST) -> np.ndarray:
    """``image`` turned by ``angle`` degrees about its centre, ``outside`` where the picture is not (2 for
    a 0/1 map)."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), flags=flags, borderMode=cv2.BORDER_CONSTANT, borderValue=outside)


def _printed_across(turned: np.ndarray, centre: float, rows: np.ndarray) -> bool:
    """Whether the line at ``centre`` (``rows`` of the map ``turned`` as the line lies, see ``_turned``)
    is thin (``_THIN`` of the picture across it), clear of the picture's edge, and runs from one end of
    the picture to the other: dark along most of its first and last ``_END`` (a digit's straight
    stroke, a 4's stem, a 7's bar, stops short of the picture's ends; a printed line does not)."""
    h = turned.shape[0]
    if len(rows) > max(3, _THIN * h):
        return False
    # A line along the picture's edge is its border, a box side or a scanner edge (``components.find_lines``).
    if min(centre, h - 1 - centre) < max(3.0, _THIN * h):
        return False
    band = turned[rows[0] : rows[-1] + 1]
    inside = np.flatnonzero((band != 2).all(axis=0))
    if inside.size == 0:
        return False
    dark = cv2.dilate((band == 1).astype(np.uint8), np.ones((3, 3), np.uint8)).max(axis=0)[inside]
    end = max(2, int(_END * inside.size))
    return bool(dark[:end].mean() >= 0.5 and dark[-end:].mean() >= 0.5)


def _darkness(grey: np.ndarray, lines: _Lines, paper: float) -> float:
    """How much darker than ``paper`` a typical one of ``lines`` is in ``grey`` (the median over the
    lines of each line's darkest row, by its median: where digits cross a line hardly counts)."""
    rows = np.median(_turned(grey, lines.angle, int(paper), cv2.INTER_LINEAR), axis=1)
    return paper - float(np.median([rows[r].min() for r in lines.rows]))


def _runs(rows: np.ndarray) -> list[np.ndarray]:
    """The runs of consecutive True entries of ``rows`` (bool), as index arrays."""
    index = np.flatnonzero(rows)
    return [] if index.size == 0 else np.split(index, np.flatnonzero(np.diff(index) > 1) + 1)


def _row_cover(on: np.ndarray, angle: float) -> np.ndarray:
    """Per row of ``on`` (0/1, or each pixel's share that is on) turned by ``angle`` degrees: the share
    of the row's pixels (those inside the picture) that are on; rows less than half inside count 0."""
    h, w = on.shape
    # Two channels turned at once: the map, and where the picture is.
    both = _turned(cv2.merge([on, np.ones_like(on)]), angle, 0)
    sums = cv2.reduce(both, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32F).reshape(h, 2).astype(np.float64)
    cover = sums[:, 0] / np.maximum(sums[:, 1], 1.0)
    cover[sums[:, 1] < 0.5 * w] = 0
    return cover


def _draw(centres: list[float], angle: float, thickness: int, shape: tuple[int, int], f: int) -> np.ndarray:
    """A full-size 0/255 mask (``shape``: rows, columns) of lines found in the copy ``f`` times smaller:
    rows ``centres`` of the copy turned by ``angle`` degrees about its centre."""
    h, w = shape
    sh, sw = h // f, w // f
    inverse = cv2.invertAffineTransform(cv2.getRotationMatrix2D((sw / 2.0, sh / 2.0), angle, 1.0))
    mask = np.zeros((h, w), np.uint8)
    for y in centres:
        ends = np.array([[-sw, y, 1.0], [2 * sw, y, 1.0]]) @ inverse.T
        # Copy pixel centres sit at (i + 0.5) * f in full-size pixels; 4 fractional bits.
        p, q = ((ends + 0.5) * f - 0.5) * 16
        cv2.line(mask, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), 255, max(1, thickness), cv2.LINE_8, 4)
    return mask
