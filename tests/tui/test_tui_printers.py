"""The desk and its printers, against a real CUPS (tests/helpers/cups_server.py): the printer line shows what
CUPS says (stopped with its reason, paper out, queue length), a badge sent to a stopped printer is
NOT PRINTED with its reason, ctrl+r prints it once the printer is enabled again, ctrl+o prints it on
the other printer. The badges come out of the CUPS queues' folders and their QR codes are the tokens."""

from __future__ import annotations

import pytest
from cups_server import wait_for_state
from desk_pilot import LAUBER, checked_lauber, events_of, find, status_cell, text_of, wait_until
from qr_reading import qr_texts
from sqlalchemy import select

from regdesk.domain.events import EventKind
from regdesk.render import printing
from regdesk.services import desk
from regdesk.store.models import Badge
from regdesk.tui.app import make_app
from regdesk.tui.screens.desk import DeskScreen

SMALL = (80, 24)
BIG = (140, 45)


@pytest.fixture
def two_printers(station, cups):
    station.set_setting("printer", "Badge_A")
    station.set_setting("second_printer", "Badge_B")
    return cups


async def desk_screen(pilot) -> DeskScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, DeskScreen), "desk screen")
    return pilot.app.screen


def line(screen) -> str:
    return text_of(screen, "#printer-line")


def token_of(station, participant_id: str) -> str:
    with station.sessions() as s:
        return s.execute(
            select(Badge.token).where(Badge.participant_id == participant_id, Badge.revoked.is_(False))
        ).scalar_one()


async def test_printer_line_shows_stopped_with_its_reason_and_paper_out_with_the_queue(
    station,
    two_printers,
    tmp_path,
):
    cups = two_printers
    cups.run("cupsdisable", "-r", "ribbon jammed", "Badge_A")
    pdf = tmp_path / "other.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    (cups.queues["Badge_B"] / ".paper-out").touch()
    assert printing.deliver(pdf, "Badge_B").printed  # taken by CUPS; the device finds no paper
    wait_for_state("Badge_B", lambda s: s.state == printing.STOPPED, "stopped")
    app = make_app(station, operator="ana")
    async with app.run_test(size=BIG) as pilot:
        screen = await desk_screen(pilot)
        await wait_until(pilot, lambda: "STOPPED" in line(screen), "printer line")
        shown = line(screen)
        assert "Printer Badge_A: STOPPED (ribbon jammed) · 0 queued" in shown
        assert "Other Badge_B: STOPPED – paper out (Out of paper) · 1 queued" in shown
        assert screen.query_one("#printer-line").has_class("-warn")
        # Nothing failed at this desk yet and nobody is selected: neither key is offered.
        assert screen.check_action("retry_print", ()) is False
        assert screen.check_action("other_printer", ()) is False

        # The printers come back: the line follows without a key (polled by a worker).
        (cups.queues["Badge_B"] / ".paper-out").unlink()
        cups.run("cupsenable", "Badge_A", "Badge_B")
        await wait_until(pilot, lambda: "Badge_B: idle · 0 queued" in line(screen), "printers back")
        assert "Printer Badge_A: idle · 0 queued" in line(screen)
        assert screen.query_one("#printer-line").has_class("-ok")


async def test_issue_to_a_stopped_printer_is_not_printed_then_ctrl_r_prints_it(station, two_printers):
    cups = two_printers
    lauber = checked_lauber(station)
    cups.run("cupsdisable", "-r", "ribbon jammed", "Badge_A")
    app = make_app(station, operator="ana")
    async with app.run_test(size=SMALL) as pilot:
        screen = await desk_screen(pilot)
        await wait_until(pilot, lambda: "STOPPED" in line(screen), "printer line")
        await find(pilot, "lauber", LAUBER)
        await pilot.press("f3")
        await wait_until(pilot, lambda: "NOT PRINTED" in text_of(screen, "#outcome"), "print failure")
        outcome = text_of(screen, "#outcome")
        with station.sessions() as s:
            serial = s.execute(select(Badge.serial).where(Badge.participant_id == lauber)).scalar_one()
        assert "ISSUED – NOT PRINTED (printer Badge_A: stopped (ribbon jammed))" in outcome
        assert f"PDF: {station.output_dir / f'badge-{serial}-1.pdf'}" in outcome
        assert "ctrl+r" in outcome and "ctrl+o to print it on Badge_B" in outcome
        serial_shown = f"{serial[:4]}-{serial[4:]}"
        assert f"NOT PRINTED {serial_shown}: stopped (ribbon jammed) · ^r retry · ^o Badge_B" in line(screen)
        await wait_until(pilot, lambda: status_cell(screen, lauber) == "NOT PRINTED", "row says not printed")
        assert cups.printed("Badge_A") == [] and screen.check_action("retry_print", ()) is True

        await pilot.press("escape")  # the clerk moves on: ctrl+r still knows which badge did not print
        cups.run("cupsenable", "Badge_A")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "REPRINTED on Badge_A" in text_of(screen, "#outcome"), "retried")
        [received] = cups.wait_printed("Badge_A")
        assert qr_texts(received.read_bytes()) == [token_of(station, lauber)]
        await wait_until(pilot, lambda: "NOT PRINTED" not in line(screen), "the line forgets it")
        assert screen.check_action("retry_print", ()) is False
        assert cups.printed("Badge_B") == []


async def test_ctrl_o_prints_the_badge_that_did_not_print_on_the_other_printer(station, two_printers):
    cups = two_printers
    lauber = checked_lauber(station)
    cups.run("cupsdisable", "-r", "ribbon jammed", "Badge_A")
    app = make_app(station, operator="ana")
    async with app.run_test(size=SMALL) as pilot:
        screen = await desk_screen(pilot)
        await find(pilot, "lauber", LAUBER)
        await pilot.press("f3")
        await wait_until(pilot, lambda: "NOT PRINTED" in text_of(screen, "#outcome"), "print failure")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: "REPRINTED on Badge_B" in text_of(screen, "#outcome"), "other printer")
        [received] = cups.wait_printed("Badge_B")
        assert qr_texts(received.read_bytes()) == [token_of(station, lauber)]
        assert cups.printed("Badge_A") == [] and printing.printer_status("Badge_A").queued == 0
        await wait_until(pilot, lambda: status_cell(screen, lauber) == "COLLECTED", "row says collected")
        assert "NOT PRINTED" not in line(screen)


async def test_retry_never_prints_a_badge_replaced_since(station, two_printers, clock):
    cups = two_printers
    lauber = checked_lauber(station)
    cups.run("cupsdisable", "-r", "ribbon jammed", "Badge_A")
    app = make_app(station, operator="ana")
    async with app.run_test(size=SMALL) as pilot:
        screen = await desk_screen(pilot)
        await find(pilot, "lauber", LAUBER)
        await pilot.press("f3")
        await wait_until(pilot, lambda: "NOT PRINTED" in text_of(screen, "#outcome"), "print failure")
        # Meanwhile another desk replaced it (lost badge): the old serial is revoked.
        desk.record_identity_check(station, lauber, "passport", "4821", "ana")
        desk.issue_badge(station, lauber, operator="ana", replace=True)
        cups.run("cupsenable", "Badge_A")
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "Print not done" in text_of(screen, "#outcome"), "refused")
        assert "no longer the participant's valid badge" in text_of(screen, "#outcome")
        # Nothing was sent: no printer took a job for either badge.
        assert events_of(station, EventKind.BADGE_PRINTED) == [] and cups.printed("Badge_A") == []


async def test_station_without_printer_shows_no_printer_line(station):
    app = make_app(station, operator="ana")
    async with app.run_test(size=SMALL) as pilot:
        screen = await desk_screen(pilot)
        await pilot.pause(0.3)
        assert screen.query_one("#printer-line").has_class("-none")
        assert screen.check_action("retry_print", ()) is False and screen.check_action("other_printer", ()) is False


def test_desk_keys_never_shadow_the_apps_keys():
    """F7 (audit), F8 (sign out) and F9-F12 (screens) stay the app's at the desk: a desk key on one
    of them would silently take it away."""
    from regdesk.tui.app import RegdeskApp

    app_keys = {key for b in RegdeskApp.BINDINGS for key in b.key.split(",")}
    desk_keys = {key for b in DeskScreen.BINDINGS for key in b.key.split(",")}
    assert {"f7", "f8", "f9"} <= app_keys and not desk_keys & app_keys
    assert {"ctrl+r", "ctrl+o"} <= desk_keys


async def test_ctrl_o_prints_the_selected_badge_while_the_main_printer_is_stopped(station, two_printers):
    cups = two_printers
    lauber = checked_lauber(station)
    desk.issue_badge(station, lauber, operator="ana")  # issued elsewhere, never printed
    app = make_app(station, operator="ana")
    async with app.run_test(size=SMALL) as pilot:
        screen = await desk_screen(pilot)
        await find(pilot, "lauber", LAUBER)
        assert screen.check_action("other_printer", ()) is False  # the main printer is fine: F5 prints there
        cups.run("cupsdisable", "-r", "ribbon jammed", "Badge_A")
        await wait_until(pilot, lambda: screen.check_action("other_printer", ()) is True, "ctrl+o offered")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: "REPRINTED on Badge_B" in text_of(screen, "#outcome"), "other printer")
        [received] = cups.wait_printed("Badge_B")
        assert qr_texts(received.read_bytes()) == [token_of(station, lauber)]
