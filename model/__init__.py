"""The committed network and the code that loads it and reads images.

from model import load_classifier
clf = load_classifier()          # the committed model/digits.onnx, served by OpenCV (no TensorFlow)
reading = clf.read(image)        # a whole number: reading.text, reading.digits; image H×W, H×W×3 or H×W×4 uint8
result = clf.predict(image)      # a single digit
"""

from model.classifier import (
    DEFAULT_MODEL_PATH,
    KERAS_MODEL_PATH,
    LOW_CONFIDENCE,
    DigitClassifier,
    ModelLoadError,
    Prediction,
    Reading,
    load_classifier,
)

__all__ = [
    "DEFAULT_MODEL_PATH",
    "KERAS_MODEL_PATH",
    "LOW_CONFIDENCE",
    "DigitClassifier",
    "ModelLoadError",
    "Prediction",
    "Reading",
    "load_classifier",
]
