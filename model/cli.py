"""Command-line reader: ``python -m model predict [options] PATH...`` (files and folders).

Exit status: 0 when a number was read in every input, 1 when any input failed (the others are
still answered, each in its place), 2 for usage errors or an unusable model.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import TextIO

from tqdm import tqdm

from model.batch import CHUNK, IMAGE_SUFFIXES, collect_paths, default_jobs, read_files
from model.classifier import LOW_CONFIDENCE, ModelLoadError, format_confidence, load_classifier

FORMATS = ("table", "jsonl", "csv")
CSV_FIELDS = ["path", "ok", "text", "digit", "confidence", "error", "digits"]
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "table", ".txt": "table"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m model", description="Read handwritten numbers in image files.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser(
        "predict",
        help="read the number in each image file",
        description="Read the handwritten digits in each image file, left to right. Folders are searched "
        f"recursively for image files ({', '.join(sorted(s[1:] for s in IMAGE_SUFFIXES))}).",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files and folders")
    p.add_argument("--json", action="store_true", help="one JSON object per input line, in input order (= --format jsonl)")
    p.add_argument("--format", choices=FORMATS, help="output format (default: from --out's extension, else table)")
    p.add_argument("--out", metavar="FILE", help="write the results to FILE (.jsonl or .csv) instead of standard output")
    p.add_argument("--jobs", type=int, metavar="N", help=f"processes to read with (default: all {default_jobs()} cores)")
    p.add_argument("--model", help="model file, .onnx or .keras (needs TensorFlow); default: the committed model/digits.onnx")
    args = parser.parse_args(argv)
    if args.jobs is not None and args.jobs < 1:
        parser.error("--jobs must be at least 1")
    if args.format is None:
        if args.json:
            args.format = "jsonl"
        elif args.out:
            args.format = _EXTENSIONS.get(Path(args.out).suffix.lower())
            if args.format is None:
                parser.error(f"cannot tell the format of {args.out} from its extension: name it .jsonl or .csv, or give --format")
        else:
            args.format = "table"
    elif args.json and args.format != "jsonl":
        parser.error("--json means --format jsonl")
    return args


def _table_row(r: dict) -> str:
    if not r["ok"]:
        return f"{r['path']}\t-\t-\terror: {r['error']}"
    note = "  (low confidence)" if any(d["confidence"] < LOW_CONFIDENCE for d in r["digits"]) else ""
    return f"{r['path']}\t{r['text']}\t{format_confidence(r['confidence'])}{note}"


class Writer:
    """Writes result rows in one of FORMATS; a header first where the format has one."""

    def __init__(self, stream: TextIO, fmt: str):
        self.stream, self.fmt = stream, fmt
        if fmt == "csv":
            self._csv = csv.DictWriter(stream, CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
            self._csv.writeheader()
        elif fmt == "table":
            stream.write("path\ttext\tconfidence\n")

    def write(self, row: dict) -> None:
        if self.fmt == "jsonl":
            self.stream.write(json.dumps(row) + "\n")
        elif self.fmt == "csv":
            self._csv.writerow({**row, "digits": json.dumps(row["digits"])})
        else:
            self.stream.write(_table_row(row) + "\n")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        classifier = load_classifier(args.model, threads=1 if args.jobs == 1 else None)  # --jobs 1: one core
    except ModelLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    paths = collect_paths(args.paths)
    if not paths:
        print(f"error: no image files in {', '.join(args.paths)}", file=sys.stderr)
        return 2
    try:
        stream = open(args.out, "w", newline="", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    except OSError as exc:
        print(f"error: cannot write {args.out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    writer = Writer(stream, args.format)
    failed = 0
    # The bar goes to stderr, so it never mixes with results on stdout.
    rows = tqdm(
        read_files(paths, args.model, args.jobs, classifier),
        total=len(paths), unit="img", file=sys.stderr, disable=len(paths) <= CHUNK, smoothing=0.1,
    )
    try:
        for row in rows:
            failed += not row["ok"]
            writer.write(row)
    finally:
        if args.out:
            stream.close()
    if args.out:
        print(f"{len(paths)} files: {len(paths) - failed} read, {failed} failed; results in {args.out}", file=sys.stderr)
    return 1 if failed else 0
