"""Metrics and figures shared by training, evaluation and the comparison."""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import classification_report, confusion_matrix

from training.atomic import atomic_path


def class_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Accuracy, per-class precision/recall/F1/support, macro averages and the confusion matrix."""
    report = classification_report(y_true, y_pred, labels=list(range(10)), output_dict=True, zero_division=0)
    per_class = {
        str(d): {k: round(float(report[str(d)][k]), 4) for k in ("precision", "recall", "f1-score")}
        | {"support": int(report[str(d)]["support"])}
        for d in range(10)
    }
    macro = {k: round(float(report["macro avg"][k]), 4) for k in ("precision", "recall", "f1-score")}
    return {
        "accuracy": round(float(np.mean(y_true == y_pred)), 4),
        "per_class": per_class,
        "macro_avg": macro,
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=list(range(10))).tolist(),
    }


def report_text(y_true: np.ndarray, y_pred: np.ndarray) -> str:
    """scikit-learn's text classification report, four decimals."""
    return classification_report(y_true, y_pred, labels=list(range(10)), digits=4, zero_division=0)


def write_json_atomic(obj: object, path: Path) -> None:
    """Write JSON via a temp file and rename, so readers never see half a file."""
    with atomic_path(path) as tmp, open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def plot_confusion(matrix: list[list[int]], path: Path, title: str = "Confusion matrix (MNIST test)") -> None:
    """Confusion matrix heatmap with counts; the diagonal is dimmed so the errors stand out."""
    m = np.asarray(matrix)
    off = m.copy()
    np.fill_diagonal(off, 0)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    im = ax.imshow(off, cmap="Reds")
    for i in range(10):
        for j in range(10):
            ax.text(j, i, str(m[i, j]), ha="center", va="center", fontsize=7, color="black" if i != j else "grey")
    ax.set(xticks=range(10), yticks=range(10), xlabel="predicted", ylabel="true", title=title)
    fig.colorbar(im, ax=ax, label="errors")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_history(history: dict[str, list[float]], path: Path) -> None:
    """Loss and accuracy per epoch, training vs validation."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    epochs = range(1, len(history["loss"]) + 1)
    for ax, key in zip(axes, ("loss", "accuracy")):
        ax.plot(epochs, history[key], label=f"train {key}")
        if f"val_{key}" in history:
            ax.plot(epochs, history[f"val_{key}"], label=f"validation {key}")
        ax.set(xlabel="epoch", title=key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_gallery(images: np.ndarray, captions: list[str], path: Path, cols: int = 8, title: str = "") -> None:
    """A grid of 28x28 images with a caption under each."""
    rows = max(1, int(np.ceil(len(images) / cols)))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 1.3, rows * 1.5))
    for ax in np.atleast_1d(axes).flat:
        ax.axis("off")
    for ax, img, cap in zip(np.atleast_1d(axes).flat, images, captions):
        ax.imshow(img, cmap="gray", vmin=0, vmax=255 if img.dtype == np.uint8 else 1)
        ax.set_title(cap, fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
