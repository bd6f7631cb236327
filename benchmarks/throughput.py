"""Batch throughput of ``python -m model predict``: images/s on one job and on every core, medians over repeats.

    python benchmarks/throughput.py [--images 4000] [--repeats 5] [--jobs N]

Writes ``--images`` PNG files from the generated realistic corpus (canvas drawings, photos,
scans, crops...) to a temporary folder, then reads them all with ``model.batch.read_files``,
alternating one job (in-process, one OpenCV thread: today's single-core CLI) and N jobs
(worker processes, start-up included). The ceiling is N x the one-job rate: what perfect
scaling would give. Run it on a quiet machine; the load average is printed with the results.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model.batch import default_jobs, read_files  # noqa: E402
from tests.corpus import generate_corpus  # noqa: E402


def write_images(folder: Path, count: int) -> list[str]:
    """``count`` corpus images as PNG files (the corpus cycles over its conditions, so every kind is there)."""
    conditions = len({s.condition for s in generate_corpus(1, seed=0)})
    samples = generate_corpus(n_per_condition=-(-count // conditions), seed=1)[:count]
    paths = []
    for i, sample in enumerate(samples):
        path = folder / f"{i:06d}.png"
        Image.fromarray(sample.image).save(path, compress_level=1)
        paths.append(str(path))
    return paths


def timed_run(paths: list[str], jobs: int) -> tuple[float, int]:
    """Seconds to read every path (worker start-up included) and how many were read."""
    start = time.perf_counter()
    ok = sum(row["ok"] for row in read_files(paths, jobs=jobs))
    return time.perf_counter() - start, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp:
        paths = write_images(Path(tmp), args.images)
        size_kb = sum(os.path.getsize(p) for p in paths) / len(paths) / 1024
        print(f"{len(paths)} PNG images (mean {size_kb:.0f} KB), {args.jobs} jobs, {args.repeats} repeats, "
              f"load average before: {os.getloadavg()[0]:.2f}")
        timed_run(paths[:200], 1)  # warm the page cache and the imports
        runs: dict[int, list[float]] = {1: [], args.jobs: []}
        for repeat in range(args.repeats):
            for jobs in runs:  # alternated, so background load hits both alike
                seconds, ok = timed_run(paths, jobs)
                runs[jobs].append(len(paths) / seconds)
                print(f"  repeat {repeat + 1}: {jobs} job(s) {seconds:6.2f} s, {len(paths) / seconds:6.0f} images/s, {ok} read")
        one = statistics.median(runs[1])
        many = statistics.median(runs[args.jobs])
        ceiling = args.jobs * one
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        print()
        print("| | images/s (median) | vs 1 job |")
        print("|---|---:|---:|")
        print(f"| 1 job (in-process, one OpenCV thread) | {one:.0f} | 1.00x |")
        print(f"| {args.jobs} jobs (worker processes, start-up included) | {many:.0f} | {many / one:.2f}x |")
        print(f"| ceiling: {args.jobs} x the 1-job rate | {ceiling:.0f} | {args.jobs:.2f}x |")


if __name__ == "__main__":
    main()
