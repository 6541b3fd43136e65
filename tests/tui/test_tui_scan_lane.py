"""The security and bus lanes as a guard and a marshal use them, at 80x24 and 200x60, through the real
app: an unmistakable OVER CAPACITY, yesterday's bus closed at the day change, what to do after a denial,
the recent scans, the first sign-in at a bus stop, the timetable, and a Ctrl+Q that asks first."""

from __future__ import annotations

import json

import pytest
from scan_helpers import post_keys, prepared_desk, scan_station, wait_for
from sqlalchemy import select
from textual.widgets import Static

from conftest import EVENT_TOML, local
from regdesk.domain.events import EventKind
from regdesk.services import scanning
from regdesk.store.models import EventRow, Scan
from regdesk.tui.app import make_app
from regdesk.tui.dialogs.confirm import ConfirmDialog
from regdesk.tui.dialogs.scan_point import DepartureDialog
from regdesk.tui.screens.bus import BusScreen
from regdesk.tui.screens.security import SecurityScreen
from regdesk.tui.widgets.recent_scans import RecentScans
from regdesk.tui.widgets.scan_input import ScanInput
from regdesk.tui.widgets.verdict_panel import VerdictPanel

pytestmark = pytest.mark.xdist_group("tui_scan")

SMALL = (80, 24)
LARGE = (200, 60)


@pytest.fixture
def badges(desk_station):
    return prepared_desk(desk_station)


def small_bus_event(tmp_path, capacity: int):
    path = tmp_path / "small-bus.toml"
    path.write_text(EVENT_TOML.read_text().replace("bus_capacity = 45", f"bus_capacity = {capacity}"))
    return path


async def ready(pilot, cls):
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, cls) and app.screen.scanner_info, "the scan screen")
    return app.screen


def text(widget) -> str:
    return str(widget.render()) if not isinstance(widget, Static) else str(widget.content)


def visible(app, widget) -> bool:
    """Shown on the terminal in full: displayed, with a region inside the screen."""
    region = widget.region
    width, height = app.size
    return bool(widget.display and region.width and region.height and region.right <= width and region.bottom <= height)


async def all_visible(pilot, screen, *selectors: str) -> None:
    """Wait until every widget is laid out inside the terminal (fails if one never is). A selector
    `verdict:LINE` names a line of the verdict panel, which must be shown in full inside it."""
    for selector in selectors:
        if selector.startswith("verdict:"):
            panel, line = screen.query_one(VerdictPanel), selector.removeprefix("verdict:")
            await wait_for(
                pilot,
                lambda line=line, panel=panel: visible(pilot.app, panel) and panel.line_region(line) is not None,
                f"the verdict's {line} in view",
            )
            continue
        widget = screen.query_one(selector)
        await wait_for(pilot, lambda w=widget: visible(pilot.app, w), f"{selector} in view")


def assert_header_clock_whole(app) -> None:
    clock = app.screen.query_one("#status-clock", Static)
    shown = str(clock.content)
    assert visible(app, clock) and clock.region.width >= len(shown), f"the clock {shown!r} is cut"


def painted_panel(app, panel: VerdictPanel) -> str:
    """The verdict panel as the terminal shows it, one line per row."""
    strips = app.screen._compositor.render_strips()  # noqa: SLF001 - the frame as painted
    inner = panel.content_region
    return "\n".join(strip.crop(inner.x, inner.right).text for strip in strips[inner.y : inner.bottom])


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_each_verdict_shows_its_own_holder_with_nothing_left_of_the_one_before(
    tmp_path, desk_station, clock, badges, size
):
    # The panel repaints only the rows that change when the colour stays: a row it failed to repaint
    # would show the previous holder's name beside the new holder's delegation.
    security = scan_station(tmp_path, desk_station, clock, "security", "ICC main 1")
    clock.set(local("2017-12-04T08:40"))
    app = make_app(security, operator="sam")
    people = {"JP-1": "Yamada Taro", "MX-1": "Gómez Camacho", "NGO-7": "Okafor", "CH-1": "Muster"}
    delegations = {"JP-1": "Japan", "MX-1": "Mexico", "NGO-7": "Migrant Forum", "CH-1": "Switzerland"}
    async with app.run_test(size=size) as pilot:
        screen = await ready(pilot, SecurityScreen)
        screen.hold_seconds = 60
        panel = screen.query_one(VerdictPanel)
        steps = [
            ("JP-1", "valid", "Entry 1 today"),
            ("MX-1", "valid", "Entry 1 today"),
            ("MX-1", "repeat", "1 entry today"),
            ("NGO-7", "valid", "Entry 1 today"),
            ("CH-1", "valid", "Entry 1 today"),
        ]
        for n, (who, state, detail) in enumerate(steps, start=1):
            post_keys(app, badges[who].token + "\r")
            await wait_for(pilot, lambda n=n: len(screen.results) == n, f"verdict {n}")

            def shows_only_its_holder(who=who, detail=detail) -> bool:
                shown = painted_panel(app, panel)
                others = [name for key, name in people.items() if key != who]
                return (
                    people[who] in shown
                    and delegations[who] in shown
                    and detail in shown
                    and not any(name in shown for name in others)
                    and not any(d in shown for key, d in delegations.items() if key != who)
                )

            await wait_for(pilot, shows_only_its_holder, f"verdict {n} painted alone: {painted_panel(app, panel)}")
            assert panel.state == state
    security.close()


# --- over capacity ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_a_boarding_over_capacity_is_orange_says_so_and_rings(tmp_path, desk_station, clock, badges, size):
    bus = scan_station(tmp_path, desk_station, clock, "bus", "Westin stop", small_bus_event(tmp_path, 2))
    clock.set(local("2017-12-04T07:40"))
    scanning.configure_point(bus, scanning.ScanPoint("bus", "WES", "to_icc"))
    app = make_app(bus, operator="bruno")
    bells = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=size) as pilot:
        screen = await ready(pilot, BusScreen)
        screen.hold_seconds = 60  # the verdict must stay up while the test reads it
        post_keys(app, badges["CH-1"].token + "\r" + badges["MX-1"].token + "\r")
        await wait_for(pilot, lambda: len(screen.results) == 2, "two boardings")
        panel = screen.query_one(VerdictPanel)
        assert panel.state == "valid" and bells == []
        post_keys(app, badges["JP-1"].token + "\r")
        await wait_for(pilot, lambda: len(screen.results) == 3, "the third boarding")
        assert panel.state == "over" and panel.has_class("-over") and not panel.has_class("-valid")
        assert "█" in panel.title_text  # OVER CAPACITY in block letters, even at 80 columns
        assert panel.view.title == "OVER CAPACITY"
        assert panel.view.reason.startswith("OVER CAPACITY \u2013 3/2: boarding recorded")
        assert "Close this departure now (F4)" in panel.view.action
        assert bells == [1]
        headcount = screen.query_one("#headcount", Static)
        assert "3 / 2" in text(headcount) and "OVER CAPACITY by 1 person" in text(headcount)
        await all_visible(
            pilot, screen, "verdict:title", "verdict:reason", "verdict:action", "#headcount", "#recent-scans"
        )
        assert screen.query_one(RecentScans).items[0].verdict == "OVER CAP."
        assert_header_clock_whole(app)

        bus.set_setting(scanning.SETTING_OVER_CAPACITY_BELL, "0")  # a marshal who finds the bell too much
        post_keys(app, badges["NGO-7"].token + "\r")
        await wait_for(pilot, lambda: len(screen.results) == 4, "the fourth boarding")
        assert panel.state == "over" and bells == [1]
    with bus.sessions() as s:
        counted = s.execute(select(Scan.counted).where(Scan.point_kind == "bus")).scalars().all()
    assert counted == [True, True, True, True]  # every boarding was recorded
    bus.close()


# --- a departure left open overnight ---------------------------------------------------------------


async def test_yesterdays_open_bus_is_closed_when_the_day_changes(tmp_path, desk_station, clock, badges):
    bus = scan_station(tmp_path, desk_station, clock, "bus", "ICC buses")
    clock.set(local("2017-12-04T18:40"))
    scanning.configure_point(bus, scanning.ScanPoint("bus", "ICC", "to_hotel"))
    app = make_app(bus, operator="bruno")
    notes = []
    app.notify = lambda message, **kw: notes.append(message)
    async with app.run_test(size=SMALL) as pilot:
        screen = await ready(pilot, BusScreen)
        post_keys(app, badges["CH-1"].token + "\r")
        await wait_for(pilot, lambda: screen.headcount == 1, "the boarding")
        yesterday = screen.scanner_info["departure"]
        assert "18:45" in text(screen.query_one("#point-line"))  # the next posted departure
        clock.set(local("2017-12-05T06:30"))  # nobody closed it; the lane stays on all night
        await wait_for(pilot, lambda: screen.scanner_info["departure"].id != yesterday.id, "the day change")
        assert screen.headcount == 0 and "ON BOARD  0 / 45" in text(screen.query_one("#headcount"))
        assert any("left open: closed at the day change" in n and "1 person on board" in n for n in notes)
    with bus.sessions() as s:
        payload = json.loads(
            s.execute(select(EventRow.payload).where(EventRow.kind == EventKind.DEPARTURE_CLOSED)).scalar_one()
        )
    assert (payload["departure"], payload["local_day"], payload["closed_by"]) == (
        yesterday.id,
        "2017-12-04",
        "day_change",
    )
    bus.close()


# --- security: what to do, recent scans, plurals -----------------------------------------------------


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_a_denial_says_what_to_do_and_the_recent_scans_stay_listed(tmp_path, desk_station, clock, badges, size):
    security = scan_station(tmp_path, desk_station, clock, "security", "ICC main 1")
    clock.set(local("2017-12-04T08:40"))
    app = make_app(security, operator="sam")
    async with app.run_test(size=size) as pilot:
        screen = await ready(pilot, SecurityScreen)
        screen.hold_seconds = 60
        panel = screen.query_one(VerdictPanel)
        post_keys(app, badges["MX-1"].token + "\r")
        await wait_for(pilot, lambda: len(screen.results) == 1, "the first verdict")
        assert panel.view.detail == "Entry 1 today" and panel.view.action == ""
        post_keys(app, badges["MX-1"].token + "\r")
        await wait_for(pilot, lambda: len(screen.results) == 2, "the repeat")
        assert panel.state == "repeat" and panel.view.detail == "1 entry today"  # not "1 entries today"
        post_keys(app, "HELLO-WORLD\r")
        await wait_for(pilot, lambda: len(screen.results) == 3, "the denial")
        assert panel.state == "denied"
        assert panel.view.action.startswith("Scan again") and "F2 manual entry" in panel.view.action
        await all_visible(pilot, screen, "verdict:title", "verdict:reason", "verdict:action", "#recent-scans", "#scan")
        recent = screen.query_one(RecentScans)
        assert [(r.verdict, r.name) for r in recent.items] == [
            ("DENIED", ""),
            ("REPEAT", "María Guadalupe Alejandra Gómez Camacho de la Fuente"),
            ("VALID", "María Guadalupe Alejandra Gómez Camacho de la Fuente"),
        ]
        assert recent.items[0].time == "08:40:00"
        assert isinstance(app.focused, ScanInput)
        assert_header_clock_whole(app)
        if size == LARGE:  # room enough: the list stands next to the verdict, not under it
            assert recent.region.x > panel.region.x and recent.region.y == panel.region.y
    security.close()


# --- quitting --------------------------------------------------------------------------------------


async def test_ctrl_q_at_a_lane_asks_first_and_the_footer_says_how_to_quit(tmp_path, desk_station, clock, badges):
    security = scan_station(tmp_path, desk_station, clock, "security", "ICC main 1")
    app = make_app(security, operator="sam")
    async with app.run_test(size=SMALL) as pilot:
        screen = await ready(pilot, SecurityScreen)
        shown = {key: b.binding for key, b in screen.active_bindings.items() if b.binding.show}
        assert shown["ctrl+q"].description == "Quit"
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question")
        assert "sign out instead (F8)" in app.screen.text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, "back to the lane")
        assert app.is_running and isinstance(app.focused, ScanInput)
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the question again")
        await pilot.click("#confirm-yes")
        await wait_for(pilot, lambda: not app.is_running, "the app to quit")
    security.close()


# --- bus stop set-up and the timetable ----------------------------------------------------------------


async def test_a_fresh_bus_station_asks_its_stop_and_takes_the_next_posted_departure(
    tmp_path, desk_station, clock, badges
):
    bus = scan_station(tmp_path, desk_station, clock, "bus", "Melia bus stop")
    clock.set(local("2017-12-04T07:32"))
    assert scanning.configured_point(bus) is None
    app = make_app(bus, operator="bruno")
    async with app.run_test(size=SMALL) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, DepartureDialog), "the stop question")
        dialog = app.screen
        assert dialog.query_one("#dep-stop").value == "MEL"  # not "Westin, to ICC"
        assert dialog.query_one("#dep-direction").value == "to_venue"
        timetable = dialog.query_one("#dep-timetable")
        assert timetable.option_count == 5 and timetable.highlighted == 1  # 07:40 (07:10 left long ago)
        await all_visible(pilot, dialog, "#dep-timetable", "#dep-ok", "#dep-cancel")
        await pilot.press("enter")  # one key takes the proposed departure
        screen = await ready(pilot, BusScreen)
        assert "Bus stop Melia, to ICC" in text(screen.query_one("#point-line"))
        assert screen.scanner_info["departure"].time == "07:40"

        await pilot.press("f3")
        await wait_for(pilot, lambda: isinstance(app.screen, DepartureDialog), "the departure dialog")
        await pilot.press("3")  # the third posted departure, one key
        await wait_for(pilot, lambda: screen.scanner_info["departure"].time == "08:10", "departure 08:10")

        await pilot.press("f4")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmDialog), "the close question")
        assert "The next departure, 08:40 on the timetable, opens at once." in app.screen.text
        await pilot.click("#confirm-yes")
        await wait_for(pilot, lambda: screen.scanner_info["departure"].time == "08:40", "the next departure")
    assert bus.setting(scanning.SETTING_POINT) == "bus:MEL:to_venue"
    bus.close()
