"""Segmentation of a written number (preprocessing.segment) and the line finder it shares with
single digits (preprocessing.components.find_lines): ruled lines and underlines as thick as the
strokes, digits' own bars, and the fast path for the app's canvas."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from preprocessing import find_lines, segment
from preprocessing.ink import extract_ink
from tests.digit_images import STROKES

TOP = 40  # the digits' top row in ``write``
HEIGHT = 140  # and their height


def write(text: str, *, width: int = 9, gap: int = 30, cell: int = 100) -> np.ndarray:
    """White pen on black (the app's canvas, grey): each digit in its own ``cell`` px wide box."""
    img = np.zeros((HEIGHT + 2 * TOP, 40 + len(text) * (cell + gap)), np.uint8)
    for k, ch in enumerate(text):
        x0 = 20 + k * (cell + gap)
        for stroke in STROKES[ch]:
            pts = np.array([(x0 + x * cell / 100, TOP + y) for x, y in stroke], np.int32)
            cv2.polylines(img, [pts], False, 255, width, cv2.LINE_AA)
    return img


def canvas(grey: np.ndarray) -> np.ndarray:
    """As the app's canvas sends it: opaque RGBA."""
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])


def regions_hold_no_line(seg, line_rows: tuple[int, int]) -> bool:
    """No region reaches into the rows where a line ran (the line is not part of any digit)."""
    lo, hi = line_rows
    return all(r.box[1] + r.box[3] <= lo or r.box[1] >= hi for r in seg.regions)


# --- Ruled lines and underlines as thick as the strokes (a fat marker) ----------------------------


@pytest.mark.parametrize("text", ["3071", "8245", "50"])
def test_fat_marker_on_ruled_paper_keeps_every_digit(text: str) -> None:
    # Ruled paper written on with a fat marker: the lines, edge to edge, are as thick as the
    # strokes (two of them together thicker than a third of the digits' height), the digits sit
    # on the lower line and touch the upper one.
    image = write(text, width=22)
    h, w = image.shape
    base, top = TOP + HEIGHT + 4, TOP - 6
    cv2.line(image, (0, base), (w, base), 255, 30)
    cv2.line(image, (0, top), (w, top), 255, 30)
    n, _ = cv2.connectedComponents((image > 127).astype(np.uint8))
    assert n - 1 == 1, "the lines and the digits must be one piece for this test"
    seg = segment(canvas(image))
    assert len(seg.regions) == len(text), [r.box for r in seg.regions]
    # Each region is one digit's width, left to right, and none is the line.
    xs = [r.box[0] for r in seg.regions]
    assert xs == sorted(xs)
    assert all(r.box[2] < 1.2 * HEIGHT and r.box[3] >= 0.7 * HEIGHT for r in seg.regions)


def test_fat_marker_on_ruled_paper_is_read_whole(classifier) -> None:
    image = write("3071", width=22)
    w = image.shape[1]
    cv2.line(image, (0, TOP + HEIGHT + 4), (w, TOP + HEIGHT + 4), 255, 30)
    cv2.line(image, (0, TOP - 6), (w, TOP - 6), 255, 30)
    assert classifier.read(canvas(image)).text == "3071"


def test_thick_underline_touching_the_digits_is_no_digit() -> None:
    image = write("4257", width=16)
    w = image.shape[1]
    y = TOP + HEIGHT + 2
    cv2.line(image, (8, y), (w - 8, y), 255, 16)  # a little longer than the number, as thick as the pen
    seg = segment(canvas(image))
    assert len(seg.regions) == 4, [r.box for r in seg.regions]
    assert regions_hold_no_line(seg, (y + 2, y + 9))


def test_a_digit_crossing_a_ruled_line_stays_whole() -> None:
    # The 4's stem and the 7's stroke go through the ruled line: they are mended, not cut off.
    image = write("47", width=12)
    w = image.shape[1]
    y = TOP + 110
    cv2.line(image, (0, y), (w, y), 255, 12)
    seg = segment(canvas(image))
    assert len(seg.regions) == 2
    for r in seg.regions:
        assert r.box[1] <= TOP + 20 and r.box[1] + r.box[3] >= TOP + 125, r.box


# --- Digits' own bars are no lines ---------------------------------------------------------------


def test_long_bars_of_digits_in_a_number_are_kept() -> None:
    # A 7's bar and a 5's top bar drawn wide, in a number: they end where their digit does.
    image = write("757", width=16, cell=140)
    assert find_lines(extract_ink(image)) is None
    seg = segment(image)
    assert len(seg.regions) == 3 and "lines removed" not in seg.steps
    # Without its bar a 7 is only its diagonal, half as wide.
    assert seg.regions[0].box[2] >= 0.75 * 140 and seg.regions[2].box[2] >= 0.75 * 140, [r.box for r in seg.regions]


def test_bases_joined_into_one_straight_run_are_not_a_line() -> None:
    # "22" written fast: the first 2's base runs on into the second's, one straight stroke
    # longer than the digits are tall, but a 2's diagonal meets it at its very end.
    image = write("22", width=12, gap=-25)
    assert cv2.connectedComponents((image > 127).astype(np.uint8))[0] - 1 == 1, "the bases must join"
    assert find_lines(extract_ink(image)) is None


def test_single_digit_underline_rules_are_unchanged() -> None:
    # A lone digit's underline (overhanging it clearly) is still found; a 2's base is not.
    image = write("3", width=12)
    w = image.shape[1]
    cv2.line(image, (5, TOP + HEIGHT + 6), (w - 5, TOP + HEIGHT + 6), 255, 5)
    zone = find_lines(extract_ink(image))
    assert zone is not None and zone[TOP + HEIGHT + 6, w // 2] and not zone[TOP + 70].any()
    assert find_lines(extract_ink(write("2", width=12))) is None


# --- The app's canvas: grey stored as colour --------------------------------------------------------


@pytest.mark.parametrize("size", [None, (48, 60)])
def test_grey_stored_as_colour_gives_the_ink_of_its_grey_channel(size) -> None:
    # The canvas sends grey as opaque RGBA: it is analysed as the grey image it is (the fast path),
    # with exactly the result of the grey image, for a full canvas and for a tight crop alike.
    from preprocessing import analyse_ink

    grey = write("2587", width=14)
    if size is not None:
        grey = cv2.resize(grey, size[::-1], interpolation=cv2.INTER_AREA)
    grey = np.maximum(grey, np.uint8(30))  # a dark grey background, not pure black
    for image in (canvas(grey), np.dstack([grey] * 3)):
        a, b = analyse_ink(image), analyse_ink(grey)
        assert (a.status, a.source) == (b.status, b.source) and np.array_equal(a.ink, b.ink)


def test_a_coloured_pen_is_still_seen_in_colour() -> None:
    # Not every RGB image is grey: a red pen on green paper of the same brightness has no contrast
    # in grey but plenty in colour (the fast path must not take it).
    from preprocessing import analyse_ink

    mask = write("7", width=14) > 127
    image = np.zeros((*mask.shape, 3), np.uint8)
    image[:] = (60, 140, 60)
    image[mask] = (200, 90, 70)
    ink = analyse_ink(image)
    assert ink.status == "ok" and np.count_nonzero(ink.ink >= 128) >= 0.8 * np.count_nonzero(mask)


def test_an_underline_broken_under_a_digit_is_one_line() -> None:
    # A thin pen's underline, interrupted under the middle digit (as where a digit sits on it and
    # a thin pen's line merges with it): each piece is shorter than the number, together they are
    # one line running past it.
    image = write("808", width=4)
    w = image.shape[1]
    y = TOP + HEIGHT + 3
    cv2.line(image, (6, y), (175, y), 255, 3)
    cv2.line(image, (225, y), (w - 6, y), 255, 3)
    zone = find_lines(extract_ink(image))
    assert zone is not None and zone[y, 20] and zone[y, w - 20] and not zone[: TOP + HEIGHT - 10].any()
    seg = segment(image)
    assert len(seg.regions) == 3 and regions_hold_no_line(seg, (y - 1, y + 2))


def stepped_line(image: np.ndarray, y: int, x0: int, x1: int, step: int) -> None:
    """A 1-px line drawn by hand from x0 to x1: it moves one row up and back every ``step`` px."""
    for k, x in enumerate(range(x0, x1, step)):
        image[y - k % 2, x : min(x + step, x1)] = 255


def test_a_thin_underline_that_steps_between_rows_is_a_line() -> None:
    # A ball-point underline wobbles a row up and down: none of its runs is long on its own.
    # (Cropped to under 200 px, which the line finder looks at as it is, not shrunk.)
    image = write("3", width=2)[20:200]
    y = TOP + HEIGHT - 20 + 1  # the 3's foot sits on it
    stepped_line(image, y, 8, image.shape[1] - 8, 9)
    zone = find_lines(extract_ink(image))
    assert zone is not None and zone[y, image.shape[1] // 2] and not zone[: y - 10].any()
    seg = segment(image)
    assert len(seg.regions) == 1 and regions_hold_no_line(seg, (y - 1, y + 1)), [r.box for r in seg.regions]


def test_a_ruled_line_is_whole_where_it_steps_under_a_digit() -> None:
    # A ruled line running out of the picture on both sides steps up under the first digit (a gap
    # where the pen merged with the stroke), so its part before that digit is shorter than a line
    # must be on its own: it continues the rest.
    image = write("01", width=2)
    w = image.shape[1]
    y = TOP + HEIGHT + 2
    image[y, 0:58] = 255
    image[y - 2, 64:w] = 255
    zone = find_lines(extract_ink(image))
    assert zone is not None and zone[y, 10] and zone[y - 2, w - 10]
    seg = segment(image)
    assert len(seg.regions) == 2 and regions_hold_no_line(seg, (y - 2, y + 1)), [r.box for r in seg.regions]


@pytest.mark.parametrize("text", ["45", "1", "250"])
def test_a_line_running_out_through_the_pictures_edge_is_no_part_of_a_digit(classifier, text: str) -> None:
    # A printed line of the paper cut by the photo's edge: a thin line from the left edge running out
    # through the bottom one, below the digits. It was stacked with the digit above it (a notebook
    # photo's "46" read "16").
    image = write(text)
    h, w = image.shape
    cv2.line(image, (-5, h - 6), (w // 2 + 10, h + 2), 150, 3, cv2.LINE_AA)
    seg = segment(image)
    assert len(seg.regions) == len(text) and all(y + bh <= TOP + HEIGHT + 8 for _, y, _, bh in (r.box for r in seg.regions))
    assert classifier.read(image).text == text
