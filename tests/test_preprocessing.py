"""Unit tests of each preprocessing step and of the whole pipeline on controlled inputs."""

from __future__ import annotations

import gzip

import cv2
import numpy as np
import pytest

from preprocessing import (
    BLANK_REASON,
    INK_LEVEL,
    NOISE_REASON,
    SPECKS_REASON,
    Preprocessed,
    analyse_ink,
    extract_ink,
    find_digit_box,
    preprocess,
    select_digit,
    stroke_width,
    thin,
    to_mnist,
)
from preprocessing.components import remove_lines
from preprocessing.normalize import SLANT_LIMIT, centre_by_mass, limit_slant
from preprocessing.stroke import bridge_gaps
from tests.corpus import _MARKERS, _PAPERS, PEN_DESIGNS, _grain, _jpeg, draw_strokes, font_digit, pen_digit
from tests.corpus import _lighting as corpus_lighting
from tests.digit_images import STROKES

# ---------------------------------------------------------------------------------------------
# helpers


def coverage(label: int = 3, size: int = 280, height: float = 190, width: float = 18, centre=None, style: int = 0) -> np.ndarray:
    """A clean pen-drawn digit as float coverage 0..1."""
    centre = centre if centre is not None else (size / 2, size / 2)
    return pen_digit(label, None, size, height, width, centre, style)


def white_on_black(cov: np.ndarray) -> np.ndarray:
    return np.round(cov * 255).astype(np.uint8)


def black_on_white(cov: np.ndarray) -> np.ndarray:
    return np.round(255 * (1 - cov)).astype(np.uint8)


def canvas_rgba(cov: np.ndarray) -> np.ndarray:
    """What streamlit-drawable-canvas returns: RGB all zero, the drawing only in alpha."""
    image = np.zeros(cov.shape + (4,), np.uint8)
    image[:, :, 3] = np.round(cov * 255).astype(np.uint8)
    return image


def on_colours(cov: np.ndarray, background, ink) -> np.ndarray:
    bg = np.asarray(background, np.float32)
    fg = np.asarray(ink, np.float32)
    return np.round(bg * (1 - cov[:, :, None]) + fg * cov[:, :, None]).astype(np.uint8)


def centre_of_mass(digit: np.ndarray) -> tuple[float, float]:
    """(x, y) centre of mass, pixel-index convention: sum(index * value) / sum(value)."""
    w = digit.astype(np.float64)
    idx = np.arange(digit.shape[0])
    total = w.sum()
    return float((w.sum(axis=0) * idx).sum() / total), float((w.sum(axis=1) * idx).sum() / total)


def bbox(digit: np.ndarray, level: int = 0) -> tuple[int, int]:
    """(width, height) of the pixels above ``level``."""
    ys, xs = np.nonzero(digit > level)
    return int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised correlation of two 28x28 images (1 = identical up to brightness)."""
    a = a.astype(np.float64).ravel() - a.mean()
    b = b.astype(np.float64).ravel() - b.mean()
    return float(a @ b / np.sqrt((a @ a) * (b @ b)))


def digit_of(image: np.ndarray) -> np.ndarray:
    result = preprocess(image)
    assert result.digit is not None, result.reason
    return result.digit


# ---------------------------------------------------------------------------------------------
# the output follows MNIST's conventions


@pytest.mark.parametrize("label", range(10))
def test_output_is_mnist_like(label):
    result = preprocess(canvas_rgba(coverage(label)))
    assert isinstance(result, Preprocessed)
    assert result.reason is None
    digit = result.digit
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    assert digit.max() == 255, "the stroke core is saturated like MNIST's"
    # The digit's box: longer side 19-20 px (MNIST's 20x20 box), never more on either side.
    w, h = bbox(digit)
    assert 19 <= max(w, h) <= 20 and min(w, h) <= 20
    # Centre of mass at (14, 14) within half a pixel (MNIST's own average is (14.0, 14.0)).
    cx, cy = centre_of_mass(digit)
    assert abs(cx - 14) <= 0.5 and abs(cy - 14) <= 0.5
    # The background stays black: ink only around the digit.
    assert digit[0].max() == 0 or digit[:, 0].max() == 0 or digit[-1].max() == 0


def test_centre_of_mass_for_lopsided_shapes():
    # A 7 has most of its ink at the top right: the box is not centred, the mass is.
    for label in (7, 4, 1, 9):
        digit = digit_of(white_on_black(coverage(label, centre=(60, 90), height=110)))
        cx, cy = centre_of_mass(digit)
        assert abs(cx - 14) <= 0.5 and abs(cy - 14) <= 0.5, (label, cx, cy)


def test_centre_by_mass_moves_by_whole_pixels():
    box = np.zeros((20, 10), np.uint8)
    box[:, 7:] = 255  # all mass at the right edge
    out = centre_by_mass(box)
    assert out.shape == (28, 28)
    assert int(out.sum()) == int(box.sum()), "an integer shift keeps every pixel's value"
    cx, cy = centre_of_mass(out)
    assert abs(cx - 14) <= 0.5 and abs(cy - 14) <= 0.5


def test_wide_digit_fits_the_box_by_its_width():
    cov = np.zeros((200, 300), np.float32)
    cv2.line(cov, (20, 100), (280, 100), 1.0, 12)
    cv2.line(cov, (20, 70), (20, 130), 1.0, 12)
    digit = digit_of(white_on_black(cov))
    w, h = bbox(digit)
    assert 19 <= w <= 20 and h < 10


# ---------------------------------------------------------------------------------------------
# where the ink comes from


def test_polarity_white_on_black_equals_black_on_white():
    cov = coverage(5)
    a = digit_of(white_on_black(cov))
    b = digit_of(black_on_white(cov))
    assert similarity(a, b) > 0.98
    assert np.abs(a.astype(int) - b.astype(int)).mean() < 4


def test_canvas_alpha_only_ink():
    cov = coverage(2)
    canvas = canvas_rgba(cov)
    assert canvas[:, :, :3].max() == 0, "RGB carries nothing: black ink on transparent"
    a = digit_of(canvas)
    b = digit_of(white_on_black(cov))
    assert similarity(a, b) > 0.98


def test_canvas_with_coloured_ink_on_transparent():
    cov = coverage(8)
    canvas = canvas_rgba(cov)
    canvas[:, :, :3] = (30, 60, 220)  # blue pen, still transparent around it
    assert similarity(digit_of(canvas), digit_of(white_on_black(cov))) > 0.98


def test_opaque_rgba_uses_the_colours():
    cov = coverage(6)
    image = np.dstack([on_colours(cov, (255, 255, 255), (0, 0, 0)), np.full(cov.shape, 255, np.uint8)])
    assert similarity(digit_of(image), digit_of(white_on_black(cov))) > 0.98


@pytest.mark.parametrize(
    "background, ink",
    [((255, 230, 0), (30, 40, 200)), ((0, 0, 0), (255, 255, 255)), ((20, 90, 30), (250, 250, 120)),
     ((200, 40, 40), (255, 240, 240)), ((128, 128, 128), (0, 0, 0))],
    ids=["blue-on-yellow", "white-on-black", "yellow-on-green", "pink-on-red", "black-on-grey"],
)
def test_coloured_backgrounds(background, ink):
    cov = coverage(4)
    reference = digit_of(white_on_black(cov))
    assert similarity(digit_of(on_colours(cov, background, ink)), reference) > 0.97


def test_extract_ink_is_bright_ink_on_zero():
    cov = coverage(0)
    ink = extract_ink(black_on_white(cov))
    assert ink.dtype == np.uint8 and ink.shape == cov.shape
    assert ink[cov < 0.05].max() == 0, "background is exactly 0"
    assert (ink[cov > 0.95] >= INK_LEVEL).all(), "the stroke core is ink"


def test_uneven_lighting_gradient_and_specks():
    size = 400
    cov = coverage(3, size=size, height=240, width=16)
    yy, xx = np.mgrid[0:size, 0:size] / size
    light = 1.0 - 0.55 * xx - 0.15 * yy  # bright top left, dark bottom right
    paper = np.array([235, 225, 200], np.float32)
    pen = np.array([40, 40, 90], np.float32)
    image = (paper * (1 - cov[:, :, None]) + pen * cov[:, :, None]) * light[:, :, None]
    specks = [(30, 40), (360, 50), (40, 350), (370, 370), (200, 385)]
    for x, y in specks:
        cv2.circle(image, (x, y), 2, (30, 30, 30), -1)
    rng = np.random.default_rng(0)
    image = np.clip(image + rng.normal(0, 4, image.shape), 0, 255).astype(np.uint8)
    result = preprocess(image)
    assert result.digit is not None, result.reason
    for x, y in specks:
        assert result.steps["cleaned"][y - 3 : y + 4, x - 3 : x + 4].max() == 0, f"speck at {(x, y)} kept"
    # The darkest corner (bottom right) of the flattened ink map holds no ink.
    assert (result.steps["ink"][300:, 300:] >= INK_LEVEL).mean() < 0.01
    assert similarity(result.digit, digit_of(white_on_black(cov))) > 0.95


def test_shadow_across_the_digit():
    size = 360
    cov = coverage(7, size=size, height=220, width=14)
    image = 230 * (1 - cov) + 40 * cov
    image[:, size // 2 :] *= 0.55  # a hard shadow over the right half
    digit = digit_of(np.clip(image, 0, 255).astype(np.uint8))
    assert similarity(digit, digit_of(white_on_black(cov))) > 0.93


def test_big_bold_digit_on_plain_paper_is_not_flattened():
    # A digit this bold fools a median background estimate; the uniform border says the light is even.
    cov = coverage(4, size=220, height=200, width=45)
    image = black_on_white(cov)
    ink = analyse_ink(image)
    assert ink.source == "uniform"
    mask, truth = ink.ink >= INK_LEVEL, cov > 0.5
    assert (mask & truth).sum() / (mask | truth).sum() > 0.97


def test_frame_around_the_digit_is_dropped():
    cov = coverage(2)
    framed = cov.copy()
    cv2.rectangle(framed, (5, 5), (274, 274), 1.0, 3)
    assert similarity(digit_of(black_on_white(framed)), digit_of(black_on_white(cov))) > 0.98


@pytest.mark.parametrize("crumb", [((9, 6), (11, 12)), ((15, 19), (19, 14)), ((7, 10), (7, 17))])
def test_a_thin_0_broken_open_in_a_tiny_crop_is_no_frame(classifier, crumb):
    # A 1-px 0 open at the top, cropped to 27 px, a crumb of another stroke inside it: the arc spans most
    # of the crop like a frame with ink inside, but a frame is a closed outline. (Taken for one, the arc
    # was dropped and the crumb alone read as 1 or 3.)
    image = np.full((27, 27), 255, np.uint8)
    cv2.ellipse(image, (13, 13), (9, 13), 0, 300, 600, 0, 1)
    cv2.line(image, *crumb, 0, 1)
    result = preprocess(image)
    assert result.ok and result.box[3] >= 24, result.box
    assert classifier.predict(image).digit == 0


def test_a_closed_frame_around_the_digit_in_a_small_crop_is_still_dropped():
    cov = coverage(3, size=60, height=40, width=4)
    framed = cov.copy()
    cv2.rectangle(framed, (2, 2), (57, 57), 1.0, 1)
    assert similarity(digit_of(black_on_white(framed)), digit_of(black_on_white(cov))) > 0.98


def test_ruled_line_along_the_edge_is_dropped():
    cov = coverage(1, height=180)
    ruled = cov.copy()
    cv2.line(ruled, (0, 270), (279, 272), 1.0, 4)
    assert similarity(digit_of(black_on_white(ruled)), digit_of(black_on_white(cov))) > 0.98


# Digits drawn in pieces that do not touch (design units, see tests.corpus.PEN_DESIGNS), and
# the same digit drawn in one go.
PIECES = {
    "5-lifted-bar": (
        [[(0.12, -0.1), (0.58, -0.12)], [(0.1, 0.0), (0.05, 0.45)],
         [(0.05, 0.45), (0.3, 0.38), (0.55, 0.52), (0.57, 0.78), (0.38, 0.98), (0.0, 0.9)]],
        PEN_DESIGNS[5][0],
    ),
    "4-two-strokes": (
        [[(0.12, 0.0), (0.02, 0.62)], [(0.02, 0.62), (0.3, 0.62)], [(0.48, 0.05), (0.48, 1.0)]],
        PEN_DESIGNS[4][0],
    ),
    "7-lifted-bar": ([[(-0.1, 0.02), (0.43, 0.0)], [(0.6, 0.0), (0.42, 0.45), (0.25, 1.0)]], PEN_DESIGNS[7][0]),
}


@pytest.mark.parametrize("name", PIECES)
def test_separate_pieces_of_one_digit_are_kept(name):
    pieces, design = PIECES[name]
    whole = draw_strokes(design, 280, 190, 16, (140, 140))
    broken = draw_strokes(pieces, 280, 190, 16, (140, 140))
    n, _ = cv2.connectedComponents((broken > 0.3).astype(np.uint8))
    assert n - 1 >= 2, "the test image really has separate pieces"
    selection = select_digit(extract_ink(white_on_black(broken)))
    x, y, w, h = selection.box
    ys, xs = np.nonzero(broken > 0.5)
    assert x <= xs.min() + 1 and y <= ys.min() + 1 and x + w >= xs.max() and y + h >= ys.max(), "every piece kept"
    result = preprocess(white_on_black(broken))
    kept, _ = cv2.connectedComponents((result.steps["cleaned"] >= INK_LEVEL).astype(np.uint8))
    assert kept == n
    # Moving a piece changes the shape a little, not the digit.
    assert similarity(result.digit, digit_of(white_on_black(whole))) > 0.75


def _skipped_zero(gaps: list[float], skip: float, width: int = 2) -> np.ndarray:
    """A thin-pen 0 on white paper, its ellipse broken at the angles ``gaps`` by ``skip`` degrees each."""
    image = np.full((160, 120), 255, np.uint8)
    ends = sorted(gaps)
    for a, b in zip(ends, ends[1:] + [ends[0] + 360]):
        cv2.ellipse(image, (60, 80), (32, 56), 0, a + skip / 2, b - skip / 2, 0, width, cv2.LINE_AA)
    return image


def test_a_broken_loop_is_bridged_where_its_loose_ends_point_at_each_other():
    arcs = (_skipped_zero([135, 315], 40) < 128).astype(np.uint8)
    assert cv2.connectedComponents(arcs)[0] - 1 == 2, "the test image really has two arcs"
    assert cv2.connectedComponents(bridge_gaps(arcs))[0] - 1 == 1


def test_a_zero_whose_pen_skipped_twice_is_read_as_zero(classifier):
    # Read as a 9 while the gaps were left open.
    for gaps in ([135, 315], [150, 300]):
        assert classifier.predict(_skipped_zero(gaps, 40)).digit == 0


@pytest.mark.parametrize("name", PIECES)
def test_pieces_that_do_not_point_at_each_other_stay_apart(name):
    # A 5's lifted bar, a 4 in two strokes, a 7's bar: close ends, but no stroke runs on into the other.
    mask = (draw_strokes(PIECES[name][0], 280, 190, 16, (140, 140)) > 0.5).astype(np.uint8)
    assert np.array_equal(bridge_gaps(mask), mask)


def test_specks_are_not_bridged():
    mask = np.zeros((80, 50), np.uint8)
    cv2.line(mask, (25, 5), (25, 55), 1, 3)
    mask[62:64, 24:26] = 1  # a speck just below the 1's foot, in line with it
    assert np.array_equal(bridge_gaps(mask), mask)


def test_neighbouring_digit_is_not_swallowed():
    image = np.zeros((200, 400), np.float32)
    image = np.maximum(image, pen_digit(3, None, 400, 150, 12, (130, 100))[:200])
    image = np.maximum(image, pen_digit(8, None, 400, 150, 12, (330, 100))[:200])
    box = find_digit_box(extract_ink(white_on_black(image)))
    assert box is not None and box[2] < 150, "one digit, not the pair"


# ---------------------------------------------------------------------------------------------
# paper texture, colour, shadows, lines and dithering (issue 9)


def grainy_paper(size: int, seed: int, paper=(245, 215, 90)) -> np.ndarray:
    """Float RGB photo of grainy coloured paper (the corpus's texture) under uneven light."""
    rng = np.random.default_rng(seed)
    texture = _grain(rng, size)[:, :, None]
    return (np.asarray(paper, np.float32) + texture) * corpus_lighting(rng, size)[:, :, None]


def photo_jpeg(image: np.ndarray, seed: int, quality: int = 50) -> np.ndarray:
    noise = np.random.default_rng(seed).standard_normal(image.shape).astype(np.float32) * 6
    return _jpeg(np.clip(image + noise, 0, 255).astype(np.uint8), quality)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("label", [0, 1, 4, 7])
def test_marker_on_grainy_paper_is_a_digit(label, seed):
    size = 500
    cov = coverage(label, size=size, height=300, width=32)[:, :, None]
    marker = np.array([30, 40, 140], np.float32)
    image = photo_jpeg(grainy_paper(size, seed) * (1 - cov) + marker * cov, seed)
    result = preprocess(image)
    assert result.digit is not None, result.reason
    assert similarity(result.digit, digit_of(white_on_black(coverage(label, size=size, height=300, width=32)))) > 0.8


def test_a_marker_digit_small_in_a_grainy_photo_is_read(classifier):
    """A marker digit a tenth of a 1200 px photo's height on grainy paper. Otsu's split of the
    grain-smoothed look cut the grain itself (too few digit pixels), so the digit was "noise" or came
    with grain read as its parts: 12 of these 16 were read right, and 4 "noise" or misread. Then a
    blue 1 on yellow paper was left, whose blue channel (where the ink is the brighter) was chosen as
    the contrast channel by its grain; since channels are scored over their grain alone (eighth
    session of 2026-12-07), all 16 are read (and 48 of 48 over seeds 0-11; 47 before)."""
    marker = np.array([30, 40, 140], np.float32)
    wrong = []
    for seed in range(4):
        size, centre = 1200, (400 + 100 * seed, 700 - 60 * seed)
        for label in (0, 1, 4, 7):
            cov = coverage(label, size=size, height=120, width=14, centre=centre)[:, :, None]
            image = photo_jpeg(grainy_paper(size, seed) * (1 - cov) + marker * cov, seed)
            prediction, reading = classifier.predict(image), classifier.read(image)
            if prediction.digit != label or reading.text != str(label):
                wrong.append((label, seed, prediction.digit, prediction.reason, reading.text))
    assert not wrong, wrong


def test_a_green_marker_digit_on_kraft_paper_is_never_noise(classifier):
    """A green marker digit a tenth of a 900 px photo of grainy kraft paper: it differs from the paper
    in hue more than in brightness, and in brightness the grain hid it (3 of these 36 were "noise"). The
    colour plane (CIELAB's a-b) holds next to no grain: the last look before "noise" reads it there."""
    wrong = []
    for seed in range(6):
        for label in (0, 2, 3, 5, 7, 9):
            rng = np.random.default_rng(100 * seed + label)
            cov = coverage(label, size=900, height=110, width=15, centre=(300 + 60 * seed, 450 + 30 * seed))[:, :, None]
            paper = np.array([190, 155, 110], np.float32) + rng.uniform(-10, 10, 3).astype(np.float32)
            texture = _grain(rng, 900)[:, :, None] * 1.3
            marker = np.array([25, 100, 45], np.float32)
            image = ((paper + texture) * (1 - cov) + (marker + 0.4 * texture) * cov) * corpus_lighting(rng, 900)[:, :, None]
            image = photo_jpeg(image, seed)
            prediction, reading = classifier.predict(image), classifier.read(image)
            if prediction.digit != label or reading.text != str(label):
                wrong.append((label, seed, prediction.digit, prediction.reason, reading.text))
    assert not wrong, wrong


@pytest.mark.parametrize("seed", range(4))
def test_grainy_paper_alone_has_no_digit(seed):
    papers = [(245, 215, 90), (200, 160, 110), (235, 190, 200), (190, 190, 185)]
    image = photo_jpeg(grainy_paper(500, 10 + seed, paper=papers[seed]), seed)
    result = preprocess(image)
    assert result.digit is None
    assert result.reason in (NOISE_REASON, BLANK_REASON, SPECKS_REASON)


def marker_filling_the_photo(label: int, seed: int, cut: bool) -> np.ndarray:
    """A phone photo of grainy paper (each paper kind of the corpus) that a bold marker digit fills
    top to bottom, centred or cut by the left or right edge."""
    return marker_filling_the_photo_and_its_ink(label, seed, cut)[0]


def marker_filling_the_photo_and_its_ink(label: int, seed: int, cut: bool) -> tuple[np.ndarray, np.ndarray]:
    """``marker_filling_the_photo`` and the digit's coverage (float 0..1)."""
    rng = np.random.default_rng(seed)
    size = 400
    height = rng.uniform(0.75, 0.9) * size
    cx = size / 2 + (rng.choice([-1, 1]) * rng.uniform(0.12, 0.18) * size if cut else rng.uniform(-10, 10))
    cov = pen_digit(label, None, size, height, height * rng.uniform(0.16, 0.22), (cx, size / 2))[:, :, None]
    low, high = _PAPERS[seed % len(_PAPERS)]
    paper = rng.uniform(low, high).astype(np.float32)
    marker = np.asarray(_MARKERS[(seed // 6) % len(_MARKERS)], np.float32)
    texture = _grain(rng, size)[:, :, None]
    image = ((paper + texture) * (1 - cov) + (marker + 0.4 * texture) * cov) * corpus_lighting(rng, size)[:, :, None]
    return photo_jpeg(image, seed, quality=60), cov[:, :, 0]


@pytest.mark.parametrize("cut", [False, True], ids=["centred", "cut-by-the-edge"])
def test_a_marker_digit_filling_the_photo_is_never_noise(classifier, cut):
    # So much ink that it outvotes the paper where the lighting estimate decides which way the ink
    # goes: read as light ink, the paper's grain was all there was, and the answer was "noise"
    # (before: 3 centred and 7 cut of these 60 read nothing, and predict said noise for 9 and 11).
    # Since the number reader answers "noise" where grain passed and nothing stands out of it smoothed
    # (2026-12-07, sixth session), 3 centred and 4 cut read nothing: read from the grainy map, all 7
    # had been read wrong ("18" for a 5, "83" for a 6). Six are blue or red digits given the colour
    # channel where their ink is the brighter tone (README, "A marker digit small in a big photo").
    # Since the ink map is the digit's strokes (the test below; eighth session of 2026-12-07) 119 of
    # the 120 are read right by both calls, none "noise" (before: 102 by predict, 103 by read; 9
    # "noise", 6 read as nothing). Left: a 7 whose bar the top edge cuts, thicker than the stem, read 1.
    images = [(label, marker_filling_the_photo(label, seed * 7 + label, cut)) for label in range(10) for seed in range(6)]
    texts = [classifier.read(image).text for _, image in images]
    assert texts.count("") == 0
    assert sum(text == str(label) for (label, _), text in zip(images, texts)) >= 0.95 * len(images)
    noise = [label for label, image in images if preprocess(image).digit is None]
    assert not noise, noise


@pytest.mark.parametrize("cut", [False, True], ids=["centred", "cut-by-the-edge"])
def test_the_ink_of_a_marker_digit_filling_the_photo_is_its_strokes(cut):
    """The first look's ink map of a bold marker digit filling a photo under falling light holds its
    strokes, bar and base included, and not its paper. Three things made it something else: the
    colour channel was chosen by a spread that the ink and the light widen most where the ink stands
    out most (a red 8 on green paper looked at in red, where it hardly differs); the wide median
    that decides the ink's polarity sees the ink as the background where it fills half its window
    (an 8 read as its two counters); and the stroke was measured too thin there, so the lighting
    estimate took in a 7's bar that the top edge cuts. Before: 36 of these 120 maps held less than
    85% of the strokes (13 none), 6 took more than 10% of the paper; now one (a 7 whose bar, thicker
    than its stem, is still taken in: 63%), and none more than 1.4% of the paper."""
    off = []
    for label in range(10):
        for seed in range(6):
            image, cov = marker_filling_the_photo_and_its_ink(label, seed * 7 + label, cut)
            ink = analyse_ink(image).ink >= INK_LEVEL
            stroke, paper = float(ink[cov > 0.5].mean()), float(ink[cov < 0.05].mean())
            if stroke < 0.85 or paper > 0.03:
                off.append((label, seed, round(stroke, 2), round(paper, 2)))
    assert len(off) <= 1 and all(paper <= 0.03 for *_, paper in off), off


def boxed_bold_print(label: int, seed: int) -> np.ndarray:
    """A 70-120 px scan crop of a form box: a bold grey print and a thick box line along the top
    and down the right side, which with the digit cover about half the crop."""
    rng = np.random.default_rng(seed)
    size = int(rng.integers(70, 120))
    height = rng.uniform(0.72, 0.85) * size
    centre = (size * rng.uniform(0.42, 0.52), size * rng.uniform(0.5, 0.56))
    cov = font_digit(label, cv2.FONT_HERSHEY_SIMPLEX, rng, size, height, int(rng.integers(14, 20)), centre)
    lines = np.zeros((size, size), np.uint8)
    thickness = max(2, round(size * rng.uniform(0.05, 0.07)))
    top, right = round(size * rng.uniform(0.04, 0.1)), size - 1 - round(size * rng.uniform(0.04, 0.1))
    cv2.line(lines, (-5, top), (size + 5, top), 255, thickness)
    cv2.line(lines, (right, -5), (right, size + 5), 255, thickness)
    cov = np.maximum(cov, lines / 255.0)
    paper, ink = rng.uniform(200, 235), rng.uniform(40, 110)
    return np.clip(paper * (1 - cov) + ink * cov + rng.normal(0, 3, cov.shape), 0, 255).astype(np.uint8)


def test_a_bold_print_in_a_form_box_crop_is_found(classifier):
    # The median of such a crop falls between ink and paper, so every pixel differs from the
    # "background" and the picture looked like noise (before: 7 of these 60 answered "noise").
    images = [(label, boxed_bold_print(label, seed * 10 + label)) for label in range(10) for seed in range(6)]
    assert [label for label, image in images if preprocess(image).digit is None] == []
    right = sum(p.digit == label for (label, _), p in zip(images, classifier.predict_batch([i for _, i in images])))
    assert right >= 0.95 * len(images)


def test_a_bold_digit_cut_by_the_edge_is_not_taken_for_a_shadow():
    # A big piece coming in from the border is taken for the table or a shadow when there is other
    # ink; drawn in strokes, it is the digit (here beside a speck of dust).
    ink = np.zeros((110, 110), np.uint8)
    cv2.putText(ink, "4", (-22, 106), cv2.FONT_HERSHEY_SIMPLEX, 4.5, 255, 30)
    assert np.count_nonzero(ink) >= 0.25 * ink.size and ink[:, 0].any(), "the test digit is big and cut by the edge"
    ink[10:14, 96:100] = 255
    selection = select_digit(ink)
    assert selection.box is not None and selection.box[0] == 0 and selection.box[2] > 40


def _blown_up_16px_scan(digit: str, shown: int, interpolation: int, paper: int, ink: int) -> np.ndarray:
    """A bold pen digit scanned at 16x16, stretched to fill that box, shown at ``shown`` px."""
    big = np.zeros((160, 120), np.uint8)
    for path in STROKES[digit]:
        cv2.polylines(big, [np.array(path, np.int32) + 10], False, 255, 22, cv2.LINE_AA)
    ys, xs = np.nonzero(big)
    box = big[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].astype(np.float32) / 255
    small = cv2.resize(cv2.resize(box, (16, 16), interpolation=cv2.INTER_AREA), (shown, shown), interpolation=interpolation)
    return np.round(paper * (1 - small) + ink * small).astype(np.uint8)


@pytest.mark.parametrize("digit", ["0", "2", "3", "5", "8"])
def test_a_bold_digit_blown_up_from_a_16px_scan_is_found(digit):
    # The digit fills its crop, and the soft or blocky edge of a 16 px scan blown up is most of the
    # background around it: that edge is not paper grain (5s and 8s were answered "noise").
    for shown in (24, 48):
        for interpolation in (cv2.INTER_NEAREST, cv2.INTER_LINEAR):
            for paper, ink in ((215, 40), (60, 200), (235, 90)):
                result = preprocess(_blown_up_16px_scan(digit, shown, interpolation, paper, ink))
                assert result.ok, (shown, interpolation, paper, ink, result.reason)


def _one_cropped_to_its_ink(width: int, blur: float, slant: int, height: int, paper: int = 230, ink: int = 20) -> np.ndarray:
    """A 1 drawn at MNIST's scale, cropped to its ink (where it covers a tenth of a pixel) and shown
    ``height`` px tall: a form's digit boxes cut to their ink, or a dataset's tight crops."""
    cov = np.zeros((28, 28), np.float32)
    cv2.line(cov, (14 + slant, 4), (14 - slant, 23), 1.0, width, cv2.LINE_AA)
    cov = cv2.GaussianBlur(cov, (0, 0), blur)
    ys, xs = np.nonzero(cov > 0.1 * cov.max())
    cov = cov[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1] / cov.max()
    shown = cv2.resize(cov, (max(1, round(cov.shape[1] * height / cov.shape[0])), height), interpolation=cv2.INTER_LINEAR)
    return np.round(paper + (ink - paper) * shown).astype(np.uint8)


def test_a_1_cropped_to_its_own_ink_is_found(classifier):
    # So little paper is left that the stroke's soft edge is most of the paper tone, whose spread
    # then read as grain: 12 of these 180 were answered "noise" (35 of MNIST's first 4,000 test digits
    # cropped tight, all 1s, in benchmarks/stretched_scans.py). Framed with their own paper, they are
    # read; the two left are 4 px wide crops of the blurriest 1s.
    answers = [
        classifier.predict(_one_cropped_to_its_ink(width, blur, slant, height)).digit
        for width in (2, 3, 4)
        for blur in (0.5, 0.8, 1.1)
        for slant in (0, 1, 2, 3)
        for height in (16, 24, 32, 48, 64)
    ]
    assert set(answers) <= {1, None}, answers
    assert answers.count(None) <= 2, answers.count(None)
    # A straight 1 drawn with a round-ended pen fills the crop's border but for its ends, which then
    # passed for paper: the rounded corners were the digit, read as 7 at 90-100% (or as specks).
    for pen, height in ((24, 48), (24, 64), (16, 64), (10, 64)):
        cov = np.zeros((300, 300), np.float32)
        cv2.line(cov, (150, 40), (150, 260), 1.0, pen, cv2.LINE_AA)
        ys, xs = np.nonzero(cov > 0.1)
        cov = cov[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        width = round(cov.shape[1] * height / cov.shape[0])
        image = np.round(230 - 210 * cv2.resize(cov, (width, height), interpolation=cv2.INTER_AREA)).astype(np.uint8)
        prediction = classifier.predict(image)
        assert prediction.digit == 1, (pen, height, prediction.digit, prediction.reason)
    # At 128 px and more too (ink reaching every edge of a picture that size was called "noise").
    big = [
        classifier.predict(_one_cropped_to_its_ink(3, blur, slant, h)).digit
        for blur in (0.5, 1.1)
        for slant in (0, 2)
        for h in (128, 256)
    ]
    assert big == [1] * len(big), big
    light_on_dark = [preprocess(_one_cropped_to_its_ink(3, 0.8, 0, h, paper=25, ink=220)) for h in (24, 48)]
    assert all(r.ok for r in light_on_dark), [r.reason for r in light_on_dark]


def test_narrow_pictures_of_no_digit_are_not_framed_into_one():
    # Framing a narrow tight crop with its paper must not make a digit of grain, noise, stripes or a
    # shadow's edge: each is answered as it is without the frame.
    from unittest import mock

    from preprocessing import pipeline

    rng = np.random.default_rng(0)
    for h, w in [(16, 6), (24, 8), (40, 15), (64, 20), (90, 30)]:
        grain = np.clip(200 + rng.normal(0, 25, (h, w)), 0, 255).astype(np.uint8)
        yellow = np.clip(np.float32([230, 200, 60]) + rng.normal(0, 20, (h, w, 3)), 0, 255).astype(np.uint8)
        rows = np.arange(h, dtype=np.float32)[:, None] * np.ones((1, w), np.float32)
        pictures = {
            "noise": rng.integers(0, 256, (h, w)).astype(np.uint8),
            "grain": grain,
            "smooth grain": cv2.GaussianBlur(grain, (0, 0), 1.5),
            "yellow grain": yellow,
            "stripes": (128 + 100 * np.sin(rows / 2.0)).astype(np.uint8),
            "shadow's edge": np.tile(np.linspace(30, 230, w), (h, 1)).astype(np.uint8),
        }
        for name, picture in pictures.items():
            with mock.patch.object(pipeline, "_framed", lambda img: None):
                unframed = preprocess(picture).ok
            assert preprocess(picture).ok == unframed, (name, h, w)


def test_ink_differing_in_hue_only():
    # Green marker on red paper: nearly the same grey, clearly different colours; uneven light.
    size = 400
    cov = coverage(6, size=size, height=260, width=26)
    yy, xx = np.mgrid[0:size, 0:size] / size
    light = (1.0 - 0.4 * xx)[:, :, None]
    image = (np.float32([200, 60, 60]) * (1 - cov[:, :, None]) + np.float32([40, 140, 50]) * cov[:, :, None]) * light
    grey = cv2.cvtColor(np.clip(image, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
    assert abs(float(grey[cov > 0.9].mean()) - float(grey[cov < 0.1].mean())) < 40, "the test image is low-contrast in grey"
    assert similarity(digit_of(np.clip(image, 0, 255).astype(np.uint8)), digit_of(white_on_black(cov))) > 0.9


@pytest.mark.parametrize("corner", range(4))
def test_shadow_over_a_corner_is_not_ink(corner):
    size = 400
    cov = coverage(2, size=size, height=220, width=10)
    image = 235 * (1 - cov) + 40 * cov
    yy, xx = np.mgrid[0:size, 0:size] / size
    u, v = (xx if corner % 2 == 0 else 1 - xx), (yy if corner < 2 else 1 - yy)
    image *= 1 - 0.5 / (1 + np.exp(-(0.4 - u - v) / 0.03))
    result = preprocess(np.clip(image, 0, 255).astype(np.uint8))
    assert result.digit is not None, result.reason
    assert similarity(result.digit, digit_of(white_on_black(cov))) > 0.95


@pytest.mark.parametrize("side", ["top", "bottom", "left", "right"])
def test_box_line_along_an_edge_is_removed_even_where_the_digit_touches_it(side):
    # A form's box cropped around its digit: 14 px of paper round the digit, one side of the box
    # (skewed a little, running the whole side) touching the digit's outermost point.
    full = coverage(3, size=200, height=120, width=14)
    ys, xs = np.nonzero(full > 0.5)
    cov = full[ys.min() - 14 : ys.max() + 15, xs.min() - 14 : xs.max() + 15]
    h, w = cov.shape
    lines = np.zeros((h, w), np.uint8)
    at = {"top": 15, "bottom": h - 16, "left": 15, "right": w - 16}[side]
    if side in ("top", "bottom"):
        cv2.line(lines, (0, at - 1), (w - 1, at + 1), 255, 3)
    else:
        cv2.line(lines, (at - 1, 0), (at + 1, h - 1), 255, 3)
    touched = np.maximum(cov, lines / 255.0)
    assert cv2.connectedComponents((touched > 0.5).astype(np.uint8))[0] - 1 == 1, "the line touches the digit"
    selection = select_digit(extract_ink(black_on_white(touched)))
    x, y, bw, bh = selection.box
    assert bw <= xs.max() - xs.min() + 4 and bh <= ys.max() - ys.min() + 4, "the line is not part of the digit"
    # Where the digit touched the line it loses a sliver (with the line kept: about 0.6).
    assert similarity(digit_of(black_on_white(touched)), digit_of(black_on_white(cov))) > 0.8


@pytest.mark.parametrize("label", [0, 3, 4])
@pytest.mark.parametrize("sides", ["left", "right", "both"])
def test_box_sides_in_a_crop_as_tall_as_the_digit_are_removed(label, sides):
    # A tight crop of a form's box: the digit reaches the top and bottom edges, so a box side
    # cannot run on past it. The side still runs from one end of the image to the other, clear of
    # the digit at its ends, which no stroke of a digit does.
    full = coverage(label, size=220, height=140, width=14)
    ys, xs = np.nonzero(full > 0.5)
    cov = full[ys.min() : ys.max() + 1, xs.min() - 16 : xs.max() + 17]
    h, w = cov.shape
    lined = cov.copy()
    for at in {"left": [5], "right": [w - 6], "both": [5, w - 6]}[sides]:
        cv2.line(lined, (at - 1, 0), (at + 1, h - 1), 1.0, 4)
    _, y, _, bh = cv2.boundingRect((cov > 0.5).astype(np.uint8))
    assert y == 0 and bh == h, "the digit spans the crop's height"
    assert similarity(digit_of(black_on_white(lined)), digit_of(black_on_white(cov))) > 0.95


def test_box_corner_around_a_one_is_removed():
    cov = coverage(1, size=120, height=90, width=9)
    boxed = cov.copy()
    cv2.line(boxed, (0, 6), (119, 6), 1.0, 3)
    cv2.line(boxed, (6, 0), (6, 119), 1.0, 3)
    selection = select_digit(extract_ink(black_on_white(boxed)))
    ys, xs = np.nonzero(cov > 0.5)
    x, y, w, h = selection.box
    assert x >= xs.min() - 2 and y >= ys.min() - 2 and w <= xs.max() - xs.min() + 4 and h <= ys.max() - ys.min() + 4
    assert similarity(digit_of(black_on_white(boxed)), digit_of(black_on_white(cov))) > 0.95


def test_a_1_down_a_boxed_crop_is_no_box_side():
    # A form-box crop with box lines along the top and the left edge, and a bold 1 hanging from the
    # top line down most of the crop: the 1 is as long and straight as a box side, but it stands in
    # the middle, so it is the digit (it was taken for a side, the lines kept, and the crop "noise").
    image = np.full((214, 214), 232, np.uint8)
    cv2.line(image, (0, 9), (213, 9), 95, 6)
    cv2.line(image, (5, 0), (5, 213), 95, 6)
    cv2.line(image, (78, 14), (92, 186), 25, 20, cv2.LINE_AA)
    result = preprocess(image)
    assert result.ok, result.reason
    x, y, w, h = result.box
    assert x > 20 and y > 12 and w < 60 and h > 150, result.box


def test_a_tight_crop_between_box_lines_that_stop_short_of_a_corner_is_ink_on_paper():
    # A scan crop of a form's box: a bold 2 cut by the crop's left edge, the box's top line along
    # the top edge and its bottom line along the bottom, both stopping short of a corner (drawn a
    # little skewed, or ending at a box side outside the crop). The lines take up so much of a
    # crop this small that which tone is paper must be read from the sides they leave.
    full = coverage(2, size=120, height=38, width=7)
    ys, xs = np.nonzero(full > 0.5)
    cov = full[ys.min() - 8 : ys.min() + 56, xs.min() + 3 : xs.min() + 67].copy()
    boxed = cov.copy()
    cv2.line(boxed, (0, 1), (51, 1), 1.0, 3)
    cv2.line(boxed, (10, 62), (63, 62), 1.0, 3)
    result = preprocess(black_on_white(boxed))
    assert result.digit is not None, result.reason
    assert similarity(result.digit, digit_of(black_on_white(cov))) > 0.9


def test_box_line_whose_end_at_the_edge_is_faint_is_removed_where_the_digit_fills_the_crop():
    # A small crop of a form's box: its top line touches a 2 that reaches the crop's bottom edge.
    # The line runs out of the image at both ends, but its anti-aliased end in the first column
    # is too faint to count as ink.
    full = coverage(2, size=120, height=40, width=4)
    ys, xs = np.nonzero(full > 0.5)
    cov = full[ys.min() - 4 : ys.max() + 1, xs.min() - 8 : xs.max() + 10].copy()
    w = cov.shape[1]
    top = int(np.flatnonzero((cov > 0.5).any(axis=1))[0])
    boxed = cov.copy()
    cv2.line(boxed, (0, top - 2), (w - 1, top - 2), 1.0, 3)
    boxed[:, 0] *= 0.3
    assert cv2.connectedComponents((boxed > 0.5).astype(np.uint8))[0] - 1 == 1, "the line touches the digit"
    selection = select_digit(extract_ink(black_on_white(boxed)))
    x, y, bw, bh = selection.box
    assert bw <= xs.max() - xs.min() + 4, "the line is not part of the digit"
    assert similarity(digit_of(black_on_white(boxed)), digit_of(black_on_white(cov))) > 0.8


@pytest.mark.parametrize("width", [14, 18, 22])
@pytest.mark.parametrize("above", [9, 7, 5])
def test_a_7s_bar_drawn_on_a_box_line_is_kept(classifier, width, above):
    # A form-box scan crop: the top box line crosses it, a bold 7's bar is written over the line,
    # most of it above. Erasing the line's band cut the bar off the stem, leaving a 1 (18 of these
    # 27 read 1, most at 100%); the bar runs along the band for many stroke widths, which a stroke crossing
    # or ending on a line does not.
    for stem_x in (40, 60, 80):
        image = np.full((136, 136), 222, np.uint8)
        cv2.line(image, (0, 16), (135, 16), 50, 7)
        cv2.line(image, (8, 0), (8, 135), 50, 5)
        cv2.line(image, (30, 16 - above), (100, 16 - above), 28, width, cv2.LINE_AA)
        cv2.line(image, (100, 16 - above), (stem_x, 125), 28, width, cv2.LINE_AA)
        prediction = classifier.predict(image)
        assert prediction.digit == 7, (stem_x, prediction.digit, prediction.box)


@pytest.mark.parametrize("digit", ["5", "6", "9", "0"])
def test_a_thin_box_side_touched_at_its_end_by_a_bold_print_is_removed(classifier, digit):
    # A form-box scan crop: a bold italic print digit whose top right reaches the box's right side
    # near the picture's top edge. A side the digit touches at its end is kept (a 7's bar along a
    # tight crop's edge is the digit's), but one a third as thick as the print's strokes is a box
    # line: the 5s were read as 9 with the side beside them.
    glyph = np.zeros((400, 500), np.uint8)
    cv2.putText(glyph, digit, (60, 330), cv2.FONT_HERSHEY_SIMPLEX, 9.0, 255, 48, cv2.LINE_AA)
    glyph = cv2.warpAffine(glyph, np.float32([[1, -0.25, 80], [0, 1, 0]]), (500, 400))
    ys, xs = np.nonzero(glyph > 40)
    glyph = glyph[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    glyph = cv2.resize(glyph, (round(glyph.shape[1] * 120 / glyph.shape[0]), 120), interpolation=cv2.INTER_AREA)
    for top in (0, 4):
        image = np.full((161, 161), 226, np.uint8)
        image[top : top + 120, 140 - glyph.shape[1] : 140] = (226 - glyph.astype(np.float32) / 255 * 190).astype(np.uint8)
        cv2.line(image, (139, 0), (140, 160), 70, 3)
        prediction = classifier.predict(image)
        assert str(prediction.digit) == digit, (top, prediction.digit, prediction.box)


@pytest.mark.parametrize("pen", [36, 44])
def test_a_bold_loop_cut_by_the_edge_beats_a_sliver(pen):
    # A bold print 0 or 6 cut by the crop's left edge covers a third of the picture with strokes as
    # wide as a third of its box: it passed for a shadow coming in from the border, and a 2x9 px
    # sliver left of a box line was the "digit" (read as 1 at 100%). A shadow encloses no paper.
    ink = np.zeros((202, 202), np.uint8)
    cv2.ellipse(ink, (45, 110), (50, 62), 0, 0, 360, 255, pen)
    ink[182:191, 192:194] = 255
    x, y, w, h = select_digit(ink).box
    assert x == 0 and w > 100 and h > 150, (x, y, w, h)


@pytest.mark.parametrize("size", [48, 56, 62])
def test_a_small_box_crop_whose_digit_touches_a_side_keeps_its_paper(classifier, size):
    # A form-box crop under 65 px: a box side a few pixels in from the left edge, the other along the
    # right edge, and a 7 whose bar runs into it. Each tone is then in two pieces (the lines, the 7
    # joined to the right side; the paper outside and inside the box), and the border, a third of
    # it dark, made the dark tone the paper: the 7s (all 9) were read from their inverted picture.
    scale = size / 62
    shapes = {7: [(30, 10), (58, 10), (50, 40)], 1: [(46, 6), (58, 4), (52, 58)]}
    for inset in (3, 5, 7):
        for label, points in shapes.items():
            image = np.full((size, size), 234, np.uint8)
            cv2.line(image, (inset, 0), (inset, size - 1), 105, 3)
            cv2.line(image, (size - 2, 0), (size - 2, size - 1), 85, 3)
            scaled = np.array([(round(x * scale), round(y * scale)) for x, y in points], np.int32)
            cv2.polylines(image, [scaled], False, 80, max(3, round(5 * scale)), cv2.LINE_AA)
            prediction = classifier.predict(image)
            assert prediction.digit == label, (inset, label, prediction.digit)


@pytest.mark.parametrize("label", [0, 3, 7])
def test_underline_touching_the_digit_is_removed(label):
    cov = coverage(label, size=240, height=160, width=12)
    ys, xs = np.nonzero(cov > 0.5)
    underlined = cov.copy()
    cv2.line(underlined, (int(xs.min()) - 30, int(ys.max())), (int(xs.max()) + 30, int(ys.max()) + 2), 1.0, 5)
    # The digit loses a sliver where it sat on the line (with the line kept: 0.4-0.7).
    assert similarity(digit_of(black_on_white(underlined)), digit_of(black_on_white(cov))) > 0.8


@pytest.mark.parametrize("label", [3, 7, 0])
@pytest.mark.parametrize("overhang", [(40, 12), (12, 30)])
def test_an_underline_apart_from_the_digit_need_not_overhang_it_far(classifier, label, overhang):
    # A pen's line drawn under the digit, apart from it, longer than the digit is wide but running
    # only a little past it at one end: no digit has a straight bar of its own apart below it.
    # It was taken as part of the digit (it does not overhang by a sixth of the digit's width): a 3
    # read as 2, a 7 as 1.
    cov = coverage(label, size=240, height=160, width=12)
    ys, xs = np.nonzero(cov > 0.5)
    underlined = cov.copy()
    y, (left, right) = int(ys.max()) + 14, overhang
    cv2.line(underlined, (int(xs.min()) - left, y), (int(xs.max()) + right, y), 1.0, 4)
    prediction = classifier.predict(black_on_white(underlined))
    assert prediction.digit == label and similarity(prediction.processed, digit_of(black_on_white(cov))) > 0.8


def test_digits_own_bars_are_kept_when_lines_are_removed():
    # A 7's bar, a 2's base and a 5's top end where the digit does: they are not lines to remove.
    for label in (7, 2, 5, 4):
        ink = extract_ink(white_on_black(coverage(label)))
        assert np.array_equal(remove_lines(ink), ink), label


@pytest.mark.mnist
def test_a_2_whose_diagonal_meets_its_base_near_the_end_keeps_the_base(mnist_dir):
    # MNIST test digit 4387: the base runs on a little past the diagonal's foot to the left and
    # far to the right, as an underline would; but a stroke flows into it near its end.
    from training.data import load_mnist

    data = load_mnist(mnist_dir)
    assert data.y_test[4387] == 2
    ink = extract_ink(data.x_test[4387])
    assert np.array_equal(remove_lines(ink), ink)


@pytest.mark.parametrize("label", [2, 5, 8])
def test_dithered_one_bit_scan_is_a_digit(label):
    from PIL import Image

    cov = coverage(label, size=200, height=150, width=14)
    grey = np.round(235 - 140 * cov).astype(np.uint8)  # pencil grey: the dots are sparse in the strokes too
    dots = np.asarray(Image.fromarray(grey).convert("1"), np.uint8) * 255
    assert len(np.unique(dots)) == 2
    digit = digit_of(dots)
    # Closest to its own clean drawing among all ten digits, and close to it.
    scores = [similarity(digit, digit_of(white_on_black(coverage(d, size=200, height=150, width=14)))) for d in range(10)]
    assert int(np.argmax(scores)) == label and scores[label] > 0.75, scores


# ---------------------------------------------------------------------------------------------
# stroke width, size, position


def test_stroke_width_estimate():
    for width in (1, 4, 9, 20):
        img = np.zeros((300, 300), np.uint8)
        cv2.line(img, (40, 150), (260, 150), 255, width)
        actual = np.count_nonzero(img[:, 150])  # cv2.line draws even widths one pixel wider
        assert stroke_width(img) == pytest.approx(actual, rel=0.1, abs=0.3)


def test_thin_gives_one_pixel_lines():
    img = np.zeros((100, 100), np.uint8)
    cv2.line(img, (10, 50), (90, 50), 255, 15)
    skeleton = thin(img)
    assert skeleton.sum() > 50
    assert (skeleton.sum(axis=0) <= 1).all(), "one pixel wide"


def test_thin_and_thick_strokes_come_out_alike():
    thin_pen = digit_of(black_on_white(coverage(6, width=1)))
    marker = digit_of(black_on_white(coverage(6, width=28)))
    widths = [stroke_width(d >= 64) for d in (thin_pen, marker)]
    assert all(2.0 <= w <= 3.6 for w in widths), widths  # MNIST: median 2.6, 10-90% 2.0-3.5
    assert abs(widths[0] - widths[1]) < 0.8
    assert similarity(thin_pen, marker) > 0.85


@pytest.mark.parametrize("height, centre", [(40, (40, 40)), (60, (230, 220)), (245, (140, 140)), (120, (200, 80))],
                         ids=["small-top-left", "small-bottom-right", "filling", "off-centre"])
def test_position_and_size_do_not_matter(height, centre):
    reference = digit_of(white_on_black(coverage(2)))
    width = max(3, height / 10)
    assert similarity(digit_of(white_on_black(coverage(2, height=height, centre=centre, width=width))), reference) > 0.93


@pytest.mark.parametrize("size", [16, 20, 28, 40, 64])
def test_tiny_crop_touching_the_frame_is_kept(size):
    cov = coverage(7, size=200, height=190, width=22)
    ys, xs = np.nonzero(cov > 0.1)
    crop = cov[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    scale = size / max(crop.shape)
    small = cv2.resize(crop, (max(1, round(crop.shape[1] * scale)), size), interpolation=cv2.INTER_AREA)
    assert small.shape[0] == size and (small[0] > 0.3).any() and (small[-1] > 0.3).any(), "touches top and bottom"
    for image in (black_on_white(small), white_on_black((small > 0.5).astype(np.float32))):
        result = preprocess(image)
        assert result.digit is not None, (size, result.reason)
        # A 16-28 px crop (binarised, for the second image) keeps only the coarse shape.
        assert similarity(result.digit, digit_of(white_on_black(cov))) > 0.75


def test_mnist_digit_round_trip(mnist_dir):
    """Real MNIST digits, enlarged as if drawn big, come back close to themselves."""
    with gzip.open(mnist_dir / "t10k-images-idx3-ubyte.gz") as f:
        raw = f.read()
    images = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)[:200]
    scores = [similarity(digit_of(cv2.resize(img, (280, 280), interpolation=cv2.INTER_CUBIC)), img) for img in images]
    assert np.median(scores) > 0.85
    assert np.mean(scores) > 0.8


def test_to_mnist_on_a_crop():
    cov = coverage(9)
    ys, xs = np.nonzero(cov > 0)
    crop = white_on_black(cov)[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
    digit = to_mnist(crop)
    assert digit.shape == (28, 28) and digit.dtype == np.uint8
    assert similarity(digit, digit_of(white_on_black(cov))) > 0.97
    assert to_mnist(np.zeros((10, 10), np.uint8)).max() == 0


# ---------------------------------------------------------------------------------------------
# no digit


def _faint_noise() -> np.ndarray:
    rng = np.random.default_rng(1)
    return np.clip(rng.normal(200, 3, (280, 280)), 0, 255).astype(np.uint8)


def _few_specks() -> np.ndarray:
    image = np.full((300, 300, 3), 255, np.uint8)
    for x, y in ((40, 50), (200, 120), (150, 260), (270, 30)):
        cv2.circle(image, (x, y), 1, (0, 0, 0), -1)
    return image


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((280, 280, 4), np.uint8),  # blank canvas (all transparent)
        np.full((280, 280, 4), (0, 0, 0, 255), np.uint8),  # opaque black canvas
        np.full((600, 400, 3), 255, np.uint8),  # white page
        np.full((300, 300, 3), (40, 120, 200), np.uint8),  # uniform colour
        np.zeros((28, 28), np.uint8),
        _faint_noise(),
        _few_specks(),
    ],
    ids=["transparent-canvas", "black-canvas", "white-page", "uniform-colour", "black-28", "faint-noise", "few-specks"],
)
def test_empty_inputs_give_a_reason(image):
    result = preprocess(image)
    assert result.digit is None
    assert result.reason in (BLANK_REASON, SPECKS_REASON)
    assert "\n" not in result.reason


def test_noise_and_texture_are_not_digits():
    rng = np.random.default_rng(2)
    noise = rng.integers(0, 256, (280, 280, 3), dtype=np.uint8)
    blobs = cv2.GaussianBlur(rng.integers(0, 256, (300, 300), dtype=np.uint8), (0, 0), 2)
    blobs = cv2.normalize(blobs, None, 0, 255, cv2.NORM_MINMAX)
    stripes = np.zeros((300, 300), np.uint8)
    stripes[:, ::12] = 255
    stripes[:, 1::12] = 255
    for image in (noise, blobs, stripes):
        result = preprocess(image)
        assert result.digit is None
        assert result.reason == NOISE_REASON



def test_a_digit_cropped_to_its_ink_at_128_px_and_more_is_not_noise():
    # Ink reaching all four edges of a picture of 100 px or more was grain or pattern, whatever it
    # was: print digits cropped to their ink and shown 128 or 200 px tall were "noise" (6 of these 40;
    # MNIST test digits cropped tight at 128-256 px, about 40%: benchmarks/stretched_scans.py --sizes).
    for digit in "0123456789":
        for pen in (12, 24):
            for height in (128, 200):
                big = np.full((300, 300), 235, np.uint8)
                cv2.putText(big, digit, (60, 250), cv2.FONT_HERSHEY_SIMPLEX, 8.0, 30, pen, cv2.LINE_AA)
                ys, xs = np.nonzero(big < 180)
                crop = big[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
                width = round(crop.shape[1] * height / crop.shape[0])
                result = preprocess(cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA))
                assert result.ok, (digit, pen, height, result.reason)


@pytest.mark.parametrize("font", [cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX])
@pytest.mark.parametrize("gap", [8, 2])
def test_an_underline_under_a_digit_small_in_a_big_scan_is_removed(classifier, font, gap):
    # A line was looked for only when a quarter of the picture long, on a copy of the whole picture
    # 200 px long: a digit a tenth of a page tall, underlined, kept its underline and was read as 2
    # or 1. (2026-12-07: of these 40, 7 of 20 right before with the line 8 px below the digit, 8 of 20
    # with the line touching it; all 40 now.)
    pages, truth = [], []
    for digit in "0123456789":
        page = np.full((700, 700), 235, np.uint8)
        cv2.putText(page, digit, (300, 380), font, 3.0, 30, 8 if font == cv2.FONT_HERSHEY_SIMPLEX else 6, cv2.LINE_AA)
        ys, xs = np.nonzero(page < 150)
        y = int(ys.max()) + gap
        cv2.line(page, (int(xs.min()) - 20, y), (int(xs.max()) + 25, y), 30, 4, cv2.LINE_AA)
        pages.append(page)
        truth.append(int(digit))
    read = [p.digit for p in classifier.predict_batch(pages)]
    assert sum(r == t for r, t in zip(read, truth)) >= 9, list(zip(truth, read))


def _print_digit_cropped_to_its_ink(digit: str, pen: int) -> np.ndarray:
    big = np.full((300, 300), 235, np.uint8)
    cv2.putText(big, digit, (60, 250), cv2.FONT_HERSHEY_SIMPLEX, 8.0, 30, pen, cv2.LINE_AA)
    ys, xs = np.nonzero(big < 180)
    return big[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def test_a_digit_cropped_to_its_ink_is_read_as_well_above_64_px(classifier):
    # Print digits cropped to their ink shown 72-200 px tall, and scanned at 16x16 stretched to a
    # square box that size. Above 64 px such a picture was looked at as a photo: the median taken
    # for its paper (where a bold digit covers half of it, the ink), and the bold strokes filling it
    # for uneven light to flatten away. (2026-12-07: 44 and 56 of these 80 read right before, 78 and
    # 68 now; the 8 stretched 0s are round rings, read 8 or "noise", and 4 stretched 1s read 7.)
    tight, stretched, truth = [], [], []
    for digit in "0123456789":
        for pen in (12, 24):
            crop = _print_digit_cropped_to_its_ink(digit, pen)
            small = cv2.resize(crop, (16, 16), interpolation=cv2.INTER_AREA)
            for size in (72, 100, 128, 200):
                width = round(crop.shape[1] * size / crop.shape[0])
                tight.append(cv2.resize(crop, (width, size), interpolation=cv2.INTER_AREA))
                stretched.append(cv2.resize(small, (size, size), interpolation=cv2.INTER_LINEAR))
                truth.append(int(digit))
    for pictures, least in ((tight, 0.9), (stretched, 0.8)):
        read = [p.digit for p in classifier.predict_batch(pictures)]
        right = sum(r == t for r, t in zip(read, truth))
        assert right >= least * len(truth), [(t, r) for t, r in zip(truth, read) if t != r]


@pytest.mark.parametrize("speck", [1, 2, 3, 5])
def test_a_speck_of_the_other_tone_never_raises(speck):
    # The paper tone's core is then 1-9 pixels: OpenCV takes a numpy vector of up to 4 values for a
    # scalar, which once made the tight-crop test raise.
    for base, other in ((30, 220), (220, 30)):
        image = np.full((80, 90), base, np.uint8)
        image[40 : 40 + speck + 2, 40 : 40 + speck + 2] = other
        result = preprocess(image)
        assert result.digit is not None or result.reason


@pytest.mark.parametrize("shape", [(3000, 20), (20, 3000), (700, 9), (66, 3)])
def test_a_sliver_of_two_tones_never_raises(shape):
    # Shrunk for analysis, a picture this long is a row or two of pixels: too thin to look for
    # lines along its edges.
    image = np.full(shape, 220, np.uint8)
    image[: shape[0] // 2, : shape[1] // 2] = 30
    result = preprocess(image)
    assert result.digit is not None or result.reason


def test_a_pattern_filling_the_whole_photo_is_not_a_digit():
    # Coarse blotches and a checkerboard pass the plain ink threshold as one piece that reaches every
    # edge; a photographed digit has paper around it.
    rng = np.random.default_rng(3)
    blotches = cv2.GaussianBlur(rng.integers(0, 256, (400, 400), dtype=np.uint8), (0, 0), 8)
    blotches = cv2.normalize(blotches, None, 0, 255, cv2.NORM_MINMAX)
    checker = ((np.indices((700, 700)) // 12).sum(axis=0) % 2 * 200 + 30).astype(np.uint8)
    for image in (blotches, checker):
        result = preprocess(image)
        assert result.digit is None
        assert result.reason == NOISE_REASON

# ---------------------------------------------------------------------------------------------
# robustness of the interface


SHAPES = [(1, 1), (1, 1, 1), (1, 1, 3), (1, 1, 4), (2, 3), (5, 1, 4), (1, 500, 3), (28, 28), (280, 280, 4), (64, 48, 3),
          (3000, 20)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("value", [0, 1, 128, 255])
def test_constant_images_never_raise(shape, value):
    result = preprocess(np.full(shape, value, np.uint8))
    assert result.digit is None and result.reason


@pytest.mark.parametrize("shape", SHAPES)
def test_random_images_never_raise(shape):
    rng = np.random.default_rng(sum(shape))
    for density in (0.001, 0.02, 0.3):
        image = np.where(rng.random(shape) < density, 255, 0).astype(np.uint8)
        result = preprocess(image)
        assert (result.digit is None) != (result.reason is None)
        if result.digit is not None:
            assert result.digit.shape == (28, 28) and result.digit.dtype == np.uint8


def test_single_pixel_and_single_line_images():
    for image in (np.array([[255]], np.uint8), np.array([[0, 255, 0]], np.uint8), np.eye(7, dtype=np.uint8) * 255):
        result = preprocess(image)
        assert (result.digit is None) != (result.reason is None)


def test_other_dtypes_and_shapes():
    cov = coverage(3)
    as_bool = cov > 0.5
    assert similarity(digit_of(as_bool), digit_of(white_on_black(cov))) > 0.95
    as_u16 = (cov * 65535).astype(np.uint16)
    assert similarity(digit_of(as_u16), digit_of(white_on_black(cov))) > 0.98
    assert similarity(digit_of(white_on_black(cov)[:, :, None]), digit_of(white_on_black(cov))) > 0.999
    for bad, message in (
        (cov, "dtype"),  # float
        (np.zeros((10, 10, 5), np.uint8), "shape"),
        (np.zeros((10,), np.uint8), "shape"),
        (np.zeros((0, 10), np.uint8), "non-empty"),
        (np.zeros((2, 2, 2, 2), np.uint8), "shape"),
    ):
        with pytest.raises(ValueError, match=message):
            preprocess(bad)


def test_steps_are_ordered_uint8_images():
    result = preprocess(canvas_rgba(coverage(4)))
    assert list(result.steps) == ["input", "ink", "cleaned", "crop", "stroke", "20x20", "28x28"]
    for name, image in result.steps.items():
        assert image.dtype == np.uint8 and image.ndim in (2, 3), name
    assert result.steps["input"].shape == (280, 280, 3)
    assert result.steps["28x28"] is result.digit
    blank = preprocess(np.zeros((280, 280, 4), np.uint8))
    assert list(blank.steps) == ["input", "ink"]


def test_huge_image_is_shrunk_first():
    cov = coverage(5, size=280)
    big = cv2.resize(black_on_white(cov), (4000, 4000), interpolation=cv2.INTER_NEAREST)
    result = preprocess(big)
    assert max(result.steps["input"].shape) <= 1000
    assert similarity(result.digit, digit_of(black_on_white(cov))) > 0.95


# ---------------------------------------------------------------------------------------------
# slant and pen skips


def sheared(cov: np.ndarray, shear: float) -> np.ndarray:
    """``cov`` with its top moved left by ``shear`` per row (x' = x + shear (y - h/2)), on a wider field."""
    h, w = cov.shape
    pad = int(abs(shear) * h / 2) + 4
    wide = cv2.copyMakeBorder(cov, 0, 0, pad, pad, cv2.BORDER_CONSTANT, value=0)
    return cv2.warpAffine(wide, np.float32([[1, shear, -shear * h / 2], [0, 1, 0]]), (w + 2 * pad, h))


def moment_slant(mask: np.ndarray) -> float:
    m = cv2.moments(mask, binaryImage=True)
    return m["mu11"] / m["mu02"]


@pytest.mark.parametrize("shear", [-0.9, 0.9])
def test_a_heavy_slant_is_sheared_back_to_the_limit(shear):
    mask = (sheared(coverage(1, size=200, height=160, width=12), shear) > 0.5).astype(np.uint8)
    assert abs(moment_slant(mask)) > 0.8
    limited = limit_slant(mask)
    assert moment_slant(limited) == pytest.approx(np.sign(shear) * SLANT_LIMIT, abs=0.03)
    assert abs(int(limited.sum()) - int(mask.sum())) <= 0.05 * mask.sum(), "shearing keeps the ink"


def test_a_slant_mnist_has_is_kept_as_drawn():
    mask = (sheared(coverage(7, size=200, height=160, width=12), 0.2) > 0.5).astype(np.uint8)
    assert abs(moment_slant(mask)) <= SLANT_LIMIT
    assert limit_slant(mask) is mask


@pytest.mark.parametrize("label", [2, 4, 7])
def test_backhand_digit_reads_like_the_upright_one(label):
    # The network sees it as the same digit written at the edge of MNIST's slants.
    upright = coverage(label, size=240, height=160, width=14)
    slant = moment_slant((upright > 0.5).astype(np.uint8))
    at_limit = sheared(upright, SLANT_LIMIT - slant)
    backhand = digit_of(black_on_white(sheared(upright, 0.9)))
    assert similarity(backhand, digit_of(black_on_white(at_limit))) > 0.9


@pytest.mark.parametrize("flip", [False, True])
def test_pieces_a_skipping_pen_cut_apart_stay_one_digit(flip):
    # A back-slanted 2 (or its mirror image) whose base a skip of the pen cut off: the two pieces
    # lie side by side, wider than tall together and neither above the other, but the gap
    # between them (about 3 px) is far narrower than the pen (10 px).
    cov = np.zeros((140, 260), np.float32)
    cv2.ellipse(cov, (60, 40), (30, 22), 0, 180, 390, 1.0, 10, cv2.LINE_AA)
    cv2.line(cov, (86, 50), (110, 100), 1.0, 10, cv2.LINE_AA)
    cv2.line(cov, (124, 104), (225, 104), 1.0, 10, cv2.LINE_AA)
    cov = cov[:, ::-1].copy() if flip else cov
    assert cv2.connectedComponents((cov > 0.5).astype(np.uint8))[0] - 1 == 2, "the skip cuts the digit apart"
    ys, xs = np.nonzero(cov > 0.5)
    x, y, w, h = select_digit(extract_ink(black_on_white(cov))).box
    assert w >= xs.max() - xs.min() - 2 and h >= ys.max() - ys.min() - 2, "both pieces are kept"


def test_the_dashes_of_a_skipping_thin_pen_stay_one_digit():
    # A thin 1 whose pen skipped twice: three short dashes, the gaps between them (14 px) wider
    # than the pen (4 px) and than a fifth of any dash, but short beside the whole digit.
    cov = np.zeros((200, 120), np.float32)
    for y0, y1 in ((30, 70), (84, 124), (138, 170)):
        cv2.line(cov, (60 + (170 - y0) // 8, y0), (60 + (170 - y1) // 8, y1), 1.0, 4, cv2.LINE_AA)
    assert cv2.connectedComponents((cov > 0.5).astype(np.uint8))[0] - 1 == 3
    ys, xs = np.nonzero(cov > 0.5)
    x, y, w, h = select_digit(extract_ink(black_on_white(cov))).box
    assert h >= ys.max() - ys.min() - 2, "every dash is kept"
