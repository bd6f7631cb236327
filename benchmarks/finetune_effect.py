"""How much fine-tuning on a person's corrections helps: a style the model reads badly, before and after.

    MNIST_DIR=... python benchmarks/finetune_effect.py [--model model/digits.keras] [--train 800] [--unseen 2000]
        [--out DIR] [-- extra training.finetune options]

1. 800 MNIST *training* digits written in a personal style the committed model reads badly
   (``benchmarks/backhand.py``: heavy back-slant, skipping pen) go through the app's preprocessing
   and are saved in a fresh SQLite sample store, as the app saves corrections.
2. ``python -m training.finetune --db <that store> --out DIR/model`` runs on them, timed as a whole.
3. Unseen examples of the style (MNIST *test* digits, rendered with another seed) are read through the
   whole pipeline with the parent model (the baseline, same run) and with the fine-tuned one.
MNIST test accuracy (the untouched 10,000) is taken from the fine-tuning's own before/after.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.backhand import backhand_set  # noqa: E402
from benchmarks.styled_scans import STYLE_DIGITS, styled_scans  # noqa: E402
from model import load_classifier  # noqa: E402
from store import SampleStore, new_sample  # noqa: E402
from training import finetune  # noqa: E402
from training.data import load_for_command, sha256_file  # noqa: E402


def balanced(y: np.ndarray, n: int, rng: np.random.Generator, digits=tuple(range(10))) -> np.ndarray:
    """``n`` indices, the same number per digit of ``digits``."""
    return np.concatenate([rng.choice(np.flatnonzero(y == d), n // len(digits), replace=False) for d in digits])


# Each style: the digits it is written with, and how a set of them is rendered (images, labels, seed).
STYLES = {
    "backhand": (tuple(range(10)), lambda images, labels, seed: backhand_set(images, seed)),
    **{
        name: (digits, lambda images, labels, seed, name=name: styled_scans(images, labels, name, seed))
        for name, digits in STYLE_DIGITS.items()
    },
}


def read_all(classifier, images: list[np.ndarray]):
    """The 28x28 network inputs the app's pipeline makes of ``images`` (None where it finds no digit)."""
    return classifier.predict_batch(images)


def style_accuracy(classifier, processed: list[np.ndarray | None], labels: np.ndarray) -> float:
    """Share of the style's examples read right; an example without a found digit counts as wrong."""
    found = [i for i, p in enumerate(processed) if p is not None]
    right = (classifier.probabilities(np.stack([processed[i] for i in found])).argmax(axis=1) == labels[found]).sum()
    return float(right / len(labels))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", type=int, default=800, help="style samples to fine-tune on (MNIST train digits)")
    p.add_argument("--unseen", type=int, default=2000, help="unseen style examples to score (MNIST test digits)")
    p.add_argument("--model", default=str(ROOT / "model" / "digits.keras"),
                   help="the parent model, with its served .onnx copy beside it (default: %(default)s)")
    p.add_argument("--data-dir")
    p.add_argument("--out", help="working directory (default: a temp dir)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--style", choices=sorted(STYLES), default="backhand",
                   help="backhand (benchmarks/backhand.py), or one of benchmarks/styled_scans.py (european: 1s and 7s)")
    p.add_argument("finetune_args", nargs="*", help="extra arguments for training.finetune, after --")
    args = p.parse_args(argv)
    out = Path(args.out or tempfile.mkdtemp(prefix="finetune-effect-"))
    out.mkdir(parents=True, exist_ok=True)
    data = load_for_command(args.data_dir)
    rng = np.random.default_rng(args.seed)
    parent_path = Path(args.model)
    parent = load_classifier(parent_path.with_suffix(".onnx"))  # the served copy, as the app reads
    parent_sha = sha256_file(parent_path)

    digits, render = STYLES[args.style]
    train_idx = balanced(data.y_train, args.train, rng, digits)
    t = time.perf_counter()
    scans = render(data.x_train[train_idx], data.y_train[train_idx], args.seed + 1)
    answers = read_all(parent, scans)
    db = out / "samples.sqlite"
    db.unlink(missing_ok=True)
    store = SampleStore(f"sqlite:///{db}")
    saved = 0
    served_sha = sha256_file(parent.path)
    for scan, answer, label in zip(scans, answers, data.y_train[train_idx]):
        if answer.ok:
            store.add(new_sample(scan, answer.processed, int(label), predicted=answer.digit, confidence=answer.confidence,
                                 model_sha256=served_sha, source="upload"))
            saved += 1
    corrections = store.counts().corrections
    store.close()
    print(f"{saved} style samples saved ({corrections} of them corrections) in {time.perf_counter() - t:.0f} s")

    unseen_idx = balanced(data.y_test, args.unseen, rng, digits)
    unseen_labels = data.y_test[unseen_idx]
    unseen = [a.processed for a in read_all(parent, render(data.x_test[unseen_idx], unseen_labels, args.seed + 2))]
    before = style_accuracy(parent, unseen, unseen_labels)
    print(f"unseen style examples, parent model: {before:.2%}")

    model_dir = out / "model"
    start, cpu_start = time.perf_counter(), time.process_time()
    status = finetune.main(["--db", f"sqlite:///{db}", "--out", str(model_dir), "--model", str(parent_path),
                            *(["--data-dir", args.data_dir] if args.data_dir else []), *args.finetune_args])
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    if status != 0:
        print(f"fine-tuning refused or failed (exit {status}) after {wall:.0f} s")
        return status
    card = json.loads((model_dir / "model_card.json").read_text())
    tuned = load_classifier(model_dir / "digits.onnx")
    after = style_accuracy(tuned, unseen, unseen_labels)
    lineage = card["lineage"]
    result = {
        "parent_sha256": parent_sha,
        "finetuned_sha256": card["model_sha256"],
        "style": args.style,
        "samples": saved,
        "samples_used": lineage["samples_used"],
        "samples_held_out": lineage["samples_held_out"],
        "unseen_examples": len(unseen_labels),
        "unseen_before": round(before, 4),
        "unseen_after": round(after, 4),
        "held_out_before": lineage["before"]["held_out_accuracy"],
        "held_out_after": lineage["after"]["held_out_accuracy"],
        "mnist_before": lineage["before"]["mnist_test_accuracy"],
        "mnist_after": lineage["after"]["mnist_test_accuracy"],
        "finetune_command_seconds": round(wall, 1),
        "finetune_command_cpu_seconds": round(cpu, 1),
        "train_seconds": lineage["train_seconds"],
        "train_cpu_seconds": lineage.get("train_cpu_seconds"),
        "epochs": lineage["epochs"],
    }
    (out / "finetune_effect.json").write_text(json.dumps(result, indent=2))
    print()
    print(f"| | parent ({parent_sha[:12]}) | fine-tuned ({card['model_sha256'][:12]}) |")
    print("|---|---:|---:|")
    print(f"| unseen {args.style} examples ({len(unseen_labels):,}, MNIST test digits) | {before:.2%} | {after:.2%} |")
    print(f"| held-out saved samples ({lineage['samples_held_out']}) | {result['held_out_before']:.2%} | "
          f"{result['held_out_after']:.2%} |")
    print(f"| MNIST test ({lineage['mnist_test_images']:,}) | {result['mnist_before']:.2%} | {result['mnist_after']:.2%} |")
    print(f"\nfine-tuning command: {wall:.0f} s wall, {cpu:.0f} s CPU ({lineage['train_seconds']:.0f} s of it training, "
          f"{lineage['epochs']} epochs); wrote {out / 'finetune_effect.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
