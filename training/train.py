"""Train a digit classifier on MNIST and export it, with its model card, into ``model/``.

python -m training.train --out /tmp/robust          # one robust CNN with style augmentation
python -m training.ensemble /tmp/m1 /tmp/m2 ... --out model/   # the production model: members averaged

Runs on any Keras backend (augmentation is numpy/OpenCV): TensorFlow on a CPU, or
``KERAS_BACKEND=jax``/``torch`` on a GPU; the ONNX copy is exported with TensorFlow only
(elsewhere ``python -m training.export`` makes it afterwards).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.atomic import atomic_path
from training.data import add_data_dir_argument, load_for_command, sha256_file, validation_split
from training.models import ARCHITECTURES, DEFAULT_ARCH

MODEL_FILENAME = "digits.keras"
CARD_FILENAME = "model_card.json"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m training.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--arch", choices=sorted(ARCHITECTURES), default=DEFAULT_ARCH, help="network to train (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=22, help="epochs (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    p.add_argument(
        "--warmup", type=float, default=1.0, help="epochs of linear warm-up from lr/10 before the cosine decay (default: 1)"
    )
    p.add_argument("--label-smoothing", type=float, default=0.0, help="label smoothing of the cross-entropy (default: 0)")
    p.add_argument("--ema", type=float, default=0.0, help="momentum of a moving average of the weights, e.g. 0.999")
    p.add_argument("--patience", type=int, default=0, help="early stopping patience on validation loss; 0 = run every epoch")
    p.add_argument("--val-size", type=int, default=5000, help="images held out of the training set for validation")
    p.add_argument("--augment", choices=("auto", "on", "off"), default="auto", help="augmentation; auto = on for 'robust'")
    p.add_argument(
        "--style-rate",
        type=float,
        default=0.0,
        help="fraction of each batch replaced by synthetic writing styles (training.styles); default 0",
    )
    p.add_argument("--style-pool", type=int, default=3000, help="styled training digits made per style (default: %(default)s)")
    p.add_argument("--workers", type=int, default=2, help="threads preparing batches (default: %(default)s)")
    p.add_argument(
        "--precision",
        choices=("auto", "float32", "mixed_bfloat16"),
        default="auto",
        help="training precision; auto = bfloat16 where the CPU has native bf16 (export is always float32)",
    )
    p.add_argument("--limit", type=int, default=0, help="use only the first N training images (smoke tests)")
    p.add_argument("--seed", type=int, default=42, help="seed of initialisation, shuffling and augmentation")
    p.add_argument(
        "--split-seed", type=int, default=42, help="seed of the validation split: keep it fixed across ensemble members"
    )
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


def one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(10, dtype=np.float32)[labels]


def make_dataset(
    x: np.ndarray,
    y: np.ndarray,
    batch_size: int,
    augment: bool,
    seed: int,
    *,
    pool: tuple[np.ndarray, np.ndarray] | None = None,
    style_rate: float = 0.0,
    workers: int = 2,
):
    """Shuffled, augmented batches of (float images, one-hot labels) for ``model.fit``, on any backend."""
    import keras

    from training.augment import augment_batch, mix_styles

    class Batches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=16)
            self.epoch = 0
            self.order = np.random.default_rng([seed, 0]).permutation(len(x))

        def __len__(self) -> int:
            return int(np.ceil(len(x) / batch_size))

        def __getitem__(self, i: int):
            # One generator per batch: reproducible whatever the thread that makes it.
            rng = np.random.default_rng([seed, self.epoch, i])
            idx = self.order[i * batch_size : (i + 1) * batch_size]
            images, labels = mix_styles(x[idx], y[idx], pool, style_rate, rng)
            inputs = augment_batch(images, rng) if augment else to_float(images)
            return inputs, one_hot(labels)

        def on_epoch_end(self) -> None:
            self.epoch += 1
            self.order = np.random.default_rng([seed, self.epoch]).permutation(len(x))

    return Batches()


def save_model_atomic(model, path: Path) -> None:
    """Save via a temp file in the same directory and rename: an interrupted run keeps the old model."""
    with atomic_path(path, ".keras") as tmp:
        model.save(tmp)


def library_versions() -> dict[str, str]:
    import importlib.metadata

    import keras

    versions = {"python": platform.python_version(), "keras": keras.__version__, "keras_backend": keras.backend.backend()}
    packages = ("tensorflow", "torch", "jax", "numpy", "scikit-learn", "opencv-contrib-python-headless", "opencv-python-headless")
    for name in packages:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = importlib.metadata.version(name)
    return versions


@dataclass
class FitResult:
    """A trained float32 model, its per-epoch history, the epoch whose weights it has, and wall and CPU time."""

    model: object
    history: dict[str, list[float]]
    seconds: float
    cpu_seconds: float
    kept_epoch: int


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
    warmup: float = 1.0,
    label_smoothing: float = 0.0,
    ema: float = 0.0,
    patience: int = 0,
    augment: bool = False,
    pool: tuple[np.ndarray, np.ndarray] | None = None,
    style_rate: float = 0.0,
    precision: str = "float32",
    seed: int = 42,
    workers: int = 2,
    verbose: int = 2,
) -> FitResult:
    """Train ``arch`` with Adam on a warm-up + cosine schedule; return it in float32.

    ``warmup``: epochs of linear warm-up from lr/10 to lr; ``ema``: momentum of a weight
    average that replaces the weights at the end (0 = off); ``patience`` > 0 stops early on
    validation loss and restores the best epoch's weights.
    """
    import keras

    keras.utils.set_random_seed(seed)
    keras.mixed_precision.set_global_policy(precision)
    model = ARCHITECTURES[arch]()
    steps = int(np.ceil(len(x_tr) / batch_size))
    warmup_steps = int(round(warmup * steps))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=lr / 10,
        decay_steps=max(1, epochs * steps - warmup_steps),
        alpha=0.01,
        warmup_target=lr,
        warmup_steps=warmup_steps,
    )
    optimizer = keras.optimizers.Adam(schedule, use_ema=ema > 0, ema_momentum=ema or 0.99)
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )
    if verbose:
        model.summary(print_fn=lambda s, **_: print(s))
    callbacks = []
    if patience > 0:
        callbacks.append(keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True))
    start, cpu_start = time.perf_counter(), time.process_time()
    run = model.fit(
        make_dataset(x_tr, y_tr, batch_size, augment, seed, pool=pool, style_rate=style_rate, workers=workers),
        validation_data=(to_float(x_val), one_hot(y_val)),
        epochs=epochs,
        callbacks=callbacks,
        verbose=verbose,
    )
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    history = {k: [float(v) for v in vals] for k, vals in run.history.items() if k != "learning_rate"}

    # Export in float32 whatever the training precision: same weights, plain inference everywhere.
    # (With ``ema``, fit has already swapped the averaged weights in.)
    keras.mixed_precision.set_global_policy("float32")
    export = ARCHITECTURES[arch]()
    export.set_weights(model.get_weights())
    # Early stopping restores the best epoch's weights at the end, stopped early or not.
    kept = int(np.argmin(history["val_loss"])) + 1 if patience > 0 else len(history["loss"])
    return FitResult(export, history, seconds, cpu_seconds, kept)


def device_description() -> str:
    """Where the training ran: the GPU's name when the backend uses one, else the CPU thread count."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            device = jax.devices()[0]
            if device.platform == "gpu":
                return f"GPU {device.device_kind} (Keras {backend} backend), {os.cpu_count()} CPU threads"
        elif backend == "torch":
            import torch

            if torch.cuda.is_available():
                return f"GPU {torch.cuda.get_device_name(0)} (Keras {backend} backend), {os.cpu_count()} CPU threads"
        elif backend == "tensorflow":
            import tensorflow as tf

            if tf.config.list_physical_devices("GPU"):
                return f"GPU (Keras {backend} backend), {os.cpu_count()} CPU threads"
    except Exception:  # a broken accelerator stack still trained somewhere: say CPU
        pass
    return f"CPU only, {os.cpu_count()} threads (Keras {backend} backend)"


def write_history(history: dict[str, list[float]], path: Path) -> None:
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", *history])
        for i in range(len(history["loss"])):
            writer.writerow([i + 1, *(round(history[k][i], 6) for k in history)])


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    data = load_for_command(args.data_dir)
    total_start = time.perf_counter()

    import keras

    from training import evaluate, reports
    from training.styles import styled_pool

    precision = args.precision if args.precision != "auto" else ("mixed_bfloat16" if cpu_has_bf16() else "float32")
    augment = args.augment == "on" or (args.augment == "auto" and args.arch == "robust")
    x_all, y_all = data.x_train, data.y_train
    if args.limit:
        x_all, y_all = x_all[: args.limit], y_all[: args.limit]
    val_size = min(args.val_size, len(x_all) // 5)
    x_tr, y_tr, x_val, y_val = validation_split(x_all, y_all, val_size, args.split_seed)
    print(f"data: {data.source}; train {len(x_tr)}, validation {len(x_val)}, test {len(data.x_test)}")
    print(
        f"arch {args.arch}, epochs {args.epochs}, batch {args.batch_size}, augment {augment}, style rate {args.style_rate}, "
        f"label smoothing {args.label_smoothing}, ema {args.ema}, precision {precision}, on {device_description()}"
    )
    pool, pool_seconds = None, 0.0
    if args.style_rate > 0:
        start = time.perf_counter()
        # Made from the training images only: validation and test digits never leak into training.
        pool = styled_pool(x_tr, y_tr, np.random.default_rng([args.seed, 1]), per_style=args.style_pool)
        pool_seconds = time.perf_counter() - start
        print(f"styled pool: {len(pool[0])} digits in {pool_seconds:.0f} s")

    result = fit(
        args.arch,
        x_tr,
        y_tr,
        x_val,
        y_val,
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        warmup=args.warmup,
        label_smoothing=args.label_smoothing,
        ema=args.ema,
        patience=args.patience,
        augment=augment,
        pool=pool,
        style_rate=args.style_rate,
        precision=precision,
        seed=args.seed,
        workers=args.workers,
        verbose=2 if args.quiet or not sys.stdout.isatty() else 1,
    )
    export, history = result.model, result.history
    print(f"trained in {result.seconds:.0f} s; kept epoch {result.kept_epoch} of {len(history['loss'])}")

    out = Path(args.out)
    reports_dir = out / "reports"
    reports_dir.mkdir(parents=True, exist_ok=True)
    model_path = out / MODEL_FILENAME
    save_model_atomic(export, model_path)

    validation = evaluate.accuracy(export, x_val, y_val)
    validation_styles = evaluate.evaluate_styles(export, x_val, y_val, limit=1000)
    test = evaluate.evaluate_model(export, data.x_test, data.y_test, reports_dir)
    test_styles = evaluate.evaluate_styles(export, data.x_test, data.y_test)
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
        "config": {
            k: getattr(args, k)
            for k in (
                "epochs",
                "batch_size",
                "lr",
                "warmup",
                "label_smoothing",
                "ema",
                "patience",
                "style_rate",
                "style_pool",
                "val_size",
                "seed",
                "split_seed",
                "limit",
            )
        }
        | {
            "augment": augment,
            "precision": precision,
            "optimizer": f"Adam, {args.warmup:g} warm-up epochs from lr/10, then cosine decay to lr/100",
        },
        "training": {
            "device": device_description(),
            "epochs_run": len(history["loss"]),
            "best_epoch": result.kept_epoch,  # the epoch whose weights were kept
            "train_seconds": round(result.seconds, 1),
            # Wall time grows when other work shares the CPU; CPU time does not.
            "train_cpu_seconds": round(result.cpu_seconds, 1),
            "style_pool_seconds": round(pool_seconds, 1),
            "train_images": len(x_tr),
            "styled_pool_images": 0 if pool is None else len(pool[0]),
            "validation_images": len(x_val),
            "validation_accuracy": round(validation, 4),
            "validation_styles": validation_styles,
            "cpu_threads": os.cpu_count(),
        },
        "test": test,
        "test_styles": test_styles,
        "data": {"source": data.source, "sha256": data.checksums},
        "versions": library_versions(),
    }
    write_history(history, reports_dir / "history.csv")
    reports.plot_history(history, reports_dir / "training_curves.png")
    if keras.backend.backend() == "tensorflow":
        from training.export import export_onnx, record_in_card

        onnx_difference = export_onnx(export, model_path.with_suffix(".onnx"), check_images=data.x_test[:1000])
        card = record_in_card(card, model_path.with_suffix(".onnx"), onnx_difference)
    else:
        print("no ONNX copy: its export needs TensorFlow; run python -m training.export --model", model_path)
    card["training"]["command_seconds"] = round(time.perf_counter() - total_start, 1)
    reports.write_json_atomic(card, out / CARD_FILENAME)
    print(f"validation accuracy {validation:.4f}; styles on validation digits: {validation_styles}")
    print(f"test accuracy {test['accuracy']:.4f}, test loss {test['loss']:.4f}; styles on test digits: {test_styles}")
    print(f"wrote {model_path}, {out / CARD_FILENAME}, {reports_dir}/ in {card['training']['command_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
