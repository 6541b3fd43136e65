"""The supervisor dashboard and the audit at 80x24 (and still at 200x60), on the scripted meeting:
resolving an open conflict from the screen, words a supervisor reads on the first morning, and the
audit searched by a participant's name."""

from __future__ import annotations

import json

import pytest
from scan_helpers import wait_for
from scripted_day import SUPERVISOR, meeting, meeting_template, supervisor_station  # noqa: F401 (fixtures)
from sqlalchemy import select
from textual.widgets import DataTable, Input, Static

from conftest import local
from regdesk.domain.events import EventKind
from regdesk.services.station import Station
from regdesk.store.models import EventRow
from regdesk.tui.app import make_app
from regdesk.tui.dialogs.resolve_conflict import ResolveConflictDialog
from regdesk.tui.screens.audit import AuditScreen
from regdesk.tui.screens.supervisor import SupervisorScreen
from regdesk.tui.widgets.keyed_table import KeyedTable

SMALL = (80, 24)
LARGE = (200, 60)


def cell(screen, table: str, row: str, column: str) -> str:
    return str(screen.query_one(table, KeyedTable).get_cell(row, column))


def in_view(app, widget) -> bool:
    region = widget.region
    return bool(
        widget.display
        and region.width
        and region.height
        and region.right <= app.size.width
        and region.bottom <= app.size.height
    )


async def dashboard(pilot) -> SupervisorScreen:
    app = pilot.app
    await wait_for(pilot, lambda: isinstance(app.screen, SupervisorScreen), "the supervisor screen")
    screen = app.screen
    await wait_for(
        pilot, lambda: screen.query(KeyedTable) and screen.query_one("#counters", KeyedTable).row_count, "the counters"
    )
    return screen


async def type_into(pilot, selector: str, value: str) -> None:
    field = pilot.app.screen.query_one(selector, Input)
    field.focus()
    field.value = ""
    await pilot.press(*value)


def resolutions(station: Station) -> list[tuple[str, dict]]:
    with station.sessions() as s:
        return [
            (operator, json.loads(payload))
            for operator, payload in s.execute(
                select(EventRow.operator, EventRow.payload)
                .where(EventRow.kind == EventKind.CONFLICT_RESOLVED)
                .order_by(EventRow.local_order)
            ).all()
        ]


async def test_a_conflict_is_resolved_from_the_supervisor_screen(supervisor_station):
    before = len(resolutions(supervisor_station))  # the scripted day resolved CH-3's conflict already
    app = make_app(supervisor_station, operator=SUPERVISOR[0])
    async with app.run_test(size=SMALL) as pilot:
        screen = await dashboard(pilot)
        hint = screen.query_one("#conflict-hint", Static)
        await wait_for(pilot, lambda: hint.display, "the open conflict")
        assert str(hint.content).startswith("1 open conflict between desks") and "ctrl+r" in str(hint.content)
        await wait_for(pilot, lambda: in_view(app, hint), "the hint in view")
        assert cell(screen, "#queue", "conflict:badge:KE-2", "what") == "OPEN conflict"

        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: isinstance(app.screen, ResolveConflictDialog), "the conflict dialog")
        dialog = app.screen
        sides = dialog.conflict.sides
        assert [s.station_name for s in sides] == ["Westin desk 1", "Westin desk 2"]
        assert dialog.query_one("#rc-sides").selected == [sides[0].serial]  # the earlier badge, proposed
        assert dialog.query_one("#rc-supervisor", Input).value == SUPERVISOR[0]
        for widget_id in ("#rc-sides", "#rc-reason", "#rc-secret", "#rc-ok", "#rc-cancel"):
            await wait_for(pilot, lambda w=widget_id: in_view(app, dialog.query_one(w)), f"{widget_id} in view")

        await type_into(pilot, "#rc-reason", "x")
        await type_into(pilot, "#rc-secret", SUPERVISOR[1])
        await pilot.click("#rc-ok")
        error = dialog.query_one("#rc-error", Static)
        assert "few words" in str(error.content)
        assert len(resolutions(supervisor_station)) == before  # nothing recorded for "x"

        reason = "desk 1 badge handed over first, desk 2 badge taken back"
        await type_into(pilot, "#rc-reason", reason)
        await type_into(pilot, "#rc-secret", "Wrong passphrase 42")  # letters are typed in, not filtered
        assert dialog.query_one("#rc-secret", Input).value == "Wrong passphrase 42"
        await wait_for(pilot, lambda: not dialog.query_one("#rc-ok").has_class("-active"), "the button released")
        await pilot.click("#rc-ok")
        await wait_for(pilot, lambda: "wrong" in str(error.content), "the refusal")
        assert app.screen is dialog and dialog.query_one("#rc-reason", Input).value == reason  # nothing lost
        assert dialog.query_one("#rc-secret", Input).value == ""

        await type_into(pilot, "#rc-secret", SUPERVISOR[1])
        await wait_for(pilot, lambda: not dialog.query_one("#rc-ok").has_class("-active"), "the button released")
        await pilot.click("#rc-ok")
        await wait_for(pilot, lambda: app.screen is screen, "back on the dashboard")
        await wait_for(pilot, lambda: not screen.query_one("#conflict-hint").display, "the queue refreshed")
        assert "conflict:badge:KE-2" not in screen.query_one("#queue", KeyedTable).keys()
    assert len(resolutions(supervisor_station)) == before + 1
    operator, payload = resolutions(supervisor_station)[-1]
    assert operator == SUPERVISOR[0] and payload["conflict_key"] == "badge:KE-2"
    assert payload["kept_serials"] == [sides[0].serial] and payload["revoked_serials"] == [sides[1].serial]
    assert payload["reason"] == reason


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_first_days_words_and_every_column_in_view(supervisor_station, size):
    app = make_app(supervisor_station, operator=SUPERVISOR[0])
    async with app.run_test(size=size) as pilot:
        screen = await dashboard(pilot)
        # 09:00 on 5 December: collection is open until 15:00, nobody is a no-show yet.
        assert cell(screen, "#counters", "no_shows", "measure") == "Not yet collected"
        await wait_for(
            pilot,
            lambda: str(screen.query_one("#no-show-title").content).startswith("Not yet collected: 3"),
            "the list title",
        )
        assert [
            cell(screen, "#counters", key, "measure")
            for key in ("delegations", "delegations_partial", "delegations_none")
        ] == ["Delegations complete", "Delegations partly collected", "Delegations with no badge yet"]
        assert [
            cell(screen, "#counters", key, "total")
            for key in ("delegations", "delegations_partial", "delegations_none")
        ] == ["2", "1", "2"]
        counters = screen.query_one("#counters", KeyedTable)
        await wait_for(pilot, lambda: in_view(app, counters), "the counters in view")
        # No table needs sideways scrolling: columns are cut to the terminal, names get the width.
        for table_id in ("#counters", "#queue", "#no-shows"):
            table = screen.query_one(table_id, KeyedTable)
            await wait_for(pilot, lambda t=table: t.virtual_size.width <= t.size.width, f"{table_id} fits")
        title = screen.query_one("#day-title", Static)
        assert len(str(title.content)) <= title.region.width  # the day title is whole
        clock = screen.query_one("#status-clock", Static)
        assert len(str(clock.content)) <= clock.region.width and clock.region.right <= size[0]

        supervisor_station.clock.set(local("2017-12-05T16:00"))  # collection closed at 15:00
        await pilot.press("f5")
        await wait_for(pilot, lambda: cell(screen, "#counters", "no_shows", "measure") == "No-shows", "no-shows")


@pytest.mark.parametrize("size", [SMALL, LARGE])
async def test_the_audit_finds_a_participants_events_by_name(supervisor_station, size):
    app = make_app(supervisor_station, operator=SUPERVISOR[0])
    async with app.run_test(size=size) as pilot:
        await dashboard(pilot)
        await pilot.press("f7")
        await wait_for(pilot, lambda: isinstance(app.screen, AuditScreen) and app.screen.rows, "the audit")
        screen = app.screen
        await type_into(pilot, "#audit-filter", "kamau")  # Peter Kamau, KE-2: no id typed
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.filters.text == "kamau" and screen.rows, "the filtered events")
        about = [r for r in screen.rows if r.participant_id == "KE-2"]
        # His ID checks and both badges (two desks), and the list imports that name him: nothing else.
        assert sorted(r.kind for r in about) == ["badge_issued", "badge_issued", "identity_checked", "identity_checked"]
        assert {r.kind for r in screen.rows if r not in about} <= {"accreditation_imported"}
        assert {r.participant_name for r in about} == {"Peter Kamau"}
        table = screen.query_one("#audit-table", DataTable)
        await wait_for(pilot, lambda: table.virtual_size.width <= table.size.width, "the columns to fit")
        shown = " ".join(str(c) for c in table.get_row_at(0))
        assert "Peter Kamau" in shown and "KE-2" in shown
        info = str(screen.query_one("#audit-info", Static).content)
        assert info.startswith(f"{len(screen.rows)} events matching the filter")


async def test_the_dashboard_says_no_shows_once_collection_closes_without_anyone_pressing_f5(supervisor_station):
    """Nothing is recorded when collection closes at 15:00, yet the words and the list change: the
    periodic refresh must notice the hour, not only new events."""
    app = make_app(supervisor_station, operator=SUPERVISOR[0])
    async with app.run_test(size=LARGE) as pilot:
        screen = await dashboard(pilot)
        assert cell(screen, "#counters", "no_shows", "measure") == "Not yet collected"
        supervisor_station.clock.set(local("2017-12-05T16:00"))
        await wait_for(pilot, lambda: cell(screen, "#counters", "no_shows", "measure") == "No-shows", "no-shows")
