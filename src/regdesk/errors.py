"""The one root of every error a user may see, and plain words for the failures of the machine.

Every error regdesk raises on purpose derives from `RegdeskError`: it carries the sentence the
user reads and the exit status. `cli.main` catches it once. Anything else reaching `main` (a full
disk, a damaged database, a bug) is turned into one line by `explain`, never a traceback.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path


class RegdeskError(Exception):
    """An error with a message meant for the person at the station."""

    exit_code = 2

    def __init__(self, message: str = "", exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class NotAllowed(RegdeskError):
    """The operator or the station may not do this (authority.py decides)."""

    exit_code = 4


INTERNAL_ERROR_EXIT = 70  # EX_SOFTWARE
_NEARLY_FULL_BYTES = 16 * 1024 * 1024


def _sqlite_error(exc: BaseException) -> sqlite3.Error | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error):
            return current
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None


def is_machine_failure(exc: BaseException) -> bool:
    """A failure of the disk or the database rather than of the program (`explain` words it)."""
    return _sqlite_error(exc) is not None or isinstance(exc, (OSError, MemoryError))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _nearly_full(folder: Path | None) -> bool:
    """A write error with (almost) no space left: the disk is full, whatever SQLite called it."""
    if folder is None:
        return False
    try:
        return shutil.disk_usage(folder).free < _NEARLY_FULL_BYTES
    except OSError:
        return False


def explain(exc: BaseException, data_dir: Path | str | None = None) -> tuple[str, int]:
    """One line and an exit status for an error nobody raised on purpose. `data_dir`: the station
    the command worked on, so that the line names its database."""
    if isinstance(exc, RegdeskError):
        return str(exc), exc.exit_code
    folder = Path(data_dir) if data_dir is not None else None
    db = str(folder / "station.db") if folder is not None else "the station's database"
    database = _sqlite_error(exc)
    if database is not None:
        text = str(database).lower()
        name = getattr(database, "sqlite_errorname", "") or ""
        if (
            "full" in text
            or name == "SQLITE_FULL"
            or (("disk i/o" in text or name.startswith("SQLITE_IOERR")) and _nearly_full(folder))
        ):
            return (f"the disk holding {db} is full: nothing was recorded; free some space on it and try again"), 74
        if "readonly" in text or "read-only" in text:
            return (
                f"{db} cannot be written (a read-only disk or folder?): nothing was recorded; "
                "make it writable and try again"
            ), 74
        if "not a database" in text or "malformed" in text or "corrupt" in text:
            hint = "restore the newest backup (regdesk backup --list, then regdesk restore FILE)"
            if folder is not None:
                from regdesk.services.preflight import restore_hint  # imports backup (services)

                hint = restore_hint(folder)
            return f"{db} is damaged: nothing was recorded. {hint}", 74
        if "locked" in text or "busy" in text:
            return f"{db} is busy in another regdesk process; try again in a moment", 75
        if "unable to open" in text:
            return f"{db} cannot be opened (a missing folder, or no permission?)", 74
        if "disk i/o" in text:
            return f"the disk failed while writing {db} (full, removed or damaged?): nothing was recorded", 74
        return f"database error on {db}: {_one_line(str(database))}", 74
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        if exc.errno == errno.ENOSPC or (exc.errno in (errno.EIO, errno.EFBIG) and _nearly_full(folder)):
            return f"the disk is full{where}; free some space and try again", 74
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return f"no permission to write{where} (a read-only disk or folder?)", 74
        return f"{_one_line(exc.strerror or str(exc))}{where}", 74
    if isinstance(exc, MemoryError):
        return "out of memory", 71
    return f"internal error ({type(exc).__name__}): {_one_line(str(exc))[:200]}", INTERNAL_ERROR_EXIT
