"""Scan points as a guard and a marshal live them: what to do after a denial, a bus over capacity, a
departure left open overnight, the posted timetable, and a fresh bus station finding its stop."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from scan_helpers import copy_log, prepared_desk, scan_station
from sqlalchemy import select

from conftest import EVENT_TOML, local, participant_row, seed_participants
from regdesk import cli
from regdesk.config import ConfigError, Place, parse_event_config
from regdesk.domain.events import EventKind
from regdesk.domain.verdict import REASON_ACTION, Outcome, Reason
from regdesk.domain.words import noun, plural
from regdesk.services import desk, scanning, tallies
from regdesk.services.station import open_station
from regdesk.store.models import EventRow, Scan

pytestmark = pytest.mark.xdist_group("scanning")


@pytest.fixture
def badges(desk_station):
    return prepared_desk(desk_station)


def small_bus_event(tmp_path, capacity: int) -> object:
    path = tmp_path / "small-bus.toml"
    path.write_text(EVENT_TOML.read_text().replace("bus_capacity = 45", f"bus_capacity = {capacity}"))
    return path


def closed_departures(station) -> list[dict]:
    with station.sessions() as s:
        rows = s.execute(
            select(EventRow.payload).where(EventRow.kind == EventKind.DEPARTURE_CLOSED).order_by(EventRow.local_order)
        ).scalars()
        return [json.loads(p) for p in rows]


def boardings(station) -> list[tuple[str, str, str]]:
    with station.sessions() as s:
        return [
            (r.local_day, r.departure, r.participant_id)
            for r in s.execute(
                select(Scan).where(Scan.point_kind == "bus", Scan.counted.is_(True)).order_by(Scan.scanned_at)
            ).scalars()
        ]


# --- words ---------------------------------------------------------------------------------------


def test_plural_agrees_with_the_count():
    assert plural(1, "entry", "entries") == "1 entry"
    assert plural(0, "entry", "entries") == "0 entries"
    assert plural(2, "badge") == "2 badges"
    assert plural(1234, "person", "people") == "1,234 people"
    assert noun(1, "bus", "buses") == "bus" and noun(3, "bus", "buses") == "buses"


# --- denials say what to do ----------------------------------------------------------------------


def test_every_denial_reason_tells_the_guard_what_to_do(tmp_path, desk_station, clock, badges):
    # Every reason a scan can be denied for has a next step; valid scans and repeats have none.
    denials = [r for r in Reason if r not in (Reason.VALID, Reason.REPEAT)]
    assert set(REASON_ACTION) == set(denials)

    security = scan_station(tmp_path, desk_station, clock, "security", "ICC main 1")
    scanning.configure_point(security, scanning.ScanPoint("security", "ICC-MAIN"))
    clock.set(local("2017-12-04T08:40"))
    config = security.config
    old = badges["CH-1"]
    desk.record_identity_check(desk_station, "CH-1", "passport", "X1234567", "ana")
    desk.issue_badge(desk_station, "CH-1", operator="ana", replace=True)
    seed_participants(
        desk_station,
        [participant_row("XX-W", "Gone", "Someone", delegation="Nowhere", status="withdrawn")],
        revision="2017-12-03T00:00:00Z",
    )
    copy_log(desk_station, security)
    scanner = scanning.Scanner(security, "sam")
    tampered = old.token[:-6] + ("A" if old.token[-6] != "A" else "B") + old.token[-5:]
    steps = {}
    for raw in (old.token, badges["XX-W"].token, "HELLO-WORLD", tampered):
        result = scanner.scan(raw)
        assert result.outcome is Outcome.DENIED
        steps[str(result.verdict.reason)] = scanning.next_step(config, result)
    assert "Keep this old badge" in steps["revoked"]
    assert "the UN Registration Centre at the Westin" in steps["revoked"]  # where to send them
    assert "Keep the badge and call the supervisor" in steps["withdrawn"]
    assert steps["unreadable"].startswith("Scan again") and "F2 manual entry" in steps["unreadable"]
    assert "call the supervisor" in steps["forged"] and "Do not admit" in steps["forged"]

    clock.set(local("2017-12-07T09:00"))  # the day after the meeting
    late = scanner.scan(badges["JP-1"].token)
    assert late.verdict.reason == "not_valid_today"
    assert scanning.next_step(config, late) == "Do not admit today. Give the badge back: it is valid on 4\u20136 Dec"
    clock.set(local("2017-12-04T10:00"))
    assert scanning.next_step(config, scanner.scan(badges["NGO-7"].token)) == ""  # valid: nothing to do
    security.close()


# --- bus over capacity ---------------------------------------------------------------------------


def test_boarding_over_capacity_is_recorded_and_flagged(tmp_path, desk_station, clock, badges, monkeypatch, capsys):
    bus = scan_station(tmp_path, desk_station, clock, "bus", "Westin stop", small_bus_event(tmp_path, 2))
    clock.set(local("2017-12-04T07:40"))
    scanning.configure_point(bus, scanning.ScanPoint("bus", "WES", "to_icc"))
    marshal = scanning.Scanner(bus, "bruno")
    results = [marshal.scan(badges[pid].token) for pid in ("CH-1", "MX-1", "JP-1")]
    assert [(r.headcount, r.over_capacity) for r in results] == [(1, False), (2, False), (3, True)]
    over = results[-1]
    assert over.outcome is Outcome.VALID and over.counted  # the boarding is recorded all the same
    assert over.as_json()["over_capacity"] is True and results[0].as_json()["over_capacity"] is False
    assert len(boardings(bus)) == 3
    assert scanning.over_capacity_bell(bus)  # rings by default on a bus station
    bus.set_setting(scanning.SETTING_OVER_CAPACITY_BELL, "0")
    assert not scanning.over_capacity_bell(bus)
    marshal.close()
    bus.close()

    monkeypatch.setattr("sys.stdin", io.StringIO(badges["NGO-7"].token + "\n"))
    monkeypatch.setenv("REGDESK_PIN", "4444")  # bruno, the demo marshal
    assert (
        cli.main(
            [
                "--data-dir",
                str(bus.data_dir),
                "scan",
                "--operator",
                "bruno",
                "--clock",
                "2017-12-04T07:41",
                "--over-capacity-bell",
                "on",
            ]
        )
        == 0
    )
    line = capsys.readouterr().out
    assert "OVER CAPACITY 4/2" in line and line.startswith("VALID")
    reopened = open_station(bus.data_dir)
    assert scanning.over_capacity_bell(reopened)  # saved: on again
    reopened.close()


# --- departures belong to a local day ------------------------------------------------------------


def test_a_departure_left_open_is_closed_at_the_day_change(tmp_path, desk_station, clock, badges):
    bus = scan_station(tmp_path, desk_station, clock, "bus", "ICC buses")
    clock.set(local("2017-12-04T18:40"))
    scanning.configure_point(bus, scanning.ScanPoint("bus", "ICC", "to_hotel"))
    marshal = scanning.Scanner(bus, "bruno")
    marshal.set_departure(bus="8", time="18:45")
    yesterday = marshal.departure
    assert marshal.scan(badges["CH-1"].token).headcount == 1
    # Nobody closes Bus 8. The lane stays on overnight; at 07:50 next morning the first person boards.
    clock.set(local("2017-12-05T07:50"))
    first = marshal.scan(badges["MX-1"].token)
    assert first.headcount == 1 and first.departure.id != yesterday.id  # not "ON BOARD 2/45" on Bus 8
    assert first.departure.local_day(bus.config) == date(2017, 12, 5)
    [closed] = closed_departures(bus)
    assert (closed["departure"], closed["local_day"], closed["headcount"], closed["closed_by"]) == (
        yesterday.id,
        "2017-12-04",
        1,
        "day_change",
    )
    assert marshal.closed_at_day_change == yesterday  # the screen tells the marshal

    # The report counts each departure on its own day, Bus 8 closed on 4 Dec.
    day4, day5 = tallies.all_days(bus, [date(2017, 12, 4), date(2017, 12, 5)])
    assert [(d.departure, d.headcount, d.closed, d.bus) for d in day4.departures] == [(yesterday.id, 1, True, "8")]
    assert [d.departure for d in day5.departures] == [first.departure.id]
    assert yesterday.id not in {d.departure for d in day5.departures}
    marshal.close()
    bus.close()


def test_an_idle_lane_or_a_restart_closes_yesterdays_departure_before_any_scan(tmp_path, desk_station, clock, badges):
    bus = scan_station(tmp_path, desk_station, clock, "bus", "Melia bus stop")
    clock.set(local("2017-12-04T08:05"))
    marshal = scanning.Scanner(bus, "bruno", scanning.ScanPoint("bus", "MEL", "to_icc"))
    scanning.configure_point(bus, marshal.point)
    marshal.scan(badges["JP-1"].token)
    open_yesterday = marshal.departure
    clock.set(local("2017-12-05T06:30"))
    assert marshal.roll_day() == open_yesterday  # the TUI calls this while the lane is idle
    assert marshal.headcount == 0 and marshal.roll_day() is None
    marshal.close()

    # Another day, the terminal restarted (a rehearsal clock restarts with each run): same rule.
    reopened = scanning.Scanner(bus, "bruno")
    marshal_day = reopened.departure.local_day(bus.config)
    clock.set(local("2017-12-06T07:00"))
    restarted = scanning.Scanner(bus, "bruno")
    assert restarted.headcount == 0 and restarted.departure.local_day(bus.config) == date(2017, 12, 6)
    assert marshal_day == date(2017, 12, 5)
    assert [c["local_day"] for c in closed_departures(bus)] == ["2017-12-04", "2017-12-05"]
    restarted.close()
    reopened.close()
    bus.close()


# --- the timetable -------------------------------------------------------------------------------


def test_departures_follow_the_posted_timetable(tmp_path, desk_station, clock, badges):
    bus = scan_station(tmp_path, desk_station, clock, "bus", "Westin stop")
    clock.set(local("2017-12-04T07:40"))
    point = scanning.ScanPoint("bus", "WES", "to_icc")
    scanning.configure_point(bus, point)
    assert [d.time for d in scanning.timetable(bus, point)] == ["07:15", "07:45", "08:15", "08:45", "09:15"]
    marshal = scanning.Scanner(bus, "bruno")
    assert marshal.departure.time == "07:45"  # the next posted departure (07:15 left 25 minutes ago)
    marshal.set_departure(bus="3", time=marshal.departure.time)
    following = marshal.close_departure()
    assert (following.time, following.bus) == ("08:15", "4")  # the next one is proposed when a bus closes
    icc = scanning.ScanPoint("bus", "ICC", "to_hotel")
    evening = scanning.timetable(bus, icc)
    assert [(d.time, d.route) for d in evening[:2]] == [
        ("18:15", "Westin, Marriott"),
        ("18:20", "Melia, Velas Vallarta"),
    ]
    assert scanning.timetable(bus, point, date(2017, 12, 7)) == ()  # no buses after the meeting
    marshal.close()
    bus.close()


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        ('stop = "MEL"', 'stop = "HILTON"', "bus.departures[1].stop", "unknown stop 'HILTON'"),
        (
            'stop = "WES"\ndirection = "to_venue"',
            'stop = "WES"\ndirection = "north"',
            "bus.departures[0].direction",
            "to_venue or to_hotel",
        ),
        ('"07:15", "07:45"', '"07:15", "7h45"', "bus.departures[0].times[1]", "HH:MM"),
        ('"07:10", "07:40"', '"07:10", "25:40"', "bus.departures[1].times[1]", "HH:MM"),
        ('times = ["07:20"', 'days = ["5 Dec"]\ntimes = ["07:20"', "bus.departures[3].days[0]", "YYYY-MM-DD"),
    ],
)
def test_timetable_mistakes_name_the_key(old, new, key, words):
    text = EVENT_TOML.read_text()
    assert old in text
    with pytest.raises(ConfigError) as err:
        parse_event_config(text.replace(old, new, 1), "event.toml")
    assert err.value.key == key and words in str(err.value)


# --- a fresh bus station finds its stop ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "spec"),
    [
        ("Melia bus stop", "bus:MEL:to_venue"),
        ("Bus VELAS VALLARTA 2", "bus:VEL:to_venue"),
        ("ICC buses", "bus:ICC:to_hotel"),
        ("Marriott", "bus:MAR:to_venue"),
        ("Bus marshal 3", "bus:WES:to_venue"),
    ],
)
def test_a_bus_station_proposes_the_stop_its_name_mentions(tmp_path, clock, name, spec):
    from sync_helpers import make_station

    station = make_station(tmp_path, name, "bus", clock)
    assert scanning.propose_point(station).spec == spec
    assert scanning.default_point(station).spec == spec
    station.close()


# --- directions are generic; the first meeting's "to_icc" still reads -------------------------------


def _legacy_event_text() -> str:
    """An event file as regdesk wrote them before directions were generic: "to_icc", no [bus.venue_stop]."""
    text = EVENT_TOML.read_text().replace('direction = "to_venue"', 'direction = "to_icc"')
    start = text.index("[bus.venue_stop]")
    return text[:start] + text[text.index("\n\n", start) + 2 :]


def test_legacy_to_icc_is_read_as_to_venue_wherever_it_arrives(tmp_path, desk_station, clock):
    assert scanning.parse_point("bus:WES:to_icc", desk_station.config).direction == "to_venue"  # CLI, settings
    assert scanning.ScanPoint("bus", "WES", "to_icc") == scanning.ScanPoint("bus", "WES", "to_venue")
    old = parse_event_config(_legacy_event_text(), "event.toml")  # a station's saved event file
    assert {d.direction for d in old.bus_schedule} == {"to_venue", "to_hotel"}
    assert old.venue_stop.code == "ICC" and old.bus_stops[-1].name == "ICC (convention centre)"
    assert old.bus_schedule == parse_event_config(EVENT_TOML.read_text(), "event.toml").bus_schedule
    bus = scan_station(tmp_path, desk_station, clock, "bus", "Westin stop")
    clock.set(local("2017-12-04T07:40"))
    bus.set_setting(scanning.SETTING_POINT, "bus:WES:to_icc")  # saved by an older regdesk
    bus.set_setting(
        scanning.SETTING_DEPARTURE,
        json.dumps(
            {
                "id": "2017-12-04 07:45 bus 3 #ab12",
                "stop": "WES",
                "direction": "to_icc",
                "bus": "3",
                "time": "07:45",
                "opened_at": "2017-12-04T13:40:00.000000Z",
            }
        ),
    )
    assert scanning.configured_point(bus) == scanning.ScanPoint("bus", "WES", "to_venue")
    assert scanning.current_departure(bus).direction == "to_venue"
    marshal = scanning.Scanner(bus, "bruno")
    assert marshal.departure.id == "2017-12-04 07:45 bus 3 #ab12"  # the saved departure goes on, not a new one
    marshal.close()
    bus.close()


def test_the_venue_stop_and_its_words_come_from_the_event_file(tmp_path):
    text = EVENT_TOML.read_text().replace(
        'code = "ICC"\nname = "ICC (convention centre)"\nshort = "ICC"',
        'code = "PVCC"\nname = "Convention centre"\nshort = "centre"',
    )
    text = text.replace('stop = "ICC"', 'stop = "PVCC"')
    config = parse_event_config(text, "event.toml")
    assert config.bus_stops[-1] == Place("PVCC", "Convention centre")
    assert scanning.ScanPoint("bus", "WES", "to_venue").label(config) == "Bus stop Westin, to centre"
    assert scanning.ScanPoint("bus", "PVCC", "to_hotel").label(config) == "Bus stop Convention centre, to hotel"
    with pytest.raises(ConfigError) as err:
        parse_event_config(text.replace('code = "PVCC"', 'code = "WES"'), "event.toml")
    assert err.value.key == "bus.venue_stop.code"
