"""The command-line reader's contract: fields, whole numbers, folders, input order, output files, exit codes."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT
from tests.digit_images import draw_digit, png_bytes

FIELDS = {"path", "ok", "text", "digit", "confidence", "digits", "probabilities", "error"}


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "model", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def number(digits: str, gap: int = 40) -> np.ndarray:
    """Dark digits on white, side by side with a clear gap, as a person writes a number."""
    parts = [draw_digit(d)[:, 60:220] for d in digits]  # each digit's 160-pixel-wide middle
    spacer = np.full((280, gap), 255, np.uint8)
    return np.hstack([part for d in parts for part in (d, spacer)][:-1])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    (d / "seven.png").write_bytes(png_bytes(draw_digit("7")))
    (d / "one.png").write_bytes(png_bytes(draw_digit("1", ink=255, background=0)))
    (d / "number.png").write_bytes(png_bytes(number("170")))
    (d / "corrupt.png").write_bytes(png_bytes(draw_digit("0"))[:60])
    (d / "notes.txt").write_text("not an image\n")
    (d / "blank.png").write_bytes(png_bytes(draw_digit("0", ink=255, background=255)))
    return d


def rows_of(proc: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.splitlines()]


def test_json_mixed_batch_answers_good_files_in_order(classifier, files):
    names = ["seven.png", "corrupt.png", "one.png", "notes.txt", "blank.png", "missing.png"]
    proc = run_cli("predict", "--json", *(str(files / n) for n in names))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    rows = rows_of(proc)
    assert [r["path"] for r in rows] == [str(files / n) for n in names]
    assert all(set(r) == FIELDS for r in rows)
    seven, corrupt, one, text, blank, missing = rows
    assert seven["ok"] and seven["digit"] == 7 and seven["text"] == "7" and seven["error"] is None
    assert one["ok"] and one["digit"] == 1 and one["text"] == "1"
    for good in (seven, one):
        assert len(good["probabilities"]) == 10 and abs(sum(good["probabilities"]) - 1) < 1e-3
        assert good["confidence"] == max(good["probabilities"])
        [digit] = good["digits"]
        assert digit["digit"] == good["digit"] and digit["confidence"] == good["confidence"]
        x, y, w, h = digit["box"]
        assert 0 <= x < x + w <= 280 and 0 <= y < y + h <= 280 and w > 5 and h > 100
    for bad in (corrupt, text, blank, missing):
        assert bad["ok"] is False and bad["digit"] is None and bad["probabilities"] is None and bad["confidence"] is None
        assert bad["text"] == "" and bad["digits"] == []
        assert bad["error"] and "\n" not in bad["error"]


def test_json_whole_number(classifier, files):
    proc = run_cli("predict", "--json", str(files / "number.png"))
    assert proc.returncode == 0, proc.stderr
    [row] = rows_of(proc)
    assert row["ok"] and row["text"] == "170" and row["error"] is None
    assert row["digit"] is None and row["probabilities"] is None  # not one digit
    assert [d["digit"] for d in row["digits"]] == [1, 7, 0]
    xs = [d["box"][0] for d in row["digits"]]
    assert xs == sorted(xs) and xs[0] < 200 < xs[1] < 400 < xs[2]  # each box on its own digit, left to right
    assert row["confidence"] == pytest.approx(np.prod([d["confidence"] for d in row["digits"]]), abs=1e-5)


def test_all_good_exits_zero_with_readable_table(classifier, files):
    proc = run_cli("predict", str(files / "seven.png"), str(files / "number.png"))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split("\t") == ["path", "text", "confidence"]
    assert [line.split("\t")[1] for line in lines[1:]] == ["7", "170"]


def test_folders_are_searched_recursively_for_images_only(classifier, tmp_path):
    (tmp_path / "b" / "deeper").mkdir(parents=True)
    (tmp_path / "b" / "deeper" / "one.PNG").write_bytes(png_bytes(draw_digit("1")))
    (tmp_path / "a.jpg").write_bytes(png_bytes(draw_digit("7")))  # a PNG named .jpg is still read by its content
    (tmp_path / "b" / "readme.txt").write_text("skipped: not an image type")
    (tmp_path / "b" / "x.png").mkdir()  # a folder named like an image is searched, not read
    proc = run_cli("predict", "--json", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    rows = rows_of(proc)
    assert [r["path"] for r in rows] == [str(tmp_path / "a.jpg"), str(tmp_path / "b" / "deeper" / "one.PNG")]
    assert [r["text"] for r in rows] == ["7", "1"]


def test_out_files_csv_and_jsonl(classifier, files, tmp_path):
    names = [str(files / n) for n in ("number.png", "corrupt.png", "seven.png")]
    out_csv, out_jsonl = tmp_path / "r.csv", tmp_path / "r.jsonl"
    for out in (out_csv, out_jsonl):
        proc = run_cli("predict", "--out", str(out), *names)
        assert proc.returncode == 1 and proc.stdout == ""
        assert f"3 files: 2 read, 1 failed; results in {out}" in proc.stderr
    with out_csv.open(newline="") as f:
        table = list(csv.DictReader(f))
    assert list(table[0]) == ["path", "ok", "text", "digit", "confidence", "error", "digits"]
    assert [(r["path"], r["ok"], r["text"], r["digit"]) for r in table] == [
        (names[0], "True", "170", ""), (names[1], "False", "", ""), (names[2], "True", "7", "7")]
    assert table[1]["error"] and json.loads(table[1]["digits"]) == []
    assert [d["digit"] for d in json.loads(table[0]["digits"])] == [1, 7, 0]
    rows = [json.loads(line) for line in out_jsonl.read_text().splitlines()]
    assert [(r["path"], r["text"], r["digit"]) for r in rows] == [
        (names[0], "170", None), (names[1], "", None), (names[2], "7", 7)]
    assert float(table[0]["confidence"]) == rows[0]["confidence"]


def test_all_cores_give_the_same_answers_in_order_with_a_progress_bar(classifier, files, tmp_path):
    """Enough files for worker processes; bad files interleaved stay in their place."""
    kinds = ["seven.png", "one.png", "number.png", "corrupt.png", "blank.png"]
    paths = []
    for i in range(150):
        path = tmp_path / f"{i:03d}-{kinds[i % 5]}"
        path.write_bytes((files / kinds[i % 5]).read_bytes())
        paths.append(str(path))
    one = run_cli("predict", "--json", "--jobs", "1", str(tmp_path))
    two = run_cli("predict", "--json", "--jobs", "2", str(tmp_path))
    assert one.returncode == two.returncode == 1
    assert one.stdout == two.stdout  # same answers, same order
    rows = rows_of(two)
    assert [r["path"] for r in rows] == paths
    assert [r["text"] for r in rows[:5]] == ["7", "1", "170", "", ""]
    assert [r["text"] for r in rows] == [r["text"] for r in rows[:5]] * 30
    assert "150/150" in two.stderr and "img/s" in two.stderr  # tqdm's bar, on stderr only
    assert "Traceback" not in two.stderr


@pytest.mark.parametrize("args", [[], ["predict"], ["predict", "--bogus", "x.png"], ["classify", "x.png"],
                                  ["predict", "--jobs", "0", "x.png"], ["predict", "--out", "results.xlsx", "x.png"],
                                  ["predict", "--json", "--format", "csv", "x.png"]])
def test_usage_errors_exit_two(args):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert "usage:" in proc.stderr and "Traceback" not in proc.stderr


def test_folder_without_images_and_unwritable_out_exit_two(classifier, files, tmp_path):
    proc = run_cli("predict", str(tmp_path))
    assert proc.returncode == 2 and "no image files" in proc.stderr
    proc = run_cli("predict", "--out", str(tmp_path / "absent" / "r.csv"), str(files / "seven.png"))
    assert proc.returncode == 2 and "cannot write" in proc.stderr and "Traceback" not in proc.stderr


def test_unusable_model_exits_two_with_the_train_command(tmp_path, files):
    (tmp_path / "broken.keras").write_bytes(b"not a zip")
    (tmp_path / "broken.onnx").write_bytes(b"not a model")
    for model, jobs in [("broken.keras", "1"), ("broken.onnx", "2"), ("absent.onnx", "1"), ("absent.onnx", "2")]:
        proc = run_cli("predict", "--jobs", jobs, "--model", str(tmp_path / model), str(files / "seven.png"))
        assert proc.returncode == 2
        assert "python -m training.train" in proc.stderr and "Traceback" not in proc.stderr
