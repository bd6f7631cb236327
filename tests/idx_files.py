"""Write small synthetic MNIST-format IDX .gz files for tests."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from training.data import FILES, IMAGES_MAGIC, LABELS_MAGIC


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """Raw IDX bytes: big-endian magic, one int32 per dimension, uint8 data."""
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_gz(path: Path, payload: bytes) -> Path:
    with gzip.open(path, "wb") as f:
        f.write(payload)
    return path


def write_mnist_dir(directory: Path, n_train: int = 300, n_test: int = 100, seed: int = 0) -> Path:
    """A directory with the four MNIST files holding a learnable toy problem (a bar whose row is the label)."""
    rng = np.random.default_rng(seed)
    for split, n in (("train", n_train), ("test", n_test)):
        labels = np.arange(n) % 10
        images = rng.integers(0, 30, size=(n, 28, 28)).astype(np.uint8)
        for i, label in enumerate(labels):
            images[i, 4 + 2 * label : 6 + 2 * label, 4:24] = 255
        write_gz(directory / FILES[f"{split}_images"], idx_bytes(images, IMAGES_MAGIC))
        write_gz(directory / FILES[f"{split}_labels"], idx_bytes(labels, LABELS_MAGIC))
    return directory
