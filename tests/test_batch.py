"""Batch reading (model.batch) and one classifier shared by many threads, as the app's sessions share it."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from model.batch import collect_paths, read_chunk, read_files
from tests.corpus import generate_corpus
from tests.digit_images import draw_digit, png_bytes


def test_collect_paths_expands_folders_sorted_and_keeps_named_files(tmp_path):
    (tmp_path / "scans" / "2026").mkdir(parents=True)
    for name in ("scans/2026/b.TIF", "scans/2026/a.png", "scans/c.jpeg", "scans/notes.md", "scans/z.webp.txt"):
        (tmp_path / name).write_bytes(b"x")
    named = [str(tmp_path / "scans" / "notes.md"), str(tmp_path / "nowhere.png")]
    assert collect_paths([tmp_path / "scans", *named]) == [
        str(tmp_path / "scans" / "2026" / "a.png"),
        str(tmp_path / "scans" / "2026" / "b.TIF"),
        str(tmp_path / "scans" / "c.jpeg"),
        *named,  # named files are kept, even missing or of another type: the user gets an answer for each
    ]


def test_one_failing_image_does_not_sink_its_chunk(classifier, tmp_path):
    """If reading one image raises, the chunk's other images are still answered, in place."""

    class FailsOnWideImages(type(classifier)):  # the real classifier, with one injected failure
        def read(self, image):
            if image.shape[1] > 300:
                raise MemoryError("injected")
            return super().read(image)

    clf = FailsOnWideImages(classifier._forward, classifier.path)
    (tmp_path / "seven.png").write_bytes(png_bytes(draw_digit("7")))
    (tmp_path / "wide.png").write_bytes(png_bytes(np.hstack([draw_digit("1"), draw_digit("1")])))
    (tmp_path / "one.png").write_bytes(png_bytes(draw_digit("1")))
    rows = read_chunk(clf, [str(tmp_path / n) for n in ("seven.png", "wide.png", "one.png")])
    assert [(r["ok"], r["text"]) for r in rows] == [(True, "7"), (False, ""), (True, "1")]
    assert rows[1]["error"] == "cannot process this image (MemoryError: injected)"


def test_worker_processes_match_one_process(classifier, tmp_path, monkeypatch):
    """read_files on 2 worker processes gives exactly the in-process answers, in order, for realistic images."""
    import model.batch

    monkeypatch.setattr(model.batch, "MIN_PARALLEL_FILES", 0)  # use the workers even for a small batch
    from PIL import Image

    paths = []
    for i, sample in enumerate(generate_corpus(n_per_condition=3, seed=5)):
        paths.append(str(tmp_path / f"{i:03d}.png"))
        Image.fromarray(sample.image).save(paths[-1])
    in_process = list(read_files(paths, jobs=1, classifier=classifier))
    workers = list(read_files(paths, jobs=2))
    assert [r["path"] for r in workers] == paths
    assert workers == in_process
    assert sum(r["ok"] for r in workers) >= 0.9 * len(paths)


def corpus_files(folder, n_per_condition=1, seed=5) -> list[str]:
    from PIL import Image

    paths = []
    for i, sample in enumerate(generate_corpus(n_per_condition=n_per_condition, seed=seed)):
        paths.append(str(folder / f"{i:03d}.png"))
        Image.fromarray(sample.image).save(paths[-1])
    return paths


def test_workers_never_run_the_callers_main_script(classifier, tmp_path, monkeypatch):
    """multiprocessing re-imports the parent's ``__main__`` file in each spawned/forkserver worker; ours must not.

    AppTest leaves app.py as ``__main__`` (a Streamlit page must not run in a worker), and a user's
    own script or notebook calling read_files is the same case: its top-level code must run once.
    """
    import model.batch

    monkeypatch.setattr(model.batch, "MIN_PARALLEL_FILES", 0)
    marker = tmp_path / "script-ran"
    script = tmp_path / "callers_script.py"
    script.write_text(f"open({str(marker)!r}, 'a').write('ran')\nraise SystemExit('the caller script ran in a worker')\n")
    main = types.ModuleType("__main__")
    main.__file__ = str(script)  # as a script run by path (or by AppTest) is, with no __spec__
    main.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", main)
    paths = corpus_files(tmp_path)
    rows = list(read_files(paths, jobs=2))
    assert not marker.exists()
    assert sys.modules["__main__"] is main
    assert rows == list(read_files(paths, jobs=1, classifier=classifier))


def test_a_script_without_a_main_guard_can_read_on_every_core(tmp_path):
    """A plain script (no ``if __name__ == "__main__"``) calling read_files runs once and reads on 2 workers."""
    paths = corpus_files(tmp_path, seed=6)
    script = tmp_path / "plain.py"
    script.write_text(
        "import model.batch\n"
        "model.batch.MIN_PARALLEL_FILES = 0\n"
        f"rows = list(model.batch.read_files({paths!r}, jobs=2))\n"
        "print('read', len(rows), sum(r['ok'] for r in rows))\n"
    )
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, str(script)], cwd=root, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("read ") == 1, done.stdout
    assert done.stdout.split()[1] == str(len(paths))


def test_threads_sharing_one_classifier_get_the_answers_of_one_thread(classifier):
    """The app serves every session from one cached classifier on its own thread: answers must not mix."""
    images = [s.image for s in generate_corpus(n_per_condition=2, seed=7)]
    expected = classifier.read_batch(images)
    with ThreadPoolExecutor(6) as pool:
        rounds = [list(pool.map(classifier.read, images)) for _ in range(2)]
    for readings in rounds:
        assert [r.text for r in readings] == [r.text for r in expected]
        assert [r.confidence for r in readings] == pytest.approx([r.confidence for r in expected], abs=1e-6)
