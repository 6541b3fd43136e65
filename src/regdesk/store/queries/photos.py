"""The photos projection's reads: which participants have a photo, its source hash, and the stored JPEG
(kept once, in the event that carried it). A removed photo is a row with an empty sha256: no picture."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import text
from sqlalchemy.orm import Session

_PHOTO_OF = text(
    "SELECT json_extract(e.payload, '$.jpeg') FROM photos AS p JOIN events AS e ON e.id = p.event_id "
    "WHERE p.participant_id = :pid AND p.sha256 != ''"
)

_WITH_PHOTO = text("SELECT 1 FROM photos WHERE participant_id = :pid AND sha256 != ''")  # '': removed
_PHOTO_IDS = text("SELECT participant_id FROM photos WHERE sha256 != '' ORDER BY participant_id")


def source_hashes(session: Session) -> dict[str, str]:
    """participant id -> SHA-256 of the file each stored photo was made from (or, for a removed photo,
    the file it came from: importing that same file again leaves it removed)."""
    return {
        str(pid): str(sha)
        for pid, sha in session.execute(text("SELECT participant_id, source_sha256 FROM photos")).all()
    }


def source_hash(session: Session, participant_id: str) -> str:
    found = session.execute(
        text("SELECT source_sha256 FROM photos WHERE participant_id = :pid"), {"pid": participant_id}
    ).scalar_one_or_none()
    return str(found or "")


def participant_ids(session: Session) -> set[str]:
    """Every accreditation id in the mirror."""
    return {str(pid) for pid in session.execute(text("SELECT accreditation_id FROM participants")).scalars()}


def sorted_participant_ids(session: Session) -> list[str]:
    """Every accreditation id in the mirror, in order."""
    return [
        str(pid)
        for pid in session.execute(
            text("SELECT accreditation_id FROM participants ORDER BY accreditation_id")
        ).scalars()
    ]


def jpeg_base64(session: Session, participant_id: str) -> str | None:
    """The stored JPEG of a participant as the base64 text of its event, or None."""
    encoded = session.execute(_PHOTO_OF, {"pid": participant_id}).scalar_one_or_none()
    return None if encoded is None else str(encoded)


def has_photo(session: Session, participant_id: str) -> bool:
    return (
        session.execute(
            text("SELECT 1 FROM photos WHERE participant_id = :pid AND sha256 != ''"), {"pid": participant_id}
        ).first()
        is not None
    )


def photo_ids(session: Session) -> Iterator[str]:
    """Participants with a photo, in order."""
    for pid in session.execute(
        text("SELECT participant_id FROM photos WHERE sha256 != '' ORDER BY participant_id")
    ).scalars():
        yield str(pid)
