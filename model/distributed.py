"""Read millions of images with Ray Data: the CLI's decoding, reader and model, on every core of a cluster.

    python -m model.distributed SOURCE --out DEST [--format parquet|jsonl] [--address auto] [--workers N]

SOURCE is a folder (searched recursively for image files) or any URL Ray Data reads
(``s3://bucket/scans/``, ``gs://...``, a list of files). DEST is a folder of Parquet or JSON-lines
files with one row per image: path, ok, text, digit, confidence, error, digits (a JSON list of
{digit, confidence, box}). Without ``--address`` Ray starts on this machine; with it the job
runs on that cluster, whose nodes need ``pip install -r requirements-cluster.txt``. The project's
code and model are shipped to the workers; each worker loads the model once.
Needs ``pip install -r requirements-cluster.txt`` (Ray is not part of the app install).
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from model.batch import IMAGE_SUFFIXES, read_chunk
from model.classifier import DEFAULT_MODEL_PATH, DigitClassifier, ModelLoadError, load_classifier

# Images per call of a worker: one batched read, and small enough that a block of photos fits in memory.
BATCH = 64
ROOT = Path(__file__).resolve().parent.parent
# Shipped to the cluster's workers: the code and the model, not the environment or the test outputs.
SHIP_EXCLUDES = [".venv/", "venv/", ".git/", "artifacts/", "tests/", "docs/", "model/reports/", "*.keras", "**/__pycache__/"]


# One schema for every block, so the output files agree even when a block holds only failures.
SCHEMA = pa.schema([
    ("path", pa.string()), ("ok", pa.bool_()), ("text", pa.string()), ("digit", pa.int64()),
    ("confidence", pa.float64()), ("error", pa.string()), ("digits", pa.string()),
])


def to_table(rows: list[dict]) -> pa.Table:
    """Result dicts (model.batch's, as the CLI prints them) as an Arrow table; ``digits`` as a JSON string."""
    return pa.Table.from_pylist([{**row, "digits": json.dumps(row["digits"])} for row in rows], schema=SCHEMA)


@functools.cache
def _classifier(model_path: str) -> DigitClassifier:
    """The model, loaded once per worker process: Ray reuses its workers for task after task."""
    import cv2

    cv2.setNumThreads(1)  # Ray runs one task per CPU: the processes are the parallelism
    return load_classifier(model_path, threads=1)


def read_block(batch: dict[str, np.ndarray], model_path: str) -> pa.Table:
    """One batch of Ray Data rows (``path``, ``bytes``) -> one result row per image."""
    paths = [str(p) for p in batch["path"]]
    return to_table(read_chunk(_classifier(model_path), paths, list(batch["bytes"])))


def run(source: str | list[str], out: str, fmt: str = "parquet", address: str | None = None, workers: int | None = None,
        model_path: str | None = None) -> int:
    """Read every image under ``source`` and write the results to ``out``; returns the number of images."""
    import ray

    model = Path(model_path) if model_path else DEFAULT_MODEL_PATH
    load_classifier(model)  # a bad model fails here, in one line, not in every worker
    # A remote cluster gets the project folder; the model path is then given relative to it.
    shipped = address is not None and model.resolve().is_relative_to(ROOT)
    runtime_env = {"working_dir": str(ROOT), "excludes": SHIP_EXCLUDES} if shipped else None
    ray.init(address=address, runtime_env=runtime_env, include_dashboard=False, logging_level="WARNING",
             configure_logging=True, log_to_driver=False)
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = sys.stderr.isatty()  # a live bar for a person; no log blocks in a log file
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        ds = ray.data.read_binary_files(source, include_paths=True, file_extensions=sorted(s[1:] for s in IMAGE_SUFFIXES))
        # A plain function, not an actor class: Ray fuses it with the file reads into one task per
        # block, so reading, decoding and classifying share every CPU. (A pool of model-holding
        # actors takes a CPU each and starves the read and write tasks on a small machine.)
        results = ds.map_batches(
            read_block,
            fn_kwargs={"model_path": str(model.resolve().relative_to(ROOT)) if shipped else str(model)},
            batch_size=BATCH,
            batch_format="numpy",
            concurrency=workers,  # None: as many tasks at once as the cluster has CPUs
        )
        # Overwrite: a rerun replaces the last results instead of adding a second copy of every row.
        if fmt == "jsonl":
            results.write_json(out, mode=ray.data.SaveMode.OVERWRITE)
            return ray.data.read_json(out).count()
        results.write_parquet(out, mode=ray.data.SaveMode.OVERWRITE)
        return ray.data.read_parquet(out).count()  # from the files' metadata
    finally:
        ray.shutdown()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.distributed", description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="+", help="folder, file or URL (s3://, gs://, ...) of the images")
    parser.add_argument("--out", required=True, help="output folder (local path or URL)")
    parser.add_argument("--format", choices=["parquet", "jsonl"], default="parquet")
    parser.add_argument("--address", help="a running Ray cluster (e.g. auto or ray://head:10001); default: start Ray here")
    parser.add_argument("--workers", type=int, help="at most N tasks at once (default: one per CPU of the cluster)")
    parser.add_argument("--model", help="model file (default: the committed model/digits.onnx)")
    args = parser.parse_args(argv)
    try:
        import ray  # noqa: F401
    except ImportError:
        print("error: the cluster job needs Ray: pip install -r requirements-cluster.txt", file=sys.stderr)
        return 2
    start = time.perf_counter()
    try:
        count = run(args.source if len(args.source) > 1 else args.source[0], args.out, args.format, args.address,
                    args.workers, args.model)
    except ModelLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - start
    print(f"{count} images in {seconds:.1f} s ({count / seconds:.1f} images/s); results in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    # Through the module's real name, so Ray pickles read_block by reference, not as a __main__ function.
    from model.distributed import main as _main

    sys.exit(_main())
