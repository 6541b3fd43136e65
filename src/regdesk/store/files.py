"""Every file a station writes: owner-only from its first byte, and whole or not there at all.

A station's files hold personal data (names, delegations, identity-document endings), signing
keys and operator credentials, so they are 0600 and their folders 0700 whatever the umask of the
process that made them (`cli.main` also sets umask 077, for whatever a library creates). A file
is written under a temporary name beside its final one, flushed to disk and renamed over it, so
a crash, a full disk or a pulled USB stick never leaves a half-written badge, export or key behind
the real name, and a reader never sees one.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
PRIVATE_UMASK = 0o077
_TEMP_MARK = ".partial-"


def private_dir(path: Path | str, *, tighten: bool = True) -> Path:
    """Create the folder owner-only. `tighten`: also take group and other access away from an
    existing one (a station's own folders); False for a folder the user named (an export target
    such as a USB stick), which is only made private when we create it."""
    path = Path(path)
    existed = path.is_dir()
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if tighten or not existed:
        os.chmod(path, PRIVATE_DIR)  # mkdir's mode is filtered by the umask
    return path


def create_private(path: Path | str) -> Path:
    """An empty owner-only file that must not exist yet (for SQLite to fill: it keeps the mode,
    and gives its -wal and -shm files the same one)."""
    path = Path(path)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    os.chmod(path, PRIVATE_FILE)  # O_CREAT's mode is filtered by the umask too (never wider)
    return path


def fsync_dir(path: Path | str) -> None:
    """Make a rename in `path` durable."""
    fsync_file(path)


def fsync_file(path: Path | str) -> None:
    """Flush a closed file (or a folder's entries) to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}{_TEMP_MARK}{os.getpid()}-{uuid.uuid4().hex[:8]}")


@contextmanager
def private_writer(path: Path | str, *, durable: bool = True) -> Iterator[BinaryIO]:
    """Write `path` atomically: yields a binary file under a temporary name (0600 from the first
    byte); on success it is fsynced and renamed over `path`, on any exception removed.
    `durable=False` skips the fsyncs, for a file made again from the log whenever it is needed
    (a badge PDF: a reprint renders it anew): still never seen half-written."""
    path = Path(path)
    partial = temp_name(path)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            if durable:
                os.fsync(fh.fileno())
        os.chmod(partial, PRIVATE_FILE)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if durable:
        fsync_dir(path.parent)


def write_private(path: Path | str, data: bytes, *, durable: bool = True) -> Path:
    """The whole of `data` as `path`, owner-only, atomically (see `private_writer`)."""
    with private_writer(path, durable=durable) as fh:
        fh.write(data)
    return Path(path)
