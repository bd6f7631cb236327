"""The command-line predictor's contract: fields, input order, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.digit_images import draw_digit, png_bytes

FIELDS = {"path", "ok", "digit", "confidence", "probabilities", "error"}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    (d / "seven.png").write_bytes(png_bytes(draw_digit("7")))
    (d / "one.png").write_bytes(png_bytes(draw_digit("1", ink=255, background=0)))
    (d / "corrupt.png").write_bytes(png_bytes(draw_digit("0"))[:60])
    (d / "notes.txt").write_text("not an image\n")
    (d / "blank.png").write_bytes(png_bytes(draw_digit("0", ink=255, background=255)))
    return d


def test_json_mixed_batch_answers_good_files_in_order(classifier, files):
    names = ["seven.png", "corrupt.png", "one.png", "notes.txt", "blank.png", "missing.png"]
    proc = run_cli("predict", "--json", *(str(files / n) for n in names))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["path"] for r in rows] == [str(files / n) for n in names]
    assert all(set(r) == FIELDS for r in rows)
    seven, corrupt, one, text, blank, missing = rows
    assert seven["ok"] and seven["digit"] == 7 and seven["error"] is None
    assert one["ok"] and one["digit"] == 1
    for good in (seven, one):
        assert len(good["probabilities"]) == 10 and abs(sum(good["probabilities"]) - 1) < 1e-3
        assert good["confidence"] == max(good["probabilities"])
    for bad in (corrupt, text, blank, missing):
        assert bad["ok"] is False and bad["digit"] is None and bad["probabilities"] is None and bad["confidence"] is None
        assert bad["error"] and "\n" not in bad["error"]


def test_all_good_exits_zero_with_readable_table(classifier, files):
    proc = run_cli("predict", str(files / "seven.png"), str(files / "one.png"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split("\t") == ["path", "digit", "confidence"]
    assert [line.split("\t")[1] for line in lines[1:]] == ["7", "1"]


@pytest.mark.parametrize("args", [[], ["predict"], ["predict", "--bogus", "x.png"], ["classify", "x.png"]])
def test_usage_errors_exit_two(args):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert "usage:" in proc.stderr and "Traceback" not in proc.stderr


def test_unusable_model_exits_two_with_the_train_command(tmp_path, files):
    bad_model = tmp_path / "broken.keras"
    bad_model.write_bytes(b"not a zip")
    for model in (bad_model, tmp_path / "absent.keras"):
        proc = run_cli("predict", "--model", str(model), str(files / "seven.png"))
        assert proc.returncode == 2
        assert "python -m training.train" in proc.stderr and "Traceback" not in proc.stderr
