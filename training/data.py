"""Read MNIST from the four original IDX ``.gz`` files, with a clear error for every failure."""

from __future__ import annotations

import argparse
import gzip
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FILES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}
IMAGES_MAGIC = 0x00000803
LABELS_MAGIC = 0x00000801
MISSING_DATA_HELP = (
    "Put the four MNIST IDX .gz files ({files}) in one directory and pass --data-dir DIR or set MNIST_DIR=DIR; "
    "with internet access and neither set, Keras downloads MNIST."
)
DEFAULT_DIRS = (Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "mnist",)


class MnistError(Exception):
    """A missing, truncated or corrupt MNIST file; the message names the file and the problem."""


@dataclass(frozen=True)
class Mnist:
    """MNIST as uint8 arrays: images (N, 28, 28), labels (N,). ``checksums``: sha256 per file."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    checksums: dict[str, str]


def read_idx(path: Path, expected_magic: int) -> np.ndarray:
    """Read one gzip-compressed IDX file, validating magic number, header and size."""
    path = Path(path)
    if not path.is_file():
        raise MnistError(f"{path}: file not found")
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise MnistError(f"{path}: not a readable gzip file ({exc})") from exc
    if len(raw) < 4:
        raise MnistError(f"{path}: truncated header ({len(raw)} bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        raise MnistError(f"{path}: bad magic number 0x{magic:08x}, expected 0x{expected_magic:08x}")
    ndim = magic & 0xFF
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise MnistError(f"{path}: truncated header ({len(raw)} bytes)")
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    expected = int(np.prod(dims))
    actual = len(raw) - header_len
    if actual != expected:
        raise MnistError(f"{path}: expected {expected} data bytes for shape {tuple(dims)}, found {actual}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(dims)


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def find_data_dir(data_dir: str | os.PathLike | None = None) -> Path | None:
    """The directory to read: the argument, else ``MNIST_DIR``, else a default that holds the files."""
    if data_dir:
        return Path(data_dir)
    if os.environ.get("MNIST_DIR"):
        return Path(os.environ["MNIST_DIR"])
    for candidate in DEFAULT_DIRS:
        if all((candidate / name).is_file() for name in FILES.values()):
            return candidate
    return None


def load_idx_dir(data_dir: str | os.PathLike) -> Mnist:
    """Load and validate the four MNIST IDX files from ``data_dir``."""
    data_dir = Path(data_dir)
    missing = [name for name in FILES.values() if not (data_dir / name).is_file()]
    if missing:
        raise MnistError(
            f"{data_dir}: missing {', '.join(missing)}. " + MISSING_DATA_HELP.format(files="images and labels, train and t10k")
        )
    arrays = {}
    for key, name in FILES.items():
        magic = IMAGES_MAGIC if key.endswith("images") else LABELS_MAGIC
        arrays[key] = read_idx(data_dir / name, magic)
    for split in ("train", "test"):
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise MnistError(f"{data_dir / FILES[split + '_images']}: images are {images.shape[1:]}, expected (28, 28)")
        if len(images) != len(labels):
            raise MnistError(f"{data_dir}: {split} has {len(images)} images but {len(labels)} labels")
        if labels.size and labels.max() > 9:
            raise MnistError(f"{data_dir / FILES[split + '_labels']}: label {labels.max()} outside 0-9")
    checksums = {name: sha256_file(data_dir / name) for name in FILES.values()}
    return Mnist(
        arrays["train_images"],
        arrays["train_labels"],
        arrays["test_images"],
        arrays["test_labels"],
        source=str(data_dir.resolve()),
        checksums=checksums,
    )


def load_mnist(data_dir: str | os.PathLike | None = None) -> Mnist:
    """Load MNIST from ``data_dir``/``MNIST_DIR``/the shared copy, else via the Keras download."""
    found = find_data_dir(data_dir)
    if found is not None:
        return load_idx_dir(found)
    try:
        import keras

        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as exc:  # no network, proxy, corrupt cache: all end the same way for the user
        raise MnistError(
            f"MNIST not found and the Keras download failed ({exc}). " + MISSING_DATA_HELP.format(files=", ".join(FILES.values()))
        ) from exc
    return Mnist(x_train, y_train, x_test, y_test, source="keras.datasets.mnist", checksums={})


def validation_split(x: np.ndarray, y: np.ndarray, size: int, seed: int) -> tuple[np.ndarray, ...]:
    """Split off a stratified-by-chance validation set from the training data (never the test set)."""
    order = np.random.default_rng(seed).permutation(len(x))
    val, train = order[:size], order[size:]
    return x[train], y[train], x[val], y[val]


def add_data_dir_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--data-dir`` option every training command shares."""
    parser.add_argument("--data-dir", help="directory with the MNIST IDX .gz files (default: $MNIST_DIR)")


def load_for_command(data_dir: str | os.PathLike | None) -> Mnist:
    """``load_mnist`` for the command-line tools: a data problem ends the command with its message, status 2."""
    try:
        return load_mnist(data_dir)
    except MnistError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
