"""Snapshots (pytest-textual-snapshot) of the security and bus lanes, the supervisor dashboard, the audit
and every dialog of these screens, at 80x24 and 140x45. The SVGs live in tests/tui/__snapshots__/ and are
committed; after a deliberate change of the look, review the report and run
`pytest tests/tui/test_snapshots_scan.py --snapshot-update`.

Deterministic by construction: a fixed station clock, signing keys and badge serials from a counter
(the real ones are random), no cursor blink, verdicts held on screen, and fixed text in the one field
that would show a temporary path."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from scan_helpers import PEOPLE, copy_log, issue_badges, wait_for
from snapshot_steps import Step, lane, ready, runner, scan
from sync_helpers import make_station
from textual.widgets import Input

from conftest import EVENT_TOML, local, seed_participants
from regdesk.services import scanning
from regdesk.tui.app import make_app
from regdesk.tui.dialogs.lock import LockScreen
from regdesk.tui.dialogs.message import MessageDialog
from regdesk.tui.screens.audit import AuditScreen
from regdesk.tui.screens.bus import BusScreen
from regdesk.tui.screens.security import SecurityScreen
from regdesk.tui.screens.supervisor import SupervisorScreen
from regdesk.tui.widgets.keyed_table import KeyedTable

pytestmark = [pytest.mark.xdist_group("snapshots_scan"), pytest.mark.slow, pytest.mark.usefixtures("fixed_randomness")]

SIZES = {"80x24": (80, 24), "140x45": (140, 45)}


@pytest.fixture(params=list(SIZES), ids=list(SIZES))
def size(request) -> tuple[int, int]:
    return SIZES[request.param]


def press(*keys: str, until: Callable | None = None) -> Step:
    async def step(pilot) -> None:
        await pilot.press(*keys)
        if until is not None:
            await wait_for(pilot, lambda: until(pilot.app), f"after {keys}")

    return step


def push(make_screen: Callable) -> Step:
    async def step(pilot) -> None:
        app = pilot.app
        app.push_screen(make_screen(app))
        await wait_for(pilot, lambda: len(app.screen_stack) > 1, "the dialog")

    return step


def modal(app) -> bool:
    return len(app.screen_stack) > 1


# --- security -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["idle", "valid", "denied", "repeat"])
def test_security_lane(snap_compare, scene, size, state):
    security = lane(scene, "security", "ICC main 1", "2017-12-04T08:40")
    b = scene["badges"]
    scans = {
        "idle": [],
        "valid": [b["JP-1"].token, b["MX-1"].token],
        "denied": [b["MX-1"].token, b["CH-1 old"].token],
        "repeat": [b["MX-1"].token, b["MX-1"].token],
    }[state]
    app = make_app(security, operator="sam")
    assert snap_compare(app, terminal_size=size, run_before=runner(ready(SecurityScreen), scan(scans)))
    security.close()


@pytest.mark.parametrize("dialog", ["manual_entry", "checkpoint", "quit", "message", "lock"])
def test_security_lane_dialogs(snap_compare, scene, size, dialog):
    security = lane(scene, "security", "ICC main 1", "2017-12-04T08:40")
    steps = {
        "manual_entry": [
            press("f2", until=modal),
            press(*"okafor"),
            press(until=lambda app: app.screen.query_one("#me-results").option_count == 1),
        ],
        "checkpoint": [press("f3", until=modal)],
        "quit": [press("ctrl+q", until=modal)],
        "message": [
            push(
                lambda app: MessageDialog(
                    "Scan point not ready",
                    "The station database is locked by a backup. Wait a moment, then scan again; nothing was recorded.",
                    error=True,
                )
            )
        ],
        "lock": [push(lambda app: LockScreen(app.station, "sam"))],
    }[dialog]
    app = make_app(security, operator="sam")
    assert snap_compare(app, terminal_size=size, run_before=runner(ready(SecurityScreen), *steps))
    security.close()


# --- bus ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["idle", "valid", "over_capacity", "departure_dialog", "close_departure"])
def test_bus_lane(snap_compare, scene, size, state):
    small_bus = scene["tmp"] / "small-bus.toml"
    small_bus.write_text(EVENT_TOML.read_text().replace("bus_capacity = 45", "bus_capacity = 2"))
    bus = lane(scene, "bus", "Westin stop", "2017-12-04T07:40", small_bus)
    scanning.configure_point(bus, scanning.ScanPoint("bus", "WES", "to_icc"))
    b = scene["badges"]
    steps = {
        "idle": [],
        "valid": [scan([b["MX-1"].token])],
        "over_capacity": [scan([b["CH-1"].token, b["MX-1"].token, b["JP-1"].token])],
        "departure_dialog": [press("f3", until=modal)],
        "close_departure": [scan([b["CH-1"].token]), press("f4", until=modal)],
    }[state]
    app = make_app(bus, operator="bruno")
    assert snap_compare(app, terminal_size=size, run_before=runner(ready(BusScreen), *steps))
    bus.close()


def test_bus_first_sign_in_asks_the_stop(snap_compare, scene, size):
    bus = lane(scene, "bus", "Melia bus stop", "2017-12-04T07:32")
    app = make_app(bus, operator="bruno")
    assert snap_compare(
        app,
        terminal_size=size,
        run_before=runner(press(until=lambda app: modal(app) and app.screen.query_one("#dep-timetable").option_count)),
    )
    bus.close()


# --- supervisor and audit ----------------------------------------------------------------------------


@pytest.fixture
def supervisor(scene):
    """A second desk, offline, issued NGO-7 a second badge: an open conflict waits on the dashboard."""
    clock = scene["clock"]
    clock.set(local("2017-12-04T10:05"))
    desk2 = make_station(scene["tmp"], "Westin desk 2", "desk", clock)
    seed_participants(desk2, PEOPLE)  # the same list, but none of desk 1's badges: the network was down
    issue_badges(desk2, ["NGO-7"])  # the conflict's second side
    station = lane(scene, "supervisor", "Supervisor post", "2017-12-05T09:00")
    copy_log(desk2, station)
    desk2.close()
    security = lane(scene, "security", "ICC main 1", "2017-12-04T09:10")
    scanner = scanning.Scanner(security, "sam", scanning.ScanPoint("security", "ICC-MAIN"))
    for pid in ("MX-1", "JP-1", "CH-1 old"):
        scene["clock"].advance(minutes=7)
        scanner.scan(scene["badges"][pid].token)
    scanner.close()
    copy_log(security, station)
    security.close()
    clock.set(local("2017-12-05T09:00"))
    yield station
    station.close()


def dashboard_ready(pilot):
    app = pilot.app
    return wait_for(
        pilot,
        lambda: (
            isinstance(app.screen, SupervisorScreen)
            and app.screen.query_one("#counters", KeyedTable).row_count
            and app.screen.query_one("#conflict-hint").display
        ),
        "the dashboard",
    )


def fixed_export_path(app) -> bool:
    field = app.screen.query_one("#export-dir", Input)
    field.value = "/srv/regdesk/output/tallies-2017-12-05"
    return True


@pytest.mark.parametrize("view", ["dashboard", "export_dialog", "resolve_conflict", "audit"])
def test_supervisor_screens(snap_compare, supervisor, size, view):
    steps = {
        "dashboard": [],
        "export_dialog": [press("f6", until=modal), press(until=fixed_export_path)],
        "resolve_conflict": [press("ctrl+r", until=modal)],
        "audit": [press("f7", until=lambda app: isinstance(app.screen, AuditScreen) and app.screen.rows)],
    }[view]
    app = make_app(supervisor, operator="maria")
    assert snap_compare(app, terminal_size=size, run_before=runner(dashboard_ready, *steps))
