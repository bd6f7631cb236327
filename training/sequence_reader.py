"""Train the sequence reader: which digits, left to right, does a line of writing hold?

    python -m training.sequence_reader --data-dir DIR --out model/ [--lines 60000] [--epochs 10]

The digit classifier reads one cut-out digit at a time, so two touching digits must first be
cut apart, and where they overlap no cut is clean. The sequence reader reads the whole strip of
ink (``preprocessing.line``) and gives, for each of its 64 columns, the probabilities of "no
digit here" (the CTC blank) and of each digit: a CRNN-style convolutional network trained with
CTC loss, the standard recipe for reading text lines without segmenting them (as docTR's and
Tesseract's recognisers do). ``model.reader`` uses it to decide how many digits a line holds and
where they are, and as a second opinion on each digit.

Examples are numbers of 1 to 8 MNIST *training* digits composed as people write them
(``training.candidates.compose``: random heights, gaps, touching and overlapping neighbours,
broken strokes, thin and fat pens, ruled lines), rendered, and passed through the app's own
segmentation, so the network sees exactly what it is given when serving. Lines from another
seed are held out to measure it. Writes ``sequence.keras``, the served ``sequence.onnx`` and
``sequence.json`` (held-out accuracy, time, the command).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from multiprocessing import get_context
from pathlib import Path

import cv2
import numpy as np

from model.sequence import CLASSES, STEPS, decode
from preprocessing.line import LINE, LineMapping, line_image
from preprocessing.segment import segment
from training.candidates import compose, render
from training.data import add_data_dir_argument, load_for_command
from training.styles import styled_pool

KERAS_NAME = "sequence.keras"
ONNX_NAME = "sequence.onnx"
REPORT_NAME = "sequence.json"
MAX_DIGITS = 8
# A digit counts as present in the strip when this share of its ink is in the kept regions.
KEPT_SHARE = 0.7


def build_model(logits: bool = False):
    """(N, 32, 256, 1) strips in [0, 1] -> (N, 1, 64, 11): per column, blank and digit probabilities.

    Convolutions only (no recurrent layer: chosen when OpenCV's DNN module, which has none, served
    the networks; also fast on a CPU); the last layers see
    about 60 strip columns, two to three digits, which is the context a touching pair needs.
    """
    import keras
    from keras import layers

    def block(x, filters, kernel=(3, 3), padding="same"):
        x = layers.Conv2D(filters, kernel, padding=padding, use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        return layers.Activation("relu")(x)

    inputs = keras.Input((*LINE, 1))
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(inputs)  # 16 x 128
    x = block(x, 32)
    x = layers.MaxPooling2D((2, 2))(x)  # 8 x 64
    x = block(x, 48)
    x = block(x, 48)
    x = layers.MaxPooling2D((2, 1))(x)  # 4 x 64
    x = layers.ZeroPadding2D(((0, 0), (1, 1)))(x)
    x = block(x, 96, (4, 3), padding="valid")  # 1 x 64: the column's whole height at once
    x = layers.Dropout(0.2)(x)
    x = block(x, 96, (1, 5))
    x = layers.Conv2D(CLASSES, 1)(x)  # 1 x 64 x 11
    if not logits:
        x = layers.Softmax(axis=-1)(x)
    return keras.Model(inputs, x, name="sequence_reader")


def _digits_kept(seg, owner: np.ndarray, count: int) -> bool:
    """True when every digit of the composed number is (mostly) inside the segmentation's regions."""
    owner_ink = cv2.resize(owner, (seg.ink.shape[1], seg.ink.shape[0]), interpolation=cv2.INTER_NEAREST)
    inked = seg.ink >= 80
    kept = np.zeros(seg.ink.shape, bool)
    for r in seg.regions:
        x, y, w, h = r.box
        kept[y : y + h, x : x + w] |= r.mask > 0
    for i in range(count):
        mine = inked & (owner_ink == i)
        if np.count_nonzero(mine) == 0 or np.count_nonzero(mine & kept) < KEPT_SHARE * np.count_nonzero(mine):
            return False
    return True


def make_lines(
    images: np.ndarray, labels: np.ndarray, count: int, seed: int, style_rate: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` strips (uint8 (N, 32, 256)) and their labels ((N, 8) of 1 + digit, 0-padded).

    ``style_rate``: the share of digits written in a style MNIST lacks (``training.styles``: European
    1s, crossed 7s, open 4s, ...), as the classifier's training has them.
    """
    rng = np.random.default_rng(seed)
    if style_rate > 0:
        pool, pool_labels = styled_pool(images, labels, rng, per_style=max(100, count // 10))
    strips = np.zeros((count, *LINE), np.uint8)
    targets = np.zeros((count, MAX_DIGITS), np.int32)
    made = 0
    while made < count:
        picks = rng.integers(0, len(images), int(rng.integers(1, MAX_DIGITS + 1)))
        digits, texts = list(images[picks]), labels[picks].copy()
        for k in np.nonzero(rng.random(len(picks)) < style_rate)[0]:
            other = rng.integers(len(pool))
            digits[k], texts[k] = pool[other], pool_labels[other]
        cov, owner = compose(digits, rng)
        seg = segment(render(cov, rng))
        if seg.reason is not None or not _digits_kept(seg, owner, len(picks)):
            continue
        strips[made] = line_image(seg)[0]
        targets[made, : len(picks)] = texts + 1
        made += 1
    return strips, targets


def _make_part(args: tuple) -> tuple[np.ndarray, np.ndarray]:
    cv2.setNumThreads(1)
    return make_lines(*args)


def make_lines_parallel(
    images, labels, count: int, seed: int, jobs: int, style_rate: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """``make_lines`` on ``jobs`` processes (each with its own seed), concatenated; in this process for one job."""
    if jobs <= 1:  # also keeps spawned workers from re-running a caller's __main__ (tests, notebooks)
        return make_lines(images, labels, count, seed * 1000, style_rate)
    parts = [(images, labels, count // jobs + (k < count % jobs), seed * 1000 + k, style_rate) for k in range(jobs)]
    with get_context("spawn").Pool(jobs) as pool:
        done = pool.map(_make_part, parts)
    return np.concatenate([d[0] for d in done]), np.concatenate([d[1] for d in done])


def greedy_texts(probabilities: np.ndarray) -> list[str]:
    """Best-path CTC decoding of (N, ..., 64, 11) outputs into digit strings."""
    columns = LineMapping(0.0, 0.0, 1.0)
    return ["".join(str(p.digit) for p in decode(out, columns)) for out in probabilities]


def label_texts(targets: np.ndarray) -> list[str]:
    return ["".join(str(c - 1) for c in row if c > 0) for row in targets]


def _augment(strips: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each strip moved by up to 3 columns and 2 rows, its ink a little fainter or bolder."""
    out = np.empty(strips.shape, np.float32)
    for i, (dy, dx) in enumerate(zip(rng.integers(-2, 3, len(strips)), rng.integers(-3, 4, len(strips)))):
        out[i] = np.roll(strips[i], (dy, dx), axis=(0, 1))
    out *= rng.uniform(0.7, 1.15, (len(strips), 1, 1)).astype(np.float32) / 255.0
    return np.minimum(out, 1.0)[..., None]


def ctc_loss(y_true, y_pred):
    """CTC loss of (N, 8) 0-padded labels against (N, 1, 64, 11) logits."""
    from keras import ops

    y_true = ops.cast(y_true, "int32")
    logits = ops.reshape(y_pred, (-1, STEPS, CLASSES))
    target_length = ops.sum(ops.cast(y_true > 0, "int32"), axis=1)
    output_length = ops.full((ops.shape(logits)[0],), STEPS, "int32")
    return ops.ctc_loss(y_true, logits, target_length, output_length, mask_index=0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_dir_argument(parser)
    parser.add_argument("--out", default="model", help="folder to write the model into")
    parser.add_argument("--lines", type=int, default=60000, help="composed numbers to train on")
    parser.add_argument("--held-out", type=int, default=3000, help="composed numbers (another seed) to measure on")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1, help="seed of the training numbers; the held-out ones use the next")
    parser.add_argument("--style-rate", type=float, default=0.25,
                        help="share of digits in the styles of training.styles (default: %(default)s)")
    parser.add_argument("--resume", help="a sequence.keras to go on training from (use another --seed for new lines)")
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes making the examples")
    args = parser.parse_args(argv)

    import keras

    from training.export import export_onnx
    from training.train import save_model_atomic

    mnist = load_for_command(args.data_dir)
    images, labels = mnist.x_train, mnist.y_train
    start = time.time()
    x, y = make_lines_parallel(images, labels, args.lines, args.seed, args.jobs, args.style_rate)
    x_val, y_val = make_lines_parallel(images, labels, args.held_out, args.seed + 1, args.jobs, args.style_rate)
    made = time.time() - start
    print(f"{len(x)} training lines, {len(x_val)} held out, made in {made:.0f} s", flush=True)

    keras.utils.set_random_seed(0)
    model = build_model(logits=True)
    if args.resume:  # the served model's weights: the same layers, then a softmax without weights
        model.set_weights(keras.saving.load_model(args.resume, compile=False).get_weights())
    steps_per_epoch = int(np.ceil(len(x) / 128))
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, args.epochs * steps_per_epoch, warmup_target=args.lr, warmup_steps=steps_per_epoch // 2
    )
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss=ctc_loss)
    rng = np.random.default_rng(0)
    val_x = x_val.astype(np.float32)[..., None] / 255.0
    truth = label_texts(y_val)
    for epoch in range(args.epochs):
        model.fit(_augment(x, rng), y, batch_size=128, epochs=1, verbose=2)
        said = greedy_texts(np.asarray(model.predict(val_x, batch_size=512, verbose=0)))
        accuracy = float(np.mean([a == b for a, b in zip(said, truth)]))
        print(f"epoch {epoch + 1}/{args.epochs}: held-out lines read exactly {accuracy:.2%}, "
              f"{time.time() - start - made:.0f} s", flush=True)
    trained = time.time() - start - made

    served = build_model(logits=False)
    served.set_weights(model.get_weights())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    said = greedy_texts(np.asarray(served.predict(val_x, batch_size=512, verbose=0)))
    lengths = np.array([len(t) for t in truth])
    right = np.array([a == b for a, b in zip(said, truth)])
    report = {
        "held_out_accuracy": float(right.mean()),
        "held_out_accuracy_by_length": {int(n): float(right[lengths == n].mean()) for n in np.unique(lengths)},
        "held_out_lines": int(len(truth)),
    }
    save_model_atomic(served, out / KERAS_NAME)
    difference = export_onnx(served, out / ONNX_NAME, x_val[:256, :, :, None])
    report.update(
        training_lines=int(len(x)), style_rate=args.style_rate, epochs=args.epochs, seed=args.seed, seconds_to_make=round(made),
        seconds_to_train=round(trained), onnx_difference=difference,
        resumed_from=args.resume,
        command="python -m training.sequence_reader " + " ".join(argv if argv is not None else sys.argv[1:]),
    )
    (out / REPORT_NAME).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
