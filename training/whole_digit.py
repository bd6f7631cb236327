"""Train the whole-digit check: is this candidate crop exactly one whole digit?

    python -m training.whole_digit --data-dir DIR --out model/ [--numbers 3500] [--epochs 6]

The reader asks it of every candidate it considers (``model.reader``): the digit classifier
alone reads half of a 0 as a confident 1 and two touching digits as one confident digit, so the
segmentation it prefers can be wrong. Examples are the reader's own candidates on numbers
composed from MNIST *training* digits (``training.candidates``); numbers from a second seed are
held out to measure it. Writes ``whole_digit.keras`` and the served ``whole_digit.onnx``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from preprocessing.context import WINDOW
from training.candidates import make_examples
from training.data import add_data_dir_argument, load_for_command

KERAS_NAME = "whole_digit.keras"
ONNX_NAME = "whole_digit.onnx"
REPORT_NAME = "whole_digit.json"


def build_model():
    """A small CNN: context windows (N, 32, 48, 2) in [0, 1] -> (N, 1), the probability of one whole digit."""
    import keras
    from keras import layers

    return keras.Sequential(
        [
            keras.Input((*WINDOW, 2)),
            layers.Conv2D(16, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(),
            layers.Conv2D(32, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(),
            layers.Conv2D(64, 3, activation="relu", padding="same"),
            layers.MaxPooling2D(),
            layers.Flatten(),
            layers.Dropout(0.4),
            layers.Dense(64, activation="relu"),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="whole_digit",
    )


def _shifted(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each window moved by up to 2 px, so the check does not rely on exact centring."""
    out = np.empty_like(x)
    for i, (dy, dx) in enumerate(rng.integers(-2, 3, (len(x), 2))):
        out[i] = np.roll(x[i], (dy, dx), axis=(0, 1))
    return out


def evaluate(probabilities: np.ndarray, whole: np.ndarray) -> dict[str, float]:
    """Accuracy at 0.5, and the share of whole digits rejected / of non-digits accepted."""
    said = probabilities >= 0.5
    return {
        "accuracy": float(np.mean(said == (whole == 1))),
        "whole_rejected": float(np.mean(~said[whole == 1])),
        "parts_accepted": float(np.mean(said[whole == 0])),
        "examples": int(len(whole)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_dir_argument(parser)
    parser.add_argument("--out", default="model", help="folder to write the model into")
    parser.add_argument("--numbers", type=int, default=3500, help="composed numbers to take training candidates from")
    parser.add_argument("--held-out", type=int, default=1500, help="composed numbers (the next seed) to measure on")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=1, help="seed of the training numbers; the held-out ones use the next")
    args = parser.parse_args(argv)

    import keras

    from training.export import export_onnx
    from training.train import save_model_atomic

    mnist = load_for_command(args.data_dir)
    images, labels = mnist.x_train, mnist.y_train
    start = time.time()
    x, whole, _ = make_examples(images, labels, args.numbers, seed=args.seed)
    x_val, whole_val, _ = make_examples(images, labels, args.held_out, seed=args.seed + 1)
    made = time.time() - start
    print(f"{len(x)} training candidates ({whole.mean():.1%} whole), {len(x_val)} held out, made in {made:.0f} s")

    keras.utils.set_random_seed(0)
    model = build_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(0)
    val = (x_val.astype(np.float32) / 255.0, whole_val.astype(np.float32))
    for epoch in range(args.epochs):
        if epoch == args.epochs - 2:
            model.optimizer.learning_rate.assign(3e-4)
        xs = _shifted(x, rng).astype(np.float32) / 255.0
        model.fit(xs, whole.astype(np.float32), batch_size=128, epochs=1, validation_data=val, verbose=2)
        print(f"epoch {epoch + 1}/{args.epochs} done, {time.time() - start - made:.0f} s", flush=True)
    trained = time.time() - start - made

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = evaluate(np.asarray(model.predict(val[0], verbose=0)).ravel(), whole_val)
    save_model_atomic(model, out / KERAS_NAME)
    difference = export_onnx(model, out / ONNX_NAME, x_val[:256])
    report.update(
        training_candidates=int(len(x)), numbers=args.numbers, held_out_numbers=args.held_out, epochs=args.epochs,
        seed=args.seed, seconds_to_make=round(made), seconds_to_train=round(trained), onnx_difference=difference,
        command=f"python -m training.whole_digit --out {args.out} --numbers {args.numbers} --held-out {args.held_out} "
        f"--epochs {args.epochs} --seed {args.seed}",
    )
    (out / REPORT_NAME).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
