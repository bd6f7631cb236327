"""Read many image files on every core, in input order, one result dict per file.

    from model.batch import collect_paths, read_files
    for row in read_files(collect_paths(["scans/", "extra.png"])):   # all cores by default
        print(row["path"], row["text"], row["error"])

Worker processes each load the classifier once and read a chunk of files at a time (decode,
segment, classify); only paths go out and small dicts come back. A file that cannot be read
gets ``ok: False`` and a one-line ``error`` in its place, and the batch goes on.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import threading
import types
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from pathlib import Path

import cv2

from model.classifier import DigitClassifier, load_classifier
from preprocessing import ImageDecodeError, decode_file, decode_image

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff"})
# Files per task: large enough that a task's overhead (pickling paths and results) is noise, small
# enough that the last tasks finish together and memory stays bounded.
CHUNK = 64
# The smallest task, at the end of a batch: a few images, so that a task's overhead stays small beside its work.
MIN_CHUNK = 4
# Below this many files, starting the worker processes (~0.5 s) costs more than the extra cores save.
MIN_PARALLEL_FILES = 100
# Tasks queued per worker ahead of the one being written out: keeps every core busy without
# holding millions of finished results in memory while the output catches up.
AHEAD = 4


def default_jobs() -> int:
    """The cores this process may use (its CPU affinity where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def collect_paths(paths: Sequence[str | os.PathLike]) -> list[str]:
    """Files as given (kept even if missing, so they are reported), folders expanded recursively to their image files, sorted."""
    found: list[str] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(str(p) for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()))
        else:
            found.append(str(path))
    return found


def error_row(path: str, error: str) -> dict:
    """The result of a file that could not be read, or in which no digit was found."""
    return {"path": path, "ok": False, "text": "", "digit": None, "confidence": None, "digits": [], "probabilities": None,
            "error": error}


def reading_row(path: str, reading) -> dict:
    """A ``Reading`` as the CLI's JSON contract: ``digit`` and ``probabilities`` only when exactly one digit was read."""
    if not reading.ok:
        return error_row(path, reading.reason or "no digit found")
    single = reading.digits[0] if len(reading.digits) == 1 else None
    return {
        "path": path,
        "ok": True,
        "text": reading.text,
        "digit": single.digit if single else None,
        "confidence": round(float(reading.confidence), 6),
        "digits": [
            {"digit": d.digit, "confidence": round(float(d.confidence), 6), "box": [int(v) for v in d.box]}
            for d in reading.digits
        ],
        "probabilities": [round(float(p), 6) for p in single.probabilities] if single else None,
        "error": None,
    }


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"cannot process this image ({type(exc).__name__}{': ' + text[:150] if text else ''})"


def read_chunk(classifier: DigitClassifier, paths: Sequence[str], data: Sequence[bytes] | None = None) -> list[dict]:
    """Decode and read ``paths`` in one batch; never raises for a bad file.

    ``data``: the files' bytes when something else has read them (a cluster engine), else each path is read here.
    """
    rows: dict[int, dict] = {}
    images = {}
    for i, path in enumerate(paths):
        try:
            images[i] = decode_file(path) if data is None else decode_image(data[i])
        except ImageDecodeError as exc:
            rows[i] = error_row(path, str(exc))
    try:
        readings = dict(zip(images, classifier.read_batch(list(images.values()))))
    except Exception:  # one hostile image must not sink the whole chunk: read its images one at a time
        readings = {}
        for i, image in images.items():
            try:
                readings[i] = classifier.read(image)
            except Exception as exc:
                rows[i] = error_row(paths[i], _one_line(exc))
    for i, reading in readings.items():
        rows[i] = reading_row(paths[i], reading)
    return [rows[i] for i in range(len(paths))]


_worker_classifier: DigitClassifier | None = None


def _init_worker(model_path: str | None) -> None:
    """Runs once in each worker: one thread per process for OpenCV and the network (the processes
    are the parallelism), one model load."""
    global _worker_classifier
    cv2.setNumThreads(1)
    _worker_classifier = load_classifier(model_path, threads=1)


def _work(paths: list[str]) -> list[dict]:
    return read_chunk(_worker_classifier, paths)


_launch_lock = threading.Lock()


def _launch_without_callers_main(popen, process_obj):
    """Start a worker process whose start-up never runs the caller's ``__main__`` script.

    multiprocessing tells a spawned or forkserver child to re-import the parent's ``__main__``
    (by path, as ``__mp_main__``) so that functions defined there can be unpickled. The workers
    only ever call this module's functions, and re-running the caller's script is harmful: a
    script without an ``if __name__ == "__main__"`` guard would start the batch again in every
    worker, a Streamlit script (or the app.py ``AppTest`` leaves as ``__main__``) would run its
    page, and any script's top-level work would run again in each worker. So while a worker is
    launched ``__main__`` is a blank module: the preparation data sent to the child names no main
    module, and the worker starts from this module alone (which the forkserver has preloaded).
    """
    with _launch_lock:
        main = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            return popen(process_obj)
        finally:
            sys.modules["__main__"] = main


class _SpawnWorker(multiprocessing.context.SpawnProcess):
    @staticmethod
    def _Popen(process_obj):
        return _launch_without_callers_main(multiprocessing.context.SpawnProcess._Popen, process_obj)


class _SpawnContext(multiprocessing.context.SpawnContext):
    Process = _SpawnWorker


if sys.platform != "win32":

    class _ForkServerWorker(multiprocessing.context.ForkServerProcess):
        @staticmethod
        def _Popen(process_obj):
            return _launch_without_callers_main(multiprocessing.context.ForkServerProcess._Popen, process_obj)

    class _ForkServerContext(multiprocessing.context.ForkServerContext):
        Process = _ForkServerWorker


def _context() -> multiprocessing.context.BaseContext:
    """Fresh worker processes, never a fork of a process whose OpenCV (or TensorFlow) threads are running.

    A forkserver imports this module once and forks the workers from that clean process, which
    is faster than spawning each one; where there is none (Windows) workers are spawned. Either
    way the workers never import the caller's ``__main__`` (``_launch_without_callers_main``).
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = _ForkServerContext()
        ctx.set_forkserver_preload([__name__])
        return ctx
    return _SpawnContext()


def _chunks(paths: list[str], jobs: int) -> Iterator[list[str]]:
    """The tasks: CHUNK files at most, shrinking towards the end (each about the remaining files / (jobs * AHEAD), at
    least MIN_CHUNK), so that no worker is left reading a full chunk alone while the others have finished."""
    start = 0
    while start < len(paths):
        size = min(CHUNK, max(MIN_CHUNK, math.ceil((len(paths) - start) / (jobs * AHEAD))))
        yield paths[start : start + size]
        start += size


def read_files(
    paths: Sequence[str],
    model_path: str | os.PathLike | None = None,
    jobs: int | None = None,
    classifier: DigitClassifier | None = None,
) -> Iterator[dict]:
    """Yield one result dict per path, in input order, reading on ``jobs`` processes (default: every core).

    ``jobs=1`` or a small batch reads in this process (with ``classifier`` if given) on one
    OpenCV thread. Raises ``ModelLoadError`` before reading anything if the model is unusable.
    """
    jobs = default_jobs() if jobs is None else max(1, jobs)
    paths = list(paths)
    if jobs == 1 or len(paths) < MIN_PARALLEL_FILES:
        classifier = classifier or load_classifier(model_path, threads=1)
        cv2.setNumThreads(1)  # one job = one core, like each worker
        for start in range(0, len(paths), CHUNK):
            yield from read_chunk(classifier, paths[start : start + CHUNK])
        return
    if classifier is None:
        load_classifier(model_path)  # fail here, with the loader's message, rather than in every worker
    chunks = _chunks(paths, jobs)
    model = str(model_path) if model_path else (str(classifier.path) if classifier else None)
    with ProcessPoolExecutor(jobs, mp_context=_context(), initializer=_init_worker, initargs=(model,)) as pool:
        pending: deque[Future] = deque(pool.submit(_work, chunk) for chunk in islice(chunks, jobs * AHEAD))
        try:
            while pending:
                rows = pending.popleft().result()
                for chunk in islice(chunks, 1):
                    pending.append(pool.submit(_work, chunk))
                yield from rows
        except BaseException:  # Ctrl-C, or the caller stopped reading: drop the queued chunks, don't finish them
            pool.shutdown(cancel_futures=True)
            raise
