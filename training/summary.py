"""Check and show the MNIST data: counts per class, first labels, sample grid, class distribution.

python -m training.summary [--data-dir DIR] [--out model/reports]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from training.data import add_data_dir_argument, load_for_command


def summarize(data, out_dir: Path) -> str:
    """Write ``data_samples.png`` and ``class_distribution.png``; return a text summary."""
    import matplotlib.pyplot as plt

    from training import reports

    out_dir.mkdir(parents=True, exist_ok=True)
    train_counts = np.bincount(data.y_train, minlength=10)
    test_counts = np.bincount(data.y_test, minlength=10)
    lines = [
        f"source: {data.source}",
        f"train: {data.x_train.shape} {data.x_train.dtype}, test: {data.x_test.shape}",
        f"pixel range {data.x_train.min()}-{data.x_train.max()}, train pixel mean {data.x_train.mean():.4f}",
        f"first ten training labels: {data.y_train[:10].tolist()}",
        "digit  train  test",
        *(f"{d:>5}  {train_counts[d]:>5}  {test_counts[d]:>4}" for d in range(10)),
    ]
    first = [np.flatnonzero(data.y_train == d)[:4] for d in range(10)]
    idx = np.stack(first, axis=1).ravel()
    reports.plot_gallery(
        data.x_train[idx],
        [str(data.y_train[i]) for i in idx],
        out_dir / "data_samples.png",
        cols=10,
        title="MNIST training samples, four per digit",
    )
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.bar(np.arange(10) - 0.2, train_counts, width=0.4, label="train")
    ax.bar(np.arange(10) + 0.2, test_counts * 6, width=0.4, label="test × 6")
    ax.set(xticks=range(10), xlabel="digit", ylabel="images", title="Class distribution")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "class_distribution.png", dpi=100)
    plt.close(fig)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m training.summary", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_data_dir_argument(p)
    p.add_argument("--out", default="model/reports", help="where to write the figures (default: %(default)s)")
    args = p.parse_args(argv)
    data = load_for_command(args.data_dir)
    print(summarize(data, Path(args.out)))
    print(f"wrote {args.out}/data_samples.png, {args.out}/class_distribution.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
