"""The committed model: its card is honest and it reaches the card's accuracy on the MNIST test set."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model.classifier import CARD_PATH, DEFAULT_MODEL_PATH, KERAS_MODEL_PATH, load_classifier
from training.data import load_mnist, sha256_file


@pytest.fixture(scope="module")
def card() -> dict:
    return json.loads(CARD_PATH.read_text())


def test_card_describes_the_committed_files(card):
    assert card["model_file"] == KERAS_MODEL_PATH.name
    assert card["model_sha256"] == sha256_file(KERAS_MODEL_PATH)
    assert card["serving"]["file"] == DEFAULT_MODEL_PATH.name
    assert card["serving"]["sha256"] == sha256_file(DEFAULT_MODEL_PATH)
    assert max(KERAS_MODEL_PATH.stat().st_size, DEFAULT_MODEL_PATH.stat().st_size) <= 10 * 1024 * 1024
    assert card["test"]["accuracy"] >= 0.996


@pytest.mark.mnist
def test_reaches_card_accuracy_on_mnist_test(card, classifier, mnist_dir):
    data = load_mnist(mnist_dir)
    # The training data's checksums in the card are the ones of the files we test with.
    for name, digest in card["data"]["sha256"].items():
        if name.startswith("t10k"):
            assert sha256_file(mnist_dir / name) == digest
    probs = classifier.probabilities(data.x_test)
    accuracy = float(np.mean(probs.argmax(axis=1) == data.y_test))
    print(f"committed model: MNIST test accuracy {accuracy:.4f} (card: {card['test']['accuracy']})")
    assert accuracy >= card["test"]["accuracy"] - 1e-4


# MNIST test digits given as images, through the whole preprocessing (ink, box, normalisation):
# 99.49% on 2026-12-06; 99.31% while fat strokes were redrawn along their skeleton.
MIN_THROUGH_PIPELINE = 0.994


@pytest.mark.mnist
def test_mnist_test_digits_read_as_images_through_the_pipeline(classifier, mnist_dir):
    data = load_mnist(mnist_dir)
    answers = np.array([p.digit if p.digit is not None else -1 for p in classifier.predict_batch(list(data.x_test))])
    accuracy = float(np.mean(answers == data.y_test))
    print(f"MNIST test digits through the pipeline: {accuracy:.4f} ({int(np.sum(answers == -1))} without a digit)")
    assert accuracy >= MIN_THROUGH_PIPELINE


@pytest.mark.mnist
def test_served_onnx_copy_matches_keras_on_mnist_test(classifier, mnist_dir):
    x_test = load_mnist(mnist_dir).x_test
    served = classifier.probabilities(x_test)
    reference = load_classifier(KERAS_MODEL_PATH).probabilities(x_test)
    assert np.abs(served - reference).max() < 1e-4
    assert np.array_equal(served.argmax(axis=1), reference.argmax(axis=1))


def test_single_image_then_batch_gives_the_same_rows(classifier):
    """A runtime once returned wrong rows for a batch after a single image (OpenCV DNN's classic engine)."""
    images = np.random.default_rng(2).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    one = classifier.probabilities(images[:1])
    batch = classifier.probabilities(images)
    assert batch.shape == (5, 10) and np.allclose(batch[0], one[0], atol=1e-6)
    assert np.allclose(batch.sum(axis=1), 1.0, atol=1e-5)


def test_replacing_any_network_file_changes_the_apps_cache_key(tmp_path):
    """The app reloads when a helper network is replaced too, not only digits.onnx."""
    import os
    import shutil

    from model.classifier import SECOND_OPINION_NAME, SEQUENCE_NAME, WHOLE_DIGIT_NAME, files_modified

    for name in (DEFAULT_MODEL_PATH.name, WHOLE_DIGIT_NAME, SEQUENCE_NAME):
        shutil.copy(DEFAULT_MODEL_PATH.parent / name, tmp_path / name)
    model = tmp_path / DEFAULT_MODEL_PATH.name
    before = files_modified(model)
    later = before[2] + 60
    os.utime(tmp_path / SEQUENCE_NAME, (later, later))
    after = files_modified(model)
    assert after[:2] == before[:2] and after[2] == later
    (tmp_path / WHOLE_DIGIT_NAME).unlink()
    assert files_modified(model)[1] == 0.0
    assert files_modified(model)[3] == 0.0  # no second opinion copied here
    shutil.copy(DEFAULT_MODEL_PATH.parent / SECOND_OPINION_NAME, tmp_path / SECOND_OPINION_NAME)
    assert files_modified(model)[3] > 0.0
