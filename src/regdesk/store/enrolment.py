"""Queries on the meeting's enrolled stations and their revocations (projections of the log)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from regdesk.store.models import EnrolledStation, StationRevocation


@dataclass(frozen=True)
class EnrolledRow:
    station_id: str
    name: str
    role: str
    public_key: str
    continues: str
    created_at: str
    revocation_reason: str | None  # None: not revoked


def enrolled_stations(session: Session) -> list[EnrolledRow]:
    """Every station of the meeting this log knows, in enrolment order, with its revocation if any."""
    revoked = {
        key: reason for key, reason in session.execute(select(StationRevocation.station_key, StationRevocation.reason))
    }
    rows = session.execute(select(EnrolledStation).order_by(EnrolledStation.created_at)).scalars().all()
    return [
        EnrolledRow(r.station_id, r.name, r.role, r.public_key, r.continues, r.created_at, revoked.get(r.public_key))
        for r in rows
    ]


def station_names(session: Session) -> dict[str, str]:
    return {
        station_id: name
        for station_id, name in session.execute(select(EnrolledStation.station_id, EnrolledStation.name))
    }


def cut_offs(session: Session) -> dict[str, int]:
    """Station id -> the last sequence number still trusted, for every station whose key a root
    revocation cut off (0: none of its events). Stations not named here are trusted throughout."""
    heads_by_key = {
        key: json.loads(heads)
        for key, heads in session.execute(select(StationRevocation.station_key, StationRevocation.heads))
    }
    if not heads_by_key:
        return {}
    return {
        station_id: int(heads_by_key[key].get(station_id, 0))
        for station_id, key in session.execute(select(EnrolledStation.station_id, EnrolledStation.public_key))
        if key in heads_by_key
    }
