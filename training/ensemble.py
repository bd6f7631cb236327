"""Average trained models into one, and export it with its card and reports like ``training.train``.

    python -m training.ensemble RUN_DIR [RUN_DIR ...] --out model/

Each RUN_DIR is an output directory of ``python -m training.train`` (``digits.keras`` and its
``model_card.json``), typically the same recipe with different ``--seed``s and the same
``--split-seed``. The result is a single Keras model whose output is the mean of the members'
probabilities, so the app and the CLI serve it like any other model (one ONNX file).
Members may have been trained on any Keras backend; this command needs TensorFlow (ONNX export).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from pathlib import Path

import numpy as np

from training.data import add_data_dir_argument, load_for_command, sha256_file, validation_split
from training.models import ARCHITECTURES, build_ensemble
from training.train import CARD_FILENAME, MODEL_FILENAME, library_versions, save_model_atomic, write_history


def load_members(run_dirs: list[Path]):
    """(members renamed member_1..k, their cards); every member must be the same architecture."""
    import keras

    members, cards = [], []
    for i, run in enumerate(run_dirs, start=1):
        card = json.loads((run / CARD_FILENAME).read_text())
        loaded = keras.saving.load_model(run / MODEL_FILENAME, compile=False)
        # Unique names: a functional model cannot hold two sub-models called "robust".
        member = ARCHITECTURES[card["architecture"]](name=f"member_{i}")
        member.set_weights(loaded.get_weights())
        members.append(member)
        cards.append(card)
    if len({c["architecture"] for c in cards}) != 1:
        raise SystemExit("error: members must share one architecture")
    return members, cards


def mean_history(run_dirs: list[Path]) -> dict[str, list[float]]:
    """Per-epoch mean of the members' training histories (members run the same epochs)."""
    import csv

    tables = []
    for run in run_dirs:
        with open(run / "reports" / "history.csv") as f:
            rows = list(csv.DictReader(f))
        tables.append({k: [float(r[k]) for r in rows] for k in rows[0] if k != "epoch"})
    n = min(len(t["loss"]) for t in tables)
    return {k: [float(np.mean([t[k][i] for t in tables])) for i in range(n)] for k in tables[0]}


def member_summary(run: Path, card: dict) -> dict:
    t = card["training"]
    return {
        "run": run.name,
        "seed": card["config"]["seed"],
        "style_rate": card["config"].get("style_rate", 0.0),
        "epochs": t["epochs_run"],
        "validation_accuracy": t["validation_accuracy"],
        "test_accuracy": card["test"]["accuracy"],
        "train_seconds": t["train_seconds"],
        "device": t.get("device", ""),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m training.ensemble", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("runs", nargs="+", help="output directories of training.train runs")
    add_data_dir_argument(p)
    p.add_argument("--out", default="model", help="output directory (default: %(default)s)")
    p.add_argument(
        "--skip-onnx",
        action="store_true",
        help="no ONNX copy (a machine without TensorFlow); make it later with python -m training.export --model OUT/digits.keras",
    )
    p.add_argument("--note", default="", help="free text for the card: where and how the members were trained")
    args = p.parse_args(argv)
    runs = [Path(r) for r in args.runs]
    missing = [str(r) for r in runs if not (r / MODEL_FILENAME).is_file() or not (r / CARD_FILENAME).is_file()]
    if missing:
        print(f"error: no {MODEL_FILENAME} with its {CARD_FILENAME} in {', '.join(missing)}", file=sys.stderr)
        return 2
    data = load_for_command(args.data_dir)
    start = time.perf_counter()

    from training import evaluate, reports

    members, cards = load_members(runs)
    first = cards[0]
    arch, config = first["architecture"], first["config"]
    model = build_ensemble(members, name=f"{arch}_ensemble_{len(members)}")
    split_seed = config.get("split_seed", config["seed"])
    if len({c["config"].get("split_seed", c["config"]["seed"]) for c in cards}) != 1:
        print("warning: members were validated on different splits; the validation score below is optimistic", file=sys.stderr)
    _, _, x_val, y_val = validation_split(data.x_train, data.y_train, config["val_size"], split_seed)

    out = Path(args.out)
    reports_dir = out / "reports"
    reports_dir.mkdir(parents=True, exist_ok=True)
    model_path = out / MODEL_FILENAME
    save_model_atomic(model, model_path)

    validation = evaluate.accuracy(model, x_val, y_val)
    validation_styles = evaluate.evaluate_styles(model, x_val, y_val, limit=1000)
    test = evaluate.evaluate_model(model, data.x_test, data.y_test, reports_dir)
    test_styles = evaluate.evaluate_styles(model, data.x_test, data.y_test)
    (reports_dir / "styles.md").write_text(evaluate.styles_table(test_styles))
    history = mean_history(runs)
    write_history(history, reports_dir / "history.csv")
    reports.plot_history(history, reports_dir / "training_curves.png")

    summaries = [member_summary(r, c) for r, c in zip(runs, cards)]
    wall = [c["training"]["train_seconds"] for c in cards]
    card = {
        "name": f"mnist-{arch}-ensemble",
        "model_file": MODEL_FILENAME,
        "model_sha256": sha256_file(model_path),
        "model_bytes": model_path.stat().st_size,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "input": "float32 (N, 28, 28, 1) in [0, 1], white digit on black, MNIST-normalised",
        "output": "float32 (N, 10) softmax probabilities for digits 0-9 (mean of the members')",
        "architecture": f"{arch} x {len(members)} (ensemble, probabilities averaged)",
        "parameters": int(model.count_params()),
        "config": {k: v for k, v in config.items() if k != "seed"} | {"member_seeds": [s["seed"] for s in summaries]},
        "training": {
            "device": first["training"].get("device", ""),
            "members": summaries,
            "epochs_run": first["training"]["epochs_run"],
            "best_epoch": first["training"]["best_epoch"],
            # Members train independently: the sum is the cost on one device, the max the wall time when run side by side.
            "train_seconds": round(max(wall), 1),
            "train_seconds_sum": round(sum(wall), 1),
            "train_images": first["training"]["train_images"],
            "validation_images": len(x_val),
            "validation_accuracy": round(validation, 4),
            "validation_styles": validation_styles,
            "notes": args.note,
        },
        "test": test,
        "test_styles": test_styles,
        "data": {"source": data.source, "sha256": data.checksums},
        "versions": library_versions() | {"members": first.get("versions", {})},
    }
    if not args.skip_onnx:
        from training.export import export_onnx, record_in_card

        onnx_difference = export_onnx(model, model_path.with_suffix(".onnx"), check_images=data.x_test[:1000])
        card = record_in_card(card, model_path.with_suffix(".onnx"), onnx_difference)
    reports.write_json_atomic(card, out / CARD_FILENAME)
    for s in summaries:
        print(f"member {s['run']}: validation {s['validation_accuracy']:.4f}, test {s['test_accuracy']:.4f}")
    print(f"ensemble of {len(members)}: validation {validation:.4f}, test {test['accuracy']:.4f} ({test['errors']} errors)")
    print(evaluate.styles_table(test_styles))
    print(f"wrote {model_path}, its ONNX copy, {CARD_FILENAME} and reports/ in {out} ({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
