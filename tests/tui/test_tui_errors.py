"""The TUI never ends in a traceback over an error meant for the operator (issue 10 point 8, issue 13).

A thread worker that meets a RegdeskError or a failing database shows it in a notification and the
station keeps running; before, Textual ended the app and printed a traceback.
"""

from __future__ import annotations

import sqlite3

import pytest
from textual.widgets import DataTable

from conftest import participant_row, seed_participants
from regdesk.errors import RegdeskError
from regdesk.services import operators
from regdesk.services.demo import DEMO_OPERATORS
from regdesk.tui.app import make_app
from regdesk.tui.screens.audit import AuditScreen

SIZE = (150, 40)


def demo_secret(name: str) -> str:
    return next(op.pin for op in DEMO_OPERATORS if op.name == name)


@pytest.fixture
def station(desk_station):
    seed_participants(desk_station, [participant_row("CH-1", "Lauber", "Jürg", delegation="Switzerland")])
    operators.add_operator(desk_station, "Maria Supervisor", "supervisor", demo_secret("maria"), by="maria")
    return desk_station


async def settle(pilot, condition, tries: int = 300) -> None:
    for _ in range(tries):  # (no workers.wait_for_complete(): it re-raises the failure we test)
        await pilot.pause(0.05)
        if condition():
            return
    raise AssertionError("condition never held")


def shown(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_a_database_failure_in_a_worker_is_a_notification_and_the_station_keeps_running(station):
    app = make_app(station, operator="Maria Supervisor")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f7")
        await settle(pilot, lambda: isinstance(app.screen, AuditScreen) and app.screen.rows)
        # The database is damaged under the running station (here: its event log is gone).
        damage = sqlite3.connect(station.db_path)
        damage.execute("DROP TABLE events")
        damage.commit()
        damage.close()
        await pilot.press("f5")  # refresh the audit: its worker meets the damaged database
        await settle(pilot, lambda: shown(app))
        [message] = shown(app)
        assert message.startswith(f"database error on {station.db_path}: no such table: events")
        assert app.is_running and isinstance(app.screen, AuditScreen)
        assert app.screen.query_one("#audit-table", DataTable).row_count > 0  # what was shown stays
        await pilot.press("f8")  # and the station still answers: sign out works
        await settle(pilot, lambda: app.operator is None)
    assert app.return_code in (0, None)


async def test_a_regdesk_error_in_a_worker_shows_its_own_words(station):
    app = make_app(station, operator="Maria Supervisor")

    def refused() -> None:
        raise RegdeskError("too many wrong PINs for maria: wait 30 seconds")

    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.run_worker(refused, thread=True)
        await settle(pilot, lambda: shown(app))
        assert shown(app) == ["too many wrong PINs for maria: wait 30 seconds"]
        assert app.is_running
