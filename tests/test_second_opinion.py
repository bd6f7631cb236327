"""The second opinion on unsure lone digits (model.second_opinion, model/second_opinion.onnx, training.second_opinion)."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from model import DEFAULT_MODEL_PATH, load_classifier
from model.classifier import SECOND_OPINION_NAME
from model.second_opinion import UNSURE, WEIGHT, combine, unsure_rows


def row(**digits: float) -> np.ndarray:
    """A probability row with the given digits (d1=0.6, ...) and the rest spread evenly."""
    r = np.zeros(10)
    for name, p in digits.items():
        r[int(name[1:])] = p
    rest = [d for d in range(10) if f"d{d}" not in digits]
    r[rest] = (1.0 - r.sum()) / len(rest)
    return r


def test_only_digits_read_without_certainty_are_asked() -> None:
    rows = np.stack([
        row(d7=0.6, d1=0.35),  # a 7 that may be a 1
        row(d0=0.8, d6=0.15),  # a 0 that may be a 6
        row(d7=0.995, d1=0.004),  # a sure 7
        row(d4=0.999),  # a sure 4
    ])
    assert unsure_rows(rows).tolist() == [True, True, False, False]
    assert unsure_rows(np.stack([row(d3=UNSURE)])).tolist() == [False]


def test_the_answer_is_the_weighted_average_of_both() -> None:
    first = np.stack([row(d7=0.6, d1=0.3)])
    second = np.stack([row(d1=0.9, d7=0.05)])
    combined = combine(first, second)
    assert 0.5 <= WEIGHT < 1
    assert combined == pytest.approx((1 - WEIGHT) * first + WEIGHT * second)
    assert int(combined[0].argmax()) == 1 and combined.sum() == pytest.approx(1.0)


def lone_one_with_a_flag() -> np.ndarray:
    """A printed 1 with a long flag and no foot, slanted: the classifier alone reads it as 7."""
    image = np.full((200, 160), 255, np.uint8)
    cv2.line(image, (100, 30), (70, 170), 0, 14, cv2.LINE_AA)  # the stem, leaning right
    cv2.line(image, (100, 30), (45, 62), 0, 14, cv2.LINE_AA)  # the flag, down to the left
    return image


def test_the_committed_second_opinion_is_served_and_heard(classifier, tmp_path) -> None:
    assert (DEFAULT_MODEL_PATH.parent / SECOND_OPINION_NAME).is_file()
    shutil.copy(DEFAULT_MODEL_PATH, tmp_path / DEFAULT_MODEL_PATH.name)
    alone = load_classifier(tmp_path / DEFAULT_MODEL_PATH.name)
    image = lone_one_with_a_flag()
    without, with_it = alone.predict(image), classifier.predict(image)
    assert without.digit == 7, without.probabilities
    assert with_it.digit == 1, with_it.probabilities
    assert classifier.read(image).text == "1"
    # A 7 the classifier is sure of keeps its answer and its probabilities: the second network is not asked.
    seven = lone_seven()
    assert alone.predict(seven).probabilities == classifier.predict(seven).probabilities
    assert classifier.predict(seven).digit == 7


def lone_seven() -> np.ndarray:
    """A 7 with a long level bar."""
    image = np.full((200, 160), 255, np.uint8)
    cv2.line(image, (35, 35), (125, 35), 0, 14, cv2.LINE_AA)
    cv2.line(image, (125, 35), (70, 170), 0, 14, cv2.LINE_AA)
    return image


def test_a_broken_second_opinion_is_ignored(tmp_path) -> None:
    shutil.copy(DEFAULT_MODEL_PATH, tmp_path / DEFAULT_MODEL_PATH.name)
    (tmp_path / SECOND_OPINION_NAME).write_bytes(b"not a network")
    clf = load_classifier(tmp_path / DEFAULT_MODEL_PATH.name)
    assert clf.predict(lone_one_with_a_flag()).digit == 7  # read by the classifier alone, as without the file


def test_publishing_a_run_writes_the_network_and_its_card(tmp_path) -> None:
    from training.second_opinion import main

    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(DEFAULT_MODEL_PATH.parent / SECOND_OPINION_NAME, run / "digits.onnx")
    card = {"model_sha256": "abc", "config": {"epochs": 6, "style_rate": 0.15}, "created": "2026-12-07",
            "training": {"train_seconds": 220.0, "device": "CPU", "validation_accuracy": 0.9928},
            "test": {"accuracy": 0.9959}, "test_styles": {"european_1": {"accuracy": 0.96, "images": 1135}}}
    (run / "model_card.json").write_text(json.dumps(card))
    out = tmp_path / "model"
    assert main([str(run), "--out", str(out)]) == 0
    written = json.loads((out / "second_opinion.json").read_text())
    assert written["test_accuracy"] == 0.9959 and written["config"]["style_rate"] == 0.15
    assert (out / SECOND_OPINION_NAME).read_bytes() == (run / "digits.onnx").read_bytes()
    from training.data import sha256_file

    assert written["sha256"] == sha256_file(out / SECOND_OPINION_NAME)
    assert not list(out.glob(".tmp-*"))
    with pytest.raises(SystemExit, match="no digits.onnx"):
        main([str(tmp_path / "empty"), "--out", str(out)])


def test_the_committed_card_describes_the_committed_file() -> None:
    from training.data import sha256_file

    card = json.loads((DEFAULT_MODEL_PATH.parent / "second_opinion.json").read_text())
    assert card["sha256"] == sha256_file(DEFAULT_MODEL_PATH.parent / SECOND_OPINION_NAME)
    assert card["config"]["style_rate"] > 0 and card["test_accuracy"] >= 0.995
