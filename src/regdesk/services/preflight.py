"""Before a station is opened: cheap checks that its folder can be used, so that a damaged or
read-only station is refused with one line naming the file and what to do, before anything is
written to it (SQLite would otherwise create -wal/-shm files, or migrate a stranger's file).

What is checked, and why only this: `PRAGMA quick_check` reads every page of the database
(seconds at a million events, on every command and every TUI start), so it stays in
`regdesk check`. Here, in well under a millisecond:
- the folder and station.db can be written (a read-only disk or mount: SQLite needs to write its
  -shm index even to read a database in WAL mode);
- station.db's 100-byte header: not empty, the SQLite magic, a sane page size, and a file at least
  as long as the header says (a copy cut short). In WAL mode the header's schema fields may lag
  behind the -wal file, so nothing else is read from it; the database itself is then opened and
  its `meta` read, which fails cleanly on a damaged first page;
- event.toml is there.
A damaged page deeper in the file is found by SQLite when it is read; `errors.explain` turns that
into one line as well.
"""

from __future__ import annotations

import os
from pathlib import Path

from regdesk.errors import RegdeskError

_MAGIC = b"SQLite format 3\x00"
_HEADER_SIZE = 100


class StationUnusable(RegdeskError):
    """The station's folder or files cannot be used as they are; the message says what to do."""

    exit_code = 74  # EX_IOERR


def restore_hint(data_dir: Path) -> str:
    from regdesk.services.backup import list_backups

    backups = list_backups(data_dir)
    if backups:
        return f"Restore the newest backup: regdesk --data-dir {data_dir} restore {backups[0]}"
    return (
        "There is no backup in this folder: restore one from elsewhere (regdesk restore FILE), or create the "
        "station again in a new folder and sync (events it sent come back from the hub or a bundle)"
    )


def database_file_problem(db_path: Path) -> str | None:
    """What is wrong with the SQLite file at first sight, or None."""
    size = db_path.stat().st_size
    wal = Path(f"{db_path}-wal")
    if size == 0:
        if wal.exists() and wal.stat().st_size > 0:
            return None  # never made by SQLite; let it judge
        return "is empty (0 bytes)"
    with open(db_path, "rb") as fh:
        header = fh.read(_HEADER_SIZE)
    if len(header) < _HEADER_SIZE or not header.startswith(_MAGIC):
        return "is not an SQLite database (overwritten or damaged)"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        return "has a damaged header"
    pages = int.from_bytes(header[28:32], "big")
    # The page count in the header is valid when the two counters agree (SQLite file format, 1.3.7);
    # a checkpoint writes the pages before the header, so the file is never legitimately shorter.
    if header[24:28] == header[92:96] and pages and size < pages * page_size:
        return f"is cut short ({size:,} of {pages * page_size:,} bytes: an interrupted copy?)"
    return None


def check_station_folder(data_dir: Path) -> None:
    """Raise StationUnusable, naming the file and the remedy, if the station cannot be opened as it is.
    station.db is known to exist."""
    db_path = data_dir / "station.db"
    if not os.access(data_dir, os.W_OK | os.X_OK) or not os.access(db_path, os.R_OK | os.W_OK):
        raise StationUnusable(
            f"{data_dir} cannot be written (a read-only disk or folder, or another user's files): regdesk must "
            f"write there even to look something up. Make it writable, or copy the folder to a writable disk"
        )
    problem = database_file_problem(db_path)
    if problem:
        raise StationUnusable(f"{db_path} {problem}: it was left as it is. {restore_hint(data_dir)}")
    event_toml = data_dir / "event.toml"
    if not event_toml.is_file():
        raise StationUnusable(
            f"{event_toml} is missing (the meeting's settings): copy it from another station of this meeting "
            f"(it is the same file everywhere), or restore the newest backup, which carries it"
        )
