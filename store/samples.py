"""Save what people drew or uploaded, with the right answer, so the model can be fine-tuned on it.

One code path for every backend SQLAlchemy speaks: SQLite by default (``data/samples.sqlite``,
WAL mode), any URL through ``DIGITS_DB_URL`` (PostgreSQL for several app replicas sharing one store).
Every failure of the database itself (missing, locked, corrupt, unreachable) is raised as
``StoreUnavailable`` with a one-line reason, so the app can keep classifying; a sample that breaks
the rules is refused with ``BadSample`` before it reaches the database.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import math
import numbers
import os
import re
import sqlite3
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from sqlalchemy import Engine, create_engine, delete, event, func, insert, select, update
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from store.schema import MIGRATIONS, SCHEMA_VERSION, metadata, samples, schema_version

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_PATH = ROOT / "data" / "samples.sqlite"
SOURCES = ("draw", "upload")
# Stored inputs are shrunk to this many pixels on their longer side: enough to look at and to
# re-run a better preprocessing later, small enough that a photo costs tens of kilobytes.
MAX_SIDE = 512
MAX_PNG_BYTES = 1_000_000
MAX_INPUT_PIXELS = 50_000_000  # larger arrays are refused before any work is done on them
MAX_OWNER_CHARS = 320
EXPORT_DIR = "digits"  # the zip's DIR/<digit>/*.png, the layout keras.utils.image_dataset_from_directory reads
_SHA256 = re.compile(r"[0-9a-f]{64}")


class BadSample(ValueError):
    """A sample that cannot be stored as it is; the message says which field and why."""


class StoreUnavailable(Exception):
    """The database cannot be used right now (missing, locked, corrupt, unreachable); one line says why."""


@dataclass(frozen=True)
class NewSample:
    """A checked sample, ready to store. Build it with ``new_sample``."""

    input_png: bytes
    input28: np.ndarray
    label: int
    predicted: int | None
    confidence: float | None
    model_sha256: str
    source: str
    owner: str | None
    input_sha256: str

    @property
    def corrected(self) -> bool:
        return self.predicted != self.label


@dataclass(frozen=True)
class StoredSample:
    """A sample as read back (without its input PNG, which only the export needs)."""

    id: int
    input28: np.ndarray
    label: int
    predicted: int | None
    confidence: float | None
    corrected: bool
    model_sha256: str
    source: str
    created: dt.datetime
    owner: str | None


@dataclass(frozen=True)
class Counts:
    """How many samples there are per digit, and how many of them were corrections."""

    per_digit: dict[int, int]
    corrections_per_digit: dict[int, int]

    @property
    def total(self) -> int:
        return sum(self.per_digit.values())

    @property
    def corrections(self) -> int:
        return sum(self.corrections_per_digit.values())


@dataclass(frozen=True)
class Saved:
    """The outcome of ``add``: the row's id, and False when the same input was already stored (now relabelled)."""

    id: int
    new: bool


def _digit(value: object, name: str, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= int(value) <= 9:
        raise BadSample(f"{name} must be a digit 0-9, got {value!r}")
    return int(value)


def _as_image(image: object) -> np.ndarray:
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise BadSample(f"the input must be a uint8 image array, got {type(image).__name__} {getattr(image, 'dtype', '')}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))) or min(image.shape[:2]) == 0:
        raise BadSample(f"the input must be H x W, H x W x 3 or H x W x 4, got shape {image.shape}")
    if image.shape[0] * image.shape[1] > MAX_INPUT_PIXELS:
        raise BadSample(f"the input is too big: {image.shape[1]} x {image.shape[0]} pixels (at most {MAX_INPUT_PIXELS:,})")
    return image


def encode_png(image: np.ndarray) -> bytes:
    """The image as PNG, shrunk to ``MAX_SIDE`` pixels on its longer side; refused above ``MAX_PNG_BYTES``."""
    image = _as_image(image)
    scale = MAX_SIDE / max(image.shape[:2])
    if scale < 1:
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buf, format="PNG", optimize=False)
    data = buf.getvalue()
    if len(data) > MAX_PNG_BYTES:
        raise BadSample(f"the input is too big to store: {len(data):,} bytes as PNG (at most {MAX_PNG_BYTES:,})")
    return data


def new_sample(
    image: np.ndarray,
    input28: np.ndarray,
    label: int,
    *,
    predicted: int | None,
    confidence: float | None,
    model_sha256: str,
    source: str,
    owner: str | None = None,
) -> NewSample:
    """Check one sample and encode its input; raises ``BadSample`` naming the field that is wrong.

    ``image``: what the person drew or uploaded (this digit's part of it); ``input28``: the 28x28
    uint8 image the network read; ``label``: the right answer.
    """
    label = _digit(label, "the label")
    predicted = _digit(predicted, "the predicted digit", optional=True)
    if not isinstance(input28, np.ndarray) or input28.dtype != np.uint8 or input28.shape != (28, 28):
        shape = getattr(input28, "shape", None)
        raise BadSample(f"the network input must be a 28 x 28 uint8 array, got {type(input28).__name__} of shape {shape}")
    if confidence is not None and (
        not isinstance(confidence, numbers.Real) or not math.isfinite(confidence) or not 0 <= confidence <= 1
    ):
        raise BadSample(f"the confidence must be a number from 0 to 1, got {confidence!r}")
    if not isinstance(model_sha256, str) or not _SHA256.fullmatch(model_sha256):
        raise BadSample(f"the model sha256 must be 64 lowercase hex characters, got {str(model_sha256)[:80]!r}")
    if source not in SOURCES:
        raise BadSample(f"the source must be one of {', '.join(SOURCES)}, got {str(source)[:40]!r}")
    if owner is not None and (not isinstance(owner, str) or not owner or len(owner) > MAX_OWNER_CHARS):
        raise BadSample(f"the owner must be a non-empty text of at most {MAX_OWNER_CHARS} characters")
    png = encode_png(image)
    digest = hashlib.sha256()
    digest.update((owner or "").encode() + b"\0")
    digest.update(png)
    digest.update(input28.tobytes())
    return NewSample(
        png, input28.copy(), label, predicted,
        None if confidence is None else float(confidence),
        model_sha256, source, owner, digest.hexdigest(),
    )


def default_url() -> str:
    """``$DIGITS_DB_URL``, else the SQLite file ``data/samples.sqlite`` in the checkout."""
    return os.environ.get("DIGITS_DB_URL") or f"sqlite:///{DEFAULT_DB_PATH}"


def location_of(url: str) -> str:
    """Where a URL keeps its samples, for people: the SQLite file, or the URL without its password."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or "memory"
    return parsed.render_as_string(hide_password=True)


def _one_line(exc: BaseException) -> str:
    """The database's own message without SQLAlchemy's SQL echo and links."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return (text.splitlines() or [type(exc).__name__])[0][:200]


# What a broken database raises: SQLAlchemy's wrappers, the SQLite driver's own errors from the
# connect hook, and the file system's.
_DATABASE_ERRORS = (SQLAlchemyError, sqlite3.Error, OSError)


class SampleStore:
    """The samples database. Thread-safe: one instance serves all of a process's sessions.

    ``shared``: several people use this store (the app sets it when ``DIGITS_DB_URL`` is set);
    without a login, nobody may then delete or export samples.
    """

    def __init__(self, url: str | None = None, *, shared: bool = False, timeout: float = 10.0):
        self.url = make_url(url or default_url())
        self.shared = shared
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        try:
            self.engine = self._create_engine(timeout)
            self._prepare()
        except _DATABASE_ERRORS as exc:
            if hasattr(self, "engine"):
                self.engine.dispose()
            raise StoreUnavailable(f"the sample database at {self.location} cannot be used: {_one_line(exc)}") from exc

    @property
    def location(self) -> str:
        """Where the samples go, for people: the file, or the URL without its password."""
        return location_of(self.url.render_as_string(hide_password=False))

    def _create_engine(self, timeout: float) -> Engine:
        if not self.is_sqlite:
            args = {"connect_timeout": max(1, round(timeout))} if self.url.get_backend_name() == "postgresql" else {}
            return create_engine(self.url, connect_args=args, pool_pre_ping=True)
        if self.url.database and self.url.database != ":memory:":
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(self.url, connect_args={"timeout": timeout})

        @event.listens_for(engine, "connect")
        def _sqlite_settings(dbapi_connection, _record) -> None:
            # WAL: readers never block the writer; busy_timeout: writers queue instead of failing.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            cursor.close()

        return engine

    def _prepare(self) -> None:
        """Create the tables if needed, and bring an older schema up to date."""
        with self.engine.begin() as conn:
            metadata.create_all(conn, checkfirst=True)
            version = conn.execute(select(func.max(schema_version.c.version))).scalar()
            if version is None:
                conn.execute(insert(schema_version).values(version=SCHEMA_VERSION))
                return
            if version > SCHEMA_VERSION:
                raise StoreUnavailable(
                    f"the sample database at {self.location} has schema version {version}, newer than this app's "
                    f"{SCHEMA_VERSION}: update the app"
                )
            for step in range(version, SCHEMA_VERSION):
                for statement in MIGRATIONS[step]:
                    conn.exec_driver_sql(statement)
            if version < SCHEMA_VERSION:
                conn.execute(update(schema_version).values(version=SCHEMA_VERSION))

    def close(self) -> None:
        self.engine.dispose()

    def add(self, sample: NewSample) -> Saved:
        """Store one sample. The same input again (same person) keeps one row, with the latest answer."""
        if not isinstance(sample, NewSample):
            raise BadSample("only samples made by new_sample() can be stored")
        answer = {
            "label": sample.label,
            "predicted": sample.predicted,
            "confidence": sample.confidence,
            "corrected": sample.corrected,
            "model_sha256": sample.model_sha256,
            "source": sample.source,
            "created": dt.datetime.now(dt.timezone.utc),
        }
        row = answer | {
            "input_sha256": sample.input_sha256,
            "input_png": sample.input_png,
            "input28": sample.input28.tobytes(),
            "owner": sample.owner,
        }
        try:
            try:
                with self.engine.begin() as conn:
                    return Saved(conn.execute(insert(samples).values(row).returning(samples.c.id)).scalar_one(), True)
            except IntegrityError:
                # The input is already stored (the only constraint new_sample cannot check): relabel it.
                with self.engine.begin() as conn:
                    same = samples.c.input_sha256 == sample.input_sha256
                    found = conn.execute(update(samples).where(same).values(answer).returning(samples.c.id)).scalar_one_or_none()
                    if found is None:
                        raise
                    return Saved(found, False)
        except _DATABASE_ERRORS as exc:
            raise StoreUnavailable(f"cannot save to {self.location}: {_one_line(exc)}") from exc

    def _owned(self, statement, owner: str | None):
        return statement if owner is None else statement.where(samples.c.owner == owner)

    def _run(self, what: str, work):
        try:
            with self.engine.begin() as conn:
                return work(conn)
        except _DATABASE_ERRORS as exc:
            raise StoreUnavailable(f"cannot {what} {self.location}: {_one_line(exc)}") from exc

    def counts(self, owner: str | None = None) -> Counts:
        """Samples per digit and corrections per digit: everyone's, or one owner's."""
        query = self._owned(select(samples.c.label, samples.c.corrected, func.count()), owner)
        query = query.group_by(samples.c.label, samples.c.corrected)
        rows = self._run("read", lambda conn: conn.execute(query).all())
        per_digit, corrections = dict.fromkeys(range(10), 0), dict.fromkeys(range(10), 0)
        for label, corrected, n in rows:
            per_digit[label] += n
            if corrected:
                corrections[label] += n
        return Counts(per_digit, corrections)

    _COLUMNS = (
        samples.c.id, samples.c.input28, samples.c.label, samples.c.predicted, samples.c.confidence, samples.c.corrected,
        samples.c.model_sha256, samples.c.source, samples.c.created, samples.c.owner,
    )

    @staticmethod
    def _stored(row) -> StoredSample:
        created = row.created if row.created.tzinfo else row.created.replace(tzinfo=dt.timezone.utc)  # SQLite drops it
        return StoredSample(
            row.id, np.frombuffer(row.input28, np.uint8).reshape(28, 28), row.label, row.predicted, row.confidence,
            bool(row.corrected), row.model_sha256, row.source, created, row.owner,
        )

    def recent(self, limit: int = 24, owner: str | None = None) -> list[StoredSample]:
        """The newest samples first."""
        query = self._owned(select(*self._COLUMNS), owner).order_by(samples.c.created.desc(), samples.c.id.desc()).limit(limit)
        return [self._stored(r) for r in self._run("read", lambda conn: conn.execute(query).all())]

    def delete(self, sample_id: int, owner: str | None = None) -> bool:
        """Delete one sample (only the owner's, when ``owner`` is given); False when there was none."""
        statement = self._owned(delete(samples).where(samples.c.id == int(sample_id)), owner)
        return self._run("delete from", lambda conn: conn.execute(statement).rowcount) > 0

    def training_arrays(self, owner: str | None = None) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """All samples as training data: uint8 (N, 28, 28) network inputs, int64 (N,) labels, and their ids."""
        query = self._owned(select(samples.c.id, samples.c.input28, samples.c.label), owner).order_by(samples.c.id)
        rows = self._run("read", lambda conn: conn.execute(query).all())
        x = np.array([np.frombuffer(r.input28, np.uint8).reshape(28, 28) for r in rows], np.uint8).reshape(-1, 28, 28)
        return x, np.array([r.label for r in rows], np.int64), [r.id for r in rows]

    def _export_rows(self, conn, owner: str | None) -> Iterator:
        query = self._owned(select(*self._COLUMNS, samples.c.input_png), owner).order_by(samples.c.id)
        yield from conn.execution_options(yield_per=200).execute(query)

    def export_zip(self, owner: str | None = None) -> bytes:
        """A zip: ``digits/<label>/<id>.png`` (the 28x28 network inputs, in the layout of
        ``keras.utils.image_dataset_from_directory`` and ``training.finetune --images``),
        ``inputs/<id>.png`` (what was drawn or uploaded) and ``samples.csv`` (everything else)."""
        buf, table = io.BytesIO(), io.StringIO()
        writer = csv.writer(table)
        writer.writerow(["id", "file", "input_file", "label", "predicted", "confidence", "corrected", "model_sha256",
                         "source", "created", "owner"])

        def write(conn) -> None:
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
                for r in self._export_rows(conn, owner):
                    name = f"{EXPORT_DIR}/{r.label}/{r.id}.png"
                    png = io.BytesIO()
                    Image.fromarray(np.frombuffer(r.input28, np.uint8).reshape(28, 28)).save(png, format="PNG")
                    zf.writestr(name, png.getvalue())
                    zf.writestr(f"inputs/{r.id}.png", r.input_png)
                    created = r.created if r.created.tzinfo else r.created.replace(tzinfo=dt.timezone.utc)
                    writer.writerow([r.id, name, f"inputs/{r.id}.png", r.label, r.predicted, r.confidence, bool(r.corrected),
                                     r.model_sha256, r.source, created.isoformat(timespec="seconds"), r.owner or ""])
                zf.writestr("samples.csv", table.getvalue())

        self._run("export from", write)
        return buf.getvalue()

    def __len__(self) -> int:
        return self._run("read", lambda conn: conn.execute(select(func.count()).select_from(samples)).scalar_one())
