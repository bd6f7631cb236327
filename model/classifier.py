"""Load the exported Keras model and classify images through the preprocessing pipeline."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from preprocessing import preprocess

MODEL_DIR = Path(__file__).resolve().parent
DEFAULT_MODEL_PATH = MODEL_DIR / "digits.keras"
CARD_PATH = MODEL_DIR / "model_card.json"
TRAIN_COMMAND = "python -m training.train --out model/"
# Below this top-class probability the answer is shown as a guess, not a result. Chosen from
# data (benchmarks/threshold.py, table in the README): on realistic inputs 0.90 flags 3.5% of
# answers and catches 88% of the errors; 0.80 would catch only 62%.
LOW_CONFIDENCE = 0.90
_BATCH = 256


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

    @property
    def ok(self) -> bool:
        return self.digit is not None

    @property
    def low_confidence(self) -> bool:
        return self.confidence is not None and self.confidence < LOW_CONFIDENCE


class DigitClassifier:
    """A loaded network plus the preprocessing that turns any image into its MNIST-like input."""

    def __init__(self, model, path: Path):
        import tensorflow as tf

        self.model = model
        self.path = path
        # A traced function avoids model.predict's per-call overhead (~60 ms) for single images.
        self._forward = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def probabilities(self, digits: np.ndarray) -> np.ndarray:
        """Softmax rows (N, 10) for uint8 (N, 28, 28) MNIST-normalised images."""
        out = []
        for start in range(0, len(digits), _BATCH):
            chunk = digits[start : start + _BATCH].astype(np.float32)[..., None] / 255.0
            out.append(np.asarray(self._forward(chunk), dtype=np.float64))
        return np.concatenate(out) if out else np.zeros((0, 10))

    def predict(self, image: np.ndarray) -> Prediction:
        """Classify one image (H×W, H×W×3 RGB or H×W×4 RGBA, uint8)."""
        return self.predict_batch([image])[0]

    def predict_batch(self, images: list[np.ndarray]) -> list[Prediction]:
        """Classify several images, running the network once per batch of found digits."""
        prepared = [preprocess(image) for image in images]
        found = [i for i, p in enumerate(prepared) if p.digit is not None]
        probs = self.probabilities(np.stack([prepared[i].digit for i in found])) if found else np.zeros((0, 10))
        rows = dict(zip(found, probs))
        results = []
        for i, p in enumerate(prepared):
            if i not in rows:
                results.append(Prediction(None, None, None, None, p.reason, p.steps))
                continue
            row = rows[i]
            digit = int(row.argmax())
            results.append(Prediction(digit, float(row[digit]), [float(v) for v in row], p.digit, None, p.steps))
        return results


def load_classifier(path: str | os.PathLike | None = None) -> DigitClassifier:
    """Load the model at ``path`` (default: the committed ``model/digits.keras``)."""
    path = Path(path) if path else DEFAULT_MODEL_PATH
    if not path.is_file():
        raise ModelLoadError(f"No trained model at {path}. Train one with: {TRAIN_COMMAND}")
    import keras

    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as exc:  # zip, h5 or config errors all mean the same to a user
        raise ModelLoadError(
            f"Cannot load the model at {path} ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}). "
            f"Retrain it with: {TRAIN_COMMAND}"
        ) from exc
    if tuple(model.input_shape[1:]) != (28, 28, 1) or tuple(model.output_shape[1:]) != (10,):
        raise ModelLoadError(
            f"{path} takes {model.input_shape} and returns {model.output_shape}, expected (None, 28, 28, 1) -> (None, 10)"
        )
    return DigitClassifier(model, path)
