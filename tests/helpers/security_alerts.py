"""What every refused attack must leave behind: the station's state unchanged and one more security alert
for the supervisors. Shared by the trust tests and the tests of each kind of event an attacker forges."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from regdesk.domain.events import EventKind
from regdesk.services import bundles
from regdesk.store.models import Badge, EventRow, Operator, Participant, PublicKey, Revocation


def state(station) -> dict:
    """Everything a forged event could change: the projections (not the alerts it leaves)."""
    with station.sessions() as session:
        return {
            model.__tablename__: sorted(
                tuple(str(v) for v in row) for row in session.execute(select(*model.__table__.c)).all()
            )
            for model in (Participant, Badge, Revocation, PublicKey, Operator)
        }


def alerts(station) -> list[dict]:
    with station.sessions() as session:
        return [
            json.loads(p)
            for p in session.execute(
                select(EventRow.payload).where(EventRow.kind == EventKind.SECURITY_ALERT)
            ).scalars()
        ]


def refused_bundle(station, path, match: str) -> None:
    before, alerts_before = state(station), len(alerts(station))
    with pytest.raises(bundles.BundleError, match=match):
        bundles.import_bundle(station, path)
    assert state(station) == before, "a refused bundle changed the station"
    assert len(alerts(station)) == alerts_before + 1, "no security alert for the supervisors"
