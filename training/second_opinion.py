"""Serve a model trained with the writing styles as the second opinion on unsure lone digits
(``model.second_opinion``).

    python -m training.train --epochs 6 --style-rate 0.15 --out runs/styles6   # about 4 min on 2 cores
    python -m training.second_opinion runs/styles6 --out model/

Copies ``runs/styles6/digits.onnx`` to ``model/second_opinion.onnx`` and writes ``model/second_opinion.json``:
where it came from (its card's recipe, training time and accuracy, the synthetic styles) and the
ONNX file's sha256. Both are written atomically: a running app never sees half a file.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from model.classifier import SECOND_OPINION_NAME
from training.atomic import atomic_path
from training.data import sha256_file
from training.reports import write_json_atomic

CARD_NAME = "second_opinion.json"


def describe(run: Path) -> dict:
    """The second opinion's card, from the card of the training run in ``run``."""
    card = json.loads((run / "model_card.json").read_text())
    training, test = card.get("training", {}), card.get("test", {})
    return {
        "source_run": str(run),
        "source_model_sha256": card.get("model_sha256"),
        "config": card.get("config", {}),
        "train_seconds": training.get("train_seconds"),
        "device": training.get("device"),
        "validation_accuracy": training.get("validation_accuracy"),
        "test_accuracy": test.get("accuracy"),
        "test_styles": card.get("test_styles", {}),
        "created": card.get("created"),
    }


def publish(run: Path, out: Path) -> dict:
    """Copy the run's ONNX network into ``out`` as the second opinion, with its card; returns the card."""
    source = run / "digits.onnx"
    if not source.is_file():
        raise SystemExit(f"no digits.onnx in {run}: train one with python -m training.train --style-rate 0.15 --out {run}")
    out.mkdir(parents=True, exist_ok=True)
    card = {**describe(run), "file": SECOND_OPINION_NAME, "sha256": sha256_file(source)}
    _atomic_copy(source, out / SECOND_OPINION_NAME)
    write_json_atomic(card, out / CARD_NAME)
    return card


def _atomic_copy(source: Path, target: Path) -> None:
    """Copy via a temp file in the target's folder and rename: a running app never loads half a file."""
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("run", type=Path, help="a training run's output folder (python -m training.train --out RUN)")
    p.add_argument("--out", type=Path, default=Path("model"), help="the served model's folder (default: %(default)s)")
    args = p.parse_args(argv)
    card = publish(args.run, args.out)
    print(f"wrote {args.out / SECOND_OPINION_NAME} and {args.out / CARD_NAME} (MNIST test {card['test_accuracy']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
