"""Compare classical and neural classifiers on the same MNIST split.

    python -m training.compare [--subset N] [--epochs 15] [--out model/reports]

Every model trains on the same training images (the validation images are held out for the
Keras models' early stopping) and is scored on the full MNIST test set. The committed
production model is included from its model card rather than retrained (it takes ~25 min).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from training.data import add_data_dir_argument, load_for_command, validation_split

CARD = Path(__file__).resolve().parent.parent / "model" / "model_card.json"
METRICS = ("accuracy", "precision", "recall", "f1")


def sklearn_models(seed: int) -> dict:
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier

    return {
        "Logistic Regression": LogisticRegression(max_iter=200, random_state=seed),
        "Random Forest (200 trees)": RandomForestClassifier(n_estimators=200, n_jobs=-1, random_state=seed),
        "scikit-learn MLP (256-128)": MLPClassifier(hidden_layer_sizes=(256, 128), early_stopping=True, random_state=seed),
    }


def scores(y_true: np.ndarray, y_pred: np.ndarray, seconds: float) -> dict:
    from training.reports import class_metrics

    m = class_metrics(y_true, y_pred)
    macro = m["macro_avg"]
    return {
        "accuracy": m["accuracy"],
        "precision": macro["precision"],
        "recall": macro["recall"],
        "f1": macro["f1-score"],
        "train_seconds": round(seconds, 1),
    }


def markdown_table(rows: dict[str, dict]) -> str:
    lines = [
        "| model | train time (s) | accuracy | macro precision | macro recall | macro F1 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in rows.items():
        cells = " | ".join(f"{r[m]:.4f}" for m in METRICS)
        lines.append(f"| {name} | {r['train_seconds']:.0f} | {cells} |")
    return "\n".join(lines)


def plot_heatmap(rows: dict[str, dict], path: Path) -> None:
    import matplotlib.pyplot as plt

    values = np.array([[r[m] for m in METRICS] for r in rows.values()])
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(rows) + 1.5))
    im = ax.imshow(values, cmap="viridis", vmin=max(0.85, values.min() - 0.01), vmax=1.0, aspect="auto")
    for i in range(values.shape[0]):
        for j in range(values.shape[1]):
            ax.text(j, i, f"{values[i, j]:.4f}", ha="center", va="center", color="white" if values[i, j] < 0.97 else "black")
    ax.set(
        xticks=range(len(METRICS)),
        xticklabels=["accuracy", "macro\nprecision", "macro\nrecall", "macro\nF1"],
        yticks=range(len(rows)),
        yticklabels=list(rows),
        title="MNIST test set",
    )
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m training.compare", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--subset", type=int, default=0, help="train on only N training images (quick look); 0 = all")
    p.add_argument("--epochs", type=int, default=15, help="maximum epochs for the Keras models (early stopping)")
    p.add_argument("--seed", type=int, default=42)
    add_data_dir_argument(p)
    p.add_argument("--out", default="model/reports", help="where to write comparison.md/.json/.png (default: %(default)s)")
    args = p.parse_args(argv)
    data = load_for_command(args.data_dir)

    from training.train import fit, to_float

    x_tr, y_tr, x_val, y_val = validation_split(data.x_train, data.y_train, 5000, args.seed)
    if args.subset:
        x_tr, y_tr = x_tr[: args.subset], y_tr[: args.subset]
    print(f"training on {len(x_tr)} images, testing on {len(data.x_test)}")
    flat_tr = x_tr.reshape(len(x_tr), -1) / 255.0
    flat_test = data.x_test.reshape(len(data.x_test), -1) / 255.0
    rows: dict[str, dict] = {}
    for name, clf in sklearn_models(args.seed).items():
        print(f"- {name} ...", flush=True)
        start = time.perf_counter()
        clf.fit(flat_tr, y_tr)
        rows[name] = scores(data.y_test, clf.predict(flat_test), time.perf_counter() - start)
        print(f"  {rows[name]}", flush=True)
    for name, arch in (("Keras MLP (seed)", "mlp"), ("Keras CNN (seed)", "cnn")):
        print(f"- {name} ...", flush=True)
        result = fit(arch, x_tr, y_tr, x_val, y_val, epochs=args.epochs, lr=1e-3, patience=3, seed=args.seed, verbose=0)
        pred = np.asarray(result.model.predict(to_float(data.x_test), batch_size=500, verbose=0)).argmax(axis=1)
        rows[name] = scores(data.y_test, pred, result.seconds) | {"epochs": len(result.history["loss"])}
        print(f"  {rows[name]}", flush=True)
    if CARD.is_file() and not args.subset:
        card = json.loads(CARD.read_text())
        test = card["test"]
        rows[f"Keras robust CNN (committed, {card['training']['epochs_run']} epochs)"] = {
            "accuracy": test["accuracy"],
            "precision": test["macro_avg"]["precision"],
            "recall": test["macro_avg"]["recall"],
            "f1": test["macro_avg"]["f1-score"],
            "train_seconds": card["training"]["train_seconds"],
        }

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = markdown_table(rows)
    header = f"Trained on {len(x_tr)} MNIST training images, scored on the 10,000 test images (`python -m training.compare"
    header += f" --subset {args.subset}`).\n\n" if args.subset else "`).\n\n"
    (out / "comparison.md").write_text(header + table + "\n")
    (out / "comparison.json").write_text(json.dumps({"train_images": len(x_tr), "models": rows}, indent=2) + "\n")
    plot_heatmap(rows, out / "comparison.png")
    print(table)
    print(f"wrote {out}/comparison.md, comparison.json, comparison.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
