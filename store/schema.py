"""Tables of the sample store (SQLAlchemy Core): the same definitions for SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
)

# Bump when a table changes, and add the step that brings an older database up to it in MIGRATIONS.
SCHEMA_VERSION = 1

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, nullable=False),
)

samples = Table(
    "samples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # sha256 of the owner and the input's pixels: identical inputs are stored once per person.
    Column("input_sha256", String(64), nullable=False, unique=True),
    Column("input_png", LargeBinary, nullable=False),  # what the person drew or uploaded (this digit's part of it)
    Column("input28", LargeBinary, nullable=False),  # the 28x28 uint8 network input, row-major, 784 bytes
    Column("label", SmallInteger, nullable=False),  # the true digit, as the person said
    Column("predicted", SmallInteger, nullable=True),  # what the model answered
    Column("confidence", Float, nullable=True),
    Column("corrected", Boolean, nullable=False),  # the person said the answer was wrong
    Column("model_sha256", String(64), nullable=False),
    Column("source", String(16), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False, index=True),
    Column("owner", String(320), nullable=True, index=True),  # the logged-in user's e-mail, else NULL
    CheckConstraint("label BETWEEN 0 AND 9", name="label_is_a_digit"),
    CheckConstraint("predicted IS NULL OR predicted BETWEEN 0 AND 9", name="predicted_is_a_digit"),
)

# version -> SQL statements that migrate a database at that version to version + 1.
MIGRATIONS: dict[int, list[str]] = {}
