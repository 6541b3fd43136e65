"""`regdesk tui` draws the sign-in screen before the station is opened, and opens it behind that
screen (services/station_front.py, tui/app.py). What a clerk would notice: the screen is there at
once, a PIN typed before the station has opened still signs in (and only once it has), and a
station that turns out unusable ends the app with one line saying why, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from desk_pilot import sign_in, text_of, wait_until

from regdesk.clock import FixedClock
from regdesk.services.station import StationError, open_station
from regdesk.services.station_front import read_front
from regdesk.tui.app import make_app_opening
from regdesk.tui.screens.desk import DeskScreen
from regdesk.tui.screens.login import LoginScreen
from regdesk.tui.widgets.sync_status import SyncStatusWidget

SIZE = (100, 30)


def _copy(station, tmp_path: Path) -> Path:
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(station.data_dir, folder)
    return folder


def test_the_sign_in_screen_is_drawn_before_the_station_and_its_orm_are_loaded(station, tmp_path):
    """In a fresh interpreter (sys.modules says what was imported): the sign-in screen is up and
    shows the station and the event while the station is held shut; then the clerk signs in."""
    folder = _copy(station, tmp_path)
    script = textwrap.dedent(
        f"""
        import asyncio, json, sys, threading
        from regdesk.domain import credentials
        cheap = credentials.ScryptCost(2**8)  # the hashes of the test's demo station (tests/conftest.py)
        credentials.MIN_COST.update(pin=cheap.n, passphrase=cheap.n)
        from datetime import datetime
        from regdesk.clock import FixedClock
        from regdesk.services.station_front import read_front
        from regdesk.tui.app import make_app_opening
        from regdesk.tui.screens.login import LoginScreen

        folder = {str(folder)!r}
        clock = FixedClock(datetime.fromisoformat("2017-12-01T13:05-06:00"))
        gate = threading.Event()

        def opener():
            gate.wait(60)
            from regdesk.services.station import open_station
            return open_station(folder, clock=clock)

        async def main():
            front = read_front(folder, clock)
            app = make_app_opening(front, opener)
            seen = {{}}
            async with app.run_test(size=(100, 30)) as pilot:
                await pilot.pause(0.2)
                screen = app.screen
                seen["login"] = isinstance(screen, LoginScreen)
                seen["station_line"] = str(screen.query_one("#login-station").content)
                seen["clock_line"] = str(screen.query_one("#login-clock").content)
                seen["orm_loaded_at_sign_in"] = "sqlalchemy" in sys.modules
                seen["ready_before_gate"] = app.station_ready
                gate.set()
                screen.query_one("#login-name").value = ""
                await pilot.click("#login-name")
                await pilot.press(*"ana", "enter", *"1111", "enter")
                for _ in range(400):
                    await pilot.pause(0.05)
                    if type(app.screen).__name__ == "DeskScreen":
                        break
                seen["after_sign_in"] = type(app.screen).__name__
                seen["operator"] = app.operator.name if app.operator else None
            app.close_station()
            print("RESULT " + json.dumps(seen))

        asyncio.run(main())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"the script did not finish: {done.stderr[-2000:]}"
    seen = json.loads(lines[-1][len("RESULT ") :])
    assert seen["login"], seen
    assert "Westin desk 1" in seen["station_line"]
    assert "Friday 01 December 2017, 13:05" in seen["clock_line"]
    assert seen["orm_loaded_at_sign_in"] is False, "SQLAlchemy was imported before the sign-in screen was up"
    assert seen["ready_before_gate"] is False
    assert seen["after_sign_in"] == "DeskScreen" and seen["operator"] == "ana"


async def test_a_pin_typed_while_the_station_opens_signs_in_once_it_has(station, tmp_path, clock: FixedClock):
    folder = _copy(station, tmp_path)
    gate = threading.Event()

    def opener():
        gate.wait(30)
        return open_station(folder, clock=clock)

    app = make_app_opening(read_front(folder, clock), opener)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        assert "opening the station" in str(screen.query_one(SyncStatusWidget).content)
        await sign_in(pilot, "ana", "1111")
        await pilot.pause(0.3)
        assert isinstance(app.screen, LoginScreen) and app.operator is None  # nobody in before it opened
        assert "Checking" in text_of(screen, "#login-message")
        gate.set()
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk screen")
        assert app.operator.name == "ana"
        assert "opening" not in str(app.screen.query_one(SyncStatusWidget).content)
    app.close_station()


async def test_a_wrong_pin_is_refused_by_the_opened_station_not_the_front(station, tmp_path, clock: FixedClock):
    folder = _copy(station, tmp_path)
    app = make_app_opening(read_front(folder, clock), lambda: open_station(folder, clock=clock))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        await sign_in(pilot, "ana", "9999")
        await wait_until(pilot, lambda: "wrong" in text_of(screen, "#login-message"), "wrong-PIN message")
        assert isinstance(app.screen, LoginScreen) and app.operator is None
    app.close_station()


async def test_a_station_that_fails_to_open_ends_the_app_with_its_reason(station, tmp_path, clock: FixedClock, capfd):
    folder = _copy(station, tmp_path)

    def opener():
        raise StationError(f"{folder}/keys/station.key is damaged: restore the newest backup")

    app = make_app_opening(read_front(folder, clock), opener)
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(100):
            await pilot.pause(0.05)
            if app.return_code is not None:
                break
    assert app.return_code == StationError.exit_code
    said = "".join(capfd.readouterr().err.split())  # what the terminal shows after the app, unwrapped
    assert said.startswith("regdesk:") and "station.keyisdamaged:restorethenewestbackup" in said
    assert "Traceback" not in said


def test_a_folder_that_is_not_a_plain_station_has_no_front(tmp_path, clock: FixedClock, station):
    """Then `regdesk tui` opens the station before the UI, and open_station says what is wrong."""
    assert read_front(tmp_path / "nothing-here", clock) is None
    broken = _copy(station, tmp_path)
    (broken / "station.db").write_bytes(b"not a database at all" * 100)
    assert read_front(broken, clock) is None
    good = read_front(_copy(station, tmp_path / "again"), clock)
    assert good is not None and good.role == station.role and good.station_id == station.station_id


async def test_after_opening_the_rules_follow_the_station_not_the_earlier_reading(station, tmp_path, clock):
    """The front is read before the station opens. If the file says something else by then (edited,
    restored), signing in and the screens follow the opened station: here a desk's front, a station
    that opens as a security lane, and a clerk who is therefore refused."""
    import sqlite3

    folder = _copy(station, tmp_path)
    front = read_front(folder, clock)
    assert front is not None and front.role == "desk"
    with sqlite3.connect(folder / "station.db") as db:
        db.execute("UPDATE meta SET value = 'security' WHERE key = 'role'")
    app = make_app_opening(front, lambda: open_station(folder, clock=clock))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        await sign_in(pilot, "ana", "1111")
        await wait_until(pilot, lambda: "ana" in text_of(screen, "#login-message").lower(), "a refusal")
        assert isinstance(app.screen, LoginScreen) and app.operator is None
        assert app.front.role == "security" and app.start_mode != "desk"
    app.close_station()
