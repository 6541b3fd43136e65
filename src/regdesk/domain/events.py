"""The append-only event log's vocabulary. Pure: no I/O, no clock."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, NamedTuple

import orjson


class EventKind(StrEnum):
    STATION_CREATED = "station_created"
    KEY_PUBLISHED = "key_published"
    OPERATOR_ADDED = "operator_added"
    ACCREDITATION_IMPORTED = "accreditation_imported"
    IDENTITY_CHECKED = "identity_checked"
    BADGE_ISSUED = "badge_issued"
    BADGE_PRINTED = "badge_printed"
    BADGE_REVOKED = "badge_revoked"
    OVERRIDE_GRANTED = "override_granted"
    SCAN_RECORDED = "scan_recorded"
    DEPARTURE_CLOSED = "departure_closed"
    CONFLICT_RESOLVED = "conflict_resolved"
    STATION_CERTIFIED = "station_certified"
    STATION_REVOKED = "station_revoked"
    SIGNIN_FAILED = "signin_failed"
    SECURITY_ALERT = "security_alert"
    PASSES_PRINTED = "passes_printed"
    PASS_ASSIGNED = "pass_assigned"
    PASS_VOIDED = "pass_voided"
    PASS_ASSIGNMENT_OVERRIDDEN = "pass_assignment_overridden"  # a supervisor re-assigns or un-assigns
    PHOTO_IMPORTED = "photo_imported"
    PHOTO_REMOVED = "photo_removed"  # desk staff take a wrong or unwanted photo off (services/photos.py)


class Event(NamedTuple):
    """One fact in the log. Immutable; a NamedTuple rather than a frozen dataclass because sync
    builds hundreds of thousands of them and a frozen dataclass costs ten times more to create."""

    id: str  # UUID (v7 for new events: time-ordered), the identity used by sync (set union by id)
    station_id: str
    seq: int  # per-station sequence number, 1, 2, 3...
    recorded_at: datetime  # aware UTC
    operator: str
    kind: str
    payload: dict[str, Any]
    operator_role: str = ""  # the role the recording station checked (authority.py), "system" for itself


_STORED_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")


def format_utc(moment: datetime) -> str:
    """Stored time format: sortable text, always UTC, microseconds ("2017-12-04T14:00:00.000000Z")."""
    if moment.tzinfo is not timezone.utc:
        moment = moment.astimezone(timezone.utc)
    # isoformat rather than strftime: same text, several times faster (sync formats millions).
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


def parse_utc(text: str) -> datetime:
    """The inverse of format_utc; ValueError for any other shape."""
    if not _STORED_TIME.fullmatch(text):
        raise ValueError(f"{text[:40]!r} is not a stored UTC time like 2017-12-01T19:05:00.000000Z")
    return datetime.fromisoformat(text)  # "Z" gives timezone.utc itself


def canonical_json(payload: dict[str, Any]) -> str:
    """The one encoding of a payload, stored and hashed: sorted keys, no spaces, UTF-8 kept as is."""
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode("utf-8")
