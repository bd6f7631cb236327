"""Replace a file in one step, so a running app or an interrupted run never sees half a file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block succeeds it replaces ``path``.

    The temporary file lives in the target's folder (a rename across file systems is not atomic)
    and is made world-readable (mkstemp makes it private; models and cards are meant to be shared).
    When the block raises, the temporary file is removed and ``path`` is left as it was.
    ``suffix``: some writers choose the format by it (Keras needs ``.keras``).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".tmp-{path.name}.", suffix=suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
