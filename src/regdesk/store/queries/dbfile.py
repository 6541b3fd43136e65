"""Whole-database-file work on a station's SQLite file, outside any open station: integrity checks, the
meta table, consistent copies (the online backup API), the log's invariants and comparing projections with
a rebuilt copy. Plain sqlite3 connections, opened read-only wherever nothing is written."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from regdesk.store import files

DatabaseError = sqlite3.DatabaseError  # what a damaged or foreign file raises


@contextmanager
def read_only(path: Path | str) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        yield conn
    finally:
        conn.close()


def integrity_check(path: Path) -> str:
    """PRAGMA integrity_check of an SQLite file: 'ok' or the problems found."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"not a readable SQLite database: {exc}"
    return "; ".join(str(r[0]) for r in rows)


def read_meta(path: Path) -> dict[str, str]:
    """The meta table (raises DatabaseError when the file is not a station database)."""
    with read_only(path) as conn:
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())


def meta_values(path: Path, keys: tuple[str, ...]) -> dict[str, str]:
    """These keys of the meta table (those present)."""
    with read_only(path) as conn:
        return dict(conn.execute(f"SELECT key, value FROM meta WHERE key IN ({', '.join('?' * len(keys))})", keys))


def copy_database(source: Path, dest: Path, *, extra_meta: Mapping[str, str] | None = None) -> None:
    """Consistent copy of a live SQLite database with the online backup API, as one plain file
    (owner-only, like the database)."""
    if not Path(dest).exists():
        files.create_private(dest)
    src = sqlite3.connect(source, timeout=30)
    try:
        dst = sqlite3.connect(dest)
        try:
            src.backup(dst)
            # A backup is one self-contained file: no -wal beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
            if extra_meta:
                with dst:
                    dst.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", extra_meta.items())
        finally:
            dst.close()
    finally:
        src.close()
    files.fsync_file(dest)


def forget_missing_active_key(db_path: Path, key_missing: Callable[[str], bool]) -> tuple[str | None, bool, int]:
    """After a restore: drop meta's active_key_id when `key_missing(key_id)`.
    Returns (the active key id, dropped?, events in the log)."""
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            key_id = dict(conn.execute("SELECT key, value FROM meta").fetchall()).get("active_key_id")
            missing_key = bool(key_id) and key_missing(str(key_id))
            if missing_key:
                conn.execute("DELETE FROM meta WHERE key = 'active_key_id'")
        events: int = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        conn.close()
    return key_id, missing_key, events


# --- the event log's invariants (regdesk check) ----------------------------------------------------------


def own_station_id(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'station_id'").fetchone()
    return str(row[0]) if row else None


def event_count(conn: sqlite3.Connection) -> int:
    count: int = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    return count


def station_count(conn: sqlite3.Connection) -> int:
    count: int = conn.execute("SELECT count(DISTINCT station_id) FROM events").fetchone()[0]
    return count


def duplicate_ids(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    """(event id, times) for up to 5 ids in the log more than once."""
    rows: list[tuple[Any, ...]] = conn.execute(
        "SELECT id, count(*) FROM events GROUP BY id HAVING count(*) > 1 LIMIT 5"
    ).fetchall()
    return rows


def duplicate_seqs(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    """(station id, seq, events) for up to 5 sequence numbers used more than once."""
    rows: list[tuple[Any, ...]] = conn.execute(
        "SELECT station_id, seq, count(*) FROM events GROUP BY station_id, seq HAVING count(*) > 1 LIMIT 5"
    ).fetchall()
    return rows


def invalid_payloads(conn: sqlite3.Connection) -> int:
    count: int = conn.execute("SELECT count(*) FROM events WHERE json_valid(payload) = 0").fetchone()[0]
    return count


def seq_ranges(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
    """(station id, events, lowest seq, highest seq) per station."""
    rows: list[tuple[Any, ...]] = conn.execute(
        "SELECT station_id, count(*), min(seq), max(seq) FROM events GROUP BY station_id"
    ).fetchall()
    return rows


def differences(db_path: Path, copy: Path, tables: Mapping[str, list[str]]) -> dict[str, tuple[int, int]]:
    """table -> (rows only in the station, rows only in the copy), for tables that differ."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    found: dict[str, tuple[int, int]] = {}
    try:
        conn.execute("ATTACH DATABASE ? AS rebuilt", (str(copy),))
        for table, columns in tables.items():
            cols = ", ".join(f'"{c}"' for c in columns)
            extra = conn.execute(
                f'SELECT count(*) FROM (SELECT {cols} FROM main."{table}" EXCEPT SELECT {cols} FROM rebuilt."{table}")'
            ).fetchone()[0]
            missing = conn.execute(
                f'SELECT count(*) FROM (SELECT {cols} FROM rebuilt."{table}" EXCEPT SELECT {cols} FROM main."{table}")'
            ).fetchone()[0]
            if extra or missing:
                found[table] = (extra, missing)
        conn.execute("DETACH DATABASE rebuilt")
    finally:
        conn.close()
    return found
