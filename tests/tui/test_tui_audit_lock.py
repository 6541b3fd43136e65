"""The audit screen (supervisors only) and the idle lock, driven headless with Pilot."""

from __future__ import annotations

import pytest
from meeting import SUPERVISOR_SECRET
from textual.widgets import DataTable, Input, Static

from conftest import participant_row, seed_participants
from regdesk.services import desk, operators
from regdesk.tui.app import make_app
from regdesk.tui.dialogs.lock import IdleLock, LockScreen, Unlocked
from regdesk.tui.screens.audit import AuditScreen

SIZE = (150, 40)


@pytest.fixture
def station(desk_station):
    seed_participants(
        desk_station,
        [
            participant_row("CH-1", "Lauber", "Jürg", delegation="Switzerland"),
            participant_row("MX-7", "Ruiz", "Ana", delegation="Mexico", category="HC"),
        ],
    )
    operators.add_operator(desk_station, "Lena Clerk", "clerk", "9753", by="maria")
    desk.record_identity_check(desk_station, "CH-1", "passport", "X99887766", "Carlos Clerk")
    desk_station.badge = desk.issue_badge(desk_station, "CH-1", operator="Carlos Clerk")
    return desk_station


async def settle(pilot, condition, tries: int = 300) -> None:
    for _ in range(tries):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.05)
        if condition():
            return
    raise AssertionError("condition never held")


def table_text(screen: AuditScreen) -> list[list[str]]:
    table = screen.query_one("#audit-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_supervisor_reads_and_filters_the_audit(station):
    app = make_app(station, operator="Maria Supervisor")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f7")  # the supervisor's audit key
        await settle(pilot, lambda: isinstance(app.screen, AuditScreen))
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        await settle(pilot, lambda: screen.rows)
        rows = table_text(screen)
        assert rows[0][1:4] == ["Westin desk 1", "Carlos Clerk", "badge issued"]
        assert rows[0][4] == "Jürg Lauber"  # the participant the event is about
        assert rows[0][5].startswith("Badge ") and "issued to CH-1" in rows[0][5]
        everything = " ".join(" ".join(r) for r in rows)
        assert station.badge.token[:40] not in everything and "X99887766" not in everything
        assert "passport ending …7766" in everything

        await pilot.click("#audit-filter")
        await pilot.press(*"kind:identity")
        await pilot.press("enter")
        await settle(pilot, lambda: len(screen.rows) == 1)
        assert table_text(screen)[0][3] == "identity checked"
        assert "1 event matching the filter" in str(screen.query_one("#audit-info", Static).render())

        await pilot.press("escape")
        await settle(pilot, lambda: len(screen.rows) > 1)


async def test_a_clerk_gets_no_audit_rows(station):
    app = make_app(station, operator="Carlos Clerk")
    async with app.run_test(size=SIZE) as pilot:
        await app.switch_mode("audit")
        screen = app.screen
        await pilot.pause(0.2)
        await app.workers.wait_for_complete()
        assert screen.rows == [] and screen.query_one("#audit-table", DataTable).row_count == 0
        assert "only for a supervisor" in str(screen.query_one("#audit-info", Static).render())
        assert screen.query_one("#audit-filter", Input).disabled


class FakeTime:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


async def unlock_with(pilot, name: str, pin: str) -> None:
    lock = pilot.app.screen
    lock.query_one("#lock-name", Input).value = name
    pin_input = lock.query_one("#lock-pin", Input)
    pin_input.value = pin
    pin_input.focus()
    await pilot.press("enter")
    # The PIN is checked in a worker (scrypt is slow on purpose): wait for its answer.
    await settle(pilot, lambda: not isinstance(pilot.app.screen, LockScreen) or not pilot.app.screen._checking)


async def test_idle_lock_covers_the_screen_until_the_right_pin(station):
    app = make_app(station, operator="Carlos Clerk")
    clock = FakeTime()
    unlocked: list[Unlocked] = []
    async with app.run_test(size=SIZE) as pilot:
        idle = IdleLock(app, minutes=5, now=clock, on_unlock=unlocked.append)
        clock.t += 4 * 60
        assert not idle.check()  # 4 idle minutes: not yet
        idle.touch()
        clock.t += 4 * 60
        assert not idle.check()  # input 4 minutes ago restarted the count
        clock.t += 61
        assert idle.check()
        await pilot.pause(0.05)
        assert isinstance(app.screen, LockScreen)

        await pilot.press("escape")
        assert isinstance(app.screen, LockScreen)  # Escape does not unlock

        await unlock_with(pilot, "Carlos Clerk", "0000")
        assert isinstance(app.screen, LockScreen)
        assert "Name or PIN/passphrase is wrong" in str(app.screen.query_one("#lock-error", Static).render())
        assert app.screen.query_one("#lock-pin", Input).value == ""  # a wrong PIN is not left on screen

        await unlock_with(pilot, "Lena Clerk", "9753")  # another clerk's right PIN is not enough
        assert isinstance(app.screen, LockScreen)
        assert "Only Carlos Clerk or a supervisor" in str(app.screen.query_one("#lock-error", Static).render())

        await unlock_with(pilot, "Carlos Clerk", "1357")
        assert not isinstance(app.screen, LockScreen)
        assert unlocked == [Unlocked("Carlos Clerk", "clerk", by_supervisor=False)]
        assert not idle.locked and not idle.check()

        idle.lock()
        await pilot.pause(0.05)
        await unlock_with(pilot, "Maria Supervisor", SUPERVISOR_SECRET)
        assert not isinstance(app.screen, LockScreen)
        assert unlocked[-1] == Unlocked("Maria Supervisor", "supervisor", by_supervisor=True)


async def test_wrong_pins_make_the_lock_wait_longer_each_time(station):
    clock = FakeTime()
    station.wall_clock = clock  # the throttle counts real seconds, shared with sign-in and the CLI
    app = make_app(station, operator="Carlos Clerk")
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(LockScreen(station, "Carlos Clerk"))
        await pilot.pause(0.05)
        for _ in range(4):
            await unlock_with(pilot, "Carlos Clerk", "0000")
        error = app.screen.query_one("#lock-error", Static)
        assert "locked for 30 s" in str(error.render())
        await unlock_with(pilot, "Carlos Clerk", "1357")  # even the right PIN waits
        assert isinstance(app.screen, LockScreen)
        assert "locked for 30 s" in str(error.render())
        clock.t += 31
        await unlock_with(pilot, "Carlos Clerk", "0000")  # one more miss: the next wait doubles
        assert "locked for 60 s" in str(error.render())
        clock.t += 61
        await unlock_with(pilot, "Carlos Clerk", "1357")
        assert not isinstance(app.screen, LockScreen), str(error.render())


def test_lock_minutes_setting(station):
    from regdesk.tui.dialogs.lock import lock_minutes

    assert lock_minutes(station) == 5
    station.set_setting("lock_minutes", "0")
    assert lock_minutes(station) == 0


async def test_the_running_app_backs_up_the_station_on_schedule(station):
    from regdesk.services import backup

    station.set_setting("backup_minutes", "0.01")  # every 0.6 s for the test; 15 minutes by default
    app = make_app(station, operator="Maria Supervisor")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: app.backups.runs >= 1)
        assert backup.list_backups(station.data_dir), "no backup file was written"
    assert not app.backups.running  # stopped with the app
