"""The supervisor screen, driven with Pilot through the real app (sign-in included).

The station is a supervisor station that received the scripted meeting (tests/scripted_day.py)
by sync. The export from the screen must write the same files, with the same numbers, as
`regdesk export tallies` for the same day.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from desk_pilot import wait_until
from meeting import enrol_beside, transfer
from scripted_day import SUPERVISOR, meeting, meeting_template, supervisor_station  # noqa: F401 (fixtures)

from conftest import local
from regdesk import cli
from regdesk.domain.events import EventKind
from regdesk.tui.app import make_app
from regdesk.tui.dialogs.export_tallies import ExportTalliesDialog
from regdesk.tui.screens.login import LoginScreen
from regdesk.tui.screens.supervisor import SupervisorScreen
from regdesk.tui.widgets.keyed_table import KeyedTable

SIZE = (150, 48)


def cell(screen, table: str, row: str, column: str) -> str:
    return str(screen.query_one(table, KeyedTable).get_cell(row, column))


async def sign_in_as_supervisor(pilot) -> SupervisorScreen:
    app = pilot.app
    await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), "the sign-in screen")
    await pilot.click("#login-name")
    await pilot.press(*SUPERVISOR[0], "enter", *SUPERVISOR[1], "enter")
    await wait_until(pilot, lambda: isinstance(app.screen, SupervisorScreen), "the supervisor screen")
    return app.screen


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.slow
async def test_supervisor_sees_the_day_and_exports_the_same_files_as_the_cli(supervisor_station, tmp_path):
    app = make_app(supervisor_station)
    async with app.run_test(size=SIZE) as pilot:
        screen = await sign_in_as_supervisor(pilot)
        assert screen.day == date(2017, 12, 5)  # the station clock's local day
        await wait_until(pilot, lambda: cell(screen, "#counters", "issued", "today") == "2", "5 Dec counters")

        await pilot.press("f2")  # back to 4 December
        await wait_until(pilot, lambda: cell(screen, "#counters", "issued", "today") == "6", "4 Dec counters")
        assert "Monday 4 December 2017" in str(screen.query_one("#day-title").content)
        assert (cell(screen, "#counters", "replaced", "today"), cell(screen, "#counters", "revoked", "today")) == (
            "1",
            "2",
        )
        assert cell(screen, "#counters", "collected", "total") == "7/11 64%"
        assert (cell(screen, "#counters", "entries", "today"), cell(screen, "#counters", "people", "today")) == (
            "5",
            "4",
        )
        assert screen.query_one("#entries-spark").data[9] == 3  # three entries between 09:00 and 09:59

        no_shows = screen.query_one("#no-shows", KeyedTable)
        assert no_shows.keys() == ["UN-1", "KE-2", "KE-3", "MX-1"]  # by delegation: IOM, Kenya, Mexico
        await pilot.click("#no-show-filter")
        await pilot.press(*"keny")
        await wait_until(pilot, lambda: no_shows.keys() == ["KE-2", "KE-3"], "filtered no-shows")

        queue = screen.query_one("#queue", KeyedTable)
        whats = [str(queue.get_cell(key, "what")) for key in queue.keys()]
        assert whats[0] == "OPEN conflict"  # desk 2's second badge for KE-2 waits for a decision
        assert whats[1:] == ["conflict resolved", "override quota reached"]  # 12:00, then 17:30

        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, ExportTalliesDialog), "the export dialog")
        path_input = app.screen.query_one("#export-dir")
        assert path_input.value == str(supervisor_station.output_dir / "tallies-2017-12-04")
        path_input.value = str(tmp_path / "from-screen")
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: "Exported" in str(screen.query_one("#export-status").content), "the export to finish"
        )
        assert isinstance(app.screen, SupervisorScreen)
        bar = screen.query_one("#export-progress")
        assert bar.progress == bar.total

    screen_dir = tmp_path / "from-screen"
    cli_dir = tmp_path / "from-cli"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REGDESK_PIN", SUPERVISOR[1])
        code = cli.main(
            [
                "--data-dir",
                str(supervisor_station.data_dir),
                "export",
                "tallies",
                "--day",
                "2017-12-04",
                "--as",
                SUPERVISOR[0],
                "--out",
                str(cli_dir),
            ]
        )
    assert code == 0
    csv_names = sorted(p.name for p in cli_dir.glob("*.csv"))
    assert len(csv_names) == 15 and sorted(p.name for p in screen_dir.glob("*.csv")) == csv_names
    for name in csv_names:
        assert (screen_dir / name).read_bytes() == (cli_dir / name).read_bytes(), name
    assert (screen_dir / "tallies-2017-12-04.pdf").stat().st_size > 10_000
    summary = read_csv(screen_dir / "summary.csv")
    assert [(r["day"], r["badges_issued"], r["security_entries"], r["bus_boardings"]) for r in summary] == [
        ("2017-12-04", "6", "5", "5")
    ]


async def test_live_refresh_updates_cells_in_place(supervisor_station, tmp_path):
    side_lane = enrol_beside(
        supervisor_station, tmp_path / "icc-side", role="security", name="ICC side", clock=supervisor_station.clock
    )
    app = make_app(supervisor_station, operator=SUPERVISOR[0])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SupervisorScreen), "the supervisor screen")
        screen = app.screen
        counters = screen.query_one("#counters", KeyedTable)
        await wait_until(pilot, lambda: cell(screen, "#counters", "entries", "today") == "1", "5 Dec entries")
        counters.move_cursor(row=6)  # the supervisor is looking at "Venue entries"
        keys_before = counters.keys()

        # A guard admits UN-1 at 09:30; the next refresh shows it without rebuilding the table.
        supervisor_station.clock.set(local("2017-12-05T09:30"))
        with side_lane.transaction() as session:
            side_lane.record(
                session,
                EventKind.SCAN_RECORDED,
                {
                    "local_day": "2017-12-05",
                    "point_kind": "security",
                    "point": "ICC-SIDE",
                    "direction": "",
                    "departure": "",
                    "verdict": "valid",
                    "reason": "valid",
                    "serial": "ABCDEFGH",
                    "participant_id": "UN-1",
                    "counted": True,
                    "manual": False,
                },
                "guard",
            )
        transfer(side_lane, supervisor_station)  # its next sync
        side_lane.close()
        await pilot.press("f5")
        await wait_until(pilot, lambda: cell(screen, "#counters", "entries", "today") == "2", "the new entry")
        assert cell(screen, "#counters", "people", "total") == "6"
        assert counters.keys() == keys_before
        assert counters.cursor_row == 6
        # Only the changed cells were written: entries, people (today and so far), nothing else.
        assert counters.changes == 4
