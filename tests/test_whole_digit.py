"""The whole-digit check: its input (a candidate in context), the committed network, its training."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from model import DEFAULT_MODEL_PATH, load_classifier
from model.classifier import WHOLE_DIGIT_NAME
from preprocessing.context import WINDOW, context_window
from preprocessing.segment import cut_paths, merge, segment
from tests.digit_images import write


def test_context_window_holds_the_candidate_and_its_surroundings() -> None:
    seg = segment(write("707"))
    assert len(seg.regions) == 3
    window = context_window(seg, seg.regions[1])
    assert window.shape == (*WINDOW, 2) and window.dtype == np.uint8
    own, everything = window[..., 0].astype(int), window[..., 1].astype(int)
    # The candidate is in the middle of the window, and nowhere else.
    columns = np.nonzero(own.sum(0))[0]
    assert abs((columns.min() + columns.max()) / 2 - WINDOW[1] / 2) <= 2
    assert np.all(everything[own > 0] > 0)  # the candidate's ink is part of all the ink
    # Its neighbours are seen beside it, in the second channel only.
    assert everything[:, : columns.min()].sum() > 0 and everything[:, columns.max() + 1 :].sum() > 0


def test_context_window_scales_with_the_writing() -> None:
    small, large = segment(write("4", height=70, width=5)), segment(write("4", height=210, width=14))
    a, b = context_window(small, small.regions[0]), context_window(large, large.regions[0])
    rows_a, rows_b = np.nonzero(a[..., 0].sum(1))[0], np.nonzero(b[..., 0].sum(1))[0]
    assert abs(len(rows_a) - len(rows_b)) <= 2  # a digit fills the same part of the window at any size


def test_committed_check_tells_a_digit_from_two_and_from_a_part(classifier) -> None:
    assert (DEFAULT_MODEL_PATH.parent / WHOLE_DIGIT_NAME).is_file()
    seg = segment(write("50"))
    five, zero = seg.regions
    pair = merge([five, zero])
    left_of_zero = zero.between(None, cut_paths(zero, seg.digit_height)[0])
    windows = np.stack([context_window(seg, r) for r in (five, zero, pair, left_of_zero)])
    whole = classifier.wholeness(windows)
    assert whole[0] > 0.5 and whole[1] > 0.5, whole
    assert whole[2] < 0.2 and whole[3] < 0.2, whole  # two digits are not one, nor is half of one


def test_without_the_check_numbers_are_read_by_the_classifier_alone(tmp_path) -> None:
    shutil.copy(DEFAULT_MODEL_PATH, tmp_path / "digits.onnx")
    clf = load_classifier(tmp_path / "digits.onnx")
    assert np.array_equal(clf.wholeness(np.zeros((3, *WINDOW, 2), np.uint8)), np.ones(3))
    assert clf.read(write("47")).text == "47"
    (tmp_path / WHOLE_DIGIT_NAME).write_bytes(b"not a network")  # a broken optional part is ignored, not fatal
    assert load_classifier(tmp_path / "digits.onnx").read(write("47")).text == "47"


@pytest.mark.mnist
def test_training_writes_a_check_the_reader_loads(mnist_dir, tmp_path) -> None:
    pytest.importorskip("keras")
    from training.whole_digit import main

    assert main(["--data-dir", str(mnist_dir), "--out", str(tmp_path), "--numbers", "40", "--held-out", "10",
                 "--epochs", "2"]) == 0
    assert (tmp_path / "whole_digit.keras").is_file() and (tmp_path / WHOLE_DIGIT_NAME).is_file()
    shutil.copy(DEFAULT_MODEL_PATH, tmp_path / "digits.onnx")
    clf = load_classifier(tmp_path / "digits.onnx")
    seg = segment(write("38"))
    whole = clf.wholeness(np.stack([context_window(seg, r) for r in seg.regions]))
    assert whole.shape == (2,) and np.all((whole >= 0) & (whole <= 1)) and not np.all(whole == 1)
