"""Train a digit classifier on MNIST and export it, with its model card, into ``model/``.

python -m training.train --out model/      # the production model: robust CNN, 22 epochs
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.data import add_data_dir_argument, load_for_command, sha256_file, validation_split
from training.models import ARCHITECTURES, DEFAULT_ARCH

MODEL_FILENAME = "digits.keras"
CARD_FILENAME = "model_card.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m training.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--arch", choices=sorted(ARCHITECTURES), default=DEFAULT_ARCH, help="network to train (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=22, help="maximum epochs (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate of the cosine schedule")
    p.add_argument("--patience", type=int, default=8, help="early stopping patience on validation loss")
    p.add_argument("--val-size", type=int, default=5000, help="images held out of the training set for validation")
    p.add_argument("--augment", choices=("auto", "on", "off"), default="auto", help="augmentation; auto = on for 'robust'")
    p.add_argument(
        "--precision",
        choices=("auto", "float32", "mixed_bfloat16"),
        default="auto",
        help="training precision; auto = bfloat16 where the CPU has native bf16 (export is always float32)",
    )
    p.add_argument("--limit", type=int, default=0, help="use only the first N training images (smoke tests)")
    p.add_argument("--seed", type=int, default=42)
    add_data_dir_argument(p)
    p.add_argument("--out", default="model", help="output directory (default: %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no per-batch progress bar")
    return p.parse_args(argv)


def cpu_has_bf16() -> bool:
    """True where the CPU has native bfloat16 (AVX512-BF16 or AMX), where mixed precision pays off."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def to_float(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1]: the model's input contract."""
    return (images.astype("float32") / 255.0)[..., None]


def make_dataset(x: np.ndarray, y: np.ndarray, batch_size: int, augment: bool, seed: int):
    import tensorflow as tf

    from training.augment import augment_batch, build_augmenter

    ds = (
        tf.data.Dataset.from_tensor_slices((to_float(x), y))
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
    )
    if augment:
        augmenter = build_augmenter(seed)
        ds = ds.map(lambda a, b: (augment_batch(augmenter, a), b), num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def save_model_atomic(model, path: Path) -> None:
    """Save via a temp file in the same directory and rename: an interrupted run keeps the old model."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".keras")
    os.close(fd)
    try:
        model.save(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a model file is meant to be shared
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def library_versions() -> dict[str, str]:
    import keras
    import sklearn
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "numpy": np.__version__,
        "scikit-learn": sklearn.__version__,
    }


@dataclass
class FitResult:
    """A trained float32 model, its per-epoch history, and the training's wall and CPU time."""

    model: object
    history: dict[str, list[float]]
    seconds: float
    cpu_seconds: float

    @property
    def best_epoch(self) -> int:
        return int(np.argmin(self.history["val_loss"])) + 1


def fit(
    arch: str,
    x_tr: np.ndarray,
    y_tr: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    epochs: int,
    batch_size: int = 128,
    lr: float = 2e-3,
    patience: int = 8,
    augment: bool = False,
    precision: str = "float32",
    seed: int = 42,
    verbose: int = 2,
) -> FitResult:
    """Train ``arch`` with Adam on a cosine schedule and early stopping; return it in float32."""
    import keras

    keras.utils.set_random_seed(seed)
    keras.mixed_precision.set_global_policy(precision)
    model = ARCHITECTURES[arch]()
    steps = int(np.ceil(len(x_tr) / batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=lr / 10,
        decay_steps=max(1, (epochs - 1) * steps),
        alpha=0.01,
        warmup_target=lr,
        warmup_steps=steps,
    )
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    if verbose:
        model.summary(print_fn=lambda s, **_: print(s))
    start, cpu_start = time.perf_counter(), time.process_time()
    run = model.fit(
        make_dataset(x_tr, y_tr, batch_size, augment, seed),
        validation_data=(to_float(x_val), y_val),
        epochs=epochs,
        shuffle=False,  # the dataset reshuffles itself every epoch
        callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)],
        verbose=verbose,
    )
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    history = {k: [float(v) for v in vals] for k, vals in run.history.items() if k != "learning_rate"}

    # Export in float32 whatever the training precision: same weights, plain inference everywhere.
    keras.mixed_precision.set_global_policy("float32")
    export = ARCHITECTURES[arch]()
    export.set_weights(model.get_weights())
    return FitResult(export, history, seconds, cpu_seconds)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data = load_for_command(args.data_dir)

    from training import evaluate, reports
    from training.export import export_onnx, record_in_card

    precision = args.precision if args.precision != "auto" else ("mixed_bfloat16" if cpu_has_bf16() else "float32")
    augment = args.augment == "on" or (args.augment == "auto" and args.arch == "robust")
    x_all, y_all = data.x_train, data.y_train
    if args.limit:
        x_all, y_all = x_all[: args.limit], y_all[: args.limit]
    val_size = min(args.val_size, len(x_all) // 5)
    x_tr, y_tr, x_val, y_val = validation_split(x_all, y_all, val_size, args.seed)
    print(f"data: {data.source}; train {len(x_tr)}, validation {len(x_val)}, test {len(data.x_test)}")
    print(f"arch {args.arch}, epochs {args.epochs}, batch {args.batch_size}, augment {augment}, precision {precision}")

    result = fit(
        args.arch,
        x_tr,
        y_tr,
        x_val,
        y_val,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        patience=args.patience,
        augment=augment,
        precision=precision,
        seed=args.seed,
        verbose=2 if args.quiet or not sys.stdout.isatty() else 1,
    )
    export, history, train_seconds, best_epoch = result.model, result.history, result.seconds, result.best_epoch
    print(f"trained in {train_seconds:.0f} s; best epoch {best_epoch} of {len(history['loss'])}")

    out = Path(args.out)
    reports_dir = out / "reports"
    reports_dir.mkdir(parents=True, exist_ok=True)
    model_path = out / MODEL_FILENAME
    save_model_atomic(export, model_path)

    onnx_difference = export_onnx(export, model_path.with_suffix(".onnx"), check_images=data.x_test[:1000])
    test = evaluate.evaluate_model(export, data.x_test, data.y_test, reports_dir)
    card = {
        "name": f"mnist-{args.arch}",
        "model_file": MODEL_FILENAME,
        "model_sha256": sha256_file(model_path),
        "model_bytes": model_path.stat().st_size,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "input": "float32 (N, 28, 28, 1) in [0, 1], white digit on black, MNIST-normalised",
        "output": "float32 (N, 10) softmax probabilities for digits 0-9",
        "architecture": args.arch,
        "parameters": int(export.count_params()),
        "config": {k: getattr(args, k) for k in ("epochs", "batch_size", "lr", "patience", "val_size", "seed", "limit")}
        | {"augment": augment, "precision": precision, "optimizer": "Adam, cosine decay with 1 warm-up epoch"},
        "training": {
            "epochs_run": len(history["loss"]),
            "best_epoch": best_epoch,
            "train_seconds": round(train_seconds, 1),
            # Wall time grows when other work shares the CPU; CPU time does not.
            "train_cpu_seconds": round(result.cpu_seconds, 1),
            "train_images": len(x_tr),
            "validation_images": len(x_val),
            "validation_accuracy": round(history["val_accuracy"][best_epoch - 1], 4),
            "cpu_threads": os.cpu_count(),
        },
        "test": test,
        "data": {"source": data.source, "sha256": data.checksums},
        "versions": library_versions(),
    }
    reports.write_json_atomic(record_in_card(card, model_path.with_suffix(".onnx"), onnx_difference), out / CARD_FILENAME)
    with open(reports_dir / "history.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", *history])
        for i in range(len(history["loss"])):
            writer.writerow([i + 1, *(round(history[k][i], 6) for k in history)])
    reports.plot_history(history, reports_dir / "training_curves.png")
    print(f"test accuracy {test['accuracy']:.4f}, test loss {test['loss']:.4f}")
    print(f"wrote {model_path}, {model_path.with_suffix('.onnx')}, {out / CARD_FILENAME}, {reports_dir}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
