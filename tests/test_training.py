"""Training smoke test on a tiny synthetic data set: the export contract and every artefact."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.idx_files import write_mnist_dir
from training import train


@pytest.fixture(scope="module")
def toy_data(tmp_path_factory):
    return write_mnist_dir(tmp_path_factory.mktemp("mnist"), n_train=400, n_test=100)


@pytest.fixture(scope="module")
def trained(toy_data, tmp_path_factory):
    data_dir = toy_data
    out = tmp_path_factory.mktemp("model")
    args = ["--data-dir", str(data_dir), "--epochs", "1", "--batch-size", "64", "--out", str(out), "--quiet"]
    # A tiny styled pool: the styles must cope with digits that look nothing like MNIST (bars).
    code = train.main([*args, "--style-rate", "0.3", "--style-pool", "5", "--val-size", "50"])
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
    assert card["config"]["style_rate"] == 0.3 and card["training"]["styled_pool_images"] > 0
    assert "CPU" in card["training"]["device"] or "GPU" in card["training"]["device"]
    assert (
        set(card["test_styles"])
        == set(card["training"]["validation_styles"])
        == {
            "european_1",
            "crossed_7",
            "open_4",
            "straight_9",
            "thin_broken",
            "small_scan",
            "elastic",
        }
    )
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


def test_ensemble_averages_members_into_one_served_model(trained, toy_data, tmp_path):
    from model import load_classifier
    from training import ensemble
    from training.models import build_ensemble, build_robust

    # The averaging itself, on two different members.
    a, b = build_robust(name="a"), build_robust(name="b")
    x = np.random.default_rng(3).random((4, 28, 28, 1), dtype=np.float32)
    both = np.asarray(build_ensemble([a, b])(x, training=False))
    assert np.allclose(both, (np.asarray(a(x, training=False)) + np.asarray(b(x, training=False))) / 2, atol=1e-6)

    # The command, on the trained run twice: same answers as the member, card and ONNX copy written.
    out = tmp_path / "ens"
    assert ensemble.main([str(trained), str(trained), "--data-dir", str(toy_data), "--out", str(out)]) == 0
    card = json.loads((out / "model_card.json").read_text())
    assert card["architecture"].startswith("robust x 2") and len(card["training"]["members"]) == 2
    assert card["serving"]["max_abs_difference_vs_keras"] < 1e-4 and "european_1" in card["test_styles"]
    images = np.random.default_rng(4).integers(0, 256, (6, 28, 28), dtype=np.uint8)
    member = load_classifier(trained / "digits.keras").probabilities(images)
    assert np.abs(load_classifier(out / "digits.onnx").probabilities(images) - member).max() < 1e-4


def test_compare_tunes_and_logistic_regression_converges(tmp_path):
    from training import compare

    (tmp_path / "mnist").mkdir()
    data_dir = write_mnist_dir(tmp_path / "mnist", n_train=5300, n_test=100)  # 5000 go to validation
    args = ["--data-dir", str(data_dir), "--subset", "200", "--epochs", "1", "--jobs", "1"]
    parts = []
    for only in ("logistic", "keras"):
        out = tmp_path / only
        assert compare.main([*args, "--only", only, "--out", str(out)]) == 0
        parts.append(str(out / "comparison.json"))
    rows = json.loads((tmp_path / "logistic" / "comparison.json").read_text())["models"]
    assert set(rows) == {"Logistic Regression (default)", "Logistic Regression (tuned)"}
    assert all(r["converged"] for r in rows.values())
    assert rows["Logistic Regression (tuned)"]["candidates"] == 6 and rows["Logistic Regression (tuned)"]["best_params"]

    merged = tmp_path / "merged"
    assert compare.main(["--merge", *parts, "--out", str(merged)]) == 0
    rows = json.loads((merged / "comparison.json").read_text())["models"]
    assert len(rows) == 4 and all(0 <= r["accuracy"] <= 1 and r["train_seconds"] >= 0 for r in rows.values())
    table = (merged / "comparison.md").read_text()
    assert all(f"| {name} |" in table for name in rows) and "--subset 200" in table
    assert (merged / "comparison.png").stat().st_size > 0


def test_compare_refuses_a_logistic_regression_that_does_not_converge():
    from sklearn.linear_model import LogisticRegression

    from training import compare

    with pytest.raises(compare.NotConverged):
        x = np.random.default_rng(0).random((200, 20))
        compare.fit_checked(LogisticRegression(max_iter=1), x, np.arange(200) % 3, must_converge=True)
