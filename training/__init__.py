"""Offline training pipeline: MNIST loading, model definitions, training, evaluation.

Needs the training stack (``pip install -r requirements-train.txt``); the app and the CLI do not.
"""

import importlib.util
import os
import sys

# TensorFlow is the default Keras backend; a GPU machine may train with KERAS_BACKEND=jax or torch instead.
_BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
_NEEDED = ("keras", "sklearn", "matplotlib") + (("tensorflow",) if _BACKEND == "tensorflow" else (_BACKEND,))
_MISSING = [name for name in _NEEDED if importlib.util.find_spec(name) is None]
if _MISSING:
    _HINT = (
        f"The training commands need the training stack ({', '.join(_MISSING)} not installed): "
        "pip install -r requirements-train.txt"
    )
    # While `python -m training.x` locates its module, argv[0] is "-m": a command gets one line and
    # exit status 2 (like the other usage errors), an import from Python code an ImportError.
    if sys.argv and sys.argv[0] == "-m":
        print(f"error: {_HINT}", file=sys.stderr)
        raise SystemExit(2)
    raise ImportError(_HINT)
