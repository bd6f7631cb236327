"""Evaluate a trained model on the MNIST test set: report, confusion matrix, worst mistakes.

python -m training.evaluate [--model model/digits.keras] [--out model/reports]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from training import reports
from training.data import add_data_dir_argument, load_for_command

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "model" / "digits.keras"
# Fixed, so every model is scored on the very same synthetic digits.
STYLE_SEED = 2026
# Styles for any digit are made from this many digits; a class's styles from all its digits.
STYLE_LIMIT = 2000


def probabilities(model, images: np.ndarray) -> np.ndarray:
    """Softmax outputs for uint8 (N, 28, 28) images."""
    x = (images.astype("float32") / 255.0)[..., None]
    return np.asarray(model.predict(x, batch_size=500, verbose=0))


def accuracy(model, images: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(probabilities(model, images).argmax(axis=1) == labels))


def style_sets(images: np.ndarray, labels: np.ndarray, limit: int = STYLE_LIMIT) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each synthetic writing style made from ``images`` (every suitable digit, at most ``limit``)."""
    from training.styles import STYLES, style_set

    rng = np.random.default_rng(STYLE_SEED)
    return {name: style_set(images, labels, name, rng, limit=limit) for name in STYLES}


def evaluate_styles(model, images: np.ndarray, labels: np.ndarray, limit: int = STYLE_LIMIT) -> dict[str, dict]:
    """Accuracy on each synthetic writing style made from ``images`` (use MNIST *test* digits to report).

    Returns {style: {"accuracy", "images"}}.
    """
    results = {}
    for name, (x, y) in style_sets(images, labels, limit).items():
        results[name] = {"accuracy": round(accuracy(model, x, y), 4) if len(x) else None, "images": int(len(x))}
    return results


def evaluate_model(model, x_test: np.ndarray, y_test: np.ndarray, out_dir: Path) -> dict:
    """Score ``model`` on uint8 test images; write report, confusion matrix and mistakes gallery."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    probs = probabilities(model, x_test)
    pred = probs.argmax(axis=1)
    true_p = np.clip(probs[np.arange(len(y_test)), y_test], 1e-12, 1.0)
    metrics = {"loss": round(float(-np.mean(np.log(true_p))), 4)} | reports.class_metrics(y_test, pred)
    (out_dir / "classification_report.txt").write_text(reports.report_text(y_test, pred))
    reports.plot_confusion(metrics["confusion_matrix"], out_dir / "confusion_matrix.png")
    wrong = np.flatnonzero(pred != y_test)
    worst = wrong[np.argsort(true_p[wrong])][:32]
    if len(worst):
        captions = [f"true {y_test[i]} → {pred[i]} ({probs[i, pred[i]]:.0%})" for i in worst]
        reports.plot_gallery(
            x_test[worst], captions, out_dir / "worst_mistakes.png", title="Worst mistakes on the MNIST test set"
        )
    metrics["errors"] = int(len(wrong))
    return metrics


def plot_styles(images: np.ndarray, labels: np.ndarray, path: Path, per_style: int = 8) -> None:
    """Gallery of every style: MNIST digits (top row of each pair) and their styled versions."""
    import matplotlib.pyplot as plt

    from training.styles import STYLES

    rng = np.random.default_rng(STYLE_SEED)
    fig, axes = plt.subplots(2 * len(STYLES), per_style, figsize=(per_style * 0.9, len(STYLES) * 2.0))
    for row, (name, style) in enumerate(STYLES.items()):
        picked = [i for i in range(len(images)) if style.applies(images[i], int(labels[i]))][:per_style]
        for col in range(per_style):
            for k, image in enumerate((images[picked[col]], style.make(images[picked[col]], rng)) if col < len(picked) else ()):
                axes[2 * row + k, col].imshow(image, cmap="gray", vmin=0, vmax=255)
            for k in (0, 1):
                axes[2 * row + k, col].axis("off")
        axes[2 * row, 0].set_title(f"{name}: {style.description}", loc="left", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def styles_table(styles: dict[str, dict]) -> str:
    """Markdown table of ``evaluate_styles``'s result."""
    from training.styles import STYLES

    lines = ["| style | digits | accuracy |", "|---|---:|---:|"]
    for name, r in styles.items():
        acc = "–" if r["accuracy"] is None else f"{r['accuracy']:.2%}"
        lines.append(f"| {name} ({STYLES[name].description}) | {r['images']:,} | {acc} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m training.evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--model", default=str(DEFAULT_MODEL), help="model file (default: the committed model)")
    add_data_dir_argument(p)
    p.add_argument("--out", help="where to write the report and figures (default: reports/ beside the model)")
    args = p.parse_args(argv)
    data = load_for_command(args.data_dir)
    if not Path(args.model).is_file():
        print(f"error: no model at {args.model}; train one with: python -m training.train --out model/", file=sys.stderr)
        return 2
    import keras

    model = keras.saving.load_model(args.model, compile=False)
    out = Path(args.out) if args.out else Path(args.model).parent / "reports"
    metrics = evaluate_model(model, data.x_test, data.y_test, out)
    styles = evaluate_styles(model, data.x_test, data.y_test)
    (out / "styles.md").write_text(styles_table(styles))
    plot_styles(data.x_test, data.y_test, out / "styles.png")
    print((out / "classification_report.txt").read_text())
    print(styles_table(styles))
    print(
        f"test accuracy {metrics['accuracy']:.4f} ({metrics['errors']} errors of {len(data.y_test)}), loss {metrics['loss']:.4f}"
    )
    print(f"wrote {out}/classification_report.txt, styles.md, styles.png, confusion_matrix.png, worst_mistakes.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
