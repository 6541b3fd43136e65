"""Contingency stock (issue 12): signed temporary passes printed ahead by a supervisor, scanned as
TEMPORARY PASS, assigned at the desk afterwards, reconciled in the tallies."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pypdfium2 as pdfium
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pass_stations import sync
from qr_reading import qr_texts
from security_alerts import alerts, refused_bundle
from sync_helpers import issue, make_station, security_scanner

from conftest import local, participant_row, seed_participants
from regdesk.clock import FixedClock
from regdesk.domain import passes as domain
from regdesk.domain import token as tokens
from regdesk.services import bundles, passes
from regdesk.store import eventlog

pytestmark = pytest.mark.xdist_group("passes")
DAY = date(2017, 12, 4)
SHEET_DPI = 200  # an A4 sheet of passes, eight to a page: its codes are large enough at 200 dpi


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(local("2017-12-04T08:30"))


def test_printed_sheet_decodes_to_passes_that_scan_as_temporary_pass(westin, icc, tmp_path):
    run = passes.print_passes(westin, day=DAY, count=10, operator="maria", out=tmp_path / "stock.pdf")
    assert (run.first, run.last) == (1, 10) and run.serials[0] == f"TP{domain.desk_mark(westin.key_id)}0001"
    pdf = (tmp_path / "stock.pdf").read_bytes()
    assert len(pdfium.PdfDocument(pdf)) == 2  # 8 to an A4 page
    texts = qr_texts(pdf, dpi=SHEET_DPI)
    assert len(texts) == 10
    keys = {westin.key_id: tokens.public_key_raw(westin.signing_key)}
    numbers = sorted(domain.read_pass(t, event_code=westin.config.code, public_keys=keys).claims.number for t in texts)
    assert numbers == list(range(1, 11))
    sync(westin, icc, tmp_path / "w.rdb")
    scanner = security_scanner(icc)
    result = scanner.scan(texts[0] + "\n")
    assert result.verdict.title == "TEMPORARY PASS"
    assert str(result.outcome) == "temporary" and result.counted
    assert result.verdict.text == "TEMPORARY PASS - check ID" and result.verdict.note == ""
    assert result.as_json()["temporary_pass"].startswith("TP")
    # The same pass again at once: a repeat, as for badges; not counted twice.
    again = scanner.scan(texts[0])
    assert str(again.outcome) == "repeat" and not again.counted
    # Scanned as a badge token it is not one, and a badge is not a pass.
    badge = issue(westin, "CH-1")
    assert domain.read_pass(badge.token, event_code=westin.config.code, public_keys=keys).problem is not None
    assert tokens.read_token(texts[1], event_code=westin.config.code, public_keys=keys).problem is not None


def test_a_pass_for_another_day_is_denied(westin, icc, tmp_path, clock):
    tomorrow = passes.print_passes(
        westin, day=DAY + timedelta(days=1), count=1, operator="maria", out=tmp_path / "tomorrow.pdf"
    )
    today = passes.print_passes(westin, day=DAY, count=1, operator="maria", out=tmp_path / "today.pdf")
    sync(westin, icc, tmp_path / "w.rdb")
    scanner = security_scanner(icc)
    early = scanner.scan(qr_texts((tmp_path / "tomorrow.pdf").read_bytes(), dpi=SHEET_DPI)[0])
    assert str(early.outcome) == "denied" and str(early.verdict.reason) == "pass_wrong_day"
    assert "2017-12-05" in early.verdict.note
    # The next local day (the injected clock), yesterday's pass no longer opens the door.
    clock.set(local("2017-12-05T08:00"))
    late = scanner.scan(qr_texts((tmp_path / "today.pdf").read_bytes(), dpi=SHEET_DPI)[0])
    assert str(late.verdict.reason) == "pass_wrong_day"
    assert (tomorrow.first, today.first) == (1, 2)


def test_forged_and_unknown_key_passes_are_denied(westin, icc, tmp_path):
    passes.print_passes(westin, day=DAY, count=1, operator="maria", out=tmp_path / "p.pdf")
    sync(westin, icc, tmp_path / "w.rdb")
    genuine = qr_texts((tmp_path / "p.pdf").read_bytes(), dpi=SHEET_DPI)[0]
    scanner = security_scanner(icc)
    # A made-up key: the key id is nobody's.
    thief = Ed25519PrivateKey.generate()
    made_up = domain.sign_pass(
        domain.PassClaims(
            tokens.event_tag(westin.config.code), tokens.key_id_for(tokens.public_key_raw(thief)), DAY, 1
        ),
        thief,
    )
    assert str(scanner.scan(made_up).verdict.reason) == "unknown_key"
    # The desk's key id with another key's signature: forged.
    forged = domain.sign_pass(domain.PassClaims(tokens.event_tag(westin.config.code), westin.key_id, DAY, 7), thief)
    assert str(scanner.scan(forged).verdict.reason) == "forged"
    # A genuine pass with its day edited (re-encoded): the signature no longer holds.
    raw = bytearray(tokens._unb32(genuine))
    raw[12] = 5
    assert str(scanner.scan(tokens._b32(bytes(raw))).verdict.reason) == "forged"
    assert str(scanner.scan(genuine).outcome) == "temporary"


def test_assign_then_scan_shows_the_name_and_void_denies(westin, icc, tmp_path, clock):
    run = passes.print_passes(westin, day=DAY, count=2, operator="maria", out=tmp_path / "p.pdf")
    texts = qr_texts((tmp_path / "p.pdf").read_bytes(), dpi=SHEET_DPI)
    by_number = {
        domain.read_pass(
            t, event_code=westin.config.code, public_keys={westin.key_id: tokens.public_key_raw(westin.signing_key)}
        ).claims.number: t
        for t in texts
    }
    assigned = passes.assign_pass(
        westin, "tp-1", "CH-2", operator="clerk", document_type="passport", document_number="X9876543"
    )
    assert assigned.serial == f"TP{domain.desk_mark(westin.key_id)}0001" and assigned.name == "Anna Keller"
    with pytest.raises(passes.PassError, match="already assigned"):
        passes.assign_pass(
            westin, "TP-0001", "CH-1", operator="clerk", document_type="passport", document_number="X9876543"
        )
    with pytest.raises(passes.PassError, match="never printed"):
        passes.assign_pass(westin, "99", "CH-1", operator="clerk", document_type="passport", document_number="X9876543")
    with pytest.raises(passes.PassError, match="Assigning a temporary pass is done at"):
        passes.assign_pass(icc, "1", "CH-1", operator="maria", document_type="passport", document_number="X98765")
    passes.void_pass(westin, f"{run.last}", operator="maria", reason="spoilt in the printer")
    sync(westin, icc, tmp_path / "w.rdb")
    scanner = security_scanner(icc)
    result = scanner.scan(by_number[1])
    assert str(result.outcome) == "temporary"
    assert result.verdict.note == "TEMPORARY PASS - assigned to Anna Keller - check ID"
    assert result.holder.participant_id == "CH-2" and result.as_json()["accreditation_id"] == "CH-2"
    voided = scanner.scan(by_number[2])
    assert str(voided.verdict.reason) == "pass_voided" and str(voided.outcome) == "denied"
    # Only the last 4 characters of the document are kept.
    with westin.sessions() as session:
        from sqlalchemy import select

        from regdesk.store.models import EventRow

        payload = json.loads(
            session.execute(select(EventRow.payload).where(EventRow.kind == "pass_assigned")).scalar_one()
        )
    assert payload["document_last4"] == "6543" and "X9876543" not in json.dumps(payload)


def test_only_a_supervisor_prints_passes(westin, icc, tmp_path):
    with pytest.raises(passes.PassError, match="only for a supervisor"):
        passes.print_passes(westin, day=DAY, count=1, operator="clerk", out=tmp_path / "x.pdf")
    with pytest.raises(passes.PassError, match="is done at a registration desk"):
        passes.print_passes(icc, day=DAY, count=1, operator="maria", out=tmp_path / "x.pdf")
    with pytest.raises(passes.PassError, match="not a meeting day"):
        passes.print_passes(westin, day=date(2017, 12, 9), count=1, operator="maria", out=tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()


def test_a_forged_print_run_from_a_bus_station_is_refused_at_merge(westin, icc, tmp_path):
    """A stolen bus laptop writes a passes_printed into its own (authentic) chain: a bus station may
    not make it, so the merge refuses the bundle, changes nothing and alerts the supervisors."""
    bus = make_station(tmp_path, "Melia bus", "bus", icc.clock)
    try:
        with bus.transaction() as session:
            eventlog.append(
                session,
                station_id=bus.station_id,
                operator="bruno",
                operator_role="marshal",
                kind="passes_printed",
                payload={"day": "2017-12-04", "first": 1, "last": 500, "key_id": westin.key_id},
                at=bus.clock.now(),
            )
        path = tmp_path / "bus.rdb"
        bundles.export_bundle(bus, path)
        before = len(alerts(westin))
        refused_bundle(westin, path, "a bus station may not record passes_printed")
        assert len(alerts(westin)) == before + 1
        assert passes.station_stock(westin) == []
        with pytest.raises(Exception, match="may not"):  # regdesk itself never writes it
            with bus.transaction() as session:
                bus.record(
                    session,
                    "passes_printed",
                    {"day": "2017-12-04", "first": 1, "last": 2, "key_id": westin.key_id},
                    "bruno",
                )
    finally:
        bus.close()


def test_a_clerk_cannot_record_a_print_run_even_on_a_desk(westin):
    with pytest.raises(Exception, match="may not record passes_printed"):
        with westin.transaction() as session:
            westin.record(
                session,
                "passes_printed",
                {"day": "2017-12-04", "first": 1, "last": 2, "key_id": westin.key_id},
                "clerk",
            )


def test_an_assigned_pass_counts_as_the_persons_badge_for_the_day_in_the_quota(tmp_path, clock):
    """1 + 3: a delegation's head holds a badge, two members badges; a pass assigned to a fourth member
    takes the last place today, so a fifth member gets neither a badge nor a pass today."""
    desk_station = make_station(tmp_path, "Westin desk 1", "desk", clock)
    try:
        seed_participants(
            desk_station,
            [
                participant_row("CH-1", "Muster", "Hans", role="head"),
                *[participant_row(f"CH-{n}", f"Member{n}", "Anna") for n in range(2, 7)],
            ],
        )
        for pid in ("CH-1", "CH-2", "CH-3"):
            issue(desk_station, pid)
        passes.print_passes(desk_station, day=DAY, count=3, operator="maria", out=tmp_path / "p.pdf")
        passes.assign_pass(
            desk_station, "1", "CH-4", operator="clerk", document_type="passport", document_number="AB123456"
        )
        with pytest.raises(passes.PassError, match="4 of its 4 places"):
            passes.assign_pass(
                desk_station, "2", "CH-5", operator="clerk", document_type="passport", document_number="AB123457"
            )
        from regdesk.services import desk

        with pytest.raises(desk.IssueRefused) as refused:
            issue(desk_station, "CH-5")
        assert str(refused.value.refusal) == "quota_reached"
        # CH-4 holds today's place: their own badge is not refused by the quota (same person).
        assert issue(desk_station, "CH-4").participant_id == "CH-4"
        # Tomorrow the pass no longer holds a place: but CH-4 now has a badge, so still full.
        stock = passes.station_stock(desk_station)
        assert [s.as_json() for s in stock] == [
            {"day": "2017-12-04", "printed": 3, "assigned": 1, "voided": 0, "unused": 2}
        ]
    finally:
        desk_station.close()


def test_a_pass_for_tomorrow_does_not_hold_a_place_today(tmp_path, clock):
    desk_station = make_station(tmp_path, "Westin desk 1", "desk", clock)
    try:
        seed_participants(
            desk_station,
            [
                participant_row("CH-1", "Muster", "Hans", role="head"),
                *[participant_row(f"CH-{n}", f"M{n}", "A") for n in range(2, 6)],
            ],
        )
        for pid in ("CH-1", "CH-2", "CH-3"):
            issue(desk_station, pid)
        passes.print_passes(
            desk_station, day=DAY + timedelta(days=1), count=1, operator="maria", out=tmp_path / "p.pdf"
        )
        passes.assign_pass(
            desk_station, "1", "CH-4", operator="clerk", document_type="passport", document_number="AB123456"
        )
        assert issue(desk_station, "CH-5").participant_id == "CH-5"  # today CH-4's pass takes no place
    finally:
        desk_station.close()


def test_tallies_reconcile_printed_assigned_voided_unused(westin, icc, tmp_path):
    passes.print_passes(westin, day=DAY, count=5, operator="maria", out=tmp_path / "a.pdf")
    passes.print_passes(westin, day=DAY + timedelta(days=1), count=2, operator="maria", out=tmp_path / "b.pdf")
    passes.assign_pass(westin, "1", "CH-1", operator="clerk", document_type="passport", document_number="12345")
    passes.assign_pass(westin, "2", "CH-2", operator="clerk", document_type="national_id", document_number="99887")
    passes.void_pass(westin, "3", operator="maria", reason="lost by the runner")
    passes.void_pass(westin, "2", operator="maria", reason="holder got a badge")
    sync(westin, icc, tmp_path / "w.rdb")  # the same on every station that synced
    for station in (westin, icc):
        assert [s.as_json() for s in passes.station_stock(station)] == [
            {"day": "2017-12-04", "printed": 5, "assigned": 1, "voided": 2, "unused": 2},
            {"day": "2017-12-05", "printed": 2, "assigned": 0, "voided": 0, "unused": 2},
        ]


def test_events_in_any_order_give_the_same_stock(westin, tmp_path):
    """An assignment or a void may arrive before its print run (sync order): rebuilding agrees."""
    from regdesk.store import projections

    passes.print_passes(westin, day=DAY, count=3, operator="maria", out=tmp_path / "a.pdf")
    passes.assign_pass(westin, "1", "CH-1", operator="clerk", document_type="passport", document_number="12345")
    passes.void_pass(westin, "2", operator="maria", reason="spoilt")
    before = passes.station_stock(westin)
    with westin.transaction() as session:
        from sqlalchemy import select

        from regdesk.store.eventlog import to_event
        from regdesk.store.models import EventRow, TemporaryPass

        events = [to_event(r) for r in session.execute(select(EventRow)).scalars()]
        session.query(TemporaryPass).delete()
        for event in reversed(events):
            projections.apply(session, event)
    assert passes.station_stock(westin) == before


def test_pass_serials_typed_any_way():
    for typed in ("TP-0012", "tp12", "12", " 0012 ", "TP0012"):
        assert domain.normalise_pass_serial(typed) == "TP0012"
    for typed in ("TP-KQX-0012", "kqx12", "KQX-0012", "tpkqx0012"):
        assert domain.normalise_pass_serial(typed) == "TPKQX0012"
    assert domain.normalise_pass_serial("TPX-12") == "TPTPX0012"  # a mark that starts with TP, typed bare
    for bad in ("", "TP", "ABCD-EFGH", "0", "123456", "１２", "TP-AB-12", "KQXY12"):
        assert domain.normalise_pass_serial(bad) is None


def test_tallies_export_report_and_audit_show_the_pass_stock(westin, icc, tmp_path):
    from regdesk.services import audit, exports, tallies

    run = passes.print_passes(westin, day=DAY, count=4, operator="maria", out=tmp_path / "a.pdf")
    passes.assign_pass(westin, "1", "CH-1", operator="clerk", document_type="passport", document_number="P7654321")
    passes.void_pass(westin, "4", operator="maria", reason="spoilt in the printer")
    sync(westin, icc, tmp_path / "w.rdb")
    security_scanner(icc).scan(qr_texts((tmp_path / "a.pdf").read_bytes(), dpi=SHEET_DPI)[0])
    sync(icc, westin, tmp_path / "i.rdb")
    day = tallies.day_tallies(westin, DAY)
    [row] = day.temporary_passes
    assert (row.printed, row.assigned, row.voided, row.unused) == (4, 1, 1, 2)
    assert day.security.entries == 1  # a pass entry counts as an entry
    assert tallies.day_tallies(westin, date(2017, 12, 5)).temporary_passes == ()
    exports.export_tallies(westin, tmp_path / "out", [DAY], formats=("csv", "pdf"))
    text = (tmp_path / "out" / "temporary_passes.csv").read_text(encoding="utf-8")
    assert "2017-12-04,4,1,1,2" in text
    report = next((tmp_path / "out").glob("*.pdf")).read_bytes()
    page_text = "".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(report))
    assert "4 printed, 1 assigned, 1 voided, 2 unused" in page_text
    summaries = [r.summary for r in audit.list_audit(westin, audit.AuditFilter(text="TP"), viewer_role="supervisor")]
    summaries += [r.summary for r in audit.list_audit(westin, None, viewer_role="supervisor")]
    assert any(
        s.startswith(
            f"4 temporary passes printed for 2017-12-04: TP-{run.mark}-0001 to TP-{run.mark}-0004 (key {run.key_id})"
        )
        for s in summaries
    )
    assert any(
        f"Temporary pass TP-{run.mark}-0001 (2017-12-04) assigned to CH-1" in s and "4321" in s and "P765" not in s
        for s in summaries
    )
    assert any(s == f"Temporary pass TP-{run.mark}-0004 voided: \u201cspoilt in the printer\u201d" for s in summaries)
    assert any(
        "TEMPORARY (temporary_pass" in s or f"TEMPORARY (pass_assigned), temporary pass TP-{run.mark}-0001" in s
        for s in summaries
    )


def test_a_pass_boards_a_bus_once_per_departure(westin, tmp_path, clock):
    from regdesk.services.scanning import Scanner, ScanPoint

    passes.print_passes(westin, day=DAY, count=1, operator="maria", out=tmp_path / "p.pdf")
    token = qr_texts((tmp_path / "p.pdf").read_bytes(), dpi=SHEET_DPI)[0]
    bus = make_station(tmp_path, "Westin stop", "bus", clock)
    try:
        sync(westin, bus, tmp_path / "w.rdb")
        scanner = Scanner(bus, "bruno", ScanPoint("bus", "WES", "to_icc"))
        first = scanner.scan(token)
        assert str(first.outcome) == "temporary" and first.headcount == 1
        clock.advance(minutes=5)  # past the repeat window: still aboard this departure
        again = scanner.scan(token)
        assert str(again.outcome) == "repeat" and again.headcount == 1
        scanner.close()
        # A restarted lane remembers who is aboard, passes included.
        restarted = Scanner(bus, "bruno", ScanPoint("bus", "WES", "to_icc"))
        assert restarted.headcount == 1 and str(restarted.scan(token).outcome) == "repeat"
        restarted.close()
    finally:
        bus.close()


def test_a_station_from_before_passes_gains_the_table_and_prints(westin, tmp_path, clock):
    """Schema migration _v6_passes on a v5 station database (made before temporary passes)."""
    import sqlite3

    from regdesk.services import integrity
    from regdesk.services.station import open_station

    data_dir = westin.data_dir
    westin.close()
    con = sqlite3.connect(data_dir / "station.db")
    with con:
        con.execute("DROP TABLE temporary_passes")
        con.execute("PRAGMA user_version = 5")
    con.close()
    station = open_station(data_dir, clock=clock)
    try:
        passes.print_passes(station, day=DAY, count=2, operator="maria", out=tmp_path / "p.pdf")
        passes.assign_pass(station, "1", "CH-1", operator="clerk", document_type="passport", document_number="4821")
        assert [s.as_json() for s in passes.station_stock(station)] == [
            {"day": "2017-12-04", "printed": 2, "assigned": 1, "voided": 0, "unused": 1}
        ]
        assert integrity.check_station(station.data_dir).problems == []
    finally:
        station.close()
