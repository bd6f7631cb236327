"""Compare classical and neural classifiers on the same MNIST split, defaults against tuned.

    python -m training.compare [--subset N] [--epochs 15] [--jobs -1] [--out model/reports]

Every model trains on the same training images (the 5,000 validation images are held out:
the Keras models stop early on them) and is scored on the full MNIST test set. Each
scikit-learn model appears twice: with its default settings, and tuned by a successive-halving
grid search (``HalvingGridSearchCV``, 3-fold cross-validation on the training images only,
so the test set plays no part in the choice) and refitted on all training images. Logistic
Regression runs on standardised pixels with enough iterations to converge; a
ConvergenceWarning fails the command. The SVM (RBF kernel) runs on a 50-component PCA of
the pixels, which keeps it to minutes. The committed production model is included from its
model card rather than retrained.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from training.data import add_data_dir_argument, load_for_command, validation_split

CARD = Path(__file__).resolve().parent.parent / "model" / "model_card.json"
METRICS = ("accuracy", "precision", "recall", "f1")
CV_FOLDS = 3


class NotConverged(RuntimeError):
    """A model that must converge (Logistic Regression) raised a ConvergenceWarning."""


def candidates(seed: int, jobs: int) -> dict[str, tuple[object, dict]]:
    """name -> (estimator with default settings, parameter grid for the tuned version)."""
    from sklearn.decomposition import PCA
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return {
        # Standardised pixels and 2,000 iterations: lbfgs and saga both converge (the default
        # 100 iterations on raw pixels stop early with a ConvergenceWarning).
        "Logistic Regression": (
            make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed)),
            {"logisticregression__C": [0.01, 0.1, 1.0], "logisticregression__solver": ["lbfgs", "saga"]},
        ),
        "Random Forest": (
            RandomForestClassifier(n_jobs=jobs, random_state=seed),
            {
                "n_estimators": [100, 300],
                "max_depth": [None, 25],
                "min_samples_split": [2, 5],
                "min_samples_leaf": [1, 2],
            },
        ),
        "scikit-learn MLP": (
            MLPClassifier(random_state=seed, early_stopping=True),
            {
                "hidden_layer_sizes": [(100,), (256, 128), (512, 256)],
                "learning_rate_init": [1e-3, 3e-3],
                "alpha": [1e-4, 1e-3],
            },
        ),
        "SVM (RBF, PCA-50)": (
            make_pipeline(PCA(n_components=50, random_state=seed), SVC()),
            {"svc__C": [1.0, 5.0, 10.0], "svc__gamma": ["scale", 0.01, 0.03]},
        ),
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


def fit_checked(estimator, x: np.ndarray, y: np.ndarray, must_converge: bool):
    """Fit; a ConvergenceWarning raises NotConverged when ``must_converge``, else it is recorded."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        estimator.fit(x, y)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    if must_converge and not converged:
        raise NotConverged(f"{type(estimator).__name__} did not converge: {caught[0].message}")
    return converged


def search(name: str, estimator, grid: dict, x: np.ndarray, y: np.ndarray, seed: int, jobs: int):
    """Successive-halving grid search with 3-fold CV on the training images; refits the best on all of them."""
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401  (registers the class)
    from sklearn.model_selection import HalvingGridSearchCV

    n_candidates = int(np.prod([len(v) for v in grid.values()]))
    # Start each candidate on enough images for 3 folds of 10 classes; halving grows that by 3x per round.
    min_resources = max(30 * CV_FOLDS, min(len(x) // 9, 3000))
    searcher = HalvingGridSearchCV(
        estimator,
        grid,
        factor=3,
        cv=CV_FOLDS,
        min_resources=min_resources,
        random_state=seed,
        n_jobs=jobs,
        refit=False,
        error_score="raise",
    )
    start = time.perf_counter()
    fit_checked(searcher, x, y, must_converge=name == "Logistic Regression")
    return searcher.best_params_, time.perf_counter() - start, n_candidates


def sklearn_rows(x_tr, y_tr, x_test, y_test, seed: int, jobs: int, log, only: list[str] | None = None) -> dict[str, dict]:
    from sklearn.base import clone

    rows: dict[str, dict] = {}
    for name, (default, grid) in candidates(seed, jobs).items():
        if only and not any(o.lower() in name.lower() for o in only):
            continue
        must_converge = name == "Logistic Regression"
        for variant in ("default", "tuned"):
            log(f"- {name}, {variant} ...")
            estimator = clone(default)
            extra: dict = {}
            if variant == "tuned":
                best, search_seconds, n = search(name, clone(default), grid, x_tr, y_tr, seed, jobs)
                estimator.set_params(**best)
                settings = {k.split("__")[-1]: v for k, v in best.items()}
                extra = {"best_params": settings, "search_seconds": round(search_seconds, 1), "candidates": n}
            start = time.perf_counter()
            converged = fit_checked(estimator, x_tr, y_tr, must_converge)
            seconds = time.perf_counter() - start
            rows[f"{name} ({variant})"] = scores(y_test, estimator.predict(x_test), seconds) | extra | {"converged": converged}
            log(f"  {rows[f'{name} ({variant})']}")
    return rows


def markdown_table(rows: dict[str, dict]) -> str:
    lines = [
        "| model | train time (s) | search time (s) | accuracy | macro precision | macro recall | macro F1 | tuned settings |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, r in rows.items():
        cells = " | ".join(f"{r[m]:.4f}" for m in METRICS)
        search_time = f"{r['search_seconds']:.0f}" if "search_seconds" in r else "–"
        best = ", ".join(f"{k}={v}" for k, v in r.get("best_params", {}).items()) or "–"
        lines.append(f"| {name} | {r['train_seconds']:.1f} | {search_time} | {cells} | {best} |")
    return "\n".join(lines)


def plot_heatmap(rows: dict[str, dict], path: Path) -> None:
    """Metrics heatmap beside training times (log scale), one row per model and variant."""
    import matplotlib.pyplot as plt

    values = np.array([[r[m] for m in METRICS] for r in rows.values()])
    times = np.array([max(r["train_seconds"], 0.1) for r in rows.values()])
    fig, (ax, tax) = plt.subplots(1, 2, figsize=(11, 0.5 * len(rows) + 1.8), gridspec_kw={"width_ratios": [3, 1.3]}, sharey=True)
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
    fig.colorbar(im, ax=ax, fraction=0.04)
    colours = ["tab:orange" if "(tuned)" in name else "tab:blue" for name in rows]
    tax.barh(range(len(rows)), times, color=colours)
    tax.set_xscale("log")
    tax.set(title="training time (s, log)", xlabel="orange: tuned, refit on all images")
    for i, t in enumerate(times):
        tax.text(t, i, f" {t:.0f}", va="center", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m training.compare", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--subset", type=int, default=0, help="train on only N training images (quick look); 0 = all")
    p.add_argument("--epochs", type=int, default=15, help="maximum epochs for the Keras models (early stopping)")
    p.add_argument("--jobs", type=int, default=-1, help="parallel jobs for the searches and the forests (default: all cores)")
    p.add_argument("--no-keras", action="store_true", help="only the scikit-learn models")
    p.add_argument(
        "--only",
        action="append",
        help="run only the models whose name contains this ('keras' for the Keras ones); repeatable. "
        "Lets several processes share the work, joined with --merge",
    )
    p.add_argument("--merge", nargs="+", metavar="JSON", help="join comparison.json files of --only runs into one report")
    p.add_argument("--seed", type=int, default=42)
    add_data_dir_argument(p)
    p.add_argument("--out", default="model/reports", help="where to write comparison.md/.json/.png (default: %(default)s)")
    args = p.parse_args(argv)
    if args.merge:
        parts = [json.loads(Path(f).read_text()) for f in args.merge]
        rows = {name: row for part in parts for name, row in part["models"].items()}
        rows = add_production_row(rows) if not parts[0].get("subset") else rows
        write_outputs(rows, parts[0] | {"models": rows}, Path(args.out))
        return 0
    data = load_for_command(args.data_dir)

    def log(message: str) -> None:
        print(message, flush=True)

    x_tr, y_tr, x_val, y_val = validation_split(data.x_train, data.y_train, 5000, args.seed)
    if args.subset:
        x_tr, y_tr = x_tr[: args.subset], y_tr[: args.subset]
    log(f"training on {len(x_tr)} images, testing on {len(data.x_test)}")
    flat_tr = x_tr.reshape(len(x_tr), -1) / 255.0
    flat_test = data.x_test.reshape(len(data.x_test), -1) / 255.0
    try:
        rows = sklearn_rows(flat_tr, y_tr, flat_test, data.y_test, args.seed, args.jobs, log, args.only)
    except NotConverged as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if not args.no_keras and (not args.only or any(o.lower() == "keras" for o in args.only)):
        import keras

        from training.train import device_description, fit, to_float

        for name, arch in (("Keras MLP (seed)", "mlp"), ("Keras CNN (seed)", "cnn")):
            log(f"- {name} ...")
            result = fit(arch, x_tr, y_tr, x_val, y_val, epochs=args.epochs, lr=1e-3, patience=3, seed=args.seed, verbose=0)
            pred = np.asarray(result.model.predict(to_float(data.x_test), batch_size=500, verbose=0)).argmax(axis=1)
            rows[name] = scores(data.y_test, pred, result.seconds) | {
                "epochs": len(result.history["loss"]),
                "device": device_description(),
                "keras_backend": keras.backend.backend(),
            }
            log(f"  {rows[name]}")
    import sklearn

    meta = {
        "train_images": len(x_tr),
        "subset": args.subset,
        "machine": f"{platform.node()}, {os.cpu_count()} CPU threads",
        "scikit-learn": sklearn.__version__,
        "cv_folds": CV_FOLDS,
    }
    if not args.subset and not args.only:
        rows = add_production_row(rows)
    write_outputs(rows, meta | {"models": rows}, Path(args.out))
    return 0


def add_production_row(rows: dict[str, dict]) -> dict[str, dict]:
    """The committed model's row, from its card (not retrained here)."""
    if not CARD.is_file():
        return rows
    card = json.loads(CARD.read_text())
    test, training = card["test"], card["training"]
    return rows | {
        f"production model: {card['architecture']} (committed card)": {
            "accuracy": test["accuracy"],
            "precision": test["macro_avg"]["precision"],
            "recall": test["macro_avg"]["recall"],
            "f1": test["macro_avg"]["f1-score"],
            "train_seconds": training["train_seconds"],
            "device": training.get("device", ""),
        }
    }


def write_outputs(rows: dict[str, dict], report: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    table = markdown_table(rows)
    command = "python -m training.compare" + (f" --subset {report['subset']}" if report.get("subset") else "")
    header = f"Trained on {report['train_images']} MNIST training images, scored on the 10,000 test images (`{command}`)"
    header += f"; scikit-learn {report['scikit-learn']} on {report['machine']}.\n\n"
    (out / "comparison.md").write_text(header + table + "\n")
    (out / "comparison.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    plot_heatmap(rows, out / "comparison.png")
    print(table)
    print(f"wrote {out}/comparison.md, comparison.json, comparison.png")


if __name__ == "__main__":
    sys.exit(main())
