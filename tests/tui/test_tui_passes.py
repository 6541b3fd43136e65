"""Temporary passes in the TUI: the desk assigns a pre-printed pass to the selected participant
(ctrl+t, a small dialog usable at 80x24), and the scan lanes show TEMPORARY PASS unmistakably,
in a colour of its own; snapshots at 80x24 and 140x45."""

from __future__ import annotations

from datetime import date

import pytest
from desk_pilot import LAUBER, participant_id_of, wait_until
from snapshot_steps import SIZES, desk_app, lane, outcome_says, ready, runner, scan, search, steps

from regdesk.domain import passes as domain
from regdesk.domain import token as tokens
from regdesk.domain.passes import desk_mark
from regdesk.services import passes
from regdesk.tui.app import make_app
from regdesk.tui.dialogs.assign_pass import AssignPassDialog
from regdesk.tui.screens.security import SecurityScreen
from regdesk.tui.widgets.verdict_panel import VerdictPanel

# Serials from steady_pictures (it comes second), signing keys from fixed_randomness; the tests on the
# demo station also show a fixed root (FIXED_ROOT: the station is opened after the other two).
STEADY = ("fixed_randomness", "steady_pictures")
pytestmark = [pytest.mark.xdist_group("snapshots"), pytest.mark.usefixtures(*STEADY)]
FIXED_ROOT = pytest.mark.usefixtures(*STEADY, "fixed_root_key")
DAY = date(2017, 12, 4)


def pass_tokens(desk_station, count: int) -> list[str]:
    """The tokens of passes 1..count as their QR codes hold them (signed with the desk's key)."""
    tag = tokens.event_tag(desk_station.config.code)
    return [
        domain.sign_pass(domain.PassClaims(tag, desk_station.key_id, DAY, n), desk_station.signing_key)
        for n in range(1, count + 1)
    ]


def open_assign(serial: str, last4: str = "4821"):
    async def run(pilot) -> None:
        await search("lauber", LAUBER)(pilot)
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, AssignPassDialog), "the pass dialog")
        await pilot.press(*serial, "enter", *last4)

    return run


@FIXED_ROOT
async def test_the_desk_assigns_a_printed_pass_to_the_selected_person(station, tmp_path):
    run = passes.print_passes(station, day=DAY, count=3, operator="maria", out=tmp_path / "stock.pdf")
    app = desk_app(station)
    async with app.run_test(size=(80, 24)) as pilot:
        await steps(open_assign("TP-0002"))(pilot)
        await pilot.press("enter")
        await wait_until(
            pilot,
            lambda: outcome_says(f"TEMPORARY PASS TP-{run.mark}-0002 assigned for 2017-12-04")(pilot.app),
            "the outcome",
        )
        # The same pass again: refused in plain words, nothing recorded.
        await pilot.press("escape")
        await steps(open_assign("2"))(pilot)
        await pilot.press("enter")
        await wait_until(pilot, lambda: outcome_says("already assigned")(pilot.app), "the refusal")
    [stock] = passes.station_stock(station)
    assert (stock.printed, stock.assigned, stock.unused) == (3, 1, 2)


@FIXED_ROOT
async def test_the_pass_dialog_keeps_a_wrong_number_on_screen(station):
    app = desk_app(station)
    async with app.run_test(size=(80, 24)) as pilot:
        await steps(open_assign("ABCD"))(pilot)
        dialog = pilot.app.screen
        assert isinstance(dialog, AssignPassDialog)
        assert "number printed on the pass" in str(dialog.query_one("#pass-error").content)


@FIXED_ROOT
@SIZES
def test_snapshot_assign_pass_dialog(snap_compare, station, size):
    assert snap_compare(desk_app(station), terminal_size=size, run_before=steps(open_assign("TP-0012")))


@pytest.mark.parametrize("size", [(80, 24), (140, 45)], ids=["80x24", "140x45"])
@pytest.mark.parametrize("state", ["pass", "assigned"])
def test_snapshot_security_lane_shows_temporary_pass(snap_compare, scene, size, state, tmp_path):
    desk_station = scene["desk"]
    passes.print_passes(desk_station, day=DAY, count=2, operator="maria", out=tmp_path / "stock.pdf")
    passes.assign_pass(desk_station, "2", "MX-1", operator="ana", document_type="passport", document_number="G1234567")
    security = lane(scene, "security", "ICC main 1", "2017-12-04T08:40")
    token = pass_tokens(desk_station, 2)[0 if state == "pass" else 1]
    app = make_app(security, operator="sam")

    async def check(pilot) -> None:
        panel = pilot.app.screen.query_one(VerdictPanel)
        assert panel.state == "temporary"

    assert snap_compare(app, terminal_size=size, run_before=runner(ready(SecurityScreen), scan([token]), check))
    security.close()


@FIXED_ROOT
async def test_the_supervisor_screen_prints_a_stock(station, monkeypatch, tmp_path):
    from regdesk.services.station import Station
    from regdesk.tui.dialogs.print_passes import PrintPassesDialog
    from regdesk.tui.screens.supervisor import SupervisorScreen

    monkeypatch.setattr(Station, "output_dir", property(lambda self: tmp_path))
    app = make_app(station, operator="maria")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: pilot.app.screen.__class__.__name__ == "DeskScreen", "the desk")
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SupervisorScreen), "the supervisor screen")
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, PrintPassesDialog), "the print dialog")
        pilot.app.screen.query_one("#passes-count").value = "9"
        await pilot.press("enter")
        await wait_until(pilot, lambda: passes.station_stock(station) != [], "the printed run")
    [stock] = passes.station_stock(station)
    assert (stock.day, stock.printed, stock.unused) == ("2017-12-04", 9, 9)
    assert [p.name for p in tmp_path.glob("passes-*.pdf")] == [
        f"passes-2017-12-04-{desk_mark(station.key_id)}-0001-0009.pdf"
    ]


@FIXED_ROOT
@SIZES
def test_snapshot_print_passes_dialog(snap_compare, station, size):
    from regdesk.tui.dialogs.print_passes import PrintPassesDialog

    async def open_dialog(pilot) -> None:
        pilot.app.push_screen(PrintPassesDialog(DAY, station.config.valid_days))
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, PrintPassesDialog), "the print dialog")

    assert snap_compare(desk_app(station, "maria"), terminal_size=size, run_before=steps(open_dialog))


async def test_the_supervisor_screen_reassigns_and_unassigns_a_pass(station, tmp_path):
    from regdesk.services import audit
    from regdesk.tui.dialogs.pass_assignment import PassAssignmentDialog
    from regdesk.tui.screens.supervisor import SupervisorScreen

    run = passes.print_passes(station, day=DAY, count=2, operator="maria", out=tmp_path / "stock.pdf")
    lauber = participant_id_of(station, "Lauber", "Jürg")
    gomez = participant_id_of(station, "Gómez Camacho", "Juan José")
    passes.assign_pass(station, "1", lauber, operator="ana", document_type="passport", document_number="4821")

    def holder() -> str:
        with station.sessions() as s:
            return s.get(passes.TemporaryPass, run.serials[0]).participant_id

    app = make_app(station, operator="maria")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: pilot.app.screen.__class__.__name__ == "DeskScreen", "the desk")
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, SupervisorScreen), "the supervisor screen")
        for who, why in ((gomez, "handed to the wrong person"), ("", "pass taken back")):
            await pilot.press("ctrl+a")
            await wait_until(pilot, lambda: isinstance(pilot.app.screen, PassAssignmentDialog), "the dialog")
            dialog = pilot.app.screen
            dialog.query_one("#override-serial").value = f"{run.mark}1"
            dialog.query_one("#override-participant").value = who
            dialog.query_one("#override-reason").value = why
            await pilot.press("enter")
            await wait_until(pilot, lambda who=who: holder() == who, f"the pass held by {who or 'nobody'}")
    assert [(s.assigned, s.unused) for s in passes.station_stock(station)] == [(0, 2)]
    summaries = [r.summary for r in audit.list_audit(station, None, viewer_role="supervisor")]
    assert any(f"re-assigned to {gomez} by a supervisor (was {lauber})" in s for s in summaries)


async def test_a_clerk_has_no_pass_assignment_override(station, tmp_path):
    from regdesk.tui.dialogs.pass_assignment import PassAssignmentDialog

    app = make_app(station, operator="ana")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: pilot.app.screen.__class__.__name__ == "DeskScreen", "the desk")
        await pilot.press("f12", "ctrl+a")  # no supervisor screen for a clerk, so no override either
        await pilot.pause(0.3)
        assert not isinstance(pilot.app.screen, PassAssignmentDialog)
