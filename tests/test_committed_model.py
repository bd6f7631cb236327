"""The committed model: its card is honest and it reaches the card's accuracy on the MNIST test set."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model.classifier import CARD_PATH, DEFAULT_MODEL_PATH
from training.data import load_mnist, sha256_file


@pytest.fixture(scope="module")
def card() -> dict:
    return json.loads(CARD_PATH.read_text())


def test_card_describes_the_committed_file(card):
    assert card["model_file"] == DEFAULT_MODEL_PATH.name
    assert card["model_sha256"] == sha256_file(DEFAULT_MODEL_PATH)
    assert DEFAULT_MODEL_PATH.stat().st_size <= 10 * 1024 * 1024
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
