"""Desk service end to end on a real station database: identity check, issue, replace, quota, override."""

from __future__ import annotations

from meeting import SUPERVISOR_SECRET

import pytest
from sqlalchemy import select

from regdesk.domain import token as t
from regdesk.domain.policy import Refusal
from regdesk.services import desk, operators
from regdesk.store import eventlog
from regdesk.store.models import Badge, EventRow, IdentityCheck

from conftest import local, participant_row, seed_participants


@pytest.fixture
def seeded(desk_station):
    rows = [participant_row(f"CH-{i}", f"Family{i}", "Given", delegation="Switzerland",
                            role="head" if i == 1 else "member") for i in range(1, 6)]
    rows.append(participant_row("XX-W", "Gone", "Someone", delegation="Nowhere", status="withdrawn"))
    seed_participants(desk_station, rows)
    return desk_station


def issue(station, pid, **kw):
    desk.record_identity_check(station, pid, "passport", "X1234567", "clerk")
    return desk.issue_badge(station, pid, operator="clerk", **kw)


def test_issue_records_events_and_a_verifiable_token(seeded):
    badge = issue(seeded, "CH-1")
    with seeded.sessions() as s:
        keys = seeded.public_keys(s)
        kinds = [r.kind for r in s.execute(select(EventRow).order_by(EventRow.local_order)).scalars()]
        check = s.execute(select(IdentityCheck)).scalar_one()
    assert kinds[-2:] == ["identity_checked", "badge_issued"]
    assert check.document_last4 == "4567"  # never the whole number
    claims = t.read_token(badge.token, event_code=seeded.config.code, public_keys=keys).claims
    assert claims.serial == badge.serial and claims.participant_id == "CH-1"


def test_no_badge_without_identity_check(seeded):
    with pytest.raises(desk.IssueRefused) as refused:
        desk.issue_badge(seeded, "CH-1", operator="clerk")
    assert refused.value.refusal is Refusal.IDENTITY_NOT_CHECKED


def test_quota_fifth_member_refused_then_supervisor_override(seeded):
    for i in range(1, 5):
        issue(seeded, f"CH-{i}")
    with pytest.raises(desk.IssueRefused) as refused:
        issue(seeded, "CH-5")
    assert refused.value.refusal is Refusal.QUOTA_REACHED and refused.value.overridable
    assert "Switzerland" in str(refused.value)
    with pytest.raises(desk.DeskError, match="PIN"):
        desk.issue_badge(seeded, "CH-5", operator="clerk",
                         override=desk.OverrideRequest("Maria Supervisor", "0000", "head of delegation asked"))
    badge = desk.issue_badge(seeded, "CH-5", operator="clerk",
                             override=desk.OverrideRequest("Maria Supervisor", SUPERVISOR_SECRET, "PGA office approved 5th seat"))
    assert badge.override_event_id


def test_withdrawn_never_gets_a_badge_even_with_override(seeded):
    desk.record_identity_check(seeded, "XX-W", "passport", "1234", "clerk")
    with pytest.raises(desk.IssueRefused) as refused:
        desk.issue_badge(seeded, "XX-W", operator="clerk",
                         override=desk.OverrideRequest("Maria Supervisor", SUPERVISOR_SECRET, "please"))
    assert refused.value.refusal is Refusal.WITHDRAWN


def test_replacement_revokes_old_serial_and_needs_fresh_id_check(seeded, clock):
    first = issue(seeded, "CH-2")
    clock.advance(hours=20)  # lost overnight, back at the desk next morning
    with pytest.raises(desk.IssueRefused) as refused:
        desk.issue_badge(seeded, "CH-2", operator="clerk", replace=True)
    assert refused.value.refusal is Refusal.IDENTITY_NOT_CHECKED
    second = issue(seeded, "CH-2", replace=True)
    assert second.serial != first.serial and second.issue_no == 2 and second.replaced_serial == first.serial
    with seeded.sessions() as s:
        assert s.get(Badge, first.serial).revoked and not s.get(Badge, second.serial).revoked


def test_outside_window_refused(seeded, clock):
    clock.set(local("2017-12-05T15:00"))
    with pytest.raises(desk.IssueRefused) as refused:
        issue(seeded, "CH-1")
    assert refused.value.refusal is Refusal.WINDOW_CLOSED


def test_refusal_leaves_no_badge_event(seeded):
    before = None
    with seeded.sessions() as s:
        before = eventlog.count(s)
    with pytest.raises(desk.IssueRefused):
        desk.issue_badge(seeded, "CH-3", operator="clerk")
    with seeded.sessions() as s:
        assert eventlog.count(s) == before
