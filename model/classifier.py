"""Load the trained network and classify images through the preprocessing pipeline.

Two files hold the same network: ``digits.keras`` (the source of truth, written by training)
and ``digits.onnx`` (exported from it by ``training.export`` and checked against it). By
default the ONNX copy is served with ONNX Runtime, so the app and the CLI never import
TensorFlow: about 600 MB less memory and a faster start. A ``.keras`` path works too.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from model import second_opinion
from model.reader import read_regions
from model.sequence import CLASSES, STEPS
from preprocessing import NOISE_REASON, preprocess
from preprocessing.context import WINDOW
from preprocessing.line import LINE
from preprocessing.segment import Segmentation, segment, zoom_box

MODEL_DIR = Path(__file__).resolve().parent
DEFAULT_MODEL_PATH = MODEL_DIR / "digits.onnx"
KERAS_MODEL_PATH = MODEL_DIR / "digits.keras"
# The whole-digit check the reader asks of each candidate digit (training.whole_digit); served
# from the classifier's folder. Without it numbers are read with the classifier alone.
WHOLE_DIGIT_NAME = "whole_digit.onnx"
# The sequence reader (training.sequence_reader), which reads a whole line of digits at once: the
# reader takes from it how many digits a line holds and where, and a second opinion on each.
SEQUENCE_NAME = "sequence.onnx"
# The second opinion on lone digits the classifier is not sure of (model.second_opinion): a network
# trained with the synthetic writing styles. Without it lone digits are read with the classifier alone.
SECOND_OPINION_NAME = "second_opinion.onnx"
CARD_PATH = MODEL_DIR / "model_card.json"
TRAIN_COMMAND = "python -m training.train --out model/"
# Below this top-class probability the answer is shown as a guess, not a result. Chosen from
# data (benchmarks/threshold.py, table in the README): on realistic inputs 0.90 flags 2.7% of
# answers and catches 94% of the errors; 0.80 would catch 81%.
LOW_CONFIDENCE = 0.90
# A digit of a number that the whole-digit check doubts below this is shown as a guess too: on the
# number corpus (seed 0) this cuts the wrong numbers shown as certain from 57% to 21% of them,
# and the right ones shown as certain from 95% to 93%.
NOT_WHOLE = 0.2
# A digit of a number that the sequence reader reads as another digit (or does not see as one digit)
# is shown as a guess unless it is read with at least this confidence: on the number corpus (seeds
# 0-3) this cuts the wrong numbers shown as certain from 44 to 32 of 89, and the right ones shown as
# certain from 95.8% to 94.5%.
DISAGREE_SURE = 0.99
_BATCH = 256


def format_confidence(confidence: float) -> str:
    """'98.7%'; '> 99.9%' rather than '100.0%', which a softmax probability never is."""
    return "> 99.9%" if confidence >= 0.9995 else f"{confidence:.1%}"


class ModelLoadError(Exception):
    """The model file is missing or unreadable; the message says how to get one."""


@dataclass(frozen=True)
class Prediction:
    """One image's answer. ``digit`` is None when there is no digit; ``reason`` then says why."""

    digit: int | None
    confidence: float | None
    probabilities: list[float] | None
    processed: np.ndarray | None
    reason: str | None = None
    steps: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    box: tuple[int, int, int, int] | None = None  # (x, y, w, h) of the digit in the input image
    whole: float | None = None  # a digit of a number: the whole-digit check's probability that it is one digit
    # A digit of a number: whether the sequence reader read this same digit here (None: not asked).
    sequence_agrees: bool | None = None

    @property
    def ok(self) -> bool:
        return self.digit is not None

    @property
    def low_confidence(self) -> bool:
        if self.confidence is None:
            return False
        doubted = self.whole is not None and self.whole < NOT_WHOLE and not self.sequence_agrees
        disputed = self.sequence_agrees is False and self.confidence < DISAGREE_SURE
        return self.confidence < LOW_CONFIDENCE or doubted or disputed


@dataclass(frozen=True)
class Reading:
    """A whole number read from one image. ``text``: its digits left to right ("" when none);
    ``digits``: one Prediction per digit, each with its box; ``confidence``: of the whole reading
    (the product of the digits' confidences); ``reason``: why nothing was read."""

    text: str
    digits: list[Prediction]
    confidence: float | None
    reason: str | None = None
    steps: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return bool(self.digits)

    @property
    def low_confidence(self) -> bool:
        """Any digit read without confidence makes the whole number a guess."""
        return any(d.low_confidence for d in self.digits)


Forward = Callable[[np.ndarray], np.ndarray]


def onnx_forward(path: Path, threads: int | None = None) -> Forward:
    """float32 (N, ...) -> (N, outputs) rows of the ONNX network at ``path``, with ONNX Runtime.

    ``threads``: threads for one call (default: one per core); batch workers use 1, the processes
    being the parallelism. A session serves many threads at once (each Streamlit session has its
    own), so there is no lock. Idle threads sleep instead of spinning: between two network calls
    the reader preprocesses on the same cores.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or 0
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # no warnings on the user's terminal
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name

    def forward(x: np.ndarray) -> np.ndarray:
        return session.run(None, {name: np.ascontiguousarray(x, dtype=np.float32)})[0].reshape(len(x), -1)

    return forward


def keras_forward(path: Path) -> Forward:
    """The same with Keras (imports TensorFlow), through a traced function: model.predict costs ~60 ms a call."""
    import keras
    import tensorflow as tf

    model = keras.saving.load_model(path, compile=False)
    traced = tf.function(lambda x: model(x, training=False), reduce_retracing=True)
    return lambda x: np.asarray(traced(x))


class DigitClassifier:
    """A loaded network plus the preprocessing that turns any image into its MNIST-like input."""

    def __init__(
        self,
        forward: Forward,
        path: Path,
        whole_digit: Forward | None = None,
        sequence: Forward | None = None,
        second: Forward | None = None,
    ):
        self._forward = forward
        self._whole_digit = whole_digit
        self._sequence = sequence
        self._second = second
        self.path = path

    def sequence(self, strips: np.ndarray) -> np.ndarray:
        """(N, 64, 11) per-column CTC probabilities (blank, digits 0-9) for uint8 (N, 32, 256) line strips."""
        x = strips.astype(np.float32)[..., None] / 255.0
        return self._sequence(x).reshape(len(strips), STEPS, CLASSES)

    def wholeness(self, windows: np.ndarray) -> np.ndarray:
        """(N,) probability that each candidate is exactly one whole digit (1 without the check).

        ``windows``: uint8 (N, 32, 48, 2), each candidate in its surroundings (``preprocessing.context``).
        """
        if self._whole_digit is None or len(windows) == 0:
            return np.ones(len(windows))
        x = windows.astype(np.float32) / 255.0
        return np.concatenate([self._whole_digit(x[i : i + _BATCH]).ravel() for i in range(0, len(x), _BATCH)])

    def probabilities(self, digits: np.ndarray) -> np.ndarray:
        """Softmax rows (N, 10) for uint8 (N, 28, 28) MNIST-normalised images."""
        return _softmax_rows(self._forward, digits)

    def lone_digit_probabilities(self, digits: np.ndarray) -> np.ndarray:
        """``probabilities`` as a lone digit is read: where the classifier is not sure, the second
        network's probabilities are averaged in (``model.second_opinion``)."""
        probs = self.probabilities(digits)
        if self._second is None or len(probs) == 0:
            return probs
        unsure = second_opinion.unsure_rows(probs)
        if unsure.any():
            probs[unsure] = second_opinion.combine(probs[unsure], _softmax_rows(self._second, digits[unsure]))
        return probs

    def predict(self, image: np.ndarray) -> Prediction:
        """Classify one image (H×W, H×W×3 RGB or H×W×4 RGBA, uint8)."""
        return self.predict_batch([image])[0]

    def predict_batch(self, images: list[np.ndarray]) -> list[Prediction]:
        """Classify several images, running the network once per batch of found digits."""
        prepared = [preprocess(image) for image in images]
        found = [i for i, p in enumerate(prepared) if p.digit is not None]
        probs = self.lone_digit_probabilities(np.stack([prepared[i].digit for i in found])) if found else np.zeros((0, 10))
        rows = dict(zip(found, probs))
        results = []
        for i, p in enumerate(prepared):
            if i not in rows:
                results.append(Prediction(None, None, None, None, p.reason, p.steps))
                continue
            results.append(self._prediction(rows[i], p.digit, p.box, p.steps))
        return results

    def _prediction(self, row: np.ndarray, processed: np.ndarray, box, steps=None, whole=None, agrees=None) -> Prediction:
        digit = int(row.argmax())
        return Prediction(
            digit, float(row[digit]), [float(v) for v in row], processed, None, steps or {}, box, whole, agrees
        )

    def read(self, image: np.ndarray) -> Reading:
        """Read the whole number in one image (H×W, H×W×3 RGB or H×W×4 RGBA, uint8): every digit, left to right.

        A lone digit is read exactly as ``predict`` reads it. Digits small in a big picture are read
        again from the part of it that holds them, in its own pixels (``segment.zoom_box``).
        """
        seg = segment(image)
        box = zoom_box(seg, image.shape)
        if box is not None:
            x, y, w, h = box
            closer = self._read(image[y : y + h, x : x + w])
            if closer.ok:  # else the first look, whose surroundings may have told ink from paper better
                return _moved(closer, x, y, seg.steps["input"])
        return self._read(image, seg)

    def _read(self, image: np.ndarray, seg: Segmentation | None = None) -> Reading:
        sequence = self.sequence if self._sequence is not None else None
        candidates, seg = read_regions(image, self.probabilities, self.wholeness, sequence, seg)
        if not candidates:
            # The single-digit pipeline may still see one: its own rules tell a lone 1 touching the
            # picture's edge from a scanner line, and it looks at a grainy picture more ways.
            single = self.predict(image)
            if single.ok:
                return Reading(str(single.digit), [single], single.confidence, None, single.steps)
            return Reading("", [], None, seg.reason, seg.steps)
        if len(candidates) == 1:  # a lone digit: the single-digit pipeline, with its junk rules
            single = self.predict(image)
            if single.reason == NOISE_REASON:
                # A checkerboard, rings or blotches edge to edge are one region to segmentation. (A
                # digit small in a big picture is "specks" to it, and is read here as found.)
                return Reading("", [], None, single.reason, single.steps)
            agrees = candidates[0].sequence_agrees if single.digit == candidates[0].label else None
            single = dataclasses.replace(single, whole=candidates[0].whole, sequence_agrees=agrees)
            if single.ok:
                return Reading(str(single.digit), [single], single.confidence, None, single.steps)
        digits = [
            self._prediction(
                c.probabilities.astype(np.float64), c.digit, seg.input_box(c.region), None, c.whole, c.sequence_agrees
            )
            for c in candidates
        ]
        confidence = float(np.prod([d.confidence for d in digits]))
        return Reading("".join(str(d.digit) for d in digits), digits, confidence, None, seg.steps)

    def read_batch(self, images: list[np.ndarray]) -> list[Reading]:
        """``read`` for several images."""
        return [self.read(image) for image in images]


def _moved(reading: Reading, x: int, y: int, whole_input: np.ndarray) -> Reading:
    """A reading of the part of a picture at (x, y), its boxes in the whole picture's pixels and its
    steps starting with the whole picture."""
    steps = {"input": whole_input, "zoomed in": reading.steps.get("input", whole_input)}
    steps.update((k, v) for k, v in reading.steps.items() if k != "input")
    digits = [
        dataclasses.replace(
            d,
            box=None if d.box is None else (d.box[0] + x, d.box[1] + y, d.box[2], d.box[3]),
            steps=steps if d.steps is reading.steps else d.steps,
        )
        for d in reading.digits
    ]
    return dataclasses.replace(reading, digits=digits, steps=steps)


def _softmax_rows(forward: Forward, digits: np.ndarray) -> np.ndarray:
    """(N, 10) float64 rows of a digit network for uint8 (N, 28, 28) images, in batches of _BATCH."""
    out = []
    for start in range(0, len(digits), _BATCH):
        chunk = digits[start : start + _BATCH].astype(np.float32)[..., None] / 255.0
        out.append(forward(chunk).astype(np.float64))
    return np.concatenate(out) if out else np.zeros((0, 10))


def files_modified(path: str | os.PathLike | None = None) -> tuple[float, ...]:
    """Modification times of the model at ``path`` and of the helper networks beside it (0 when absent):
    a cache keyed on them reloads when any of these files is replaced."""
    path = Path(path) if path else DEFAULT_MODEL_PATH
    files = (path, *(path.parent / name for name in (WHOLE_DIGIT_NAME, SEQUENCE_NAME, SECOND_OPINION_NAME)))
    return tuple(f.stat().st_mtime if f.is_file() else 0.0 for f in files)


def load_classifier(path: str | os.PathLike | None = None, threads: int | None = None) -> DigitClassifier:
    """Load the model at ``path``: ``.onnx`` (ONNX Runtime) or ``.keras`` (Keras); default the committed ONNX copy.

    ``threads``: threads per network call (default: one per core; batch workers use 1).
    """
    path = Path(path) if path else DEFAULT_MODEL_PATH
    if not path.is_file():
        raise ModelLoadError(f"No trained model at {path}. Train one with: {TRAIN_COMMAND}")
    try:
        forward = keras_forward(path) if path.suffix == ".keras" else onnx_forward(path, threads)
        out = forward(np.zeros((2, 28, 28, 1), np.float32))
    except Exception as exc:  # zip, protobuf, graph or shape errors all mean the same to a user
        first_line = (str(exc).strip().splitlines() or [""])[-1][:200]
        raise ModelLoadError(
            f"Cannot load the model at {path} ({type(exc).__name__}: {first_line}). Retrain it with: {TRAIN_COMMAND}"
        ) from exc
    if out.shape != (2, 10):
        raise ModelLoadError(f"{path} returns shape {out.shape} for two 28x28 images, expected (2, 10)")
    whole_digit = _load_helper(path.parent / WHOLE_DIGIT_NAME, (*WINDOW, 2), 1, threads)
    sequence = _load_helper(path.parent / SEQUENCE_NAME, (*LINE, 1), STEPS * CLASSES, threads)
    second = _load_helper(path.parent / SECOND_OPINION_NAME, (28, 28, 1), 10, threads)
    return DigitClassifier(forward, path, whole_digit, sequence, second)


def _load_helper(path: Path, shape: tuple[int, ...], outputs: int, threads: int | None) -> Forward | None:
    """A helper network beside the model (the whole-digit check, the sequence reader), or None when
    absent or unusable: numbers are then read without it."""
    if not path.is_file():
        return None
    try:
        forward = onnx_forward(path, threads)
        ok = forward(np.zeros((2, *shape), np.float32)).shape == (2, outputs)
    except Exception:  # a broken optional part must not stop the classifier from working
        return None
    return forward if ok else None
