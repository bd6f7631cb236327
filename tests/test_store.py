"""The sample store, on SQLite and on a real PostgreSQL (a throwaway cluster started for the session).

Every store test runs on both backends. PostgreSQL comes from Debian's ``postgresql`` package; without
it the PostgreSQL half skips on a user's machine and fails in CI.
"""

from __future__ import annotations

import csv
import io
import itertools
import sqlite3
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import create_engine, text

from store import SCHEMA_VERSION, BadSample, SampleStore, StoreUnavailable, new_sample
from store.samples import MAX_SIDE
from tests.conftest import require
from tests.postgres import free_port, start_cluster

SHA = "ab" * 32
_counter = itertools.count()


@pytest.fixture(scope="session")
def postgres():
    """One PostgreSQL cluster for the session."""
    try:
        cluster = start_cluster()
    except (OSError, KeyError, ValueError) as exc:
        require(False, f"cannot start a PostgreSQL cluster ({exc}); Debian: apt-get install postgresql")
    except Exception as exc:  # initdb/pg_ctl failing: their output says why
        require(False, f"cannot start a PostgreSQL cluster: {getattr(exc, 'stderr', b'') or exc}")
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request, tmp_path: Path) -> str:
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'samples.sqlite'}"
    return fresh_database(request.getfixturevalue("postgres"))


def fresh_database(cluster) -> str:
    """A new, empty database in the test cluster: tests do not see each other's rows."""
    name = f"test_{next(_counter)}"
    engine = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return cluster.url(name)


@pytest.fixture
def store(url: str):
    s = SampleStore(url)
    yield s
    s.close()


def image(seed: int, shape=(60, 40)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def sample(seed: int = 0, label: int = 7, predicted: int | None = 1, owner: str | None = None, **kw):
    return new_sample(image(seed, kw.pop("shape", (60, 40))), image(seed + 10_000, (28, 28)), label, predicted=predicted,
                      confidence=kw.pop("confidence", 0.62), model_sha256=SHA, source=kw.pop("source", "draw"), owner=owner)


def test_a_sample_comes_back_as_saved(store: SampleStore) -> None:
    s = sample(1, label=7, predicted=1)
    saved = store.add(s)
    assert saved.new
    [got] = store.recent()
    assert got.id == saved.id and got.label == 7 and got.predicted == 1 and got.corrected
    assert got.confidence == pytest.approx(0.62) and got.model_sha256 == SHA and got.source == "draw" and got.owner is None
    assert np.array_equal(got.input28, s.input28)
    assert got.created.tzinfo is not None
    x, y, ids = store.training_arrays()
    assert x.shape == (1, 28, 28) and x.dtype == np.uint8 and np.array_equal(x[0], s.input28)
    assert y.tolist() == [7] and ids == [saved.id]


def test_counts_per_digit_and_corrections(store: SampleStore) -> None:
    store.add(sample(1, label=3, predicted=3))   # a confirmation
    store.add(sample(2, label=3, predicted=8))   # a correction
    store.add(sample(3, label=9, predicted=None))
    counts = store.counts()
    assert counts.total == 3 and counts.corrections == 2
    assert counts.per_digit[3] == 2 and counts.per_digit[9] == 1 and counts.per_digit[0] == 0
    assert counts.corrections_per_digit == {**dict.fromkeys(range(10), 0), 3: 1, 9: 1}
    assert len(store) == 3


def test_identical_input_is_stored_once_with_the_latest_answer(store: SampleStore) -> None:
    first = store.add(sample(5, label=4, predicted=9))
    again = store.add(sample(5, label=9, predicted=9))  # the person changed their mind: it was a 9 after all
    assert again.id == first.id and not again.new
    assert len(store) == 1
    [got] = store.recent()
    assert got.label == 9 and not got.corrected


def test_the_same_input_from_two_people_is_two_samples(store: SampleStore) -> None:
    store.add(sample(5, owner="ann@example.com"))
    store.add(sample(5, owner="bob@example.com"))
    assert len(store) == 2


def test_owners_see_export_and_delete_only_their_own(store: SampleStore) -> None:
    ann = store.add(sample(1, label=1, owner="ann@example.com"))
    bob = store.add(sample(2, label=2, owner="bob@example.com"))
    assert store.counts("ann@example.com").total == 1 and store.counts().total == 2
    assert [s.id for s in store.recent(owner="bob@example.com")] == [bob.id]
    assert not store.delete(bob.id, owner="ann@example.com")  # not hers
    assert len(store) == 2
    names = zipfile.ZipFile(io.BytesIO(store.export_zip("ann@example.com"))).namelist()
    assert f"digits/1/{ann.id}.png" in names and f"digits/2/{bob.id}.png" not in names
    assert store.training_arrays("ann@example.com")[1].tolist() == [1]
    assert store.delete(ann.id, owner="ann@example.com")
    assert [s.id for s in store.recent()] == [bob.id]


def test_delete(store: SampleStore) -> None:
    keep, gone = store.add(sample(1)), store.add(sample(2))
    assert store.delete(gone.id)
    assert not store.delete(gone.id)
    assert [s.id for s in store.recent()] == [keep.id]


def test_recent_is_newest_first_and_limited(store: SampleStore) -> None:
    ids = [store.add(sample(i, label=i % 10)).id for i in range(5)]
    assert [s.id for s in store.recent(limit=3)] == ids[::-1][:3]


def test_export_zip_has_the_keras_directory_layout_and_a_metadata_csv(store: SampleStore) -> None:
    a = store.add(sample(1, label=0, predicted=6, shape=(90, 70)))
    b = store.add(sample(2, label=5, predicted=5, source="upload"))
    zf = zipfile.ZipFile(io.BytesIO(store.export_zip()))
    assert sorted(zf.namelist()) == sorted([f"digits/0/{a.id}.png", f"digits/5/{b.id}.png", f"inputs/{a.id}.png",
                                            f"inputs/{b.id}.png", "samples.csv"])
    digit = np.asarray(Image.open(zf.open(f"digits/0/{a.id}.png")))
    assert digit.shape == (28, 28) and np.array_equal(digit, store.training_arrays()[0][0])
    assert np.asarray(Image.open(zf.open(f"inputs/{a.id}.png"))).shape == (90, 70)
    rows = list(csv.DictReader(io.StringIO(zf.read("samples.csv").decode())))
    assert [(r["label"], r["predicted"], r["corrected"], r["source"]) for r in rows] == [
        ("0", "6", "True", "draw"), ("5", "5", "False", "upload")]
    assert rows[0]["file"] == f"digits/0/{a.id}.png" and rows[0]["model_sha256"] == SHA


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_eight_threads_saving_100_samples_each_lose_none(backend: str, request, tmp_path: Path) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'samples.sqlite'}"
    else:
        url = fresh_database(request.getfixturevalue("postgres"))
    store = SampleStore(url)
    errors: list[BaseException] = []
    ids: list[int] = []
    lock = threading.Lock()

    def work(thread: int) -> None:
        try:
            for i in range(100):
                saved = store.add(sample(thread * 1000 + i, label=i % 10, owner=f"user{thread}@example.com"))
                with lock:
                    ids.append(saved.id)
        except BaseException as exc:  # reported below with the thread's failure
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert len(set(ids)) == 800
    assert len(store) == 800 and store.counts().total == 800
    assert all(store.counts(f"user{t}@example.com").total == 100 for t in range(8))
    store.close()
    # A fresh connection sees them all: nothing was only in one connection's memory.
    again = SampleStore(url)
    assert len(again) == 800
    again.close()


BAD_ROWS = {
    "label 10": (dict(label=10), "the label must be a digit 0-9"),
    "label -1": (dict(label=-1), "the label must be a digit 0-9"),
    "label True": (dict(label=True), "the label must be a digit 0-9"),
    "label '7'": (dict(label="7"), "the label must be a digit 0-9"),
    "label 7.0": (dict(label=7.0), "the label must be a digit 0-9"),
    "predicted 12": (dict(predicted=12), "the predicted digit must be a digit 0-9"),
    "input28 27 wide": (dict(input28=np.zeros((28, 27), np.uint8)), "the network input must be a 28 x 28 uint8 array"),
    "input28 float": (dict(input28=np.zeros((28, 28), np.float32)), "the network input must be a 28 x 28 uint8 array"),
    "input28 list": (dict(input28=[[0] * 28] * 28), "the network input must be a 28 x 28 uint8 array"),
    "image 1-D": (dict(image=np.zeros(100, np.uint8)), "the input must be H x W"),
    "image 2 channels": (dict(image=np.zeros((9, 9, 2), np.uint8)), "the input must be H x W"),
    "image float": (dict(image=np.zeros((9, 9), np.float64)), "the input must be a uint8 image array"),
    "image too many pixels": (dict(image=np.broadcast_to(np.uint8(0), (10_000, 6_000))), "the input is too big"),
    "image too big as PNG": (dict(image=image(3, (512, 512, 4))), "the input is too big to store"),
    "confidence 1.5": (dict(confidence=1.5), "the confidence must be a number from 0 to 1"),
    "confidence nan": (dict(confidence=float("nan")), "the confidence must be a number from 0 to 1"),
    "source camera": (dict(source="camera"), "the source must be one of draw, upload"),
    "model sha": (dict(model_sha256="not-a-hash"), "the model sha256 must be 64 lowercase hex characters"),
    "owner empty": (dict(owner=""), "the owner must be a non-empty text"),
    "owner too long": (dict(owner="x" * 400), "the owner must be a non-empty text"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_a_bad_row_is_refused_with_a_clear_message(case: str, store: SampleStore) -> None:
    changes, message = BAD_ROWS[case]
    fields = dict(image=image(1), input28=image(2, (28, 28)), label=7, predicted=1, confidence=0.5, model_sha256=SHA,
                  source="draw", owner=None) | changes
    with pytest.raises(BadSample, match=message) as info:
        new_sample(fields.pop("image"), fields.pop("input28"), fields.pop("label"), **fields)
    assert "\n" not in str(info.value)
    with pytest.raises(BadSample):
        store.add("not a sample")  # type: ignore[arg-type]
    assert len(store) == 0


def test_a_large_photo_is_stored_shrunk() -> None:
    s = new_sample(image(1, (3000, 4000, 3)) // 64 * 64, image(2, (28, 28)), 7, predicted=7, confidence=0.99,
                   model_sha256=SHA, source="upload")
    assert Image.open(io.BytesIO(s.input_png)).size == (MAX_SIDE, MAX_SIDE * 3 // 4)


def test_schema_version_is_recorded_and_a_newer_database_is_refused(url: str) -> None:
    SampleStore(url).close()
    engine = create_engine(url)
    with engine.begin() as conn:
        assert conn.execute(text("SELECT version FROM schema_version")).scalars().all() == [SCHEMA_VERSION]
        conn.execute(text("UPDATE schema_version SET version = :v"), {"v": SCHEMA_VERSION + 1})
    engine.dispose()
    with pytest.raises(StoreUnavailable, match=f"schema version {SCHEMA_VERSION + 1}, newer than this app's"):
        SampleStore(url)


def test_reopening_keeps_the_samples(url: str) -> None:
    first = SampleStore(url)
    first.add(sample(1))
    first.close()
    second = SampleStore(url)
    assert len(second) == 1
    second.close()


# --- A database that cannot be used -------------------------------------------------------------


def test_sqlite_uses_wal(tmp_path: Path) -> None:
    SampleStore(f"sqlite:///{tmp_path / 's.sqlite'}").close()
    with sqlite3.connect(tmp_path / "s.sqlite") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_missing_database_directory_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("a file where a directory should be")
    with pytest.raises(StoreUnavailable, match="cannot be used") as info:
        SampleStore(f"sqlite:///{tmp_path / 'file' / 'samples.sqlite'}")
    assert "\n" not in str(info.value)


def test_corrupt_database_is_unavailable(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite"
    path.write_bytes(b"this is not a database" * 500)
    with pytest.raises(StoreUnavailable, match="file is not a database"):
        SampleStore(f"sqlite:///{path}")


def test_locked_database_is_unavailable_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "samples.sqlite"
    store = SampleStore(f"sqlite:///{path}", timeout=0.5)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StoreUnavailable, match="database is locked"):
            store.add(sample(1))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.add(sample(1)).new  # and saving works again once the lock is gone
    store.close()


def test_unreachable_postgresql_is_unavailable() -> None:
    with pytest.raises(StoreUnavailable, match="cannot be used"):
        SampleStore(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres", timeout=2)
