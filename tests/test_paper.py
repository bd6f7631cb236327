"""The printed lines of squared and ruled paper are painted over before the ink is looked for
(preprocessing/paper.py); other lines, and everything that is no ruling, are left alone."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from preprocessing import preprocess, segment
from preprocessing.paper import erase_paper_lines, find_paper_lines
from tests.corpus import blank_grainy_photo, condition_samples
from tests.number_corpus import condition_numbers

PAPER = (240, 238, 230)
LIGHT_BLUE = (150, 190, 230)


def notebook(size: int = 400, spacing: float = 40, squared: bool = True, colour=LIGHT_BLUE, angle: float = 0.0,
             width: int = 1, first: float = 13) -> np.ndarray:
    """RGB paper with printed lines ``spacing`` px apart (both ways when ``squared``), turned ``angle`` degrees."""
    big = np.full((2 * size, 2 * size, 3), PAPER, np.uint8)
    k = first
    while k < 2 * size:
        cv2.line(big, (0, int(k)), (2 * size, int(k)), colour, width, cv2.LINE_AA)
        if squared:
            cv2.line(big, (int(k), 0), (int(k), 2 * size), colour, width, cv2.LINE_AA)
        k += spacing
    turn = cv2.getRotationMatrix2D((size, size), angle, 1.0)
    middle = slice(size // 2, size // 2 + size)
    return np.ascontiguousarray(cv2.warpAffine(big, turn, (2 * size, 2 * size))[middle, middle])


def with_digit(paper: np.ndarray, strokes: list[list[tuple[int, int]]], ink=(30, 35, 90), width: int = 7) -> np.ndarray:
    image = paper.copy()
    for stroke in strokes:
        cv2.polylines(image, [np.array(stroke, np.int32)], False, ink, width, cv2.LINE_AA)
    return image


SEVEN = [[(150, 110), (260, 110), (185, 300)]]
ONE = [[(200, 100), (200, 300)]]


@pytest.mark.parametrize("squared", [True, False])
@pytest.mark.parametrize("angle", [0.0, 2.5])
def test_a_ruling_is_found_and_painted_over(squared: bool, angle: float) -> None:
    paper = notebook(squared=squared, angle=angle)
    found = find_paper_lines(cv2.cvtColor(paper, cv2.COLOR_RGB2GRAY))
    assert found is not None and [upright for _, _, upright in found] == ([False, True] if squared else [False])
    clean = erase_paper_lines(paper)
    # Away from the corners the turned copy left bare, the page is paper again.
    inner = cv2.cvtColor(clean, cv2.COLOR_RGB2GRAY)[40:-40, 40:-40].astype(int)
    assert np.abs(inner - int(np.median(inner))).max() <= 12


@pytest.mark.parametrize("squared", [True, False])
def test_a_blank_notebook_page_is_no_digit(classifier, squared: bool) -> None:
    # Its lines are the darkest thing on it: with them gone nothing is left (it was read "7" or "0").
    page = notebook(squared=squared)
    assert classifier.predict(page).digit is None
    reading = classifier.read(page)
    assert reading.text == "" and reading.reason


def test_a_row_of_stems_as_dark_as_the_ink_is_no_ruling() -> None:
    # Three 1s evenly spaced on plain paper, their stems filling most of the picture's height.
    image = with_digit(np.full((260, 400, 3), PAPER, np.uint8), [[(x, 40), (x, 220)] for x in (80, 200, 320)], width=9)
    assert erase_paper_lines(image) is image


@pytest.mark.parametrize("squared", [False, True])
def test_a_margin_line_is_painted_over(classifier, squared: bool) -> None:
    # A red margin line down the whole page: lighter than the ink, though not by much; on squared paper
    # off the squares' lattice (taken for part of the squares, it made them uneven: none were found).
    paper = notebook(spacing=60, first=43) if squared else np.full((400, 400, 3), PAPER, np.uint8)
    image = with_digit(paper, SEVEN)
    cv2.line(image, (300, -5), (304, 405), (190, 70, 80), 3, cv2.LINE_AA)
    clean = erase_paper_lines(image)
    assert clean is not image
    grey = cv2.cvtColor(clean, cv2.COLOR_RGB2GRAY)
    assert grey[:, 295:310].min() > 200 and grey[320:, :].min() > 200  # the margin, and the squares below the 7
    assert classifier.predict(image).digit == 7


@pytest.mark.parametrize("name, seed, index", [("pen/thin-pen", 0, 44), ("pen/thin-pen", 0, 94), ("pen/thin-pen", 3, 27),
                                               ("style/cropped-big", 0, 52)])
def test_a_digits_own_straight_stroke_is_no_printed_line(name: str, seed: int, index: int) -> None:
    # A thin pen's 4 stem or 7 bar is a straight line lighter than its darkest pixels, but stops short of
    # the picture's ends; a bold print's base lies along the picture's edge. (A first version took them.)
    image = condition_samples(name, index + 1, seed)[index].image
    assert erase_paper_lines(image) is image


def test_a_stroke_keeps_its_ink_where_it_crosses_a_line() -> None:
    image = with_digit(notebook(), ONE)
    clean = cv2.cvtColor(erase_paper_lines(image), cv2.COLOR_RGB2GRAY)
    # The 1's stem crosses the lines at rows 13 + 40k: its ink is still there, the lines beside it are not.
    for row in (133, 173, 213, 253):
        assert clean[row, 198:203].max() < 110, f"the stroke lost its ink at row {row}"
        assert clean[row, 300:340].min() > 200, f"the line at row {row} is still there"


@pytest.mark.parametrize("squared", [True, False])
def test_a_digit_on_notebook_paper_is_read(classifier, squared: bool) -> None:
    # Close up: the digit spans a few squares or sits between two rules, the lines through it.
    image = with_digit(notebook(spacing=90 if squared else 170, squared=squared, width=2, first=23), SEVEN)
    prediction = classifier.predict(image)
    assert prediction.digit == 7 and "paper lines removed" in prediction.steps
    assert classifier.read(image).text == "7"


def test_lines_as_dark_as_the_ink_are_left_to_the_line_finder() -> None:
    # Two dark lines around a digit (a form's box, an underline): not a printed ruling.
    image = with_digit(notebook(spacing=170, squared=False, colour=(30, 35, 90), width=3, first=23), ONE)
    assert erase_paper_lines(image) is image


@pytest.mark.parametrize("name", ["pen/photo", "pen/scan", "pen/underlined", "pen/edge-line-scan", "pen/textured-paper",
                                  "pen/dithered-scan", "style/cropped-big", "pen/canvas-alpha"])
def test_pictures_without_a_ruling_are_left_as_they_are(name: str) -> None:
    samples = condition_samples(name, 20, seed=0)
    touched = [i for i, s in enumerate(samples) if erase_paper_lines(s.image) is not s.image]
    # An edge-line scan's light box lines may go too (they are not the digit); nothing else is touched.
    assert len(touched) <= (3 if "edge-line" in name else 0), touched


def test_grain_and_stripes_are_no_ruling() -> None:
    rng = np.random.default_rng(3)
    grain = blank_grainy_photo(rng, 500)
    assert erase_paper_lines(grain) is grain
    dark = np.zeros((300, 300, 3), np.uint8)
    assert erase_paper_lines(dark) is dark  # light lines on a dark page: not paper


def test_segmentation_does_not_see_the_squares_as_digits() -> None:
    image = with_digit(notebook(spacing=60), SEVEN)
    seg = segment(image)
    assert len(seg.regions) == 1 and "paper lines removed" in seg.steps
    assert preprocess(image).ok


@pytest.mark.parametrize("width", [3, 5])
def test_a_stroke_lying_along_a_line_keeps_its_ink(width: int) -> None:
    # A 1 written down one of the squares' sides (columns 13 + 40k): the side is painted over above and
    # below it, the stroke is not (it went with the line, and a 9 whose stem lay along one read as 4).
    image = with_digit(notebook(), [[(213, 120), (213, 280)]], width=width)
    clean = cv2.cvtColor(erase_paper_lines(image), cv2.COLOR_RGB2GRAY)
    assert clean[130:271, 213].max() < 110, "the stroke along the line lost its ink"
    assert clean[30:100, 212:215].min() > 200 and clean[300:380, 212:215].min() > 200, "the line is still there"


def test_a_margin_line_as_dark_as_the_ink_is_painted_over_when_of_another_colour(classifier) -> None:
    # A deep red margin line beside a 0 in dark blue ink: in grey it is 0.85 as dark as the ink (a
    # ruling, a pen's underline, is taken as printed only up to 0.7), but it is red, the ink blue.
    image = with_digit(np.full((400, 400, 3), PAPER, np.uint8), [[(120, 130), (200, 110), (250, 200), (200, 290), (120, 280),
                                                                  (100, 200), (120, 130)]], width=9)
    cv2.line(image, (300, -5), (304, 405), (150, 30, 40), 4, cv2.LINE_AA)
    clean = erase_paper_lines(image)
    assert clean is not image and cv2.cvtColor(clean, cv2.COLOR_RGB2GRAY)[:, 295:310].min() > 200
    assert classifier.predict(image).digit == 0
    # Drawn with the pen, the same line is left to the line finder (an underline, a box side).
    pen_line = with_digit(np.full((400, 400, 3), PAPER, np.uint8), [[(300, -5), (304, 405)]], ink=(150, 30, 40), width=4)
    pen_line = with_digit(pen_line, [[(120, 130), (200, 110), (250, 200)]], ink=(150, 30, 40))
    assert erase_paper_lines(pen_line) is pen_line


@pytest.mark.mnist
def test_squares_behind_every_other_digit_are_found(classifier, mnist_test) -> None:
    # A wide photo of "55849449" on squared paper: the digits hide every other upright line, so the
    # lines left showed twice the spacing, and the two lines across were then dropped. Through the
    # lines left in, the digits read "55944449".
    images, labels = mnist_test
    sample = condition_numbers(images, labels, "apart", "notebook", 16, seed=3)[15]
    small = cv2.resize(sample.image, None, fx=1 / 3, fy=1 / 3, interpolation=cv2.INTER_AREA)  # as analysed (800 px)
    found = find_paper_lines(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
    assert found is not None and [upright for _, _, upright in found] == [False, True]
    assert classifier.read(sample.image).text == sample.text == "55849449"


@pytest.mark.mnist
def test_a_square_hidden_by_a_digit_is_found_beside_a_margin_line(classifier, mnist_test) -> None:
    # "8882007" on squared paper with a margin line: a bold 0 hides one of the squares' upright lines, which
    # is filled in where the squares' spacing puts it; but the margin line a little beside it counted as
    # the line already found there, and the square's line stayed through the 0 (read 6).
    images, labels = mnist_test
    sample = condition_numbers(images, labels, "ruled", "notebook", 7, seed=6)[6]
    assert classifier.read(sample.image).text == sample.text == "8882007"
