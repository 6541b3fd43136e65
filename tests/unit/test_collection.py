"""Collection by a focal point: several members' badges at once, on the authority of a letter,
after the collector's own identity check; the 1 + 3 rule across the batch."""

from __future__ import annotations

import io
import json
import sys

import pytest
from meeting import EVENT_TOML, init_station, secret_of, transfer
from sqlalchemy import select

from conftest import local, participant_row, seed_participants
from regdesk.cli import main
from regdesk.domain.events import EventKind
from regdesk.services import collection, desk, integrity, scanning
from regdesk.store.models import Badge, BadgeDelivery, EventRow, IdentityCheck

LETTER = "NV 123/2017 of the Permanent Mission of Benin"
PASSPORT = collection.CollectorCheck("passport", "4821")


@pytest.fixture
def benin(desk_station):
    """A Member State delegation (quota 4, one place kept for the head): head BJ-1, members BJ-2..BJ-5."""
    seed_participants(
        desk_station,
        [
            participant_row("BJ-1", "Gagné", "Clémence", delegation="Benin", role="head"),
            *[participant_row(f"BJ-{i}", f"Member{i}", "Benin", delegation="Benin") for i in range(2, 6)],
            participant_row("CH-1", "Lauber", "Jürg", delegation="Switzerland", role="head"),
            participant_row("BJ-W", "Gone", "Someone", delegation="Benin", status="withdrawn"),
        ],
    )
    return desk_station


def batch(station, members, collector="BJ-5", **kw):
    return collection.issue_batch(
        station,
        members,
        collector_id=collector,
        authorisation=LETTER,
        check=kw.pop("check", PASSPORT),
        operator="ana",
        **kw,
    )


def events(station, kind) -> list[dict]:
    with station.sessions() as s:
        return [
            json.loads(p)
            for p in s.execute(
                select(EventRow.payload).where(EventRow.kind == kind).order_by(EventRow.local_order)
            ).scalars()
        ]


def badges(station) -> dict[str, Badge]:
    with station.sessions() as s:
        return {b.participant_id: b for b in s.execute(select(Badge)).scalars()}


def test_a_focal_point_collects_for_the_head_and_two_members(benin):
    result = batch(benin, ["BJ-2", "BJ-1", "BJ-3"])
    assert [o.participant_id for o in result.issued] == ["BJ-1", "BJ-2", "BJ-3"]  # the head first
    assert result.refused == () and result.delegation == "Benin"
    [check] = events(benin, EventKind.IDENTITY_CHECKED)
    assert (check["participant_id"], check["document_type"], check["document_last4"]) == ("BJ-5", "passport", "4821")
    issued = events(benin, EventKind.BADGE_ISSUED)
    assert {p["participant_id"] for p in issued} == {"BJ-1", "BJ-2", "BJ-3"}
    assert all(p["collected_by"] == "BJ-5" and p["authorisation"] == LETTER and p["collector_check"] for p in issued)
    held = badges(benin)
    assert {pid: (b.collected_by, b.authorisation) for pid, b in held.items()} == {
        pid: ("BJ-5", LETTER) for pid in ("BJ-1", "BJ-2", "BJ-3")
    }
    # The projection agrees with a rebuild from the log.
    assert integrity.check_station(benin.data_dir).ok


def test_one_plus_three_holds_across_the_batch_and_the_batch_is_refused_whole(benin):
    with pytest.raises(collection.BatchRefused) as refused:
        batch(benin, ["BJ-2", "BJ-3", "BJ-4", "BJ-5"])
    outcomes = {o.participant_id: o for o in refused.value.outcomes}
    assert [pid for pid, o in outcomes.items() if not o.issued] == ["BJ-5"]  # the 4th would take the head's place
    assert outcomes["BJ-5"].refusal == "head_place_reserved"
    assert (
        "Benin has 3 of 4 badges" in outcomes["BJ-5"].message
        and "counting the badges of this batch" in outcomes["BJ-5"].message
    )
    assert "Benin Member5 (BJ-5)" in str(refused.value) and "nothing issued" in str(refused.value)
    assert events(benin, EventKind.BADGE_ISSUED) == [] and events(benin, EventKind.IDENTITY_CHECKED) == []


def test_only_the_members_that_fit_when_asked(benin):
    result = batch(benin, ["BJ-2", "BJ-3", "BJ-4", "BJ-5"], only_fitting=True)
    assert [o.participant_id for o in result.issued] == ["BJ-2", "BJ-3", "BJ-4"]
    assert [(o.participant_id, o.refusal) for o in result.refused] == [("BJ-5", "head_place_reserved")]
    # The head still may take the last place, and BJ-5 still may not.
    result = batch(benin, ["BJ-5", "BJ-1"], collector="BJ-1", only_fitting=True)
    assert [o.participant_id for o in result.issued] == ["BJ-1"]
    assert [(o.participant_id, o.refusal) for o in result.refused] == [("BJ-5", "quota_reached")]


def test_the_head_in_the_batch_lets_three_members_through(benin):
    result = batch(benin, ["BJ-2", "BJ-3", "BJ-4", "BJ-1"], collector="BJ-1")
    assert len(result.issued) == 4
    assert badges(benin)["BJ-1"].collected_by == ""  # the head collected their own badge in person
    assert badges(benin)["BJ-2"].collected_by == "BJ-1"
    with pytest.raises(collection.BatchRefused) as refused:
        batch(benin, ["BJ-5"], collector="BJ-1")
    assert refused.value.outcomes[0].refusal == "quota_reached"


def test_a_member_who_holds_a_badge_is_not_reissued(benin):
    desk.record_identity_check(benin, "BJ-2", "passport", "12345678", "ana")
    desk.issue_badge(benin, "BJ-2", operator="ana")
    with pytest.raises(collection.BatchRefused) as refused:
        batch(benin, ["BJ-2", "BJ-3"])
    assert {o.participant_id: o.refusal for o in refused.value.outcomes} == {"BJ-2": "already_holds_badge", "BJ-3": ""}


def test_mistakes_in_the_request_are_explained(benin):
    with pytest.raises(desk.DeskError, match=r"not in the collector's delegation \(Benin\): CH-1 \(Switzerland\)"):
        batch(benin, ["BJ-2", "CH-1"])
    with pytest.raises(desk.DeskError, match="not on the accreditation list"):
        batch(benin, ["BJ-2"], collector="XX-9")
    with pytest.raises(desk.DeskError, match="withdrawn"):
        batch(benin, ["BJ-2"], collector="BJ-W")
    with pytest.raises(desk.DeskError, match="note verbale"):
        collection.issue_batch(
            benin, ["BJ-2"], collector_id="BJ-5", authorisation=" - ", check=PASSPORT, operator="ana"
        )
    with pytest.raises(desk.DeskError, match="last 4"):
        batch(benin, ["BJ-2"], check=collection.CollectorCheck("passport", "12"))
    with pytest.raises(collection.BatchRefused):
        batch(benin, ["BJ-W"])
    assert events(benin, EventKind.BADGE_ISSUED) == []


def test_collected_badge_scans_valid_and_a_lost_one_is_replaced_as_usual(benin, tmp_path, clock):
    result = batch(benin, ["BJ-1", "BJ-2"])
    serial = {o.participant_id: o.serial for o in result.issued}
    token = badges(benin)["BJ-2"].token
    security = init_station(tmp_path / "sec", EVENT_TOML, role="security", name="ICC main", clock=clock)
    try:
        transfer(benin, security)
        clock.set(local("2017-12-04T08:40"))
        scanning.configure_point(security, scanning.parse_point("security:ICC-MAIN", security.config))
        assert scanning.Scanner(security, "sam").scan(token).verdict.reason == "valid"
    finally:
        security.close()
    # Lost: the member comes in person, shows a document, gets a replacement; the collected one is revoked.
    with pytest.raises(desk.IssueRefused):
        desk.issue_badge(benin, "BJ-2", operator="ana", replace=True)  # the collector's check is not theirs
    desk.record_identity_check(benin, "BJ-2", "passport", "99887766", "ana")
    new = desk.issue_badge(benin, "BJ-2", operator="ana", replace=True)
    assert new.replaced_serial == serial["BJ-2"] and new.issue_no == 2
    assert badges(benin)["BJ-2"].collected_by == ""  # in person this time


def test_print_batch_puts_the_badges_on_one_sheet_and_marks_them_delivered(benin, tmp_path):
    result = batch(benin, ["BJ-1", "BJ-2", "BJ-3"])
    serials = [o.serial for o in result.issued]
    outcome = collection.print_batch(benin, serials, operator="ana", layout="a4-4up", out=tmp_path / "sheet.pdf")
    assert outcome.status == desk.PDF_ONLY and (tmp_path / "sheet.pdf").read_bytes().startswith(b"%PDF")
    with benin.sessions() as s:
        assert set(s.execute(select(BadgeDelivery.serial)).scalars()) == set(serials)


# --- the command line ---------------------------------------------------------------------------------


def run(monkeypatch, capsys, *argv) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setenv("REGDESK_PIN", secret_of("ana"))
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_issues_a_batch_collected_by_a_focal_point(benin, tmp_path, monkeypatch, capsys):
    base = ("--data-dir", benin.data_dir, "--clock", "2017-12-01T14:00")
    code, out, _ = run(
        monkeypatch,
        capsys,
        *base,
        "issue",
        "BJ-1",
        "BJ-2",
        "--collector",
        "BJ-5",
        "--authorisation",
        LETTER,
        "--id-check",
        "passport:AB123456",
        "--operator",
        "ana",
        "--out",
        tmp_path / "batch.pdf",
        "--json",
    )
    assert code == 0
    data = json.loads(out)
    assert [m["accreditation_id"] for m in data["issued"]] == ["BJ-1", "BJ-2"] and data["refused"] == []
    assert data["collector"] == "BJ-5" and data["authorisation"] == LETTER and data["print_status"] == "pdf_only"
    assert (tmp_path / "batch.pdf").exists()
    with benin.sessions() as s:
        check = s.execute(select(IdentityCheck).where(IdentityCheck.participant_id == "BJ-5")).scalar_one()
    assert (check.document_type, check.document_last4) == ("passport", "3456")


def test_cli_refuses_a_batch_that_breaks_one_plus_three(benin, monkeypatch, capsys):
    base = ("--data-dir", benin.data_dir, "--clock", "2017-12-01T14:00")
    argv = (
        *base,
        "issue",
        "BJ-2",
        "BJ-3",
        "BJ-4",
        "BJ-5",
        "--collector",
        "BJ-5",
        "--authorisation",
        LETTER,
        "--id-check",
        "passport:4821",
        "--operator",
        "ana",
        "--no-print",
    )
    code, out, _ = run(monkeypatch, capsys, *argv)
    assert code == 3 and "NOT ISSUED" in out and "BJ-5 Benin Member5: Benin has 3 of 4 badges" in out
    code, out, _ = run(monkeypatch, capsys, *argv, "--json")
    data = json.loads(out)
    assert code == 3 and data["reason"] == "batch_refused"
    assert [(m["accreditation_id"], m["fits"]) for m in data["members"]] == [
        ("BJ-2", True),
        ("BJ-3", True),
        ("BJ-4", True),
        ("BJ-5", False),
    ]
    code, out, _ = run(monkeypatch, capsys, *argv, "--skip-refused", "--json")
    assert code == 0 and [m["accreditation_id"] for m in json.loads(out)["refused"]] == ["BJ-5"]


def test_cli_batch_needs_collector_letter_and_check(benin, monkeypatch, capsys):
    base = ("--data-dir", benin.data_dir)
    code, _, err = run(monkeypatch, capsys, *base, "issue", "BJ-1", "BJ-2", "--operator", "ana")
    assert code != 0 and "--collector" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(monkeypatch, capsys, *base, "issue", "BJ-1", "--collector", "BJ-5", "--operator", "ana")
    assert code != 0 and "--authorisation and --id-check" in err


def test_tallies_audit_and_export_show_proxy_collections(benin, tmp_path, clock):
    from datetime import date

    from regdesk.services import audit, exports, tallies

    batch(benin, ["BJ-1", "BJ-2", "BJ-3"])
    desk.record_identity_check(benin, "CH-1", "passport", "55554444", "ana")
    desk.issue_badge(benin, "CH-1", operator="ana")  # in person: not a proxy collection
    day = tallies.day_tallies(benin, date(2017, 12, 1))
    assert (day.badges.issued, day.badges.by_proxy, day.badges.by_proxy_cum) == (4, 3, 3)
    [row] = day.proxy_collections
    assert (row.collector_id, row.collector_name, row.delegation, row.authorisation, row.badges, row.operator) == (
        "BJ-5",
        "Benin Member5",
        "Benin",
        LETTER,
        3,
        "ana",
    )
    later = tallies.day_tallies(benin, date(2017, 12, 4))
    assert (later.badges.by_proxy, later.badges.by_proxy_cum, later.proxy_collections) == (0, 3, ())
    assert tallies.summarise(tallies.all_days(benin)).badges_by_proxy == 3
    rows = audit.list_audit(benin, audit.AuditFilter(kind="badge_issued", text="BJ-2"), viewer_role="supervisor")
    assert rows[0].summary.endswith(f"collected by BJ-5 on the authority of \u201c{LETTER}\u201d")
    exports.export_tallies(benin, tmp_path / "out", [date(2017, 12, 1)], formats=("csv",))
    text = (tmp_path / "out" / "proxy_collections.csv").read_text(encoding="utf-8")
    assert "BJ-5" in text and LETTER in text and ",3," in text
