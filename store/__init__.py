"""The sample store: corrections and confirmations people make in the app, kept for fine-tuning.

from store import SampleStore, new_sample
store = SampleStore()                     # data/samples.sqlite, or $DIGITS_DB_URL
store.add(new_sample(image, prediction.processed, 7, predicted=1, confidence=0.62,
                     model_sha256=..., source="draw"))
"""

from store.samples import (
    DEFAULT_DB_PATH,
    EXPORT_DIR,
    MAX_PNG_BYTES,
    SOURCES,
    BadSample,
    Counts,
    NewSample,
    SampleStore,
    Saved,
    StoredSample,
    StoreUnavailable,
    default_url,
    new_sample,
)
from store.schema import SCHEMA_VERSION

__all__ = [
    "DEFAULT_DB_PATH",
    "EXPORT_DIR",
    "MAX_PNG_BYTES",
    "SCHEMA_VERSION",
    "SOURCES",
    "BadSample",
    "Counts",
    "NewSample",
    "SampleStore",
    "Saved",
    "StoreUnavailable",
    "StoredSample",
    "default_url",
    "new_sample",
]
