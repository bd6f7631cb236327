"""training.finetune, small: a few samples, one epoch, a slice of MNIST test. Never a long training here.

The real measurement (800 samples of a style the model reads badly) is ``benchmarks/finetune_effect.py``.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from store import SampleStore, new_sample
from training import finetune
from training.data import load_idx_dir, sha256_file

pytestmark = pytest.mark.mnist

ROOT = Path(__file__).resolve().parent.parent
PARENT = ROOT / "model" / "digits.keras"
# Enough test images that one extra error is far below the 0.15-point limit.
SMOKE = ["--epochs", "1", "--mnist-limit", "2000", "--repeat", "1", "--replay", "1", "--lr", "1e-4"]


@pytest.fixture(scope="module")
def mnist(mnist_dir: Path):
    return load_idx_dir(mnist_dir)


@pytest.fixture
def db(tmp_path: Path, mnist) -> str:
    """A store with 30 samples: MNIST training digits saved as the app saves them."""
    url = f"sqlite:///{tmp_path / 'samples.sqlite'}"
    store = SampleStore(url)
    for i in range(30):
        digit = mnist.x_train[i]
        store.add(new_sample(255 - np.kron(digit, np.ones((4, 4), np.uint8)), digit, int(mnist.y_train[i]), predicted=0,
                             confidence=0.5, model_sha256="0" * 64, source="draw"))
    store.close()
    return url


def run(args: list[str], mnist_dir: Path) -> int:
    return finetune.main([*args, "--data-dir", str(mnist_dir), *SMOKE])


def test_finetune_from_the_store_writes_a_model_with_its_lineage(db: str, tmp_path: Path, mnist_dir: Path, capsys) -> None:
    out = tmp_path / "tuned"
    assert run(["--db", db, "--out", str(out)], mnist_dir) == 0
    assert {"digits.keras", "digits.onnx", "model_card.json"} <= {p.name for p in out.iterdir()}
    card = json.loads((out / "model_card.json").read_text())
    lineage = card["lineage"]
    assert lineage["parent_sha256"] == sha256_file(PARENT)
    assert lineage["ancestors"][-1] == sha256_file(PARENT)
    assert lineage["samples_used"] + lineage["samples_held_out"] == 30 and lineage["samples_held_out"] == 6
    assert sum(lineage["samples_per_digit"].values()) == 24
    assert lineage["mnist_test_images"] == 2000
    for when in ("before", "after"):
        assert 0.9 < lineage[when]["mnist_test_accuracy"] <= 1 and 0 <= lineage[when]["held_out_accuracy"] <= 1
    assert card["model_sha256"] == sha256_file(out / "digits.keras") != lineage["parent_sha256"]
    assert card["serving"]["sha256"] == sha256_file(out / "digits.onnx")
    assert card["test"]["accuracy"] == pytest.approx(lineage["after"]["mnist_test_accuracy"], abs=1e-4)
    # The written ONNX copy is a working model for the app.
    from model import load_classifier
    from tests.digit_images import draw_digit

    assert load_classifier(out / "digits.onnx").predict(draw_digit("7")).digit == 7
    printed = capsys.readouterr().out
    assert "before: held-out" in printed and "after:  held-out" in printed


def test_finetune_from_an_exported_folder(db: str, tmp_path: Path, mnist_dir: Path) -> None:
    """The app's export zip, unpacked: its digits/<d>/*.png folder is a training set as it is."""
    zipfile.ZipFile(io.BytesIO(SampleStore(db).export_zip())).extractall(tmp_path / "export")
    (tmp_path / "export" / "digits" / "3" / "notes.png").write_bytes(b"not an image")  # skipped, with a reason
    # Training only: writing the files is the test above (the ONNX export is the slow part).
    args = finetune.parse_args(["--images", str(tmp_path / "export" / "digits"), "--out", str(tmp_path / "unused"),
                                "--data-dir", str(mnist_dir), *SMOKE])
    lineage = finetune.finetune(args)["lineage"]
    assert lineage["samples_source"] == str(tmp_path / "export" / "digits")
    assert lineage["samples_used"] + lineage["samples_held_out"] == 30
    assert lineage["after"]["mnist_test_accuracy"] > 0.9


def test_read_image_dir_reads_network_inputs_and_preprocesses_other_images(tmp_path: Path) -> None:
    from tests.digit_images import draw_digit, png_bytes

    (tmp_path / "7").mkdir()
    (tmp_path / "1").mkdir()
    (tmp_path / "7" / "small.png").write_bytes(png_bytes(np.zeros((28, 28), np.uint8)))  # taken as it is
    (tmp_path / "1" / "photo.png").write_bytes(png_bytes(draw_digit("1")))  # dark on white, 280 px: preprocessed
    (tmp_path / "1" / "blank.png").write_bytes(png_bytes(np.full((100, 100), 255, np.uint8)))
    samples = finetune.read_image_dir(tmp_path)
    assert samples.y.tolist() == [1, 7]
    assert samples.x.shape == (2, 28, 28) and samples.x[0].max() == 255 and samples.x[1].max() == 0
    assert len(samples.skipped) == 1 and "blank.png" in samples.skipped[0]


def test_a_finetune_that_would_forget_mnist_is_refused_and_writes_nothing(db: str, tmp_path: Path, mnist_dir: Path,
                                                                         capsys) -> None:
    out = tmp_path / "tuned"
    status = finetune.main(["--db", db, "--out", str(out), "--data-dir", str(mnist_dir), "--epochs", "1",
                            "--mnist-limit", "2000", "--repeat", "4", "--replay", "0", "--lr", "0.05"])
    assert status == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: refused: MNIST test accuracy would drop by ") and "nothing was written" in err[-1]
    assert not out.exists()


def test_no_samples_is_an_error(tmp_path: Path, mnist_dir: Path, capsys) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    assert finetune.main(["--db", url, "--out", str(tmp_path / "out"), "--data-dir", str(mnist_dir)]) == 1
    assert capsys.readouterr().err.strip() == f"error: no samples to fine-tune on in {tmp_path / 'empty.sqlite'}"


def test_hold_out() -> None:
    train, held = finetune.hold_out(100, 0.2, seed=1)
    assert len(held) == 20 and len(train) == 80 and not set(train) & set(held)
    train, held = finetune.hold_out(9, 0.2, seed=1)
    assert len(held) == 0 and len(train) == 9
