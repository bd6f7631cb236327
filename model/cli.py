"""Command-line predictor: ``python -m model predict [--json] [--model PATH] PATH...``.

Exit status: 0 when every input was classified, 1 when any input failed (the others are
still answered), 2 for usage errors or an unusable model.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator

import numpy as np

from model.classifier import LOW_CONFIDENCE, ModelLoadError, format_confidence, load_classifier
from preprocessing import ImageDecodeError, decode_file

# Decode and classify this many files at a time: one network call per chunk, bounded memory.
CHUNK = 64


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m model", description="Recognise handwritten digits in image files.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("predict", help="classify image files", description="Classify each image file as a digit 0-9.")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files (PNG, JPEG, BMP, WebP, GIF, TIFF)")
    p.add_argument("--json", action="store_true", help="one JSON object per input line, in input order")
    p.add_argument("--model", help="model file (default: the committed model/digits.keras)")
    return parser.parse_args(argv)


def _result(path: str, digit=None, confidence=None, probabilities=None, error=None) -> dict:
    return {
        "path": path,
        "ok": error is None,
        "digit": digit,
        "confidence": confidence,
        "probabilities": probabilities,
        "error": error,
    }


def classify_paths(clf, paths: list[str]) -> Iterator[dict]:
    """Yield one result dict per path, in order; bad files give ``ok: False`` and a one-line error."""
    for start in range(0, len(paths), CHUNK):
        chunk = paths[start : start + CHUNK]
        images: dict[int, np.ndarray] = {}
        errors: dict[int, str] = {}
        for i, path in enumerate(chunk):
            try:
                images[i] = decode_file(path)
            except ImageDecodeError as exc:
                errors[i] = str(exc)
        predictions = dict(zip(images, clf.predict_batch(list(images.values()))))
        for i, path in enumerate(chunk):
            if i in errors:
                yield _result(path, error=errors[i])
            elif not predictions[i].ok:
                yield _result(path, error=predictions[i].reason)
            else:
                pred = predictions[i]
                yield _result(path, pred.digit, round(pred.confidence, 6), [round(p, 6) for p in pred.probabilities])


def _table_row(r: dict) -> str:
    if not r["ok"]:
        return f"{r['path']}\t-\t-\terror: {r['error']}"
    note = "  (low confidence)" if r["confidence"] < LOW_CONFIDENCE else ""
    return f"{r['path']}\t{r['digit']}\t{format_confidence(r['confidence'])}{note}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        clf = load_classifier(args.model)
    except ModelLoadError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    show_progress = len(args.paths) > CHUNK  # on stderr, so it never mixes with the results
    if not args.json:
        print("path\tdigit\tconfidence")
    failed = 0
    for n, result in enumerate(classify_paths(clf, args.paths), 1):
        failed += not result["ok"]
        print(json.dumps(result) if args.json else _table_row(result), flush=True)
        if show_progress and (n % CHUNK == 0 or n == len(args.paths)):
            print(
                f"\r{n}/{len(args.paths)} images ({n / len(args.paths):.0%})",
                end="" if n < len(args.paths) else "\n",
                file=sys.stderr,
            )
    return 1 if failed else 0
