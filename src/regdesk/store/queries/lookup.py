"""The participant search's reads, on one plain read-only sqlite3 connection per station database.

A search costs a few hundred microseconds of SQL, far less than a pooled SQLAlchemy connection would
(WAL: reading never blocks the desk). The connections are kept here, one per database file, with a slot
for the caller's search index built from them (services/lookup.py).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reader:
    """A plain sqlite3 connection for the hot path; hold `lock` while using `conn`."""

    conn: sqlite3.Connection
    file_id: tuple[int, int]
    lock: threading.Lock = field(default_factory=threading.Lock)
    index: Any = None  # the caller's search index built from this database (services/lookup.py)
    build_lock: threading.Lock = field(default_factory=threading.Lock)


_READERS: dict[str, Reader] = {}
_READERS_LOCK = threading.Lock()
_READERS_MAX = 4  # stations open in one process at a time (tests, the demo); oldest dropped first


def reader(path: str) -> Reader:
    """The read connection for the database at `path` (a new one when the file there changed)."""
    stat = os.stat(path)
    file_id = (stat.st_dev, stat.st_ino)
    found = _READERS.get(path)
    if found is not None and found.file_id == file_id:
        return found
    with _READERS_LOCK:
        found = _READERS.get(path)
        if found is None or found.file_id != file_id:  # first use, or a new database at the same path
            conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA query_only=ON")  # this connection only ever reads
            conn.execute("PRAGMA busy_timeout=10000")
            found = Reader(conn, file_id)
            old = _READERS.pop(path, None)
            _READERS[path] = found
            if old is not None:
                old.conn.close()
            while len(_READERS) > _READERS_MAX:
                _READERS.pop(next(iter(_READERS))).conn.close()
    return found


def known_reader(path: str) -> Reader | None:
    """The read connection already open for `path`, if any (opens nothing)."""
    return _READERS.get(path)


def fingerprint(conn: sqlite3.Connection) -> tuple[Any, Any]:
    """Changes whenever the mirror does: the newest import's local order and the participants' max rowid."""
    last_import = conn.execute("SELECT max(local_order) FROM events WHERE kind = 'accreditation_imported'").fetchone()[
        0
    ]
    # max(rowid) also notices participants written without an import event (bulk loads, tests).
    last_row = conn.execute("SELECT max(rowid) FROM participants").fetchone()[0]
    return (last_import, last_row)


def content_stamp(conn: sqlite3.Connection) -> tuple[Any, ...]:
    """A checksum of every participant field the search reads, in one scan in SQLite (tens of ms at
    100,000 rows): with `fingerprint` it tells a saved search index from one of another mirror."""
    stamp: tuple[Any, ...] = conn.execute(
        "SELECT count(*), total(length(accreditation_id) * 7 + length(family_name) * 11 + length(given_names) * 13 "
        "+ length(family_name_latin) * 17 + length(given_names_latin) * 19 + length(delegation) * 23 "
        "+ length(delegation_role) * 29 + length(confirmation_code) * 31 + length(category) * 37 "
        "+ length(status) * 41 + unicode(status) + unicode(family_name_latin) + unicode(given_names_latin) "
        "+ unicode(delegation)), total(rowid * (length(family_name_latin) + length(given_names_latin))) "
        "FROM participants"
    ).fetchone()
    return stamp


def participant_rows(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    """(id, family, given, family Latin, given Latin, delegation, role, confirmation code, category, status)."""
    rows: list[tuple[Any, ...]] = conn.execute(
        "SELECT accreditation_id, family_name, given_names, family_name_latin, given_names_latin, "
        "delegation, delegation_role, confirmation_code, category, status FROM participants"
    ).fetchall()
    return rows


def badge_owner(conn: sqlite3.Connection, serial: str) -> tuple[Any, ...] | None:
    """(participant id,) of the badge with this serial, or None."""
    owner: tuple[Any, ...] | None = conn.execute(
        "SELECT participant_id FROM badges WHERE serial = ?", (serial,)
    ).fetchone()
    return owner


def badges_of(conn: sqlite3.Connection, accreditation_ids: Sequence[str]) -> list[tuple[Any, ...]]:
    """(participant id, serial, revoked, issue number, delivered?) of every badge of these participants."""
    marks = ",".join("?" * len(accreditation_ids))
    rows: list[tuple[Any, ...]] = conn.execute(
        "SELECT b.participant_id, b.serial, b.revoked, b.issue_no, d.serial IS NOT NULL FROM badges AS b "
        f"LEFT JOIN badge_deliveries AS d ON d.serial = b.serial WHERE b.participant_id IN ({marks})",
        accreditation_ids,
    ).fetchall()
    return rows
