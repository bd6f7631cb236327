"""Offline training pipeline: MNIST loading, model definitions, training, evaluation.

Needs the training stack (``pip install -r requirements-train.txt``); the app and the CLI do not.
"""

import importlib.util
import sys

_MISSING = [name for name in ("tensorflow", "keras", "sklearn", "matplotlib") if importlib.util.find_spec(name) is None]
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
