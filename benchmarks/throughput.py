"""Batch throughput of ``python -m model predict``: images/s on one job and on every core, beside the machine's own ceiling.

    python benchmarks/throughput.py [--images 4000] [--repeats 5] [--jobs N]

Writes ``--images`` PNG files from the generated realistic corpus (canvas drawings, photos,
scans, crops...) to a temporary folder, then reads them all with ``model.batch.read_files``,
alternating one job (in-process, one thread for OpenCV and the network: today's single-core CLI) and N jobs
(worker processes, start-up included).

N x the one-job rate is what perfect scaling would give, but N virtual CPUs rarely do N times
the work of one (shared physical cores, hyperthreads, a busy host). So each repeat also measures
the machine's own ceiling with the same per-image work and nothing else: 1 process, then N
processes at once, each decoding (from bytes in memory) and reading the same images, with no
file reads, no task queue and no start-up in the timing. The batch's speedup is printed beside
that ceiling speedup, and the parent process's CPU time during the N-job runs (work the
workers do not share). Medians over the repeats. Run it on a quiet machine; the load average is
printed with the results.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
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


def timed_run(paths: list[str], jobs: int) -> tuple[float, int, float]:
    """Seconds to read every path (worker start-up included), how many were read, and this process's CPU seconds."""
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    ok = sum(row["ok"] for row in read_files(paths, jobs=jobs))
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    return seconds, ok, (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)


def ceiling_worker(data: list[bytes], ready, go, done) -> None:
    """Get ready (imports, model, a warm-up read), wait for the start, then decode and read every image in memory."""
    import cv2

    from model.classifier import load_classifier
    from preprocessing import decode_image

    cv2.setNumThreads(1)
    classifier = load_classifier(threads=1)
    classifier.read(decode_image(data[0]))
    ready.put(True)
    go.wait()
    for blob in data:
        classifier.read(decode_image(blob))
    done.put(True)


def ceiling_run(data: list[bytes], processes: int) -> float:
    """Seconds for ``processes`` processes, started and ready beforehand, to each read all of ``data`` at once."""
    ctx = multiprocessing.get_context("spawn")
    ready, done, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    workers = [ctx.Process(target=ceiling_worker, args=(data, ready, go, done)) for _ in range(processes)]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.get(timeout=300)
    start = time.perf_counter()
    go.set()
    for _ in workers:
        done.get(timeout=600)
    seconds = time.perf_counter() - start
    for worker in workers:
        worker.join()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=default_jobs())
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="throughput-") as tmp:
        paths = write_images(Path(tmp), args.images)
        size_kb = sum(os.path.getsize(p) for p in paths) / len(paths) / 1024
        # The ceiling's images: every process reads the same ones, together about as many as the batch.
        data = [Path(p).read_bytes() for p in paths[: max(1, len(paths) // args.jobs)]]
        print(f"{len(paths)} PNG images (mean {size_kb:.0f} KB), {args.jobs} jobs, {args.repeats} repeats; "
              f"ceiling: {len(data)} images in memory per process; load average before: {os.getloadavg()[0]:.2f}")
        timed_run(paths[:200], 1)  # warm the page cache and the imports
        rates: dict[str, list[float]] = {"1": [], "N": [], "c1": [], "cN": []}
        parent_cpu = []
        for repeat in range(args.repeats):
            # Alternated, so background load hits all alike.
            seconds, ok, _ = timed_run(paths, 1)
            rates["1"].append(len(paths) / seconds)
            line = f"  repeat {repeat + 1}: batch 1 job {seconds:6.2f} s ({ok} read)"
            seconds, ok, cpu = timed_run(paths, args.jobs)
            rates["N"].append(len(paths) / seconds)
            parent_cpu.append(cpu / seconds)
            line += f", {args.jobs} jobs {seconds:6.2f} s ({ok} read, parent CPU {cpu:.1f} s)"
            seconds = ceiling_run(data, 1)
            rates["c1"].append(len(data) / seconds)
            line += f"; ceiling 1 process {seconds:6.2f} s"
            seconds = ceiling_run(data, args.jobs)
            rates["cN"].append(args.jobs * len(data) / seconds)
            line += f", {args.jobs} processes {seconds:6.2f} s"
            batch, ceiling = rates["N"][-1] / rates["1"][-1], rates["cN"][-1] / rates["c1"][-1]
            print(f"{line}: speedup batch {batch:.2f}x, ceiling {ceiling:.2f}x, load average {os.getloadavg()[0]:.2f}",
                  flush=True)
        med = {key: statistics.median(values) for key, values in rates.items()}
        batch = statistics.median(n / one for n, one in zip(rates["N"], rates["1"]))
        ceiling = statistics.median(n / one for n, one in zip(rates["cN"], rates["c1"]))
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        print()
        print("| | images/s (median) | speedup (median of the repeats' ratios) |")
        print("|---|---:|---:|")
        print(f"| batch, 1 job (in-process, one thread) | {med['1']:.1f} | 1.00x |")
        print(f"| batch, {args.jobs} jobs (worker processes, start-up included) | {med['N']:.1f} | **{batch:.2f}x** |")
        print(f"| ceiling, 1 process (same work on images in memory) | {med['c1']:.1f} | 1.00x |")
        print(f"| ceiling, {args.jobs} processes at once | {med['cN']:.1f} | **{ceiling:.2f}x** |")
        print(f"| perfect scaling ({args.jobs} x the 1-job rate) | {args.jobs * med['1']:.1f} | {args.jobs:.2f}x |")
        print()
        print(f"batch speedup / ceiling speedup: {batch / ceiling:.0%}; "
              f"parent process CPU during the {args.jobs}-job runs: {statistics.median(parent_cpu):.0%} of one core")


if __name__ == "__main__":
    main()
