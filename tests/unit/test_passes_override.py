"""A supervisor overrides a temporary pass's assignment (issue 12): re-assigns it to another person
or un-assigns a wrong assignment, with a reason. The scan verdict follows the latest decision, the
tallies reconcile (an un-assigned pass is unused again), the audit says who, why and what it was;
a clerk is refused, and a forged override (a clerk's, written into an authentic chain) is refused
at the merge."""

from __future__ import annotations

from datetime import date

import pytest
from pass_stations import sync
from qr_reading import qr_texts
from sqlalchemy import select
from sync_helpers import security_scanner

from conftest import local
from regdesk.clock import FixedClock
from regdesk.services import audit, passes, tallies
from regdesk.store import eventlog
from regdesk.store.models import TemporaryPass
from regdesk.store.projections import rebuild

pytestmark = pytest.mark.xdist_group("passes")
DAY = date(2017, 12, 4)


def stock_row(station):
    [row] = tallies.day_tallies(station, DAY).temporary_passes
    return (row.printed, row.assigned, row.voided, row.unused)


def assign(station, serial, pid):
    return passes.assign_pass(station, serial, pid, operator="clerk", document_type="passport", document_number="4821")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(local("2017-12-04T08:30"))


def test_reassign_then_unassign_the_scan_follows_and_tallies_reconcile(westin, icc, tmp_path):  # noqa: F811
    run = passes.print_passes(westin, day=DAY, count=3, operator="maria", out=tmp_path / "s.pdf")
    qr = qr_texts((tmp_path / "s.pdf").read_bytes())
    assign(westin, "1", "CH-1")
    done = passes.override_assignment(westin, "1", "CH-2", operator="maria", reason="given to the wrong person")
    assert (done.participant_id, done.previous_participant_id) == ("CH-2", "CH-1")
    sync(westin, icc, tmp_path / "a.rdb")
    scanner = security_scanner(icc)
    pass_one = next(t for t in qr if scanner.scan(t).serial == run.serials[0])
    icc.clock.advance(minutes=10)
    verdict = security_scanner(icc).scan(pass_one).verdict
    assert "assigned to Anna Keller" in verdict.note  # CH-2, not CH-1
    assert stock_row(westin) == (3, 1, 0, 2)
    passes.override_assignment(westin, run.serials[0], "", operator="maria", reason="pass taken back")
    assert stock_row(westin) == (3, 0, 0, 3)  # unused again
    sync(westin, icc, tmp_path / "b.rdb")
    icc.clock.advance(minutes=10)
    again = security_scanner(icc).scan(pass_one).verdict
    assert again.title == "TEMPORARY PASS" and "assigned" not in (again.note + again.text)
    # Unused again: a clerk may give it to someone.
    assign(westin, run.serials[0], "NG-1")
    assert stock_row(westin) == (3, 1, 0, 2)
    summaries = [r.summary for r in audit.list_audit(westin, None, viewer_role="supervisor")]
    label = f"TP-{run.mark}-0001"
    assert any(
        s == f"Temporary pass {label} re-assigned to CH-2 by a supervisor (was CH-1): “given to the wrong person”"
        for s in summaries
    )
    assert any(
        s == f"Temporary pass {label} un-assigned by a supervisor (was CH-2): “pass taken back”" for s in summaries
    )


def test_the_holder_is_the_same_in_any_order_of_events(westin, tmp_path):  # noqa: F811
    passes.print_passes(westin, day=DAY, count=1, operator="maria", out=tmp_path / "s.pdf")
    assign(westin, "1", "CH-1")
    passes.override_assignment(westin, "1", "CH-2", operator="maria", reason="wrong person")
    passes.override_assignment(westin, "1", "NG-2", operator="maria", reason="handed over")

    def holder() -> str:
        [row] = passes.station_stock(westin)
        with westin.sessions() as s:
            return str(s.execute(select(TemporaryPass.participant_id)).scalar_one()) + str(row.assigned)

    assert holder() == "NG-21"
    for arrival_order in (True, False):
        with westin.transaction() as session:
            rebuild(session, arrival_order=arrival_order)
        assert holder() == "NG-21"


def test_a_clerk_may_not_override_an_assignment(westin, tmp_path):  # noqa: F811
    passes.print_passes(westin, day=DAY, count=1, operator="maria", out=tmp_path / "s.pdf")
    assign(westin, "1", "CH-1")
    with pytest.raises(passes.PassError, match="supervisor"):
        passes.override_assignment(westin, "1", "CH-2", operator="clerk", reason="I think so")
    with pytest.raises(passes.PassError, match="reason"):
        passes.override_assignment(westin, "1", "CH-2", operator="maria", reason="  ")
    with pytest.raises(passes.PassError, match="already assigned to CH-1"):
        passes.override_assignment(westin, "1", "CH-1", operator="maria", reason="same")
    [row] = passes.station_stock(westin)
    assert row.assigned == 1


def test_a_forged_override_is_refused_at_merge(westin, tmp_path, clock):  # noqa: F811
    """A stolen desk laptop writes a clerk's override into its own authentic chain: the merge refuses it."""
    from security_alerts import refused_bundle
    from sync_helpers import make_station, seed

    serial = passes.print_passes(westin, day=DAY, count=1, operator="maria", out=tmp_path / "s.pdf").serials[0]
    assign(westin, "1", "CH-1")
    other = make_station(tmp_path, "Hilton desk 2", "desk", clock)
    try:
        seed(other)
        with other.transaction() as session:
            eventlog.append(
                session,
                station_id=other.station_id,
                operator="clerk",
                operator_role="clerk",
                kind="pass_assignment_overridden",
                payload={"serial": serial, "participant_id": "CH-9", "reason": "mine now"},
                at=other.clock.now(),
            )
        bundle = tmp_path / "forged.rdb"
        from regdesk.services import bundles

        bundles.export_bundle(other, bundle)
        refused_bundle(westin, bundle, "may not record pass_assignment_overridden")
        with westin.sessions() as s:
            holder = s.execute(select(TemporaryPass.participant_id)).scalar_one()
        assert holder == "CH-1"
    finally:
        other.close()
