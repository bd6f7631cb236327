"""Shared fixtures. A missing prerequisite (MNIST, browser) skips on a user's machine but fails in CI."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

IN_CI = bool(os.environ.get("CI"))


def require(condition: bool, reason: str) -> None:
    """Skip when ``condition`` is false, except in CI, where a missing prerequisite is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must run this test: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The MNIST directory from ``MNIST_DIR``."""
    value = os.environ.get("MNIST_DIR", "")
    require(bool(value) and Path(value).is_dir(), "MNIST_DIR is not set to a directory with the MNIST IDX files")
    return Path(value)


@pytest.fixture(scope="session")
def mnist_test(mnist_dir):
    """MNIST's test images and labels (uint8 (10000, 28, 28), (10000,))."""
    from training.data import IMAGES_MAGIC, LABELS_MAGIC, read_idx

    return (read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz", IMAGES_MAGIC),
            read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz", LABELS_MAGIC))


@pytest.fixture(scope="session")
def classifier():
    """The committed model, loaded once per test session."""
    from model import DEFAULT_MODEL_PATH, load_classifier

    require(DEFAULT_MODEL_PATH.is_file(), f"no trained model at {DEFAULT_MODEL_PATH}")
    return load_classifier()


@pytest.fixture(autouse=True)
def _sample_store_in_tmp(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process tests never touch the developer's own sample store (data/samples.sqlite): it moves to a temp dir."""
    import store.samples

    monkeypatch.setattr(store.samples, "DEFAULT_DB_PATH", tmp_path_factory.getbasetemp() / "samples.sqlite")
