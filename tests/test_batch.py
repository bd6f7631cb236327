"""Batch reading (model.batch) and one classifier shared by many threads, as the app's sessions share it."""

from __future__ import annotations

import sys
import types
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from model.batch import collect_paths, read_chunk, read_files
from tests.corpus import generate_corpus
from tests.digit_images import draw_digit, png_bytes


@pytest.fixture(autouse=True)
def plain_main(monkeypatch: pytest.MonkeyPatch) -> None:
    """Worker processes import the parent's ``__main__`` file; AppTest (tests/test_app.py) can leave app.py
    there, which must not run in a worker. A real CLI run has ``model.__main__`` there."""
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))


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


def test_threads_sharing_one_classifier_get_the_answers_of_one_thread(classifier):
    """The app serves every session from one cached classifier on its own thread: answers must not mix."""
    images = [s.image for s in generate_corpus(n_per_condition=2, seed=7)]
    expected = classifier.read_batch(images)
    with ThreadPoolExecutor(6) as pool:
        rounds = [list(pool.map(classifier.read, images)) for _ in range(2)]
    for readings in rounds:
        assert [r.text for r in readings] == [r.text for r in expected]
        assert [r.confidence for r in readings] == pytest.approx([r.confidence for r in expected], abs=1e-6)
