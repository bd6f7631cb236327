"""Reading whole numbers: segmentation cases one by one, the Reading API, and the number corpus.

    python -m pytest tests/test_reader.py -s     # prints the number corpus's accuracy per condition
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np
import pytest

from model.reader import LOG_ASPECT, ONE_PIECE, PIECES_COST, Candidate, candidate_spans
from model.sequence import Peak
from preprocessing import BLOCK_REASON, NOISE_REASON, segment
from preprocessing.segment import DigitRegion, zoom_box
from preprocessing.stroke import largest_piece_share
from tests.corpus import blank_grainy_photo, condition_samples, generate_corpus
from tests.digit_images import write
from tests.number_corpus import (
    LAYOUTS,
    RENDERERS,
    blank_page_photo,
    compose_number,
    condition_names,
    generate_numbers,
    number_in_a_big_photo,
)

REPORT = Path(__file__).resolve().parent.parent / "artifacts" / "number_corpus_report.md"
N_PER_CONDITION = 25
# Regression floors, a little under what is measured on this seed today (97.0% and 94.9% since the seventh
# session of 2026-12-07 added the notebook renderer, whose own numbers read 94.7% / 84.0% here; before it
# 97.3% and 96.7% on 2026-12-07, 97.6% and 96.0% on 2026-12-06, 95.3% and 91.3% the day before). Issue 8's
# goals are 97% and 85%; with the six older renderers, seeds 1-3 read 97.3 / 96.7 / 96.2% of the numbers
# whose digits do not touch (README, "Reading whole numbers").
MIN_APART = 0.96  # numbers whose digits do not touch (apart, broken, ruled)
MIN_TOUCHING = 0.92  # numbers with a touching pair


# --- Segmentation, case by case ------------------------------------------------------------------


def test_digits_apart_are_found_left_to_right(classifier) -> None:
    image = write("2587")
    seg = segment(image)
    assert len(seg.regions) == 4
    assert [r.box[0] for r in seg.regions] == sorted(r.box[0] for r in seg.regions)
    assert classifier.read(image).text == "2587"


def test_close_digits_are_separated(classifier) -> None:
    assert classifier.read(write("1234", gap=6)).text == "1234"


def test_a_digit_in_two_strokes_stays_one_digit(classifier) -> None:
    # The 5's bar lifted off its body, a 4's stem apart from its arm, a 7's bar apart from its stem.
    assert classifier.read(write("5", detached={0: 14})).text == "5"
    assert classifier.read(write("457", detached={0: 10, 1: 12, 2: 8})).text == "457"


def test_a_broken_loop_stays_one_digit(classifier) -> None:
    image = write("80")
    h = image.shape[0]
    image[:, 20 + 48 : 20 + 53] = 255  # the 8 broken top to bottom: two halves, 5 px apart
    image[h // 2 - 30 : h // 2 - 26, 150:260] = 255  # the 0's line broken across
    assert classifier.read(image).text == "80"


def test_a_dotted_stroke_stays_one_digit(classifier) -> None:
    image = write("7", width=10)
    mask = np.zeros_like(image)
    mask[:, ::14] = 1  # gaps every 14 px along the bar and the stem
    mask[::14, :] = 1
    image[(mask > 0) & (image < 128)] = 255
    reading = classifier.read(image)
    assert reading.text == "7", reading.text


@pytest.mark.parametrize(("pair", "overlap"), [("00", 14), ("23", 20)])
def test_touching_digits_are_split(classifier, pair: str, overlap: int) -> None:
    image = write(pair, gap=-overlap)  # the cells overlap: the strokes meet at the baseline or the sides
    n, _ = cv2.connectedComponents((image < 128).astype(np.uint8))
    if n - 1 > 1:
        pytest.fail(f"the two digits must touch for this test ({n - 1} pieces)")
    assert classifier.read(image).text == pair


def test_ones_joined_at_the_baseline_are_split(classifier) -> None:
    image = write("11", gap=-45)
    cv2.line(image, (80, 170), (135, 168), 0, 9, cv2.LINE_AA)  # the pen never left the paper
    assert classifier.read(image).text == "11"


def test_ruled_lines_and_underlines_are_not_digits(classifier) -> None:
    image = write("307")
    h, w = image.shape
    cv2.line(image, (0, h - 38), (w, h - 38), 0, 3)  # the baseline the digits sit on, edge to edge
    cv2.line(image, (0, 18), (w, 18), 0, 3)  # the ruled line above
    assert classifier.read(image).text == "307"
    underlined = write("42")
    cv2.line(underlined, (10, underlined.shape[0] - 30), (underlined.shape[1] - 10, underlined.shape[0] - 30), 0, 6)
    assert classifier.read(underlined).text == "42"


def test_an_underline_drawn_from_the_first_digits_foot_is_not_a_digit(classifier) -> None:
    # The line starts at the foot of the 7's stem and touches every digit: only its length (many
    # digits' heights) and that it is drawn solid tell it from the feet of digits joined in a row.
    for text in ("72380514", "45023187"):
        image = write(text)
        ys, xs = np.nonzero(image < 128)
        first = xs < xs.min() + 100  # the first digit's cell
        foot = xs[first][ys[first] >= ys[first].max() - 2]
        cv2.line(image, (int(foot.mean()) - 4, int(ys.max())), (image.shape[1] - 10, int(ys.max())), 0, 5)
        n, _ = cv2.connectedComponents((image < 128).astype(np.uint8))
        assert n - 1 <= 2, "the line must join the digits for this test"
        assert classifier.read(image).text == text


def test_a_wide_flat_digit_cut_in_two_may_be_one_digit_again() -> None:
    # A 0 written twice as wide as tall, looked at again and cut in the middle: whether it is one
    # digit or two is for the networks to say, so the whole must be among the candidates.
    height = 40
    halves = [DigitRegion((x, 0, 40, height), np.full((height, 40), 255, np.uint8)) for x in (0, 40)]
    spans = candidate_spans(halves, [0, 0], [True], float(height))
    assert set(spans) == {(0, 0), (1, 1), (0, 1)}
    assert spans[(0, 1)].box == (0, 0, 80, height)


def test_the_sequence_reader_weighs_more_on_a_piece_cut_out_than_on_a_region_as_found() -> None:
    # Where the networks disagree, the classifier is right more often on a region as segmentation
    # found it (a whole digit, what it was trained on), the sequence reader on a piece cut from a
    # region (number corpus seeds 0-3: 99 to 30 and 15 to 79 of the disagreements).
    classified = np.full(10, 0.02)
    classified[3] = 0.82
    read = np.full(10, 0.01)
    read[5] = 0.91
    region = DigitRegion((0, 0, 20, 28), np.full((28, 20), 255, np.uint8))
    found = Candidate(region, np.zeros((28, 28), np.uint8), classified, peaks=(Peak(10.0, read, 0.9),))
    cut = Candidate(region, np.zeros((28, 28), np.uint8), classified, peaks=(Peak(10.0, read, 0.9),), found=False)
    assert found.label == 3 and cut.label == 5
    assert found.probabilities.sum() == pytest.approx(1.0) and cut.probabilities.sum() == pytest.approx(1.0)


def test_regions_joined_pay_only_for_an_extra_digit_the_sequence_reader_is_more_than_even_odds_sure_of() -> None:
    # A thin 0 broken in two: the sequence reader sees the 0, and an unsure 1 in its left arc.
    zero, one, seven = np.full(10, 0.001), np.full(10, 0.001), np.full(10, 0.001)
    zero[0], one[1], seven[7] = 0.99, 0.99, 0.99
    peaks = (Peak(5.0, one, 0.45), Peak(20.0, zero, 0.9))
    region = DigitRegion((0, 0, 30, 40), np.full((40, 30), 255, np.uint8))
    joined = Candidate(region, np.zeros((28, 28), np.uint8), zero, peaks=peaks, found=False, merged=True)
    assert joined.peak_mismatch == 0.0
    assert dataclasses.replace(joined, merged=False).peak_mismatch == pytest.approx(0.45)  # a cut: as before
    assert dataclasses.replace(joined, peaks=(Peak(5.0, one, 0.75), peaks[1])).peak_mismatch == pytest.approx(0.5)
    # Two digits joined into one the sequence reader does not see there ("34" read as a 7): full price.
    assert dataclasses.replace(joined, classified=seven).peak_mismatch == pytest.approx(0.45)
    assert dataclasses.replace(joined, peaks=()).peak_mismatch == 1.0


def test_broken_zeros_are_read_as_one_digit(classifier) -> None:
    """The corpus's thin 0s broken by a skipping pen, seeds 0-3, read as numbers (before 2026-12-07: 5 of 400 read
    as two digits; the 4 left are joined into a 7 or a 2 by the classifier, which the sequence reader does not see)."""
    readings = [classifier.read(s.image).text for seed in range(4) for s in condition_samples("style/broken-0", 100, seed)]
    several = [text for text in readings if len(text) > 1]
    assert len(several) <= 4, several


def test_a_one_in_several_pieces_pays_for_them() -> None:
    # A sliver cut off a digit with a speck beside it ("!") is read as a confident 1; a 1 is one stroke.
    stroke = np.zeros((40, 12), np.uint8)
    stroke[2:38, 4:8] = 255
    sliver = np.zeros((40, 12), np.uint8)
    sliver[2:24, 4:8] = 255
    sliver[30:38, 3:9] = 255  # a dot below: the two pieces hold 88 and 48 pixels
    skipped = stroke.copy()
    skipped[18:22] = 0  # the pen skipped: two pieces in line, one stroke
    assert largest_piece_share(stroke) == 1.0 and largest_piece_share(sliver) < ONE_PIECE
    assert cv2.connectedComponents(skipped)[0] == 3 and largest_piece_share(skipped) == 1.0
    assert largest_piece_share(np.zeros((5, 5), np.uint8)) == 1.0
    one, four = np.full(10, 0.001), np.full(10, 0.001)
    one[1], four[4] = 0.99, 0.99

    def score(mask: np.ndarray, classified: np.ndarray) -> float:
        region = DigitRegion((0, 0, 12, 40), mask)
        return Candidate(region, np.zeros((28, 28), np.uint8), classified, peaks=(Peak(6.0, classified, 0.99),)).score(40.0)

    assert score(stroke, one) - score(sliver, one) == pytest.approx(PIECES_COST)
    assert score(stroke, one) == pytest.approx(score(skipped, one))
    assert score(stroke, four) == pytest.approx(score(sliver, four))  # a 4 may be written in two strokes


def test_a_lone_underlined_digit_is_one_digit(classifier) -> None:
    image = write("3")
    cv2.line(image, (5, image.shape[0] - 32), (image.shape[1] - 5, image.shape[0] - 32), 0, 4)
    assert classifier.read(image).text == "3"


def test_box_lines_specks_and_a_scanner_edge_are_ignored(classifier) -> None:
    image = write("185")
    h, w = image.shape
    cv2.rectangle(image, (4, 4), (w - 5, h - 5), 0, 3)  # a frame around the number
    for x, y in ((w // 3, 12), (w - 30, h - 20), (60, h - 15)):
        cv2.circle(image, (x, y), 2, 0, -1)  # specks
    image[:, w - 3 :] = 40  # the scanner's dark edge
    assert classifier.read(image).text == "185"


def _open_four(rise: int, width: int, lean: int, stem_top: int, bar: int) -> np.ndarray:
    """An open 4 drawn on the canvas in two strokes: down and along the bar, then the stem apart, crossing the bar."""
    image = np.zeros((280, 280, 4), np.uint8)
    corner = (80 + lean, 195)
    cv2.polylines(image, [np.array([(80, 45), corner, (corner[0] + bar, 195 - rise)], np.int32)], False, (0, 0, 0, 255),
                  width, cv2.LINE_AA)
    cv2.line(image, (165, stem_top), (175 + lean, 255), (0, 0, 0, 255), width, cv2.LINE_AA)
    return image


def test_an_open_4_drawn_in_two_strokes_is_one_digit(classifier) -> None:
    # The sequence reader may see a faint 1 in the first stroke and the whole-digit check be unsure
    # of so big a 4: a lone region is cut only when it is too wide for one digit, or the sequence
    # reader is sure of every digit it sees there, or reads none of them as the classifier does
    # (before: 36 of these 108 read "14", all shown as certain).
    readings = [
        classifier.read(_open_four(rise, width, lean, stem_top, bar)).text
        for rise in (0, 20, 40) for width in (14, 20, 26) for lean in (10, 25, 40) for stem_top in (20, 45)
        for bar in (140, 170)
    ]
    assert sum(text != "4" for text in readings) <= 3, [text for text in readings if text != "4"]


@pytest.mark.parametrize("where", ["touching the top", "touching the bottom", "top to bottom of a tight crop"])
def test_a_lone_1_touching_the_edge_is_read(classifier, where: str) -> None:
    # Segmentation takes a thin mark cut by the edge for a scanner line; alone in the picture, the
    # single-digit pipeline decides (it read these as 1 while the number reader read nothing).
    if where == "top to bottom of a tight crop":
        image = np.full((30, 30), 255, np.uint8)
        cv2.line(image, (15, 0), (14, 29), 0, 3, cv2.LINE_AA)
    else:
        image = np.zeros((280, 280, 3), np.uint8)
        top, bottom = (0, 230) if where == "touching the top" else (40, 279)
        cv2.line(image, (150, top), (138, bottom), (255, 255, 255), 18, cv2.LINE_AA)
    assert classifier.predict(image).digit == 1
    reading = classifier.read(image)
    assert reading.text == "1" and reading.digits[0].box is not None


@pytest.mark.parametrize("picture", ["24 px crop", "48 px crop", "120 px scan", "400 px photo", "canvas"])
def test_a_solid_block_is_no_digit(classifier, picture: str) -> None:
    # A filled rectangle (a redaction, a box coloured in) leaves no paper inside its box, as no written
    # digit but a 1 does; these were read as a 1 or a 0 at 69-86% (other blocks as a 0 at 95-100%).
    if picture == "canvas":
        image = np.zeros((220, 680, 4), np.uint8)
        image[40:180, 300:420, 3] = 255
    else:
        size = int(picture.split()[0])
        image = np.full((size, size), 225, np.uint8)
        image[size // 10 : size - size // 10, size // 4 : size - size // 4] = 30
    assert classifier.predict(image).reason == BLOCK_REASON
    reading = classifier.read(image)
    assert reading.text == "" and reading.reason == BLOCK_REASON


def test_form_box_crops_are_read_as_one_digit(classifier) -> None:
    """The corpus's form-box crops (a bold digit, box or scanner lines along one or two sides), seeds 0-3.

    Traced at the low level, a line that a digit cut by the crop's edge runs into near the line's
    end looks like a 7's bar; at the ink level the same line stands clear of the digit. Lines found
    at either level are taken out (before: 8 of these 800 read as two digits, 782 right)."""
    readings = [
        (str(s.label), classifier.read(s.image).text)
        for name in ("font/edge-line-scan", "pen/edge-line-scan")
        for seed in range(4)
        for s in condition_samples(name, 100, seed)
    ]
    several = [(truth, text) for truth, text in readings if len(text) > 1]
    assert len(several) <= 5, several
    assert sum(truth == text for truth, text in readings) >= 0.98 * len(readings)


def test_grainy_paper_alone_is_not_read_as_a_number(classifier) -> None:
    """A photo of grainy paper with nothing on it is no number. Grain passing the plain threshold was
    traced into clusters the size of digits, and where the grain-smoothed look found nothing the
    grainy map was kept: all 12 of these were read as numbers ("0", "88", ...) until 2026-12-07."""
    rng = np.random.default_rng(5)
    for size in rng.integers(300, 2000, 12):
        reading = classifier.read(blank_grainy_photo(rng, int(size)))
        assert reading.text == "" and reading.reason, (int(size), reading.text)


def test_a_pattern_filling_the_picture_is_not_read_as_a_number(classifier) -> None:
    """A checkerboard, rings or blotches running off every edge are one region to segmentation; the
    single-digit pipeline calls them noise, and so must the reader. It read its lone region instead:
    "8" at 99.9% for this checkerboard, "0" at 97% for these rings, "8" for the blotches."""
    size = 128
    yy, xx = np.mgrid[0:size, 0:size]
    checker = ((yy // 16 + xx // 16) % 2) * 150 + 60
    rings = ((np.hypot(yy - size / 2, xx - size / 2) // 16) % 2) * 150 + 60
    blotches = cv2.GaussianBlur(np.random.default_rng(3).integers(0, 256, (400, 400), dtype=np.uint8), (0, 0), 8)
    blotches = np.where(blotches > np.median(blotches), 210, 60)
    for name, image in (("checker", checker), ("rings", rings), ("blotches", blotches)):
        image = image.astype(np.uint8)
        assert classifier.predict(image).reason == NOISE_REASON, name
        reading = classifier.read(image)
        assert (reading.text, reading.reason) == ("", NOISE_REASON), (name, reading.text)


def _dot_grid(shape: tuple[int, int], spacing: int, radius: int, tone: int) -> np.ndarray:
    page = np.full(shape, 235, np.uint8)
    for y in range(7, shape[0], spacing):
        for x in range(7, shape[1], spacing):
            cv2.circle(page, (x, y), radius, tone, -1, cv2.LINE_AA)
    return page


@pytest.mark.parametrize("spacing, radius, tone", [(40, 3, 120), (60, 3, 140), (64, 12, 40), (30, 2, 150)])
def test_a_dot_grid_page_is_no_number(classifier, spacing: int, radius: int, tone: int) -> None:
    """Dot-grid paper: each column of its dots was read as a 1 ("1111111111" for a blank page of them,
    as a guess). Many solid round marks of one size are no digits; a number written on the dots is read."""
    reading = classifier.read(_dot_grid((300, 400), spacing, radius, tone))
    assert reading.text == "" and reading.reason
    if radius <= 3:  # a real dot grid's dots, lighter than the pen and a fraction of a stroke's width
        number = write("3570", ink=30, paper=255)
        assert classifier.read(np.minimum(number, _dot_grid(number.shape, spacing, radius, tone))).text == "3570"


def test_a_photo_of_a_blank_page_is_no_digit(classifier) -> None:
    """A phone photo of an empty page: light falling off towards the corners, a gradient, sometimes a
    shadow's edge. Where nothing stood out of the wide median, the light was taken as that median
    blurred, which lags behind a vignette into the corners: the lag along the border was ink. Of
    these 30, 10 were read as a digit (3 of them at 99.9% or more); 26 of 60 and 30 of 60 in two other sets."""
    rng = np.random.default_rng(21)
    for k in range(30):
        photo = blank_page_photo(rng, int(rng.choice([600, 900, 1200, 2000, 3200])))
        single, reading = classifier.predict(photo), classifier.read(photo)
        assert single.digit is None and single.reason, (k, single.digit)
        assert reading.text == "" and reading.reason, (k, reading.text)


def test_a_single_digit_stays_a_single_digit(classifier) -> None:
    """The realistic single-digit corpus read as numbers: one digit each, as ``predict`` reads it."""
    corpus = generate_corpus(12, seed=3)
    same = sum(classifier.read(s.image).text == str(classifier.predict(s.image).digit) for s in corpus)
    assert same / len(corpus) >= 0.99, f"{len(corpus) - same} of {len(corpus)} read differently as a number"


# --- The Reading API -----------------------------------------------------------------------------


def test_reading_has_boxes_in_input_pixels(classifier) -> None:
    image = write("71")
    reading = classifier.read(image)
    assert reading.text == "71" and reading.ok and len(reading.digits) == 2
    (x0, y0, w0, h0), (x1, _, _, _) = (d.box for d in reading.digits)
    assert 10 <= x0 <= 40 and 30 <= y0 <= 60 and 60 <= w0 <= 110 and 110 <= h0 <= 160
    assert x1 > x0 + w0
    big = classifier.read(cv2.resize(image, None, fx=4, fy=4, interpolation=cv2.INTER_AREA))  # shrunk for analysis
    assert big.text == "71"
    assert all(abs(b - 4 * a) <= 12 for a, b in zip(reading.digits[0].box, big.digits[0].box))
    for d in reading.digits:
        assert d.processed.shape == (28, 28) and d.processed.dtype == np.uint8
        assert len(d.probabilities) == 10 and d.confidence == max(d.probabilities)
    assert reading.confidence == pytest.approx(np.prod([d.confidence for d in reading.digits]))


def test_nothing_to_read_gives_a_reason() -> None:
    from model import load_classifier

    clf = load_classifier()
    blank = clf.read(np.full((100, 300), 255, np.uint8))
    assert (blank.text, blank.digits, blank.confidence, blank.ok) == ("", [], None, False)
    assert blank.reason and "\n" not in blank.reason


def test_a_digit_the_two_networks_read_differently_is_a_guess_unless_all_but_sure() -> None:
    from model.classifier import DISAGREE_SURE, Prediction, Reading

    def digit(confidence: float, agrees: bool | None, whole: float | None = 0.95) -> Prediction:
        return Prediction(7, confidence, None, None, whole=whole, sequence_agrees=agrees)

    assert not digit(0.95, True).low_confidence
    assert digit(0.95, False).low_confidence  # the sequence reader reads a 1 there
    assert not digit(DISAGREE_SURE, False).low_confidence
    assert not digit(0.95, None, None).low_confidence  # a lone digit read without the sequence reader
    number = Reading("77", [digit(0.999, True), digit(0.95, False)], 0.95)
    assert number.low_confidence


def test_a_lone_digit_reads_exactly_as_predict(classifier) -> None:
    image = write("7")
    single, reading = classifier.predict(image), classifier.read(image)
    assert reading.text == str(single.digit)
    assert reading.digits[0].probabilities == single.probabilities
    assert np.array_equal(reading.digits[0].processed, single.processed)


@pytest.mark.mnist
def test_shape_prior_matches_mnist(mnist_dir) -> None:
    from training.data import IMAGES_MAGIC, LABELS_MAGIC, read_idx

    x = read_idx(mnist_dir / "train-images-idx3-ubyte.gz", IMAGES_MAGIC)
    y = read_idx(mnist_dir / "train-labels-idx1-ubyte.gz", LABELS_MAGIC)
    ink = x > 30
    rows, cols = ink.any(2), ink.any(1)
    heights = 28 - np.argmax(rows[:, ::-1], 1) - np.argmax(rows, 1)
    widths = 28 - np.argmax(cols[:, ::-1], 1) - np.argmax(cols, 1)
    log_aspect = np.log(widths / heights)
    for digit, (mean, sd) in LOG_ASPECT.items():
        values = log_aspect[y == digit]
        assert values.mean() == pytest.approx(mean, abs=0.005) and values.std() == pytest.approx(sd, abs=0.005)


@pytest.mark.mnist
def test_ones_in_pieces_are_rare_in_mnist(mnist_dir) -> None:
    from training.data import IMAGES_MAGIC, LABELS_MAGIC, read_idx

    x = read_idx(mnist_dir / "train-images-idx3-ubyte.gz", IMAGES_MAGIC)
    y = read_idx(mnist_dir / "train-labels-idx1-ubyte.gz", LABELS_MAGIC)
    shares = np.array([largest_piece_share(np.where(d > 80, 255, 0).astype(np.uint8)) for d in x[y == 1]])
    assert len(shares) == 6742 and np.count_nonzero(shares < ONE_PIECE) == 2


# --- The number corpus ---------------------------------------------------------------------------


@pytest.mark.mnist
def test_number_corpus_is_deterministic(mnist_test) -> None:
    images, labels = mnist_test
    a, b = generate_numbers(images, labels, 2, seed=0), generate_numbers(images, labels, 2, seed=0)
    assert [s.text for s in a] == [s.text for s in b] and all(np.array_equal(x.image, y.image) for x, y in zip(a, b))
    assert len(a) == 2 * len(LAYOUTS) * len(RENDERERS)
    assert {len(s.text) for s in generate_numbers(images, labels, 8, seed=0)} == set(range(1, 9))


@pytest.mark.mnist
def test_number_corpus_accuracy(classifier, mnist_test) -> None:
    images, labels = mnist_test
    numbers = generate_numbers(images, labels, N_PER_CONDITION, seed=0)
    right: dict[str, list[bool]] = defaultdict(list)
    mistakes: dict[str, list[str]] = defaultdict(list)
    for sample in numbers:
        text = classifier.read(sample.image).text
        right[sample.condition].append(text == sample.text)
        if text != sample.text and len(mistakes[sample.condition]) < 3:
            mistakes[sample.condition].append(f"{sample.text}->{text or 'nothing'}")
    lines = ["| condition | numbers | read right | e.g. mistakes |", "| --- | ---: | ---: | --- |"]
    for name in condition_names():
        lines.append(f"| {name} | {len(right[name])} | {np.mean(right[name]):.3f} | {', '.join(mistakes[name])} |")
    by_layout = {lay: np.mean([v for k, vs in right.items() if k.startswith(lay + "/") for v in vs]) for lay in LAYOUTS}
    apart = np.mean([v for k, vs in right.items() if not k.startswith("touching/") for v in vs])
    lines.append("")
    lines.append(" | ".join(f"{k}: {v:.3f}" for k, v in by_layout.items()) + f" | digits not touching: {apart:.3f}")
    report = "\n".join(lines)
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(report + "\n")
    print("\n" + report)
    assert apart >= MIN_APART, f"numbers whose digits do not touch: {apart:.3f} < {MIN_APART}"
    assert by_layout["touching"] >= MIN_TOUCHING, f"numbers with touching digits: {by_layout['touching']:.3f} < {MIN_TOUCHING}"


@pytest.mark.mnist
def test_a_number_written_small_in_a_big_photo_is_read(classifier, mnist_test) -> None:
    """A phone photo of a page with a number of 2-6 digits written small on it (2-4% of the photo's
    height, 1,200-4,000 px wide). Shrunk to 800 px for analysis, the digits are 12-20 px tall, their
    strokes a pixel or two, their loops blurred shut ("8026" was read "957"); they are read again from
    the part of the photo that holds them, in its own pixels. These 40: 4 wrong (10 before)."""
    images, labels = mnist_test
    rng = np.random.default_rng(9)
    wrong = []
    for k in range(40):
        picks = rng.integers(0, len(images), k % 5 + 2)
        cov = compose_number([images[i] for i in picks], [int(labels[i]) for i in picks], rng, "apart")
        photo = number_in_a_big_photo(cov, rng, int(rng.choice([1200, 2000, 3200, 4000])), float(rng.uniform(0.02, 0.04)))
        text, reading = "".join(str(int(labels[i])) for i in picks), classifier.read(photo)
        if reading.text != text:
            wrong.append(f"{text}->{reading.text or 'nothing'}")
        else:  # boxes in the photo's own pixels, as tall as the digits there
            boxes = np.array([d.box for d in reading.digits])
            assert boxes[:, 0].min() >= 0 and (boxes[:, 0] + boxes[:, 2]).max() <= photo.shape[1]
            assert np.median(boxes[:, 3]) > 0.015 * photo.shape[0]
    assert len(wrong) <= 5, wrong


def test_only_digits_small_in_a_shrunk_picture_are_looked_at_again() -> None:
    number = write("2024", paper=235)  # digits 140 px tall, 40 px of paper above and below
    small = cv2.resize(number, None, fx=0.4, fy=0.4, interpolation=cv2.INTER_AREA)  # digits 56 px: 19 px shrunk
    page = np.full((1500, 2000), 235, np.uint8)
    page[700 : 700 + small.shape[0], 900 : 900 + small.shape[1]] = small
    x, y, w, h = zoom_box(segment(page), page.shape)
    assert 700 < x < 900 + 8 and 640 < y < 716 and 900 + small.shape[1] - 20 < x + w < 1500 and 772 < y + h < 840
    page[700:] = 235
    page[200 : 200 + number.shape[0], : number.shape[1]] = number  # digits 140 px: 47 px shrunk
    assert zoom_box(segment(page), page.shape) is None
    assert zoom_box(segment(small), small.shape) is None  # not shrunk for analysis


def test_renderers_benchmark_renders_each_digit_alone_reproducibly(classifier) -> None:
    """benchmarks/renderers.py: one image per digit and renderer, the same for the same seed, and a
    clear digit stays readable in every rendering."""
    from benchmarks.renderers import render_digits
    from tests.digit_images import draw_digit

    digits = np.stack([draw_digit(d, ink=255, background=0, size=28, width=30) for d in ("0", "7")])
    for name in RENDERERS:
        first, again = render_digits(digits, name, seed=1), render_digits(digits, name, seed=1)
        assert len(first) == 2 and all(np.array_equal(a, b) for a, b in zip(first, again)), name
        assert [p.digit for p in classifier.predict_batch(first)] == [0, 7], name
