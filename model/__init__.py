"""The committed network and the code that loads it and classifies images.

from model import load_classifier
clf = load_classifier()          # the committed model/digits.keras
result = clf.predict(image)      # H×W, H×W×3 or H×W×4 uint8
"""

from model.classifier import (
    DEFAULT_MODEL_PATH,
    KERAS_MODEL_PATH,
    LOW_CONFIDENCE,
    DigitClassifier,
    ModelLoadError,
    Prediction,
    load_classifier,
)

__all__ = [
    "DEFAULT_MODEL_PATH",
    "KERAS_MODEL_PATH",
    "LOW_CONFIDENCE",
    "DigitClassifier",
    "ModelLoadError",
    "Prediction",
    "load_classifier",
]
