"""Export a trained Keras model to ONNX, the copy the app and CLI serve with ONNX Runtime.

    python -m training.export [--model model/digits.keras]

Serving the ONNX copy keeps TensorFlow out of the app's process (about 600 MB less memory);
the Keras file stays the source of truth. The export is checked against Keras before it is
kept, and its checksum is recorded in the model card beside the Keras file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from training.atomic import atomic_path
from training.data import sha256_file

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "model" / "digits.keras"
# Float32 both ways; anything above this means a broken conversion, not rounding.
MAX_DIFFERENCE = 1e-4


def export_onnx(model, path: Path, check_images: np.ndarray | None = None) -> float:
    """Write ``model`` as ONNX at ``path`` (atomically) after checking it agrees with Keras.

    ``check_images``: uint8 images to compare on, (N, 28, 28) or with channels (N, H, W, C) for
    another input shape (default: 256 random 28x28 ones).
    Returns the largest absolute difference in probabilities.
    """
    from model.classifier import onnx_forward

    if check_images is None:
        check_images = np.random.default_rng(0).integers(0, 256, (256, 28, 28), dtype=np.uint8)
    x = check_images.astype(np.float32) / 255.0
    if x.ndim == 3:
        x = x[..., None]
    # Calling it also builds the model (Keras exports only called models); rows flattened as onnx_forward gives them.
    expected = np.asarray(model(x, training=False)).reshape(len(x), -1)
    with atomic_path(path, ".onnx") as tmp:
        model.export(str(tmp), format="onnx", verbose=False)
        forward = onnx_forward(tmp)
        # A single image first: a runtime once broke later batches after one (OpenCV DNN's classic engine).
        single = forward(x[:1])
        got = np.concatenate([forward(x[i : i + 100]) for i in range(0, len(x), 100)])
        difference = float(max(np.abs(got - expected).max(), np.abs(single - expected[:1]).max()))
        if difference > MAX_DIFFERENCE:
            raise RuntimeError(f"ONNX export disagrees with Keras by {difference:.2g} (limit {MAX_DIFFERENCE})")
    return difference


def record_in_card(card: dict, onnx_path: Path, difference: float) -> dict:
    """The model card's ``serving`` entry for the ONNX copy."""
    card["serving"] = {
        "file": onnx_path.name,
        "sha256": sha256_file(onnx_path),
        "bytes": onnx_path.stat().st_size,
        "runtime": "ONNX Runtime (CPUExecutionProvider)",
        "max_abs_difference_vs_keras": float(f"{difference:.3g}"),
    }
    return card


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m training.export", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--model", default=str(DEFAULT_MODEL), help="Keras model to export (default: %(default)s)")
    args = p.parse_args(argv)
    keras_path = Path(args.model)
    if not keras_path.is_file():
        print(f"error: no model at {keras_path}; train one with: python -m training.train --out model/", file=sys.stderr)
        return 2
    import keras

    from training.reports import write_json_atomic

    model = keras.saving.load_model(keras_path, compile=False)
    onnx_path = keras_path.with_suffix(".onnx")
    difference = export_onnx(model, onnx_path)
    card_path = keras_path.parent / "model_card.json"
    if card_path.is_file():
        card = json.loads(card_path.read_text())
        if card.get("model_sha256") == sha256_file(keras_path):
            write_json_atomic(record_in_card(card, onnx_path, difference), card_path)
    print(f"wrote {onnx_path} ({onnx_path.stat().st_size / 1e6:.2f} MB); largest difference from Keras {difference:.2g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
