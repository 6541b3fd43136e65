"""Scan points end to end: real badges issued by a desk, a security / bus station that learned the
desk's public key and mirror the way sync will deliver them, and every verdict the officer can see."""

from __future__ import annotations

import io
import json

import pytest
from meeting import SUPERVISOR_SECRET, init_station, transfer
from sqlalchemy import select

from conftest import EVENT_TOML, local, participant_row, seed_participants
from regdesk import cli
from regdesk.domain.events import EventKind
from regdesk.services import desk, scanning
from regdesk.store.models import EventRow, Scan

pytestmark = pytest.mark.xdist_group("scanning")


def sync(source, target) -> int:
    """What services/sync.py will do: copy every event of `source` into `target` (set union)."""
    return transfer(source, target)


def issue(station, pid, **kw):
    desk.record_identity_check(station, pid, "passport", "X1234567", "clerk")
    return desk.issue_badge(station, pid, operator="clerk", **kw)


@pytest.fixture
def world(tmp_path, clock, desk_station):
    seed_participants(
        desk_station,
        [
            participant_row("CH-1", "Muster", "Hans", delegation="Switzerland", role="head"),
            participant_row("CH-2", "Keller", "Anna", delegation="Switzerland"),
            participant_row("JP-1", "山田", "太郎", family_latin="Yamada", given_latin="Taro", delegation="Japan"),
            participant_row("NGO-7", "Okafor", "Ngozi", category="NGO", delegation="Migrant Forum"),
            participant_row("UN-3", "Silva", "Ana", category="UN", delegation="IOM"),
        ],
    )
    badges = {pid: issue(desk_station, pid) for pid in ("CH-1", "CH-2", "JP-1", "NGO-7", "UN-3")}
    security = init_station(tmp_path / "sec", EVENT_TOML, role="security", name="ICC main 1", clock=clock)
    sync(desk_station, security)
    clock.set(local("2017-12-04T08:40"))
    yield desk_station, security, badges
    security.close()


@pytest.fixture
def scanner(world):
    _, security, _ = world
    scanning.configure_point(security, scanning.parse_point("security:ICC-MAIN", security.config))
    return scanning.Scanner(security, "sam")


def scans(station) -> list[Scan]:
    with station.sessions() as s:
        return list(s.execute(select(Scan).order_by(Scan.scanned_at)).scalars())


def payloads(station) -> list[dict]:
    with station.sessions() as s:
        rows = s.execute(
            select(EventRow.payload).where(EventRow.kind == EventKind.SCAN_RECORDED).order_by(EventRow.local_order)
        ).scalars()
        return [json.loads(p) for p in rows]


def test_valid_badge_names_the_holder_and_is_recorded(world, scanner):
    _, security, badges = world
    result = scanner.scan(badges["JP-1"].token + "\r")
    assert (result.outcome, result.verdict.reason) == ("valid", "valid")
    assert result.holder.name == "山田太郎" and result.holder.name_latin == "Yamada Taro"
    assert result.holder.delegation == "Japan" and result.holder.category_name == "Member State"
    assert result.holder.category_colour == "#1F4E9C"
    assert result.entries_today == 1 and result.serial == badges["JP-1"].serial
    [row] = scans(security)
    assert (row.verdict, row.reason, row.counted, row.point, row.local_day) == (
        "valid",
        "valid",
        True,
        "ICC-MAIN",
        "2017-12-04",
    )
    [payload] = payloads(security)
    assert payload["raw"] == badges["JP-1"].token  # the CR is a control character: stripped
    assert payload["holder_in_mirror"] is True


def test_every_denial_reason_from_real_tokens(world, scanner, tmp_path, clock):
    desk_station, security, badges = world
    results = {}
    results["unreadable"] = scanner.scan("hello, I am not a badge")
    token = badges["CH-1"].token
    results["forged"] = scanner.scan(token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:])

    # A badge from another event (its own desk and event config) and one from a desk we never synced.
    other_event = tmp_path / "other.toml"
    other_event.write_text(EVENT_TOML.read_text().replace('code = "GCM-PV-2017"', 'code = "COP-99"'))
    clock.set(local("2017-12-01T14:00"))
    foreign = init_station(tmp_path / "cop", other_event, role="desk", clock=clock)
    unsynced = init_station(tmp_path / "desk2", EVENT_TOML, role="desk", clock=clock)
    for station in (foreign, unsynced):
        seed_participants(station, [participant_row("CH-1", "Muster", "Hans")])
    foreign_badge, unsynced_badge = issue(foreign, "CH-1"), issue(unsynced, "CH-1")
    # (The other event's events never merge here: its stations are not enrolled in this meeting.)
    # The desk replaces CH-2's lost badge; the withdrawal of NGO-7 arrives in a newer export.
    clock.set(local("2017-12-03T09:00"))
    issue(desk_station, "CH-2", replace=True)
    seed_participants(
        desk_station,
        [participant_row("NGO-7", "Okafor", "Ngozi", category="NGO", delegation="Migrant Forum", status="withdrawn")],
        revision="2017-12-03T08:00:00Z",
    )
    sync(desk_station, security)
    results["not_valid_today"] = scanner.scan(badges["UN-3"].token)  # 3 Dec: the day before the meeting
    clock.set(local("2017-12-04T08:45"))
    results["wrong_event"] = scanner.scan(foreign_badge.token)
    results["unknown_key"] = scanner.scan(unsynced_badge.token)
    results["revoked"] = scanner.scan(badges["CH-2"].token)
    results["withdrawn"] = scanner.scan(badges["NGO-7"].token)
    clock.set(local("2017-12-07T08:45"))
    late = scanner.scan(badges["UN-3"].token)

    for reason, result in results.items():
        assert (result.outcome, str(result.verdict.reason)) == ("denied", reason), reason
        assert not result.counted
    assert (late.outcome, late.verdict.reason) == ("denied", "not_valid_today")
    assert results["revoked"].holder.name == "Anna Keller"  # who the old badge belonged to
    assert "replaced" in results["revoked"].verdict.text
    assert results["forged"].serial == "" and results["forged"].holder is None  # nothing from a bad token
    recorded = {(r.verdict, r.reason) for r in scans(security)}
    assert recorded == {("denied", reason) for reason in results}


def test_repeat_within_window_is_shown_not_counted_and_reentry_counts(world, scanner, clock):
    _, security, badges = world
    token = badges["CH-1"].token
    first = scanner.scan(token)
    clock.advance(seconds=3)
    again = scanner.scan(token)
    assert (again.outcome, again.verdict.reason, again.counted) == ("repeat", "repeat", False)
    assert again.entries_today == 1
    clock.advance(hours=2)  # lunch outside, back in: re-entry is normal
    back = scanner.scan(token)
    assert back.outcome == "valid" and back.entries_today == 2
    assert [(r.verdict, r.counted) for r in scans(security)] == [("valid", True), ("repeat", False), ("valid", True)]
    assert first.entries_today == 1


def test_repeat_is_known_after_a_restart(world, scanner, clock):
    _, security, badges = world
    scanner.scan(badges["CH-1"].token)
    clock.advance(seconds=2)
    restarted = scanning.Scanner(security, "sam")  # the saved point, an empty in-memory cache
    assert restarted.point.spec == "security:ICC-MAIN"
    assert restarted.scan(badges["CH-1"].token).outcome == "repeat"


def test_repeat_is_per_point(world, scanner, clock):
    _, security, badges = world
    side = scanning.Scanner(security, "sam", scanning.parse_point("security:icc-side", security.config))
    assert scanner.scan(badges["CH-1"].token).outcome == "valid"
    clock.advance(seconds=1)
    assert side.scan(badges["CH-1"].token).outcome == "valid"


def test_valid_badge_missing_from_stale_mirror_is_valid_and_says_so(world, tmp_path, clock):
    desk_station, _, _ = world
    fresh = init_station(tmp_path / "fresh", EVENT_TOML, role="security", clock=clock)
    sync(desk_station, fresh)  # it knows the desk's key, then loses touch
    clock.set(local("2017-12-03T10:00"))
    seed_participants(
        desk_station,
        [participant_row("LATE-1", "Newcomer", "Nora", delegation="Chile")],
        revision="2017-12-03T09:00:00Z",
    )
    late = issue(desk_station, "LATE-1")
    clock.set(local("2017-12-04T08:00"))
    result = scanning.Scanner(fresh, "sam", scanning.ScanPoint("security", "ICC-MAIN")).scan(late.token)
    assert result.outcome == "valid" and not result.holder_in_mirror
    assert "not in this station's list" in result.verdict.note
    assert result.as_json()["badge_serial"] == late.serial
    fresh.close()


def test_garbled_input_still_decodes(world, scanner, clock):
    _, _, badges = world
    token = badges["UN-3"].token
    azerty = token.translate(
        str.maketrans(
            {
                "2": "é",
                "3": '"',
                "4": "'",
                "5": "(",
                "6": "-",
                "7": "è",
                "A": "Q",
                "Q": "A",
                "Z": "W",
                "W": "Z",
                "M": "?",
            }
        )
    )
    for garbled in (token.lower() + "\n", token.swapcase() + "\t", azerty + "\r"):
        clock.advance(seconds=30)
        assert scanner.scan(garbled).outcome == "valid", garbled


def test_raw_input_is_bounded_and_stripped_of_control_characters(world, scanner):
    _, security, _ = world
    result = scanner.scan("\x1b[2J" + "Z" * 5000 + "\x00\r")
    assert result.verdict.reason == "unreadable"
    [payload] = payloads(security)
    assert len(payload["raw"]) == 200 and payload["raw"].startswith("[2JZZ")
    assert not any(ord(ch) < 32 for ch in payload["raw"])


def test_new_desk_key_arriving_by_sync_is_picked_up_without_restart(world, scanner, tmp_path, clock):
    _, security, _ = world
    clock.set(local("2017-12-02T10:00"))
    desk2 = init_station(tmp_path / "desk2", EVENT_TOML, role="desk", clock=clock)
    seed_participants(desk2, [participant_row("MX-1", "López", "Lucía", category="HC", delegation="Mexico")])
    badge = issue(desk2, "MX-1")
    clock.set(local("2017-12-04T09:00"))
    assert scanner.scan(badge.token).verdict.reason == "unknown_key"
    sync(desk2, security)
    clock.advance(seconds=1)
    result = scanner.scan(badge.token)
    assert result.outcome == "valid" and result.holder.name == "Lucía López"
    desk2.close()


def test_manual_entry_needs_a_supervisor_pin_and_is_recorded_as_manual(world, scanner):
    desk_station, security, badges = world
    sync(desk_station, security)
    with pytest.raises(scanning.ScanError, match="PIN"):
        scanner.manual("CH-1", supervisor="maria", pin="0000")
    result = scanner.manual("CH-1", supervisor="maria", pin=SUPERVISOR_SECRET, note="QR torn")
    assert result.outcome == "valid" and result.manual and result.serial == badges["CH-1"].serial
    [row] = scans(security)
    assert row.manual and row.counted and row.participant_id == "CH-1"
    [payload] = payloads(security)
    assert payload["supervisor"] == "maria" and payload["manual_note"] == "QR torn"


def test_point_and_role_mistakes_are_explained(world):
    _, security, _ = world
    with pytest.raises(scanning.ScanError, match="ICC-MAIN, ICC-SIDE"):
        scanning.parse_point("security:back-door", security.config)
    with pytest.raises(scanning.ScanError, match="to_venue or to_hotel"):
        scanning.parse_point("bus:WES:sideways", security.config)
    with pytest.raises(scanning.ScanError, match="--role bus"):
        scanning.Scanner(security, "sam", scanning.parse_point("bus:Westin:to_icc", security.config))


# --- bus boarding ------------------------------------------------------------------------------


@pytest.fixture
def bus_station(world, tmp_path, clock):
    desk_station, _, _ = world
    bus = init_station(tmp_path / "bus", EVENT_TOML, role="bus", name="Westin stop", clock=clock)
    sync(desk_station, bus)
    yield bus
    bus.close()


def test_bus_headcount_capacity_and_closing_a_departure(world, bus_station, clock):
    _, _, badges = world
    point = scanning.parse_point("bus:westin:to_icc", bus_station.config)
    scanning.configure_point(bus_station, point)
    marshal = scanning.Scanner(bus_station, "bruno")
    marshal.set_departure(bus="12", time="7:30")
    assert marshal.departure.label == "Bus 12 at 07:30"
    counts = []
    for pid in ("CH-1", "CH-2", "JP-1"):
        clock.advance(seconds=5)
        counts.append(marshal.scan(badges[pid].token).headcount)
    assert counts == [1, 2, 3]
    clock.advance(minutes=2)  # scanned again on the same bus: not a second boarding
    again = marshal.scan(badges["CH-1"].token)
    assert again.outcome == "repeat" and again.headcount == 3 and "Already boarded" in again.verdict.note
    assert marshal.scan("garbage").headcount == 3

    # A restarted marshal terminal keeps the open departure and its headcount.
    marshal = scanning.Scanner(bus_station, "bruno")
    assert marshal.headcount == 3 and marshal.departure.bus == "12"
    closed = marshal.departure
    following = marshal.close_departure()
    assert following.bus == "13" and following.id != closed.id and marshal.headcount == 0
    with bus_station.sessions() as s:
        row = s.execute(select(EventRow).where(EventRow.kind == EventKind.DEPARTURE_CLOSED)).scalar_one()
    closed_payload = json.loads(row.payload)
    assert (closed_payload["departure"], closed_payload["headcount"], closed_payload["bus"]) == (closed.id, 3, "12")
    clock.advance(minutes=1)
    assert marshal.scan(badges["CH-1"].token).headcount == 1  # boards the next bus: counted there
    boarded = [(r.departure, r.participant_id) for r in scans(bus_station) if r.counted]
    assert boarded[-1] == (following.id, "CH-1") and len(boarded) == 4


def test_bus_at_the_icc_stop_reports_point_departure_and_capacity(world, bus_station, clock):
    _, _, badges = world
    scanning.configure_point(bus_station, scanning.ScanPoint("bus", "ICC", "to_hotel"))
    marshal = scanning.Scanner(bus_station, "bruno")
    out = marshal.scan(badges["CH-1"].token).as_json()
    assert (out["point"], out["headcount"], out["capacity"]) == ("bus:ICC:to_hotel", 1, 45)
    assert out["departure"] == marshal.departure.id and out["bus"] == ""


# --- CLI ---------------------------------------------------------------------------------------


def test_cli_scan_reads_lines_and_writes_json_lines(world, monkeypatch, capsys):
    _, security, badges = world
    security.close()
    lines = [badges["CH-1"].token, badges["CH-1"].token, "", "not-a-badge", badges["JP-1"].token.lower()]
    monkeypatch.setenv("REGDESK_PIN", "3333")
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    code = cli.main(
        [
            "--data-dir",
            str(security.data_dir),
            "scan",
            "--operator",
            "sam",
            "--point",
            "security:ICC-MAIN",
            "--clock",
            "2017-12-04T08:30",
            "--json",
        ]
    )
    assert code == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(o["verdict"], o["reason"]) for o in out] == [
        ("valid", "valid"),
        ("repeat", "repeat"),
        ("denied", "unreadable"),
        ("valid", "valid"),
    ]
    assert out[0]["badge_serial"] == badges["CH-1"].serial and out[0]["name"] == "Hans Muster"
    assert out[2]["badge_serial"] is None and out[2]["name"] is None
    assert out[3]["name"] == "山田太郎" and out[3]["local_day"] == "2017-12-04"


def test_cli_scan_refuses_a_point_that_does_not_exist(world, monkeypatch, capsys):
    _, security, _ = world
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = cli.main(
        ["--data-dir", str(security.data_dir), "scan", "--operator", "sam", "--point", "security:Nowhere", "--json"]
    )
    assert code == 2
    assert "unknown checkpoint 'Nowhere'" in capsys.readouterr().err


def test_first_failing_check_wins_and_repeat_never_softens_a_denial():
    from datetime import date

    from regdesk.domain.verdict import ScanFacts, decide

    meeting = (date(2017, 12, 4), date(2017, 12, 5), date(2017, 12, 6))
    base = dict(
        token_problem=None,
        revoked=False,
        holder_in_mirror=True,
        holder_status="accredited",
        local_day=date(2017, 12, 4),
        valid_days=meeting,
        recent_same_point=False,
    )
    assert decide(ScanFacts(**{**base, "token_problem": "forged", "revoked": True})).reason == "forged"
    assert decide(ScanFacts(**{**base, "revoked": True, "holder_status": "withdrawn"})).reason == "revoked"
    assert (
        decide(ScanFacts(**{**base, "holder_status": "withdrawn", "local_day": date(2017, 12, 7)})).reason
        == "withdrawn"
    )
    assert decide(ScanFacts(**{**base, "revoked": True, "recent_same_point": True})).outcome == "denied"
    late_repeat = decide(ScanFacts(**{**base, "local_day": date(2017, 12, 7), "recent_same_point": True}))
    assert late_repeat.reason == "not_valid_today"
    # A holder the mirror does not know yet cannot be "withdrawn": the signature decides.
    stale = decide(ScanFacts(**{**base, "holder_in_mirror": False, "holder_status": ""}))
    assert stale.outcome == "valid" and stale.note


def test_cli_bus_boarding_sets_the_departure(world, bus_station, monkeypatch, capsys):
    _, _, badges = world
    bus_station.close()
    monkeypatch.setenv("REGDESK_PIN", "4444")
    monkeypatch.setattr("sys.stdin", io.StringIO(badges["CH-1"].token + "\n" + badges["JP-1"].token + "\n"))
    code = cli.main(
        [
            "--data-dir",
            str(bus_station.data_dir),
            "scan",
            "--operator",
            "bruno",
            "--point",
            "bus:VEL:to_icc",
            "--bus",
            "4",
            "--departure-time",
            "08:05",
            "--clock",
            "2017-12-05T07:50",
            "--json",
        ]
    )
    assert code == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(o["verdict"], o["headcount"], o["bus"], o["departure_time"]) for o in out] == [
        ("valid", 1, "4", "08:05"),
        ("valid", 2, "4", "08:05"),
    ]
    # The legacy direction on the command line is read as the generic one.
    assert out[0]["point"] == "bus:VEL:to_venue" and out[0]["capacity"] == 45
