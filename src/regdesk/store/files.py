"""Owner-only files and folders: what a station writes is readable by its user alone.

`private_writer` is the one way a station writes a file: a temporary name created 0600 from its
first byte, fsync, then an atomic rename, so a reader never sees half a file and a crash leaves
the old file (or none), never a torn one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


def private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


@contextmanager
def private_writer(path: Path) -> Iterator[BinaryIO]:
    partial = path.with_name(f".{path.name}.partial-{uuid.uuid4().hex[:8]}")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_private(path: Path, data: bytes) -> Path:
    with private_writer(path) as fh:
        fh.write(data)
    return path
