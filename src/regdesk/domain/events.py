"""The append-only event log's vocabulary. Pure: no I/O, no clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any


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


@dataclass(frozen=True)
class Event:
    id: str  # UUID4, the identity used by sync (set union by id)
    station_id: str
    seq: int  # per-station sequence number, 1, 2, 3...
    recorded_at: datetime  # aware UTC
    operator: str
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)


def format_utc(moment: datetime) -> str:
    """Stored time format: sortable text, always UTC, microseconds."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
