"""SVG snapshots of the sign-in screen, the desk in each of its states and every desk dialog, at the
80×24 of a netbook terminal and the 140×45 of a desk laptop (pytest-textual-snapshot).

The pictures are deterministic: a fixed rehearsal clock, badge serials from a counter, badge PDFs
in one fixed folder, and input cursors that do not blink. After a deliberate change of the look,
check the report and rewrite them with `pytest tests/tui/test_snapshots.py --snapshot-update`; the
SVGs live in tests/tui/__snapshots__/test_snapshots/.

Behaviour is tested with Pilot elsewhere (test_tui_desk*.py); these catch what only a picture shows:
text cut off, a panel pushed off screen, a dialog taller than the terminal.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from desk_pilot import LAUBER, checked_lauber, wait_until
from snapshot_steps import SIZES, desk_app, outcome_says, press_until, search, steps

from conftest import local
from regdesk.services import desk
from regdesk.tui.app import make_app
from regdesk.tui.dialogs.confirm import ConfirmDialog
from regdesk.tui.dialogs.identity_check import IdentityCheckDialog
from regdesk.tui.dialogs.message import MessageDialog
from regdesk.tui.dialogs.override import OverrideDialog
from regdesk.tui.screens.login import LoginScreen

pytestmark = [pytest.mark.xdist_group("snapshots"), pytest.mark.usefixtures("steady_pictures", "fixed_root_key")]


# --- sign-in ---------------------------------------------------------------------------------------


@SIZES
def test_sign_in(snap_compare, station, size):
    async def ready(pilot) -> None:
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, LoginScreen), "sign-in")
        await pilot.press(*"ana")

    assert snap_compare(make_app(station), terminal_size=size, run_before=ready)


# --- the desk's states ------------------------------------------------------------------------------


@SIZES
def test_desk_empty(snap_compare, station, size):
    assert snap_compare(desk_app(station), terminal_size=size, run_before=steps())


@SIZES
def test_desk_results_ten_gomez(snap_compare, station, size):
    assert snap_compare(desk_app(station), terminal_size=size, run_before=steps(search("gomez", "Luis Gómez")))


@SIZES
def test_desk_participant_selected(snap_compare, station, size):
    assert snap_compare(desk_app(station), terminal_size=size, run_before=steps(search("lauber", LAUBER)))


@SIZES
def test_desk_refusal_already_holds_a_badge(snap_compare, station, size):
    lauber = checked_lauber(station)
    badge = desk.issue_badge(station, lauber, operator="ana")
    desk.print_badge(station, badge.serial, operator="ana")
    run = steps(search("lauber", LAUBER), press_until("f3", outcome_says("NOT ISSUED"), "refusal"))
    assert snap_compare(desk_app(station), terminal_size=size, run_before=run)


@SIZES
def test_desk_issued_as_pdf(snap_compare, station, size):
    checked_lauber(station)
    run = steps(search("lauber", LAUBER), press_until("f3", outcome_says("ISSUED as PDF"), "issued"))
    assert snap_compare(desk_app(station), terminal_size=size, run_before=run)


@SIZES
def test_desk_print_failure(snap_compare, station, size, cups):
    """A printer name the (real, tests/helpers/cups_server.py) CUPS does not have: lp refuses the badge."""
    checked_lauber(station)
    station.set_setting("printer", "westin-1")
    run = steps(search("lauber", LAUBER), press_until("f3", outcome_says("NOT PRINTED"), "print failure"))
    assert snap_compare(desk_app(station), terminal_size=size, run_before=run)


# --- every desk dialog ----------------------------------------------------------------------------


def dialog_open(kind: type) -> Callable[[object], bool]:
    return lambda app: isinstance(app.screen, kind)


@SIZES
def test_dialog_identity_check(snap_compare, station, size):
    run = steps(search("lauber", LAUBER), press_until("f2", dialog_open(IdentityCheckDialog), "identity dialog"))
    assert snap_compare(desk_app(station), terminal_size=size, run_before=run)


@SIZES
def test_dialog_replace_confirmation(snap_compare, station, size):
    lauber = checked_lauber(station)
    desk.issue_badge(station, lauber, operator="ana")
    run = steps(search("lauber", LAUBER), press_until("f4", dialog_open(ConfirmDialog), "confirm dialog"))
    assert snap_compare(desk_app(station), terminal_size=size, run_before=run)


@SIZES
def test_dialog_supervisor_override(snap_compare, station, size, clock):
    clock.set(local("2017-12-05T15:20"))  # collection closed: a supervisor may override
    checked_lauber(station)
    run = steps(
        search("lauber", LAUBER),
        press_until("f3", outcome_says("NOT ISSUED"), "refusal"),
        press_until("f6", dialog_open(OverrideDialog), "override dialog"),
    )
    assert snap_compare(desk_app(station), terminal_size=size, run_before=run)


@SIZES
def test_dialog_message(snap_compare, station, size):
    async def show(pilot) -> None:
        pilot.app.push_screen(
            MessageDialog(
                "Automatic backup failed",
                "The backup folder is full. Free some space, then restart regdesk.",
                error=True,
            )
        )
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, MessageDialog), "message dialog")

    assert snap_compare(desk_app(station), terminal_size=size, run_before=steps(show))
