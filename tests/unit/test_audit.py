"""The supervisors' audit view: every event with station, operator, local time and what it changed."""

from __future__ import annotations

from datetime import date

import pytest
from meeting import init_station, transfer

from conftest import EVENT_TOML, local, participant_row, seed_participants
from regdesk.domain.events import EventKind
from regdesk.domain.token import format_serial
from regdesk.services import audit, desk, operators
from regdesk.store import eventlog

SUP = "supervisor"


@pytest.fixture
def station(desk_station, clock):
    seed_participants(
        desk_station,
        [
            participant_row("MX-1", "López Obrador", "Andrés", delegation="Mexico", category="HC"),
            participant_row("MX-2", "Ruiz", "Ana", delegation="Mexico", category="HC"),
        ],
    )
    clock.set(local("2017-12-01T14:00"))
    desk.record_identity_check(desk_station, "MX-1", "passport", "G12345678", "Carlos Clerk")
    clock.set(local("2017-12-01T14:01"))
    desk_station.badge = desk.issue_badge(desk_station, "MX-1", operator="Carlos Clerk")
    clock.set(local("2017-12-01T23:30"))  # late evening locally: already 2 December in UTC
    desk.record_identity_check(desk_station, "MX-2", "national_id", "ABC-998877", "Ana Night")
    clock.set(local("2017-12-02T09:00"))
    desk.record_identity_check(desk_station, "MX-2", "passport", "Z7654321", "Carlos Clerk")
    return desk_station


def test_only_supervisors_see_the_audit(station):
    for role in ("clerk", "security", "marshal", None):
        with pytest.raises(operators.NotAllowed, match="supervisor"):
            audit.list_audit(station, viewer_role=role)


def test_rows_newest_first_with_local_time_station_operator_and_what_changed(station):
    rows = audit.list_audit(station, viewer_role=SUP)
    assert [r.local_time for r in rows[:4]] == [
        "2017-12-02 09:00:00",
        "2017-12-01 23:30:00",
        "2017-12-01 14:01:00",
        "2017-12-01 14:00:00",
    ]
    issued = rows[2]
    assert (issued.station, issued.operator, issued.kind) == ("Westin desk 1", "Carlos Clerk", "badge_issued")
    assert issued.summary == (
        f"Badge {format_serial(station.badge.serial)} issued to MX-1 (issue 1, key {station.key_id})"
    )
    assert rows[3].summary == "Identity of MX-1 checked: passport ending …5678"
    assert rows[1].summary == "Identity of MX-2 checked: national id ending …8877"
    kinds = {r.kind for r in rows}
    assert {"station_created", "key_published", "operator_added", "accreditation_imported"} <= kinds
    by_kind = {r.kind: r.summary for r in rows}
    assert by_kind["operator_added"].startswith("Operator '") and "(PIN set)" in by_kind["operator_added"]
    assert by_kind["accreditation_imported"] == (
        "Accreditation list imported (test, revision 2017-11-28T00:00:00Z), 2 participants"
    )


def test_no_token_pin_hash_or_whole_document_number_ever_shows(station):
    # An event written by some other part of the system that carries more than it should.
    # (Written to the store directly: no regdesk of this version would record it.)
    with station.transaction() as s:
        eventlog.append(
            s,
            station_id=station.station_id,
            operator="Carlos Clerk",
            operator_role="clerk",
            kind="document_noted",
            at=station.clock.now(),
            payload={
                "participant_id": "MX-2",
                "document_number": "Z7654321",
                "raw": station.badge.token,
                "pin_hash": "scrypt$1$2$3$salt$digest",
            },
        )
    rows = audit.list_audit(station, viewer_role=SUP)
    text = repr([r.as_json() for r in rows])
    assert station.badge.token not in text and station.badge.token[:60] not in text
    assert "scrypt$" not in text and "G12345678" not in text and "Z7654321" not in text
    noted = next(r for r in rows if r.kind == "document_noted")
    assert noted.summary == "document_number=…4321, participant_id=MX-2, raw=[token]"


def test_filters_kind_operator_day_text_and_serial(station):
    def find(line):
        return audit.list_audit(station, audit.parse_filter(line), viewer_role=SUP)

    assert {r.kind for r in find("kind:identity_checked")} == {"identity_checked"}
    assert len(find("kind:identity_checked")) == 3
    assert [r.kind for r in find("kind:badge")] == ["badge_issued"]  # a prefix of a kind
    assert {r.operator for r in find("op:ana")} == {"Ana Night"}
    # Local days: 23:30 on 1 December is 1 December, although it is 2 December in UTC.
    assert [r.local_time for r in find("day:2017-12-01 kind:identity_checked")] == [
        "2017-12-01 23:30:00",
        "2017-12-01 14:00:00",
    ]
    assert [r.local_time for r in find("day:2017-12-02")] == ["2017-12-02 09:00:00"]
    assert {r.participant_id for r in find("MX-2")} >= {"MX-2"}
    assert all("MX-2" in r.summary or r.kind == "accreditation_imported" for r in find("MX-2"))
    typed_serial = format_serial(station.badge.serial).lower()
    assert [r.kind for r in find(typed_serial)] == ["badge_issued"]
    assert find("kind:badge op:nobody") == []
    assert find("100%_") == []  # LIKE wildcards are taken literally


def test_a_serial_of_letters_only_finds_its_badge_not_people_with_similar_names(station, monkeypatch):
    """Serials are base32: some are letters only (FGPW-LYDV) and would read like a name to the search."""
    seed_participants(station, [participant_row("MX-3", "Ruíz", "Ana María", delegation="Mexico", category="HC")])
    desk.record_identity_check(station, "MX-3", "passport", "P1234567", "Carlos Clerk")
    monkeypatch.setattr(desk.tokens, "new_serial", lambda: "FGPWLYDV")
    lettered = desk.issue_badge(station, "MX-3", operator="Carlos Clerk")
    assert lettered.serial == "FGPWLYDV"

    def find(line):
        return audit.list_audit(station, audit.parse_filter(line), viewer_role=SUP)

    for typed in ("fgpw-lydv", "FGPW-LYDV", "fgpwlydv"):
        assert [(r.kind, r.participant_id) for r in find(typed)] == [("badge_issued", "MX-3")], typed
    # A hyphenated name of the same shape is still a name when no badge has it as its serial.
    assert {r.participant_id for r in find("ana-ruiz")} >= {"MX-2"}


def test_filter_by_station_after_sync(station, tmp_path, clock):
    other = init_station(tmp_path / "bus", EVENT_TOML, role="bus", name="Melia bus stop", clock=clock)
    try:
        with other.transaction() as s:
            other.record(
                s,
                EventKind.SCAN_RECORDED,
                {
                    "local_day": "2017-12-04",
                    "point_kind": "bus",
                    "point": "MEL",
                    "direction": "to_icc",
                    "verdict": "denied",
                    "reason": "revoked",
                    "serial": "ABCDEFGH",
                    "participant_id": "MX-9",
                    "counted": True,
                    "manual": False,
                },
                "bruno",
            )
        transfer(other, station)
    finally:
        other.close()
    rows = audit.list_audit(station, audit.parse_filter("station:melia"), viewer_role=SUP)
    assert {r.station for r in rows} == {"Melia bus stop"}
    scan = next(r for r in rows if r.kind == "scan_recorded")
    assert scan.summary == "Bus scan at MEL (to venue): DENIED (revoked), badge ABCD-EFGH of MX-9"  # legacy to_icc
    assert scan.operator == "bruno"


def test_parse_filter_and_its_errors():
    f = audit.parse_filter("kind:badge_issued op:ana station:westin day:2017-12-01 CH 12 foo:bar")
    assert f == audit.AuditFilter(
        kind="badge_issued", operator="ana", station="westin", day=date(2017, 12, 1), text="CH 12 foo:bar"
    )
    assert audit.parse_filter("").is_empty()
    with pytest.raises(audit.AuditError, match="day:YYYY-MM-DD"):
        audit.parse_filter("day:yesterday")


def test_a_big_import_is_summarised_without_listing_its_rows(desk_station):
    rows = [participant_row(f"P-{i}", f"F{i}", "G", category="UN") for i in range(400)]
    seed_participants(desk_station, rows)
    row = audit.list_audit(desk_station, audit.parse_filter("kind:accreditation_imported"), viewer_role=SUP)[0]
    assert row.summary.endswith("400 participants")
    assert "P-399" not in row.summary


def test_paging_never_skips_events_recorded_in_the_same_instant(station):
    everything = audit.list_audit(station, viewer_role=SUP)
    pages, before = [], None
    while True:
        page = audit.list_audit(station, viewer_role=SUP, limit=3, before=before)
        if not page:
            break
        pages.extend(page)
        before = page[-1].cursor
    assert [r.event_id for r in pages] == [r.event_id for r in everything]


def test_an_import_by_the_import_service_reports_its_diff(desk_station, tmp_path):
    from regdesk.services import accreditation

    export = tmp_path / "un-export.csv"
    export.write_text(
        "accreditation_id,family_name,given_names,category,delegation,delegation_role,status\n"
        "MX-1,Ruiz,Ana,HC,Mexico,head,accredited\nMX-2,Pérez,Juan,HC,Mexico,member,accredited\n",
        encoding="utf-8",
    )
    accreditation.import_file(desk_station, export, operator="Carlos Clerk")
    row = audit.list_audit(desk_station, audit.parse_filter("kind:accreditation"), viewer_role=SUP)[0]
    assert row.summary == (
        "Accreditation list imported (un-export.csv, revision 2017-12-01T19:05:00.000000Z): 2 rows in the file, 2 added"
    )
