"""The accreditation import's reads of the participants mirror."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from regdesk.store.db import driver


def latest_revision(session: Session) -> str | None:
    """The newest revision in the mirror (None when it is empty)."""
    latest: str | None = driver(session).execute("SELECT max(revision) FROM participants").fetchone()[0]
    return latest


def mirror_rows(session: Session, fields: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """Every participant of the mirror as a plain tuple of `fields` (the first is the accreditation id), by id.

    The DB-API cursor directly: rows come back as plain tuples, comparable with an export's rows."""
    cursor = driver(session).execute(f"SELECT {', '.join(fields)} FROM participants")
    return {row[0]: row for row in cursor.fetchall()}
