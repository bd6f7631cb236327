"""The Ray Data job (model.distributed) in local mode gives the CLI's answers, image for image."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests.conftest import ROOT, require
from tests.corpus import generate_corpus
from tests.digit_images import draw_digit, png_bytes


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """A few hundred realistic images, some numbers, and files that cannot be read, in nested folders."""
    root = tmp_path_factory.mktemp("cluster-input")
    for i, sample in enumerate(generate_corpus(n_per_condition=8, seed=3)):
        folder = root / sample.condition.replace("/", "-")
        folder.mkdir(exist_ok=True)
        Image.fromarray(sample.image).save(folder / f"{i:04d}.png")
    numbers = root / "numbers"
    numbers.mkdir()
    for i, text in enumerate(["17", "170", "701", "1077", "7"]):
        parts = [np.pad(draw_digit(d)[:, 60:220], ((0, 0), (20, 20)), constant_values=255) for d in text]
        (numbers / f"n{i}.png").write_bytes(png_bytes(np.hstack(parts)))
    (numbers / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (numbers / "empty.png").write_bytes(b"")
    (numbers / "blank.png").write_bytes(png_bytes(np.full((100, 100), 255, np.uint8)))
    (numbers / "notes.txt").write_text("skipped by both: not an image type")
    return root


def test_ray_job_in_local_mode_matches_the_cli(classifier, images, tmp_path):
    require(importlib.util.find_spec("ray") is not None, "Ray is not installed: pip install -r requirements-cluster.txt")
    import pandas as pd

    cli = run("model", "predict", "--json", str(images))
    assert cli.returncode == 1, cli.stderr  # the bad files fail; everything else is read
    expected = {row["path"]: row for row in map(json.loads, cli.stdout.splitlines())}
    assert len(expected) == sum(p.suffix in (".png", ".jpg") for p in images.rglob("*")) > 200

    out = tmp_path / "results"
    job = run("model.distributed", str(images), "--out", str(out))
    assert job.returncode == 0, job.stderr[-3000:]
    assert f"{len(expected)} images in" in job.stderr
    table = pd.read_parquet(out)
    assert list(table.columns) == ["path", "ok", "text", "digit", "confidence", "error", "digits"]
    got = {row["path"]: row for row in table.to_dict("records")}
    assert set(got) == set(expected)
    for path, want in expected.items():
        row = got[path]
        assert (bool(row["ok"]), row["text"]) == (want["ok"], want["text"]), path
        assert (None if pd.isna(row["digit"]) else int(row["digit"])) == want["digit"], path
        assert (None if pd.isna(row["error"]) else row["error"]) == want["error"], path
        assert (None if pd.isna(row["confidence"]) else row["confidence"]) == pytest.approx(want["confidence"], abs=1e-6)
        assert json.loads(row["digits"]) == want["digits"], path
    assert sum(len(row["text"]) > 1 for row in got.values()) >= 3  # whole numbers went through too
    failed = sorted(p.rsplit("/", 1)[1] for p, row in got.items() if not row["ok"])
    assert {"corrupt.jpg", "empty.png", "blank.png"} <= set(failed)


def test_unusable_model_is_one_line_before_ray_starts(tmp_path):
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    proc = run("model.distributed", str(tmp_path), "--out", str(tmp_path / "o"), "--model", str(tmp_path / "broken.onnx"))
    assert proc.returncode == 2 and "python -m training.train" in proc.stderr and "Traceback" not in proc.stderr
