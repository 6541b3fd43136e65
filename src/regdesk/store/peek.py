"""A station's identity and settings (the meta table), read with the standard library only.

The terminal UI draws its sign-in screen from these before SQLAlchemy is even imported
(services/station_front.py); the station itself is opened behind that screen. Read-only, and
never trusted for an act: every act goes through the opened station.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from urllib.parse import quote


def meta_values(db_path: Path) -> dict[str, str] | None:
    """key -> value of the station's meta table, or None when it cannot be read as one (no file,
    not a database, no such table, busy): the caller then opens the station the usual way, which
    says what is wrong."""
    if not db_path.is_file():
        return None
    uri = f"file:{quote(str(db_path.resolve()))}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True, timeout=1.0)) as conn:
            rows = conn.execute("SELECT key, value FROM meta").fetchall()
    except sqlite3.Error:
        return None
    return {str(key): str(value) for key, value in rows}
