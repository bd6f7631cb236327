"""The sequence reader: its input strip, CTC decoding, the committed network, its training, and its part in reading."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from model import DEFAULT_MODEL_PATH, load_classifier
from model.classifier import SEQUENCE_NAME
from model.sequence import CLASSES, STEPS, decode
from preprocessing.line import DIGIT_ROWS, LINE, LineMapping, line_image
from preprocessing.segment import segment
from tests.digit_images import write


def _output(runs: list[tuple[int, int, int]], sure: float = 0.9) -> np.ndarray:
    """A (64, 11) CTC output that is blank except for (first step, last step, digit) runs."""
    out = np.full((STEPS, CLASSES), (1 - sure) / (CLASSES - 1))
    out[:, 0] = sure
    for first, last, digit in runs:
        out[first : last + 1] = (1 - sure) / (CLASSES - 1)
        out[first : last + 1, digit + 1] = sure
    return out


def test_decode_reads_runs_as_digits_left_to_right_with_positions() -> None:
    mapping = LineMapping(x0=100.0, offset=4.0, scale=0.5)  # strip column c is ink column 100 + (c - 4) * 2
    peaks = decode(_output([(2, 3, 7), (10, 10, 1), (20, 22, 7)]), mapping)
    assert [p.digit for p in peaks] == [7, 1, 7]
    # Run 2-3 covers strip columns 8-16: centre 12, ink column 100 + 8 * 2.
    assert peaks[0].x == pytest.approx(116.0)
    assert peaks[1].x < peaks[2].x
    for p in peaks:
        assert p.probabilities.shape == (10,) and p.probabilities.sum() == pytest.approx(1.0)
        assert p.confidence == pytest.approx(0.9)


def test_decode_keeps_a_repeated_digit_apart_only_across_a_blank() -> None:
    mapping = LineMapping(0.0, 0.0, 1.0)
    assert [p.digit for p in decode(_output([(5, 6, 0), (8, 9, 0)]), mapping)] == [0, 0]
    assert [p.digit for p in decode(_output([(5, 9, 0)]), mapping)] == [0]
    assert decode(_output([]), mapping) == []


def test_line_strip_holds_the_digits_at_a_fixed_height() -> None:
    for height in (70, 210):
        seg = segment(write("4071", height=height, width=max(4, height // 15)))
        strip, mapping = line_image(seg)
        assert strip.shape == LINE and strip.dtype == np.uint8
        rows = np.nonzero(strip.max(1) > 80)[0]
        assert abs(len(rows) - DIGIT_ROWS) <= 3
        # The first region's left edge and the last one's right edge map to the ink's ends in the strip.
        columns = np.nonzero(strip.max(0) > 80)[0]
        assert abs(mapping.to_strip(seg.regions[0].x0) - columns.min()) <= 2
        assert abs(mapping.to_strip(seg.regions[-1].x1) - columns.max()) <= 2
        assert mapping.to_ink(mapping.to_strip(123.0)) == pytest.approx(123.0)


def test_a_long_line_is_squeezed_into_the_strip() -> None:
    seg = segment(write("0123457801234578", gap=60))
    strip, mapping = line_image(seg)
    columns = np.nonzero(strip.max(0) > 80)[0]
    assert columns.min() >= 2 and columns.max() <= LINE[1] - 3
    assert mapping.to_strip(seg.regions[-1].x1) <= LINE[1]


def test_committed_sequence_reader_reads_a_line(classifier) -> None:
    assert (DEFAULT_MODEL_PATH.parent / SEQUENCE_NAME).is_file()
    seg = segment(write("2584"))
    strip, mapping = line_image(seg)
    peaks = decode(classifier.sequence(strip[None])[0], mapping)
    assert [p.digit for p in peaks] == [2, 5, 8, 4]
    for peak, region in zip(peaks, seg.regions):
        assert region.x0 <= peak.x < region.x1


@pytest.mark.parametrize(("text", "gap"), [("00", -20), ("23", -22), ("307", -28), ("45", -40)])
def test_touching_digits_are_read(classifier, text: str, gap: int) -> None:
    image = write(text, gap=gap)
    assert len(segment(image).regions) < len(text)  # the digits touch: fewer regions than digits
    reading = classifier.read(image)
    assert reading.text == text
    boxes = [d.box for d in reading.digits]
    assert all(a[0] < b[0] for a, b in zip(boxes, boxes[1:]))  # one box per digit, left to right


def test_without_the_sequence_reader_numbers_are_still_read(tmp_path) -> None:
    shutil.copy(DEFAULT_MODEL_PATH, tmp_path / "digits.onnx")
    shutil.copy(DEFAULT_MODEL_PATH.parent / "whole_digit.onnx", tmp_path / "whole_digit.onnx")
    assert load_classifier(tmp_path / "digits.onnx").read(write("47")).text == "47"
    (tmp_path / SEQUENCE_NAME).write_bytes(b"not a network")  # a broken optional part is ignored, not fatal
    assert load_classifier(tmp_path / "digits.onnx").read(write("47")).text == "47"


@pytest.mark.mnist
def test_training_writes_a_sequence_reader_the_classifier_loads(mnist_dir, tmp_path) -> None:
    pytest.importorskip("keras")
    from training.sequence_reader import main

    assert main(["--data-dir", str(mnist_dir), "--out", str(tmp_path), "--lines", "96", "--held-out", "16",
                 "--epochs", "1", "--jobs", "1"]) == 0
    assert (tmp_path / "sequence.keras").is_file() and (tmp_path / SEQUENCE_NAME).is_file()
    shutil.copy(DEFAULT_MODEL_PATH, tmp_path / "digits.onnx")
    clf = load_classifier(tmp_path / "digits.onnx")
    strip, _ = line_image(segment(write("38")))
    out = clf.sequence(strip[None])
    assert out.shape == (1, STEPS, CLASSES) and np.allclose(out.sum(-1), 1, atol=1e-4)
