"""The one root of every error a user may see, and plain words for the failures of the machine.

Every error regdesk raises on purpose derives from `RegdeskError`: it carries the sentence the
user reads and the exit status. `cli.main` catches it once. Anything else reaching `main` (a full
disk, a damaged database, a bug) is turned into one line by `explain`, never a traceback.
"""

from __future__ import annotations

import errno
import sqlite3


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


def _sqlite_error(exc: BaseException) -> sqlite3.Error | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error):
            return current
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None


def explain(exc: BaseException) -> tuple[str, int]:
    """One line and an exit status for an error nobody raised on purpose."""
    if isinstance(exc, RegdeskError):
        return str(exc), exc.exit_code
    database = _sqlite_error(exc)
    if database is not None:
        text = str(database).lower()
        if "full" in text:
            return "the disk is full: nothing was recorded; free some space and try again", 74
        if "readonly" in text or "read-only" in text:
            return ("the station's database cannot be written (read-only folder or file?); "
                    "nothing was recorded"), 74
        if "not a database" in text or "malformed" in text or "corrupt" in text:
            return ("the station's database is damaged: nothing was recorded. Restore the latest backup "
                    "(`regdesk restore`, see `regdesk backup --list`)"), 74
        if "locked" in text or "busy" in text:
            return "the station's database is busy in another regdesk process; try again in a moment", 75
        if "unable to open" in text:
            return "the station's database cannot be opened (missing folder or no permission)", 74
        if "disk i/o" in text:
            return "the disk failed while writing (full, removed or damaged?): nothing was recorded", 74
        return f"database error: {database}", 74
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        if exc.errno == errno.ENOSPC:
            return f"the disk is full{where}; free some space and try again", 74
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return f"no permission to write{where}", 74
        return f"{exc.strerror or exc}{where}", 74
    if isinstance(exc, MemoryError):
        return "out of memory", 71
    return f"internal error ({type(exc).__name__}): {str(exc)[:200]}", INTERNAL_ERROR_EXIT
