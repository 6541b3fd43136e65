"""Temporary pass serials are unique by construction: each desk numbers its own passes behind its desk
mark (TP-KQX-0001). Two desks printing while cut off from each other, then synced, hold no duplicate
serial, every pass of both stocks scans as TEMPORARY PASS, and the tallies reconcile. Passes printed
before desk marks (TP-0001) still scan and can be assigned."""

from __future__ import annotations

from datetime import date

import pytest
from pass_stations import sync
from qr_reading import qr_texts
from sqlalchemy import select
from sync_helpers import make_station, security_scanner, seed

from conftest import local
from regdesk.clock import FixedClock
from regdesk.domain import passes as domain
from regdesk.domain.event_payloads import payload_problem
from regdesk.domain.events import EventKind
from regdesk.services import passes, tallies
from regdesk.store.models import TemporaryPass

pytestmark = pytest.mark.xdist_group("passes")
DAY = date(2017, 12, 4)


@pytest.fixture
def hilton(tmp_path, clock):  # noqa: F811
    station = make_station(tmp_path, "Hilton desk 2", "desk", clock)
    seed(station)
    yield station
    station.close()


def serials(station) -> list[str]:
    with station.sessions() as s:
        return sorted(s.execute(select(TemporaryPass.serial).where(TemporaryPass.printed_event_id != "")).scalars())


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(local("2017-12-04T08:30"))


def test_two_partitioned_desks_never_share_a_serial_and_both_stocks_scan(westin, hilton, icc, tmp_path):  # noqa: F811
    # Cut off from each other: each prints its stock for the day.
    a = passes.print_passes(westin, day=DAY, count=5, operator="maria", out=tmp_path / "a.pdf")
    b = passes.print_passes(hilton, day=DAY, count=5, operator="maria", out=tmp_path / "b.pdf")
    assert a.mark != b.mark and (a.first, b.first) == (1, 1)  # each desk numbers its own passes
    assert not set(a.serials) & set(b.serials)
    # Then the network is back: every station gets both runs.
    for source, target, name in [(westin, hilton, "w1"), (hilton, westin, "h1"), (westin, icc, "w2")]:
        sync(source, target, tmp_path / f"{name}.rdb")
    for station in (westin, hilton, icc):
        assert serials(station) == sorted(a.serials + b.serials)  # 10 passes, none lost to a clash
    scanner = security_scanner(icc)
    stock_qrs = qr_texts((tmp_path / "a.pdf").read_bytes()) + qr_texts((tmp_path / "b.pdf").read_bytes())
    results = [scanner.scan(text) for text in stock_qrs]
    assert [(r.verdict.title, r.verdict.note) for r in results] == [("TEMPORARY PASS", "")] * 10
    assert sorted(r.serial for r in results) == sorted(a.serials + b.serials)
    # A bare number two desks printed is asked about; with its letters it is the one meant.
    with pytest.raises(passes.PassError, match=r"2 desks printed pass number 1: TP-\w{3}-0001 or TP-\w{3}-0001"):
        passes.assign_pass(westin, "1", "CH-1", operator="clerk", document_type="passport", document_number="4821")
    assigned = passes.assign_pass(
        westin, f"{b.mark}-1", "CH-1", operator="clerk", document_type="passport", document_number="4821"
    )
    assert assigned.serial == b.serials[0]
    passes.assign_pass(
        hilton, f"TP-{a.mark}-0002", "CH-2", operator="clerk", document_type="passport", document_number="9911"
    )
    passes.void_pass(hilton, f"{b.mark}5", operator="maria", reason="spoilt")
    sync(westin, hilton, tmp_path / "w3.rdb")
    sync(hilton, westin, tmp_path / "h3.rdb")
    for station in (westin, hilton):
        [row] = tallies.day_tallies(station, DAY).temporary_passes
        assert (row.printed, row.assigned, row.voided, row.unused) == (10, 2, 1, 7)


def test_a_pass_printed_before_desk_marks_still_scans_and_is_assigned(westin, icc, tmp_path):  # noqa: F811
    """An old stock: a version 2 pass (TP-0001) and its run recorded without a mark."""
    with westin.transaction() as session:
        westin.record(
            session,
            EventKind.PASSES_PRINTED,
            {"day": DAY.isoformat(), "first": 1, "last": 3, "key_id": westin.key_id, "output": "old.pdf"},
            "maria",
        )
    tag = domain.tokens.event_tag(westin.config.code)
    old = domain.sign_pass(domain.PassClaims(tag, westin.key_id, DAY, 1, marked=False), westin.signing_key)
    new_run = passes.print_passes(westin, day=DAY, count=2, operator="maria", out=tmp_path / "n.pdf")
    assert new_run.first == 1 and serials(westin) == sorted(["TP0001", "TP0002", "TP0003", *new_run.serials])
    sync(westin, icc, tmp_path / "w.rdb")
    result = security_scanner(icc).scan(old)
    assert (result.verdict.title, result.verdict.note, result.serial) == ("TEMPORARY PASS", "", "TP0001")
    # "1" is the unmarked TP-0001 the old sheet shows; the new one is typed with its letters.
    assert passes.assign_pass(
        westin, "TP-0001", "CH-1", operator="clerk", document_type="passport", document_number="1111"
    )
    assigned = passes.assign_pass(
        westin, f"{new_run.mark}1", "CH-2", operator="clerk", document_type="passport", document_number="2222"
    )
    assert assigned.serial == new_run.serials[0]


def test_a_run_whose_mark_is_not_its_keys_is_refused_at_merge(westin):  # noqa: F811
    good = {
        "day": "2017-12-04",
        "first": 1,
        "last": 2,
        "key_id": westin.key_id,
        "mark": domain.desk_mark(westin.key_id),
    }
    assert payload_problem("passes_printed", good) is None
    other = "AAA" if good["mark"] != "AAA" else "BBB"
    problem = payload_problem("passes_printed", {**good, "mark": other})
    assert problem is not None and problem.field == "mark"


def test_a_desk_whose_mark_another_desk_holds_is_refused_before_printing():
    taken = next(
        k
        for k in (f"{n:08x}" for n in range(1, 100_000))
        if domain.desk_mark(k) == domain.desk_mark("0badf00d") and k != "0badf00d"
    )
    assert domain.mark_taken("0badf00d", [taken, "0badf00d"])
    assert not domain.mark_taken("0badf00d", ["0badf00d", "12345678"])
