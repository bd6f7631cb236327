"""Training smoke test on a tiny synthetic data set: the export contract and every artefact."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.idx_files import write_mnist_dir
from training import train


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    data_dir = write_mnist_dir(tmp_path_factory.mktemp("mnist"), n_train=400, n_test=100)
    out = tmp_path_factory.mktemp("model")
    code = train.main(["--data-dir", str(data_dir), "--epochs", "1", "--batch-size", "64", "--out", str(out), "--quiet"])
    assert code == 0
    return out


def test_exports_loadable_model_meeting_the_contract(trained):
    import keras

    model = keras.saving.load_model(trained / train.MODEL_FILENAME, compile=False)
    x = np.random.default_rng(0).random((5, 28, 28, 1), dtype=np.float32)
    probs = np.asarray(model(x, training=False))
    assert probs.shape == (5, 10) and probs.dtype == np.float32
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    # Inference is deterministic: no augmentation or dropout active.
    assert np.array_equal(probs, np.asarray(model(x, training=False)))
    assert all(layer.dtype_policy.name == "float32" for layer in model.layers)
    assert not any("random" in layer.name for layer in model.layers)


def test_onnx_copy_answers_like_keras(trained):
    from model import load_classifier

    images = np.random.default_rng(1).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    onnx = load_classifier(trained / "digits.onnx").probabilities(images)
    keras_probs = load_classifier(trained / train.MODEL_FILENAME).probabilities(images)
    assert onnx.shape == (7, 10) and np.abs(onnx - keras_probs).max() < 1e-4


def test_writes_card_history_and_figures(trained):
    card = json.loads((trained / train.CARD_FILENAME).read_text())
    assert card["architecture"] == "robust" and card["parameters"] > 0
    assert 0 <= card["test"]["accuracy"] <= 1 and set(card["test"]["per_class"]) == {str(d) for d in range(10)}
    assert card["training"]["epochs_run"] == 1 and card["training"]["train_seconds"] > 0
    assert len(card["data"]["sha256"]) == 4 and card["versions"]["keras"].startswith("3.")
    assert card["model_bytes"] == (trained / train.MODEL_FILENAME).stat().st_size
    assert card["serving"]["file"] == "digits.onnx" and card["serving"]["max_abs_difference_vs_keras"] < 1e-4
    for name in ("training_curves.png", "confusion_matrix.png", "history.csv", "classification_report.txt"):
        assert (trained / "reports" / name).stat().st_size > 0, name
    assert not list(trained.glob(".tmp-*")), "temporary files left behind"


def test_missing_data_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train.main(["--data-dir", str(tmp_path), "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    assert "missing train-images-idx3-ubyte.gz" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_compare_writes_table_json_and_heatmap(tmp_path):
    from training import compare

    (tmp_path / "mnist").mkdir()
    data_dir = write_mnist_dir(tmp_path / "mnist", n_train=5300, n_test=100)  # 5000 go to validation
    out = tmp_path / "reports"
    assert compare.main(["--data-dir", str(data_dir), "--subset", "200", "--epochs", "1", "--out", str(out)]) == 0
    rows = json.loads((out / "comparison.json").read_text())["models"]
    assert len(rows) == 5 and all(0 <= r["accuracy"] <= 1 and r["train_seconds"] >= 0 for r in rows.values())
    table = (out / "comparison.md").read_text()
    assert all(f"| {name} |" in table for name in rows)
    assert (out / "comparison.png").stat().st_size > 0
