"""Find the ink: a map that is 0 on the background and bright where something was drawn or written.

The background is whatever most of the image is (or, for transparent images, what is
transparent); ink is what differs from it, whatever its colour or polarity. Photos with uneven
lighting are flattened first by dividing by (or subtracting) a smooth background estimate.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from preprocessing.image import as_uint8_image, shrink_for_analysis
from preprocessing.stroke import stroke_width

# Ink-map value at the ink/background threshold: ``ink >= INK_LEVEL`` is the ink mask.
INK_LEVEL = 128
# Below this difference from the background (grey levels) nothing counts as ink.
MIN_CONTRAST = 32
# A background whose typical pixel differs this much from its own median is noise or texture.
MAX_BACKGROUND_NOISE = 20.0
# Images smaller than this (shorter side) are tight crops: too small to estimate lighting,
# and a bold digit fills too much of them for a median to see past it.
_MIN_SIDE_FOR_FLATTENING = 65
# Background estimates vary less than this across a uniformly lit image.
_UNIFORM_SPREAD = 20.0
# Pictures up to this size (longer side) are looked at as tight crops: their background is the tone
# that frames the digit, not the median (bigger ones too when they are cropped to the digit's ink).
_TWO_TONE_SIDE = 64
_BACKGROUND_SIDE = 128
# A two-level image with more than this share of pixels next to the other level is dithered.
_DITHER_MIXED = 0.4
# Gaussian (px) that turns a dithered image's dot density back into grey.
_DITHER_SIGMA = 2.0
# A single colour channel replaces the luminance only when the ink stands out this much more in it,
# over its grain: a pixel's difference from a Gaussian this wide (px, on the thumbnail). (1.5 took the
# blue channel of a violet number on pink ruled paper, half as grainy as the luminance, in which the
# number reader's grain test then passed and the paper was read as light ink.)
_CHANNEL_GAIN = 2.5
_GRAIN_SIGMA = 2.0
# In a tight crop, the background's colour and noise are measured away from the digit's edge when
# that leaves this share of the picture (else over the whole background tone or side).
_MIN_INNER_BACKGROUND = 0.05
# A tone covering this share of a tight crop is its background where the pieces do not say (no
# digit covers 70% of its crop; MNIST's test digits cropped tight and 16x16 scans read as before).
_MOSTLY = 0.7
# In a picture cropped to one stroke, at least this share of the rows along its longer side cross it
# once, and the stroke's ends lie within this share of its length of the picture's ends.
_CROSSED_ONCE = 0.9
_END_SLACK = 0.1
# A picture cropped to its digit's ink: ink in at most this many pieces, paper in at most this many,
# counting pieces of at least this share of the picture (here and in ``pipeline._cropped_to_it``).
CROP_INK_PIECES = 2
CROP_PAPER_PIECES = 12
CROP_PIECE = 0.005
_CROP_EDGE = 0.08
# On textured paper, ink must exceed the smoothed texture's typical level by this many spreads.
_STANDS_OUT = 4.0
# Gaussians (px) that, after a 5x5 median, average paper grain out of a textured background: the
# first that lets the ink stand out is used; a coarser one only on images this many times its size.
_TEXTURE_SIGMAS = (1.5, 3.0, 6.0)
_MIN_SIDES_PER_SIGMA = 60
# The grain's ceiling: the typical highest value of this many tiles per side, plus this many of their
# spreads (grain alone, 120 photos of 300-2000 px of the corpus's papers: the highest tile 7.2 spreads
# above the others at most; a marker digit 8-20% of such a photo's height: 10 or more, all but one of
# 180); ink above it must cover at least this share of the picture (the small digits looked at: 0.03%+).
_GRAIN_TILES = 8
_GRAIN_CEILING = 8.0
_GRAIN_CEILING_INK = 0.0001
# A rim of this share of the picture's shorter side is left out of that look.
_GRAIN_RIM = 0.02
# A line along the edge is paper again this far in (fraction of the shorter side): box and scanner
# lines are up to about 6% thick.
_LINE_DEPTH = 0.1
# A side is lined when this much of its outermost row is one tone and as much of the row that far
# in the other (a line drawn a little skewed, or stopping short of a corner, leaves some of the edge).
_LINED = 0.75
# The border tells the ink's polarity when one tone holds all but this share of it, and the other
# tone's strokes are at most this share of the picture's shorter side wide (a marker digit filling a
# photo: 0.19 at most; lit and shaded paper of a photo of a number: 0.34).
_PAPER_BORDER_UNSURE = 0.35
_TONE_STROKE = 0.25
# A picture is of two tones (a bold digit and its paper) when its histogram has two peaks with a
# valley between them at most this share of the lower peak.
_VALLEY = 0.2
# A lighting estimate may take in at most this share of the ink's pixels.
_ABSORBED = 0.2


@dataclass(frozen=True)
class InkMap:
    """The ink map plus how it was obtained.

    ``ink``: uint8, 0 = background, ``>= INK_LEVEL`` = ink. ``source``: "alpha", "uniform" or
    "flattened". ``status``: "ok", "blank" (nothing differs from the background) or "noise"
    (the background itself is noise or texture). ``textured``: whether the background was
    smoothed as grain before thresholding.
    """

    ink: np.ndarray
    source: str
    status: str
    contrast: float
    noise: float
    textured: bool = False


def extract_ink(image: np.ndarray) -> np.ndarray:
    """Ink map of ``image`` (uint8, ink bright on 0; ``>= INK_LEVEL`` is ink)."""
    return analyse_ink(image).ink


def analyse_ink(image: np.ndarray, textured: bool = False, other_reading: bool = False, small_ink: bool = False) -> InkMap:
    """Like extract_ink, but also says where the ink came from and whether there is any.

    ``textured``: treat the background as grain even when it looks plain (for a second look,
    when the plain threshold let through grain that hides the digit). ``small_ink``: the same, when
    the plain threshold found ink with grain all around it; the ink may then be a digit small in a
    big photo, split from the grain over the grain's ceiling where Otsu's split finds nothing
    (``_over_the_grain``). ``other_reading``: the
    picture's other likely reading, for a second look when the first found only noise: under
    uneven light the other ink polarity (a bold digit filling much of the picture can outvote
    the paper), under even light the background taken as one of two tones, as for a tight crop
    (a bold digit and box lines can cover half of a form-box crop, and the median then falls
    between ink and paper)."""
    img = as_uint8_image(image)
    if img.ndim == 3 and img.shape[2] == 4:
        alpha = cv2.extractChannel(img, 3)
        if np.count_nonzero(alpha < 128) >= 0.005 * alpha.size:
            rgb = cv2.cvtColor(img, cv2.COLOR_RGBA2RGB)
            opaque = cv2.threshold(alpha, 127, 255, cv2.THRESH_BINARY)[1]
            if cv2.countNonZero(opaque) <= 0.5 * alpha.size or not _has_structure(rgb, opaque):
                # Transparent background: the drawing is whatever is opaque (a canvas keeps
                # its ink only in alpha, with RGB all zero). Measured from the typical alpha, so
                # a slightly opaque background or a cut-out stencil work too.
                return _threshold(_colour_distance(alpha), "alpha", textured, small_ink=small_ink)
            # An opaque picture with transparent margins: fill them with its own paper colour.
            paper = np.median(rgb[opaque > 0], axis=0)
            a = alpha[:, :, None].astype(np.float32) / 255.0
            img = (rgb * a + paper * (1.0 - a)).round().astype(np.uint8)
        else:
            img = cv2.cvtColor(img, cv2.COLOR_RGBA2RGB)
    if img.ndim == 2 and _dithered(img):
        # A 1-bit scan with error diffusion draws grey as a density of dots: averaging over a few
        # dots gives the grey back, and the strokes become solid again.
        img = cv2.GaussianBlur(img, (0, 0), _DITHER_SIGMA)
    if img.ndim == 3 and _colourless(img):
        # Grey pixels stored as colour (the app's canvas, a grey photo saved as RGB): one channel
        # holds it all, and every step below gives the same result on it, at a third of the cost.
        # (After the dithering test, which only ever looked at grey images, as before.)
        img = cv2.extractChannel(img, 0)
    grey = img if img.ndim == 2 else _contrast_channel(img)
    # A digit cropped to its ink is evenly lit whatever its size: its bold strokes fill too much of
    # it for the light to be told from them, and its paper is the tone that frames the digit.
    cropped = max(grey.shape) > _TWO_TONE_SIDE and cropped_to_ink(grey)
    lighting = None if cropped else _lighting(grey)
    if lighting is None:
        return _threshold(_colour_distance(img, two_tone=other_reading or cropped), "uniform", textured, cropped, small_ink)
    if other_reading:
        # The same picture, so uneven again; only the polarity's vote is overruled.
        lighting = _lighting(grey, dark_ink=not lighting[1]) or lighting
    return _threshold(_flattened(grey, *lighting), "flattened", textured, small_ink=small_ink)


def _colourless(rgb: np.ndarray) -> bool:
    """Whether all three channels of an RGB image are the same (a grey image stored as colour)."""
    r, g, b = cv2.split(rgb)
    return cv2.countNonZero(cv2.absdiff(r, g)) == 0 and cv2.countNonZero(cv2.absdiff(r, b)) == 0


def _dithered(grey: np.ndarray) -> bool:
    """Whether a grey image is a dithered 1-bit image: two levels only, and most pixels next to a
    pixel of the other level (a clean black-and-white digit mixes levels only along its edges:
    at most a quarter of the pixels of a 48-px crop, far fewer in bigger images; smaller crops
    are left alone, their edges are most of their pixels)."""
    if min(grey.shape) < 40:
        return False
    hist = cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel()
    if np.count_nonzero(hist) != 2:
        return False
    kernel = np.ones((3, 3), np.uint8)
    mixed = cv2.compare(cv2.dilate(grey, kernel), cv2.erode(grey, kernel), cv2.CMP_NE)
    return cv2.countNonZero(mixed) > _DITHER_MIXED * grey.size


def _contrast_channel(rgb: np.ndarray) -> np.ndarray:
    """The grey image in which ink stands out most: the luminance, or one colour channel when the
    ink differs from the paper mostly in hue (a green marker on red paper, blue ink on yellow).

    Each candidate is scored on a thumbnail by how far its darkest or brightest half percent lies
    from its median, in units of its grain: the typical difference of a pixel from its
    neighbourhood. (Not the spread of the whole picture: light falloff and a bold digit filling
    much of it widen that most where the ink stands out most.)
    """
    # A whole-factor shrink keeps OpenCV's area averaging on its fast path.
    small = shrink_for_analysis(rgb, 2 * _BACKGROUND_SIDE)
    candidates = [cv2.cvtColor(small, cv2.COLOR_RGB2GRAY), *cv2.split(small)]
    scores = []
    for c in candidates:
        # Percentiles from the histogram (uint8: 256 bins).
        hist = cv2.calcHist([c], [0], None, [256], [0, 256]).ravel()
        cumulative = np.cumsum(hist) / hist.sum()
        lo, med, hi = np.searchsorted(cumulative, [0.005, 0.5, 0.995])
        grain = 1.4826 * median_u8(cv2.absdiff(c, cv2.GaussianBlur(c, (0, 0), _GRAIN_SIGMA)))
        scores.append(max(med - lo, hi - med) / max(grain, 1.0))
    best = int(np.argmax(scores[1:])) + 1
    if scores[best] > _CHANNEL_GAIN * scores[0]:
        return cv2.extractChannel(rgb, best - 1)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def _has_structure(rgb: np.ndarray, opaque: np.ndarray) -> bool:
    """Whether the opaque pixels vary enough to contain a drawing of their own (not one ink colour)."""
    if cv2.countNonZero(opaque) < 16:
        return False
    _, std = cv2.meanStdDev(rgb, mask=opaque)
    return bool(std.max() > 30)


def _background_colour(img: np.ndarray, two_tone: bool = False) -> np.ndarray:
    """The background colour: the median of the image, or for tight crops the tone that frames the digit.

    In a photo the border may be table or shadow, but most pixels are paper. In a tight crop a
    bold digit may cover half the image and much of its border, so there the image is split into
    two tones and the background is chosen by :func:`_background_tone`; ``two_tone`` does that
    whatever the size.
    """
    h, w = img.shape[:2]
    pixels = img.reshape(h * w, -1)
    if (max(h, w) > _TWO_TONE_SIDE and not two_tone) or min(h, w) < 3:
        channels = [img] if img.ndim == 2 else cv2.split(img)
        return np.array([median_u8(c) for c in channels], np.float64)
    grey = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    t = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[0]
    dark = grey <= t
    if dark.all() or not dark.any():
        return np.median(pixels, axis=0)
    tone = dark if _background_tone(dark) else ~dark
    # Away from the digit's anti-aliased edge: where a bold digit covers most of a small crop,
    # its edge pixels are a large share of the background tone and drag its median towards the ink.
    inner = cv2.erode(tone.astype(np.uint8), np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE) > 0
    if np.count_nonzero(inner) >= _MIN_INNER_BACKGROUND * tone.size:
        tone = inner
    return np.median(pixels[tone.reshape(-1)], axis=0)


def paper_colour(img: np.ndarray) -> np.ndarray | None:
    """The paper's purest colour in a picture cropped to one stroke of ink (RGB or grey uint8), or
    None when it is not one.

    Such a picture has two tones at least 2 * MIN_CONTRAST apart (grain has not), one of them the
    stroke: it runs the picture's length with paper beside it on both sides, and nearly every row
    between its ends crosses it once (noise, stripes and a shadow's edge do not). The stroke tells
    which tone is paper, which the border cannot: a straight 1 cropped to its ink fills the border
    but for its rounded ends. The paper's colour is taken at the far end of its tone from the ink
    (its 95th percentile away from it): most of the paper tone is the stroke's soft edge."""
    if min(img.shape[:2]) < 3:
        return None
    grey = img if img.ndim == 2 else cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    t = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[0]
    dark = grey <= t
    if dark.all() or not dark.any():
        return None
    if abs(float(grey[dark].mean()) - float(grey[~dark].mean())) < 2 * MIN_CONTRAST:
        return None
    upright = dark if dark.shape[0] >= dark.shape[1] else dark.T
    strokes = [is_dark for is_dark, tone in ((True, upright), (False, ~upright)) if _one_stroke(tone)]
    if not strokes:
        return None
    # Both tones may pass in a crop a few pixels wide: then the border decides, as for any tight crop.
    ink_is_dark = strokes[0] if len(strokes) == 1 else not _background_tone(dark)
    ink = dark if ink_is_dark else ~dark
    pixels = img.reshape(grey.size, -1)[~ink.reshape(-1)]
    return np.percentile(pixels, 95 if ink_is_dark else 5, axis=0)


def cropped_to_ink(grey: np.ndarray) -> bool:
    """Whether a grey picture is a digit cropped to its ink (a tight crop, a small scan stretched to
    its box), at any size.

    Its paper (either of the picture's two tones) is flat, and nothing differs from it by more than
    MIN_CONTRAST but its ink, all on one side (the soft edge of a digit blown up from a small scan
    included). The ink is in at most ``CROP_INK_PIECES`` pieces of ``CROP_PIECE`` of the picture or
    more, the biggest reaching all four edges (within ``_CROP_EDGE`` of the shorter side); the paper
    is in 1 to ``CROP_PAPER_PIECES`` such pieces, which together reach all four edges too, and holds
    most of the border. Not so: a shadow or a gradient (two or three edges; taken the other way round,
    the digit lies beyond the shadow, or the paper as ink holds the border), a vignette (four corner
    pieces), grainy paper (not flat), and a box or scanner line along an edge, which frames a digit
    rather than crops it (no side of either tone may be such a line)."""
    small = shrink_for_analysis(grey, _BACKGROUND_SIDE)
    t = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[0]
    dark = small <= t
    if dark.all() or not dark.any():
        return False
    near = max(2, round(_CROP_EDGE * min(small.shape)))
    if min(small.shape) <= 2 * near:
        return False  # a sliver: nothing to crop a digit to
    for paper_tone, ink_is_dark in ((~dark, True), (dark, False)):
        values = small[cv2.erode(paper_tone.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0]
        if values.size == 0:
            continue
        level = int(median_u8(values))
        # numpy, not cv2.absdiff: OpenCV takes a vector of up to four values for a scalar.
        if 1.4826 * median_u8(np.abs(values.astype(np.int16) - level).astype(np.uint8)) > _UNIFORM_SPREAD / 2:
            continue
        ink = small < level - MIN_CONTRAST if ink_is_dark else small > level + MIN_CONTRAST
        beyond = small > level + MIN_CONTRAST if ink_is_dark else small < level - MIN_CONTRAST
        strongest = int(small.min()) if ink_is_dark else int(small.max())
        if abs(strongest - level) < 2 * MIN_CONTRAST or np.count_nonzero(beyond) >= CROP_PIECE * ink.size:
            continue
        if any(_side_lined(outer, inner) for outer, inner in _edges(ink, near)) or _ring_share(ink) >= 0.5:
            continue
        ink_pieces, _, ink_edges = _big_pieces(ink, near)
        paper_pieces, paper_edges, _ = _big_pieces(~ink, near)
        if ink_pieces <= CROP_INK_PIECES and ink_edges and 1 <= paper_pieces <= CROP_PAPER_PIECES and paper_edges:
            return True
    return False


def _big_pieces(mask: np.ndarray, near: int) -> tuple[int, bool, bool]:
    """How many 8-connected pieces of at least ``CROP_PIECE`` of the picture a bool mask has, and
    whether they, and the biggest alone, reach all four edges (within ``near`` pixels)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if n < 2:
        return 0, False, False
    big = np.flatnonzero(stats[1:, cv2.CC_STAT_AREA] >= CROP_PIECE * mask.size) + 1
    kept = np.isin(labels, big)
    together = bool(kept[:near].any() and kept[-near:].any() and kept[:, :near].any() and kept[:, -near:].any())
    x, y, w, h, _ = stats[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))]
    rows, cols = mask.shape
    return len(big), together, bool(x < near and y < near and x + w > cols - near and y + h > rows - near)


def _ring_share(mask: np.ndarray) -> float:
    """The share of the picture's outermost ring of pixels that a bool mask covers."""
    ring = np.ones(mask.shape, bool)
    ring[1:-1, 1:-1] = False
    return float(mask[ring].mean())


def _edges(mask: np.ndarray, depth: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each side's outermost row (or column) of a mask, with the one ``depth`` pixels in from it."""
    top, bottom = (mask[0], mask[depth]), (mask[-1], mask[-1 - depth])
    return [top, bottom, (mask[:, 0], mask[:, depth]), (mask[:, -1], mask[:, -1 - depth])]


def _side_lined(outer: np.ndarray, inner: np.ndarray) -> bool:
    """Whether a line runs along a side (bool rows from :func:`_edges`): most of the outermost row is
    one tone and most of the row further in the other (``_LINED``)."""
    o, i = float(outer.mean()), float(inner.mean())
    return (o >= _LINED and i <= 1 - _LINED) or (o <= 1 - _LINED and i >= _LINED)


def _one_stroke(ink: np.ndarray) -> bool:
    """Whether ``ink`` (bool, at least as tall as wide) is one stroke cropped to: it runs the length
    (its faint ends may fall on the paper side), with paper beside it on both sides, and nearly every
    row between its ends crosses it once."""
    rows = np.flatnonzero(ink.any(axis=1))
    slack = max(2, round(_END_SLACK * len(ink)))
    if rows.size == 0 or rows[0] >= slack or rows[-1] < len(ink) - slack or ink[:, 0].all() or ink[:, -1].all():
        return False
    ink = ink[rows[0] : rows[-1] + 1]
    crossings = np.count_nonzero(np.diff(ink.astype(np.int8), axis=1) == 1, axis=1) + ink[:, 0]
    return np.count_nonzero(crossings != 1) <= (1 - _CROSSED_ONCE) * len(crossings)


def median_u8(values: np.ndarray) -> float:
    """Median of uint8 values via a histogram (several times faster than np.median on big images)."""
    hist = cv2.calcHist([values.reshape(-1, 1)], [0], None, [256], [0, 256]).ravel()
    cumulative = np.cumsum(hist)
    return float(np.searchsorted(cumulative, cumulative[-1] / 2.0))


def _background_tone(dark: np.ndarray) -> bool:
    """Whether the dark tone of a two-tone tight crop is the background.

    The border ring decides when one tone holds three quarters of it. Otherwise (a bold digit
    touching its frame) the digit is the tone in fewer pieces: a digit is one or two strokes,
    while the background around it is cut into several regions plus the holes. With as many pieces
    of each (box sides in from the edge: the paper outside them is a piece), a tone covering
    ``_MOSTLY`` of the picture is the background; else the tone the border holds more of than the
    picture does.
    """
    ring_dark = _ring_share(dark)
    if ring_dark >= 0.75 or ring_dark <= 0.25:
        return ring_dark >= 0.75
    lined = _lined_sides(dark)
    if lined is not None:
        return lined
    min_area = max(2, dark.size // 200)
    pieces = []
    for tone in (dark, ~dark):
        _, _, stats, _ = cv2.connectedComponentsWithStats(tone.astype(np.uint8), connectivity=8)
        pieces.append(int(np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] >= min_area)))
    if pieces[0] != pieces[1]:
        return pieces[0] > pieces[1]
    if max(float(dark.mean()), float((~dark).mean())) >= _MOSTLY:
        return float(dark.mean()) > 0.5
    return ring_dark / float(dark.mean()) > (1.0 - ring_dark) / float((~dark).mean())


def _lined_sides(dark: np.ndarray) -> bool | None:
    """Whether the dark tone is the background, judged from the border without the sides that a
    box or scanner line covers (None when no line does, or the rest of the border does not say).

    A line right on the edge makes most of a side of the border (``_LINED``) one tone, with the
    other tone just inside it; that tone is ink, so the rest of the border must show the other one
    as background.
    """
    depth = max(2, round(_LINE_DEPTH * min(dark.shape)))
    lined, rest = [], []
    for outer, inner in _edges(dark, depth):
        if _side_lined(outer, inner):
            lined.append(float(outer.mean()) >= 0.5)
        else:
            rest.append(outer)
    if not lined or len(rest) < 2 or len(set(lined)) > 1:
        return None
    rest_dark = float(np.concatenate(rest).mean())
    if 0.25 < rest_dark < 0.75 or (rest_dark >= 0.75) == lined[0]:
        return None  # undecided, or the "line" would be background: a margin beside a bold stroke
    return rest_dark >= 0.75


def _colour_distance(img: np.ndarray, two_tone: bool = False) -> np.ndarray:
    """Per pixel, the largest channel difference from the background colour (polarity-free)."""
    bg = _background_colour(img, two_tone)
    if img.ndim == 2:
        return cv2.absdiff(img, np.full_like(img, int(round(float(bg[0])))))
    diff = cv2.absdiff(img, np.full_like(img, 0) + np.round(bg).astype(np.uint8))
    return np.max(diff, axis=2)


def _lighting(grey: np.ndarray, dark_ink: bool | None = None) -> tuple[np.ndarray, bool] | None:
    """Lighting estimate (float32, full size) and whether the ink is darker than the paper,
    when the background is uneven; None when it is uniform. ``dark_ink`` overrides the vote on
    the ink's polarity.

    Everything runs on a ~128-pixel thumbnail. A median over windows half the image wide sees
    past strokes of either polarity and tells whether the light is uneven and which way the ink
    goes (unless a picture of two tones tells it by its border: ``_paper_at_the_border``). The
    estimate itself is a morphological closing (opening for light ink) with a kernel a few stroke
    widths wide: it erases the strokes but, unlike a wide median, follows the hard edge of a shadow.
    """
    h, w = grey.shape
    if min(h, w) < _MIN_SIDE_FOR_FLATTENING:
        return None
    scale = _BACKGROUND_SIDE / max(h, w)
    small_size = (max(3, round(w * scale)), max(3, round(h * scale)))
    # A whole-factor shrink first (OpenCV's fast path), then the small remainder.
    small = cv2.resize(shrink_for_analysis(grey, 2 * _BACKGROUND_SIDE), small_size, interpolation=cv2.INTER_AREA)
    if _border_spread(small) <= _UNIFORM_SPREAD / 2:  # first: it is cheaper than the wide median
        return None
    k = max(3, int(min(small.shape) * 0.5) | 1)
    median = cv2.medianBlur(small, k)
    lo, hi = np.percentile(median, [2, 98])
    if hi - lo <= _UNIFORM_SPREAD:
        return None
    residual = small.astype(np.int16) - median
    strong = max(12, int(4.0 * 1.4826 * median_u8(cv2.convertScaleAbs(residual))))
    darker_mask = (residual < -strong).astype(np.uint8)
    lighter_mask = (residual > strong).astype(np.uint8)
    if dark_ink is None:
        tones = _two_tones(small)
        dark_ink = None if tones is None else _paper_at_the_border(small <= tones[0])
    if dark_ink is None:
        dark_ink = int(-residual[darker_mask > 0].sum()) >= 0.5 * int(residual[lighter_mask > 0].sum())
    ink_mask = darker_mask if dark_ink else lighter_mask
    found = cv2.countNonZero(ink_mask) > 0
    if not found and dark_ink and _two_tones(small) is None:
        # Nothing stands out of the wide median, in one continuous tone (a blank page, a digit small
        # in a big photo): that is the light, which a closing a quarter as wide follows into the corners
        # of a vignette where the wide median lags; the lag along the border was dark ink (26 of 60
        # blank pages read as a digit). Strokes as wide as the closing stand out of it only in part:
        # measured there, a wider stroke gets a wider closing.
        size = k // 4 | 1
        while True:
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
            background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel, borderType=cv2.BORDER_REPLICATE)
            stands = (small.astype(np.int16) - background < -strong).astype(np.uint8)
            wider = _closing_size(stands) if stands.any() else 0
            if size >= k or wider <= size:
                break
            size = min(k, wider) | 1
        background = cv2.GaussianBlur(background, (0, 0), 1.0)
    elif not found:
        background = cv2.GaussianBlur(median, (0, 0), k / 4)
    else:
        # The stroke's width is measured at half the ink's typical contrast (its true edge); the
        # mask above is cut at a level set by the noise, which on grainy paper is most of the way to the ink.
        ink_level = float(np.median(residual[ink_mask > 0]))
        half = (residual < 0.5 * ink_level) if dark_ink else (residual > 0.5 * ink_level)
        size = min(k, _closing_size(half.astype(np.uint8))) | 1
        operation = cv2.MORPH_CLOSE if dark_ink else cv2.MORPH_OPEN
        inner = _inner_pieces(half.astype(np.uint8)) > 0  # a shadow from the border is lighting, not ink
        while True:
            kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
            background = cv2.morphologyEx(small, operation, kernel, borderType=cv2.BORDER_REPLICATE)
            if size >= k:
                break
            # The estimate must leave the ink out. On grainy paper a bold print's mask is ragged and
            # pinholed, its perimeter makes the stroke look thin, and a kernel sized by it takes in
            # part of the stroke: then a wider kernel is tried.
            against = small.astype(np.int16) - background
            gone = np.abs(against)[inner] < 0.5 * abs(ink_level)
            wider = [2 * size - 1] if np.count_nonzero(gone) > _ABSORBED * np.count_nonzero(inner) else []
            # A bold digit filling much of the wide median's window shows only part of its strokes
            # against it: measured again against this estimate, a wider stroke needs a wider kernel (a
            # 7's bar that the picture's edge cuts is out of the check above, and was taken in).
            again = (against < 0.5 * ink_level) if dark_ink else (against > 0.5 * ink_level)
            wider.append(_closing_size(again.astype(np.uint8)))
            if max(wider) <= size:
                break
            size = min(k, max(wider)) | 1
        background = cv2.GaussianBlur(background, (0, 0), 1.0)
    return cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32), dark_ink


def _closing_size(strokes: np.ndarray) -> int:
    """The width of a closing that erases the strokes of a 0/1 mask: a few widths of its largest piece's stroke."""
    return int(np.ceil(2.5 * stroke_width(_largest_piece(strokes)))) + 2


def _paper_at_the_border(dark: np.ndarray) -> bool | None:
    """Whether the ink is dark, when the border of a picture of two tones (``dark``: its dark tone)
    says, else None: a photo's border is paper, so the tone that holds most of it is the paper. A
    bold digit filling much of the picture outvotes the paper in the wide median, never along the
    border. The other tone must be strokes (at most ``_TONE_STROKE`` of the picture's shorter side
    wide): lit and shaded paper are two tones too."""
    share = _ring_share(dark)
    if _PAPER_BORDER_UNSURE < share < 1.0 - _PAPER_BORDER_UNSURE:
        return None
    ink = dark if share < 0.5 else ~dark
    width = stroke_width(_largest_piece(cv2.medianBlur(ink.astype(np.uint8), 5)))
    return share < 0.5 if width <= _TONE_STROKE * min(dark.shape) else None


def _inner_pieces(mask: np.ndarray) -> np.ndarray:
    """The 8-connected pieces of a 0/1 mask that keep clear of the image border."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    x, y, bw, bh = (stats[:, i] for i in range(4))
    h, w = mask.shape
    inner = (x > 0) & (y > 0) & (x + bw < w) & (y + bh < h)
    inner[0] = False
    return inner[labels].astype(np.uint8)


def _largest_piece(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected piece of a 0/1 mask: its stroke width is the digit's, not that of grain specks around it."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 2:
        return mask
    return (labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))).astype(np.uint8)


def _border_spread(small: np.ndarray) -> float:
    """How much the background varies along the image border, ignoring up to 40% ink there.

    A big bold digit fools the median test above, but leaves the border uniform; uneven light
    (a gradient, a shadow across the page) shows along the border too. A shadow over one corner
    darkens less than 40% of the border, so the percentiles miss it; it is recognised as one long
    dark stretch of the border (read as a loop) around a corner, which strokes crossing the
    border never make.

    A box or scanner line along one or two edges darkens whole sides of the border too, but only
    a thin strip of it: the pixel most like paper a little way in from each border pixel (the
    lightest where the ink is dark) is paper again, while light and shadow reach that far.
    """
    h, w = small.shape
    band = max(1, round(0.03 * min(h, w)))
    ring = _ring(small, band, np.mean)
    spread = _ring_spread(ring, band, h, w)
    if spread <= _UNIFORM_SPREAD / 2:
        return spread
    # The ink pulls the image's mean away from its median (the paper): darker ink, lighter paper.
    paper_like = np.max if float(small.mean()) <= median_u8(small) else np.min
    deep = max(2, round(_LINE_DEPTH * min(h, w)))
    return min(spread, _ring_spread(_ring(small, deep, paper_like), band, h, w))


def _ring(small: np.ndarray, depth: int, reduce) -> np.ndarray:
    """The border as a loop (top, right, bottom, left), each pixel ``reduce``d over ``depth`` pixels inwards."""
    top, bottom = reduce(small[:depth], axis=0), reduce(small[-depth:], axis=0)[::-1]
    left, right = reduce(small[:, :depth], axis=1)[::-1], reduce(small[:, -depth:], axis=1)
    return np.concatenate([top, right, bottom, left]).astype(np.float32)


def _ring_spread(ring: np.ndarray, band: int, h: int, w: int) -> float:
    """The spread of a border loop (see :func:`_border_spread`)."""
    p10, p40, p60, p90 = np.percentile(ring, [10, 40, 60, 90])
    spread = float(min(p60 - p10, p90 - p40))
    if spread > _UNIFORM_SPREAD / 2:
        return spread
    # A running median half a side long erases strokes crossing the border, keeps a shadow's stretch.
    window = max(3, round(0.5 * min(h, w)) | 1)
    looped = np.concatenate([ring[-(window // 2) :], ring, ring[: window // 2]])
    smooth = np.median(np.lib.stride_tricks.sliding_window_view(looped, window), axis=1)
    lo, hi = np.percentile(smooth, [2, 98])
    dark = smooth < (lo + hi) / 2
    if hi - lo <= _UNIFORM_SPREAD / 2 or dark.all():
        return spread
    # Rotate the loop to start in the light, then the dark stretches are the runs of ``dark``.
    start = int(np.argmin(dark))
    rolled = np.roll(dark, -start).astype(np.int8)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], rolled, [0]])))
    runs = list(zip(edges[::2], edges[1::2]))
    corners = (np.array([0, w, w + h, 2 * w + h]) - start) % len(ring)
    if len(runs) == 1:
        a, b = runs[0]
        if b - a >= 0.25 * min(h, w) and any(a + band <= c <= b - band for c in corners):
            return float(hi - lo)
    return spread


def _flattened(grey: np.ndarray, background: np.ndarray, dark_ink: bool) -> np.ndarray:
    """Difference from the lighting estimate, in the ink's polarity.

    Dark ink is measured relative to the local paper brightness (division), so a digit in a
    shadow is as strong as one in the light; light ink on a dark ground uses the plain difference.
    """
    residual = cv2.subtract(grey.astype(np.float32), background)
    if dark_ink:
        return cv2.convertScaleAbs(cv2.divide(cv2.max(-residual, 0.0), cv2.max(background, 16.0), scale=255.0))
    return cv2.convertScaleAbs(cv2.max(residual, 0.0))


def _threshold(d: np.ndarray, source: str, textured: bool = False, cropped: bool = False, small_ink: bool = False) -> InkMap:
    """Scale a difference map so the ink threshold lands at INK_LEVEL; decide blank or noise."""
    otsu = cv2.threshold(d, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[0]
    # Noise is measured on the background side of Otsu's split, so a bold digit filling half of
    # a tight crop does not count as noise (for a blank image this underestimates it ~2x).
    hist = cv2.calcHist([d], [0], None, [256], [0, 256]).ravel()
    if min(d.shape) < _MIN_SIDE_FOR_FLATTENING or cropped:
        # In a tight crop blown up from a low-resolution scan, the ink's soft edge can be most of
        # the background side: measure away from it.
        near_ink = cv2.dilate((d > otsu).astype(np.uint8), np.ones((3, 3), np.uint8))
        inner = cv2.calcHist([d], [0], 1 - near_ink, [256], [0, 256]).ravel()
        if inner[: int(otsu) + 1].sum() >= _MIN_INNER_BACKGROUND * d.size:
            hist = inner
    cumulative = np.cumsum(hist[: int(otsu) + 1])
    noise = 1.4826 * float(np.searchsorted(cumulative, cumulative[-1] / 2.0)) if cumulative[-1] > 0 else 0.0
    peak = float(d.max())
    if textured or small_ink or noise > MAX_BACKGROUND_NOISE:
        return _threshold_textured(d, source, noise, small_ink)
    if peak < max(MIN_CONTRAST, 4.0 * noise + 8.0):
        return InkMap(np.zeros_like(d), source, "blank", peak, noise)
    # Keep Otsu's choice within sane bounds: above the noise, and between a quarter and
    # three quarters of the strongest ink (Otsu returns 0 on a two-level image).
    t = min(max(float(otsu), 3.0 * noise + 6.0, 0.25 * peak, MIN_CONTRAST / 2), 0.75 * peak)
    # Values well under the threshold are noise or faint halo: zero keeps the background clean.
    kept = cv2.threshold(d, int(np.ceil(0.5 * t)) - 1, 0, cv2.THRESH_TOZERO)[1]
    ink = cv2.convertScaleAbs(kept, alpha=INK_LEVEL / t)
    return InkMap(ink, source, "ok", peak, noise)


def _threshold_textured(d: np.ndarray, source: str, noise: float, small_ink: bool = False) -> InkMap:
    """Threshold a difference map whose whole background varies (paper grain, JPEG noise, dithering).

    Grain is fine and random, a pen or marker stroke is wide and coherent: after a median and a
    Gaussian a few pixels wide, grain is a uniform grey level with a small spread while a stroke
    keeps its contrast. The ink is what stands far out of that spread. Coarse grain needs a wider
    Gaussian, which only a bold stroke survives: the scales are tried from fine to coarse, split by
    Otsu's method. Only when the ink stands out at none of them is the image texture.

    ``small_ink``: the plain threshold found ink with grain all around it. A digit small in a big
    photo is then too few pixels for Otsu, which splits the grain itself: at the two finer scales
    (the coarsest leaves a small digit a blob), the split over the grain's ceiling is tried next
    (``_over_the_grain``). Only then: in a first look, a bold digit the lighting estimate took in
    stands out only in parts, which would pass for a small digit, and the other looks before
    "noise" would find the grain's own highest flecks.
    """
    base = cv2.medianBlur(d, 5)
    sigmas = [s for s in _TEXTURE_SIGMAS if s == _TEXTURE_SIGMAS[0] or s <= min(d.shape) / _MIN_SIDES_PER_SIGMA]
    for sigma in sigmas:
        smooth = cv2.GaussianBlur(base, (0, 0), sigma)
        bias, spread = _grain_level(smooth)
        level = _otsu_split(smooth, bias, spread)
        if level is None and small_ink and sigma < _TEXTURE_SIGMAS[-1]:
            level = _over_the_grain(smooth, bias, spread)
        if level is not None:
            break
    else:
        return InkMap(np.zeros_like(d), source, "noise", float(d.max()), noise)
    peak = float(smooth.max()) - bias
    t = min(max(level - bias, 4.0 * spread, 0.25 * peak, MIN_CONTRAST / 2), 0.75 * peak)
    lifted = cv2.subtract(smooth, np.full_like(smooth, int(bias)))
    kept = cv2.threshold(lifted, int(np.ceil(0.5 * t)) - 1, 0, cv2.THRESH_TOZERO)[1]
    return InkMap(cv2.convertScaleAbs(kept, alpha=INK_LEVEL / t), source, "ok", peak, spread, textured=True)


def _two_tones(img: np.ndarray) -> tuple[int, int] | None:
    """Otsu's split of a uint8 picture and the peak of its lower tone, when its histogram has two
    peaks with a deep valley between them (at most ``_VALLEY`` of the lower peak: a bold digit and its
    paper), else None (one tone, or a continuum: grain, light falloff)."""
    otsu = int(cv2.threshold(img, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[0])
    if otsu >= 255:
        return None
    hist = cv2.GaussianBlur(cv2.calcHist([img], [0], None, [256], [0, 256]).reshape(256, 1), (1, 0), 2.0).ravel()
    low, high = int(np.argmax(hist[: otsu + 1])), otsu + 1 + int(np.argmax(hist[otsu + 1 :]))
    return (otsu, low) if hist[low : high + 1].min() <= _VALLEY * min(hist[low], hist[high]) else None


def _grain_level(smooth: np.ndarray) -> tuple[float, float]:
    """The smoothed grain's typical level and spread: the median and its absolute deviation, unless
    ink lifts them: a bold digit covering a third of the picture lifts the median to the grain's
    highs and the deviation towards the ink. Then (two tones, the grain's and the ink's) they come
    from the grain's peak and the values below it: ink lies above the grain only."""
    tones = _two_tones(smooth)
    if tones is not None and tones[1] > 0:
        peak = tones[1]
        return float(peak), max(1.0, 1.4826 * median_u8(peak - smooth[smooth <= peak]))
    bias = median_u8(smooth)
    return bias, max(1.0, 1.4826 * median_u8(cv2.absdiff(smooth, np.full_like(smooth, int(bias)))))


def _stands_out(values: np.ndarray, bias: float, spread: float) -> bool:
    """Whether ink of these values stands far out of smoothed grain of this level and spread."""
    return values.size > 0 and float(np.median(values)) - bias >= max(MIN_CONTRAST, _STANDS_OUT * spread)


def _otsu_split(smooth: np.ndarray, bias: float, spread: float) -> float | None:
    """Otsu's split of smoothed grain and ink, where what lies above it is ink standing out."""
    otsu = cv2.threshold(smooth, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[0]
    above = smooth[smooth > otsu]
    return float(otsu) if above.size <= 0.5 * smooth.size and _stands_out(above, bias, spread) else None


def _over_the_grain(smooth: np.ndarray, bias: float, spread: float) -> float | None:
    """A split over the grain's ceiling, where ink standing out lies above it.

    Grain reaches about the same height in every part of the picture, so the highest values of a
    grid of tiles are alike, while a digit lifts the few tiles it spans far out of them: the grain's
    ceiling is the tiles' typical highest value plus a few of their spreads. The split lies halfway
    between it and the ink, so the grain's highest specks stay faint.
    """
    # Along the picture's edges the lighting estimate and the blur leave their own highs: not looked at.
    rim = int(np.ceil(_GRAIN_RIM * min(smooth.shape)))
    inner = smooth[rim : smooth.shape[0] - rim, rim : smooth.shape[1] - rim]
    h, w = inner.shape
    n = min(_GRAIN_TILES, h, w)
    if n < 1:
        return None
    rows, cols = np.linspace(0, h, n + 1, dtype=int), np.linspace(0, w, n + 1, dtype=int)
    tops = np.array([inner[rows[i] : rows[i + 1], cols[j] : cols[j + 1]].max() for i in range(n) for j in range(n)], float)
    middle = float(np.median(tops))
    ceiling = middle + _GRAIN_CEILING * max(1.0, 1.4826 * float(np.median(np.abs(tops - middle))))
    ink = inner[inner > ceiling]
    if ink.size < _GRAIN_CEILING_INK * smooth.size or not _stands_out(ink, bias, spread):
        return None
    return (ceiling + float(np.median(ink))) / 2
