"""Latency of one prediction, as medians over repeated runs in one process.

    python benchmarks/latency.py [--runs 200]

Single digits: a 280x280 RGBA canvas drawing and a 12-megapixel JPEG photo (what a phone
uploads). For each: decode, preprocess, classify and total per image with the served model
(ONNX on ONNX Runtime), classify with the Keras model through a traced function, and the naive
baseline (Keras ``model.predict`` on one image), all in the same run.

Whole numbers: a 6-digit number on the app's 680x220 canvas and in a 12-megapixel photo (its digits
350 px tall, and 65 px: small on a page photographed whole, read again closer), read
with ``clf.read`` (segmentation, every digit normalised and classified in one batch, the cut
and merge checks), beside ``clf.read`` of a lone digit on the same canvas and the naive
baseline of one ``model.predict`` call per digit.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from model import load_classifier  # noqa: E402
from model.classifier import DEFAULT_MODEL_PATH, KERAS_MODEL_PATH  # noqa: E402
from preprocessing import decode_image, preprocess  # noqa: E402


def canvas_drawing() -> np.ndarray:
    """A 7 drawn in black on a transparent 280x280 canvas: the ink is in the alpha channel only."""
    alpha = np.zeros((280, 280), np.uint8)
    cv2.polylines(alpha, [np.array([[70, 60], [200, 60], [120, 230]], np.int32)], False, 255, 18, cv2.LINE_AA)
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = alpha
    return rgba


def photo_jpeg() -> bytes:
    """A 4000x3000 photo of a 3 on unevenly lit paper, JPEG-encoded."""
    h, w = 3000, 4000
    light = np.linspace(150, 235, w, dtype=np.float32)[None, :] * np.linspace(0.85, 1.0, h, dtype=np.float32)[:, None]
    ink = np.zeros((h, w), np.uint8)
    cv2.putText(ink, "3", (1500, 2200), cv2.FONT_HERSHEY_SIMPLEX, 40, 255, 60, cv2.LINE_AA)
    coverage = ink.astype(np.float32)[..., None] / 255.0
    img = light[..., None] * (1 - coverage) + np.float32([40, 40, 60]) * coverage
    img += np.random.default_rng(0).normal(0, 6, img.shape).astype(np.float32)
    return cv2.imencode(".jpg", np.clip(img, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


NUMBER = "204719"


def number_canvas() -> np.ndarray:
    """The app's canvas (680x220 RGBA, white pen on black, opaque) with a 6-digit number written on it."""
    grey = np.zeros((220, 680), np.uint8)
    for k, ch in enumerate(NUMBER):
        cv2.putText(grey, ch, (40 + k * 100, 175), cv2.FONT_HERSHEY_SIMPLEX, 5, 255, 16, cv2.LINE_AA)
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])


def digit_canvas() -> np.ndarray:
    """A lone digit on the same canvas."""
    grey = np.zeros((220, 680), np.uint8)
    cv2.putText(grey, "7", (290, 175), cv2.FONT_HERSHEY_SIMPLEX, 5, 255, 16, cv2.LINE_AA)
    return np.dstack([grey, grey, grey, np.full_like(grey, 255)])


def number_photo_jpeg(small: bool = False) -> bytes:
    """A 4000x3000 photo of a 6-digit number on unevenly lit paper, JPEG-encoded: the digits 350 px
    tall, or 65 px (``small``: a number written on a page photographed whole, read again closer)."""
    h, w = 3000, 4000
    light = np.linspace(150, 235, w, dtype=np.float32)[None, :] * np.linspace(0.85, 1.0, h, dtype=np.float32)[:, None]
    ink = np.zeros((h, w), np.uint8)
    left, step, scale, thickness = (1600, 100, 3, 9) if small else (500, 500, 16, 45)
    for k, ch in enumerate(NUMBER):
        cv2.putText(ink, ch, (left + k * step, 1900), cv2.FONT_HERSHEY_SIMPLEX, scale, 255, thickness, cv2.LINE_AA)
    coverage = ink.astype(np.float32)[..., None] / 255.0
    img = light[..., None] * (1 - coverage) + np.float32([40, 40, 60]) * coverage
    img += np.random.default_rng(0).normal(0, 6, img.shape).astype(np.float32)
    return cv2.imencode(".jpg", np.clip(img, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def measure_number(clf, keras_model, make_image, runs: int, decodes: bool) -> dict[str, float | str]:
    """Median decode, read and naive per-digit baseline times for an image of a number."""
    image = make_image()
    reading = clf.read(image)
    digits = np.stack([d.processed for d in reading.digits])[..., None].astype(np.float32) / 255.0

    def naive() -> None:
        for x in digits:
            keras_model.predict(x[None], verbose=0)

    return {
        "decode": median_ms(make_image, runs) if decodes else 0.0,
        "read": median_ms(lambda: clf.read(image), runs),
        "total": median_ms(lambda: clf.read(make_image()), runs),
        "naive": median_ms(naive, max(5, runs // 10)),
        "answer": reading.text,
    }


def median_ms(fn, runs: int) -> float:
    """Median wall time of ``fn()`` in milliseconds, after one warm-up call."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def measure(clf, keras_clf, keras_model, make_image, runs: int, decodes: bool) -> dict[str, float | int]:
    """Median decode, preprocess, classify, total and baseline times for one kind of input."""
    image = make_image()
    digit = preprocess(image).digit
    if digit is None:
        raise SystemExit("benchmark input has no digit: the pipeline is broken")
    x = digit[None, ..., None].astype(np.float32) / 255.0
    return {
        "decode": median_ms(make_image, runs) if decodes else 0.0,
        "preprocess": median_ms(lambda: preprocess(image), runs),
        "classify": median_ms(lambda: clf.probabilities(digit[None]), runs),
        "total": median_ms(lambda: clf.predict(make_image()), runs),
        "keras": median_ms(lambda: keras_clf.probabilities(digit[None]), runs),
        "naive": median_ms(lambda: keras_model.predict(x, verbose=0), max(5, runs // 4)),
        "answer": clf.predict(image).digit,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200, help="repetitions per measurement (photos use a fifth)")
    args = parser.parse_args()

    import keras

    onnx_load = median_ms(lambda: load_classifier(DEFAULT_MODEL_PATH), 5)
    keras_load = median_ms(lambda: keras.saving.load_model(KERAS_MODEL_PATH, compile=False), 5)
    clf, keras_clf = load_classifier(), load_classifier(KERAS_MODEL_PATH)
    keras_model = keras.saving.load_model(KERAS_MODEL_PATH, compile=False)
    canvas, photo, number_photo = canvas_drawing(), photo_jpeg(), number_photo_jpeg()
    small_number_photo = number_photo_jpeg(small=True)
    photo_runs = max(5, args.runs // 5)
    rows = {
        "canvas 280x280 RGBA": measure(clf, keras_clf, keras_model, lambda: canvas, args.runs, decodes=False),
        "photo 4000x3000 JPEG": measure(clf, keras_clf, keras_model, lambda: decode_image(photo), photo_runs, decodes=True),
    }
    print(f"model load, median of 5: {onnx_load:.0f} ms (ONNX, ONNX Runtime), {keras_load:.0f} ms (Keras)")
    print(f"medians over {args.runs} runs (photo: {photo_runs}), one image at a time, ms")
    print("| input | decode | preprocess | classify (ONNX) | total | classify, Keras traced | naive model.predict | answer |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        cells = " | ".join(f"{r[k]:.2f}" for k in ("decode", "preprocess", "classify", "total", "keras", "naive"))
        print(f"| {name} | {cells} | {r['answer']} |")

    numbers = {
        "lone digit, canvas 680x220": measure_number(clf, keras_model, digit_canvas, args.runs, decodes=False),
        "6-digit number, canvas 680x220": measure_number(clf, keras_model, number_canvas, args.runs, decodes=False),
        "6-digit number, photo 4000x3000 JPEG": measure_number(
            clf, keras_model, lambda: decode_image(number_photo), photo_runs, decodes=True
        ),
        "6-digit number written small, photo 4000x3000 JPEG": measure_number(
            clf, keras_model, lambda: decode_image(small_number_photo), photo_runs, decodes=True
        ),
    }
    print()
    print(f"reading whole numbers (clf.read), medians over {args.runs} runs (photo: {photo_runs}), ms")
    print("| input | decode | read | total | naive: model.predict per digit | answer |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in numbers.items():
        cells = " | ".join(f"{r[k]:.2f}" for k in ("decode", "read", "total", "naive"))
        print(f"| {name} | {cells} | {r['answer']} |")


if __name__ == "__main__":
    main()
