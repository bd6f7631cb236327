"""The MNIST IDX reader: valid files load, every kind of broken file gets an error naming it."""

from __future__ import annotations

import numpy as np
import pytest

from tests.idx_files import idx_bytes, write_gz, write_mnist_dir
from training.data import FILES, IMAGES_MAGIC, LABELS_MAGIC, MnistError, load_idx_dir, load_mnist, read_idx, validation_split


def test_reads_synthetic_idx(tmp_path):
    images = np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28)
    path = write_gz(tmp_path / "x.gz", idx_bytes(images, IMAGES_MAGIC))
    assert np.array_equal(read_idx(path, IMAGES_MAGIC), images)


@pytest.mark.parametrize(
    "payload, message",
    [
        (b"", "truncated header"),
        (b"\x00\x00\x08", "truncated header"),
        ((0x0803).to_bytes(4, "big") + (5).to_bytes(4, "big"), "truncated header"),
        ((0x0801).to_bytes(4, "big") + (1).to_bytes(4, "big") + b"\x01", "bad magic"),
        (
            (0x0803).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in (3, 28, 28)) + b"\x00" * 100,
            "expected 2352 data bytes",
        ),
    ],
    ids=["empty", "short-magic", "short-dims", "wrong-magic", "truncated-data"],
)
def test_corrupt_idx_errors_name_the_file(tmp_path, payload, message):
    path = write_gz(tmp_path / "broken.gz", payload)
    with pytest.raises(MnistError, match=message) as info:
        read_idx(path, IMAGES_MAGIC)
    assert "broken.gz" in str(info.value)


def test_not_gzip_and_missing_file(tmp_path):
    (tmp_path / "plain.gz").write_bytes(b"not gzip at all")
    with pytest.raises(MnistError, match="not a readable gzip"):
        read_idx(tmp_path / "plain.gz", LABELS_MAGIC)
    with pytest.raises(MnistError, match="file not found"):
        read_idx(tmp_path / "absent.gz", LABELS_MAGIC)


def test_load_dir_validates_counts_and_reports_missing(tmp_path):
    data = load_idx_dir(write_mnist_dir(tmp_path, n_train=50, n_test=20))
    assert data.x_train.shape == (50, 28, 28) and data.y_test.shape == (20,)
    assert set(data.checksums) == set(FILES.values()) and all(len(h) == 64 for h in data.checksums.values())

    write_gz(tmp_path / FILES["test_labels"], idx_bytes(np.zeros(19, np.uint8), LABELS_MAGIC))
    with pytest.raises(MnistError, match="20 images but 19 labels"):
        load_idx_dir(tmp_path)
    (tmp_path / FILES["train_images"]).unlink()
    with pytest.raises(MnistError, match="missing train-images-idx3-ubyte.gz.*MNIST_DIR"):
        load_idx_dir(tmp_path)


def test_mnist_dir_env_is_used(tmp_path, monkeypatch):
    write_mnist_dir(tmp_path, n_train=30, n_test=10)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    assert len(load_mnist().x_train) == 30


def test_validation_split_is_disjoint_and_seeded():
    x = np.arange(100)
    y = np.arange(100) % 10
    a = validation_split(x, y, 20, seed=1)
    b = validation_split(x, y, 20, seed=1)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    x_tr, _, x_val, _ = a
    assert len(x_val) == 20 and len(x_tr) == 80 and not set(x_tr) & set(x_val)


@pytest.mark.mnist
def test_real_mnist_loads_with_known_content(mnist_dir):
    data = load_mnist(mnist_dir)
    assert data.x_train.shape == (60000, 28, 28) and data.x_test.shape == (10000, 28, 28)
    assert data.y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    # The shared README's checksum of the pixel data: mean 33.3184.
    assert abs(data.x_train.mean() - 33.3184) < 1e-3
