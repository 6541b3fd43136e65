"""Desk service end to end on a real station database: identity check, issue, replace, quota, override."""

from __future__ import annotations

import pytest
from meeting import SUPERVISOR_SECRET
from sqlalchemy import select

from conftest import local, participant_row, seed_participants
from regdesk.domain import token as t
from regdesk.domain.policy import Refusal
from regdesk.services import desk, operators
from regdesk.store import eventlog
from regdesk.store.models import Badge, EventRow, IdentityCheck


@pytest.fixture
def seeded(desk_station):
    rows = [
        participant_row(f"CH-{i}", f"Family{i}", "Given", delegation="Switzerland", role="head" if i == 1 else "member")
        for i in range(1, 6)
    ]
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
        desk.issue_badge(
            seeded,
            "CH-5",
            operator="clerk",
            override=desk.OverrideRequest("Maria Supervisor", "0000", "head of delegation asked"),
        )
    badge = desk.issue_badge(
        seeded,
        "CH-5",
        operator="clerk",
        override=desk.OverrideRequest("Maria Supervisor", SUPERVISOR_SECRET, "PGA office approved 5th seat"),
    )
    assert badge.override_event_id


def test_withdrawn_never_gets_a_badge_even_with_override(seeded):
    desk.record_identity_check(seeded, "XX-W", "passport", "1234", "clerk")
    with pytest.raises(desk.IssueRefused) as refused:
        desk.issue_badge(
            seeded,
            "XX-W",
            operator="clerk",
            override=desk.OverrideRequest("Maria Supervisor", SUPERVISOR_SECRET, "the minister asked in person"),
        )
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


# --- identity checks follow the order of events, not the desks' clocks ---------------------------


def _carry(source, target, path):
    from regdesk.services import bundles

    bundles.export_bundle(source, path)
    bundles.import_bundle(target, path)


@pytest.fixture
def two_desks(tmp_path):
    """Desk A and desk B of the same meeting; B's clock is a minute behind A's."""
    from sync_helpers import make_station, seed

    from regdesk.clock import FixedClock

    clock_a, clock_b = FixedClock(local("2017-12-02T10:00")), FixedClock(local("2017-12-02T09:59"))
    a = make_station(tmp_path, "Westin desk 1", "desk", clock_a)
    b = make_station(tmp_path, "Westin desk 2", "desk", clock_b)
    seed(a)
    seed(b)
    yield a, b, clock_a, clock_b
    a.close()
    b.close()


def test_replacement_at_a_desk_whose_clock_is_behind(two_desks, tmp_path):
    a, b, _clock_a, clock_b = two_desks
    desk.record_identity_check(a, "CH-2", "passport", "X1234567", "ana")
    first = desk.issue_badge(a, "CH-2", operator="ana")  # 10:00 by A's clock
    _carry(a, b, tmp_path / "a-to-b.bundle")
    clock_b.advance(seconds=30)  # 09:59:30 by B's clock: "before" the badge, though it came after
    desk.record_identity_check(b, "CH-2", "passport", "X1234567", "luis")
    second = desk.issue_badge(b, "CH-2", operator="luis", replace=True)
    assert second.replaced_serial == first.serial and second.issue_no == 2


def test_a_check_made_before_the_badge_does_not_count_for_its_replacement(two_desks, tmp_path):
    a, b, _clock_a, clock_b = two_desks
    clock_b.advance(minutes=5)  # B now runs four minutes AHEAD of A
    desk.record_identity_check(b, "CH-2", "passport", "X1234567", "luis")  # B knows of no badge yet
    desk.record_identity_check(a, "CH-2", "passport", "X1234567", "ana")
    first = desk.issue_badge(a, "CH-2", operator="ana")
    _carry(a, b, tmp_path / "a-to-b.bundle")
    _carry(b, a, tmp_path / "b-to-a.bundle")
    for station in (a, b):  # whatever order the events arrived in, and later wall times notwithstanding
        with pytest.raises(desk.IssueRefused) as refused:
            desk.issue_badge(station, "CH-2", operator="x", replace=True)
        assert refused.value.refusal is Refusal.IDENTITY_NOT_CHECKED
        assert f"used for badge {t.format_serial(first.serial)}" in str(refused.value)


# --- 1 + 3 ---------------------------------------------------------------------------------------


def test_fourth_place_is_kept_for_the_head_of_delegation(seeded):
    from regdesk.services.desk_view import participant_card

    for member in ("CH-2", "CH-3", "CH-4"):
        issue(seeded, member)
    with pytest.raises(desk.IssueRefused) as refused:
        issue(seeded, "CH-5")
    assert refused.value.refusal is Refusal.HEAD_PLACE_RESERVED and refused.value.overridable
    assert "Given Family1" in str(refused.value) and "head of delegation" in str(refused.value)
    assert participant_card(seeded, "CH-5").delegation_use == "Switzerland 3/4, head not yet"

    issue(seeded, "CH-1")  # the head always gets the fourth place
    assert participant_card(seeded, "CH-5").delegation_use == "Switzerland 4/4, head has a badge"
    with pytest.raises(desk.IssueRefused) as refused:
        issue(seeded, "CH-5")
    assert refused.value.refusal is Refusal.QUOTA_REACHED


def test_override_reason_needs_real_words(seeded):
    operators.add_operator(seeded, "Maria Supervisor", "supervisor", SUPERVISOR_SECRET, by="maria")
    for member in ("CH-2", "CH-3", "CH-4"):
        issue(seeded, member)
    desk.record_identity_check(seeded, "CH-5", "passport", "X1234567", "clerk")
    for reason in ("x", "ok", "approved", "ok ok ok", "   "):
        with pytest.raises(desk.DeskError, match="at least 3 words"):
            desk.issue_badge(
                seeded,
                "CH-5",
                operator="clerk",
                override=desk.OverrideRequest("Maria Supervisor", SUPERVISOR_SECRET, reason),
            )
    badge = desk.issue_badge(
        seeded,
        "CH-5",
        operator="clerk",
        override=desk.OverrideRequest("Maria Supervisor", SUPERVISOR_SECRET, "head stays in New York"),
    )
    assert badge.override_event_id
