"""The desk as a new clerk uses it on a real day (issue 11): nobody is acted on after the search is
cleared, a failed print is never called a success, refusals speak plainly, and every part of the
screen and its dialogs works at 80×24 as well as on a big monitor."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from desk_pilot import LAUBER, demo_secret, find, participant_id_of, status_cell, table_names, text_of, wait_until
from sqlalchemy import func, select
from textual.command import CommandList, CommandPalette

from conftest import local
from regdesk.domain.events import EventKind
from regdesk.services import desk
from regdesk.store.models import Badge, EventRow
from regdesk.tui.app import make_app
from regdesk.tui.dialogs.identity_check import IdentityCheckDialog
from regdesk.tui.dialogs.override import OverrideDialog
from regdesk.tui.screens.desk import DeskScreen
from regdesk.tui.widgets.participant_table import ParticipantTable

SMALL = (80, 24)
BIG = (140, 45)
GAGNE = "Clémence Gagné"  # head of the Benin delegation, first result for "benin"


async def desk_app(pilot) -> DeskScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, DeskScreen), "desk screen")
    return pilot.app.screen


def count_events(station, kind: str) -> int:
    with station.sessions() as s:
        return s.execute(select(func.count()).select_from(EventRow).where(EventRow.kind == kind)).scalar_one()


async def assert_nobody_selected(pilot, screen: DeskScreen) -> None:
    """No row, no card, and the participant keys do nothing but say so."""
    await pilot.pause(0.3)  # a resize or a stale search would bring the rows back within this time
    assert screen.table.row_count == 0, table_names(screen)
    assert "NO PARTICIPANT SELECTED" in text_of(screen, "#detail-banner")
    checks = count_events(screen.station, EventKind.IDENTITY_CHECKED)
    await pilot.press("f2")
    await pilot.pause(0.2)
    assert not isinstance(pilot.app.screen, IdentityCheckDialog), "F2 opened someone's identity check"
    assert "Search for a participant first" in text_of(screen, "#outcome")
    await pilot.press("f3")
    await pilot.app.workers.wait_for_complete()
    assert count_events(screen.station, EventKind.IDENTITY_CHECKED) == checks
    assert count_events(screen.station, EventKind.BADGE_ISSUED) == 0
    assert screen.selected_id is None and screen.current_card is None


# --- 1. the previous person never comes back -------------------------------------------------------


async def test_esc_then_resize_selects_nobody(station):
    app = make_app(station, operator="ana")
    async with app.run_test(size=BIG) as pilot:
        screen = await desk_app(pilot)
        await find(pilot, "benin", GAGNE)
        await pilot.press("escape")
        await pilot.resize_terminal(*SMALL)
        await pilot.pause(0.3)
        await pilot.resize_terminal(*BIG)
        await assert_nobody_selected(pilot, screen)


async def test_backspacing_the_query_to_empty_selects_nobody(station):
    app = make_app(station, operator="ana")
    async with app.run_test(size=BIG) as pilot:
        screen = await desk_app(pilot)
        await find(pilot, "benin", GAGNE)
        await pilot.press(*["backspace"] * len("benin"))
        await assert_nobody_selected(pilot, screen)
        await pilot.resize_terminal(*SMALL)
        await assert_nobody_selected(pilot, screen)


async def test_opening_and_closing_the_palette_and_keys_panel_selects_nobody(station):
    app = make_app(station, operator="ana")
    async with app.run_test(size=BIG) as pilot:
        screen = await desk_app(pilot)
        await find(pilot, "benin", GAGNE)
        await pilot.press("escape")
        await pilot.press("ctrl+p")  # ctrl+p → Keys: the help panel docks beside the desk (a resize)
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "command palette")
        await pilot.press(*"keys")
        await wait_until(pilot, lambda: app.screen.query_one(CommandList).option_count > 0, "Keys command")
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen and screen.query("HelpPanel"), "Keys panel shown")
        await assert_nobody_selected(pilot, screen)

        await find(pilot, "benin", GAGNE)
        await pilot.press("escape", "ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "command palette")
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen, "palette closed")
        await assert_nobody_selected(pilot, screen)


async def test_results_for_other_text_are_not_acted_on(station, monkeypatch):
    """Typing on after a result was shown: until the search for the new text answers, no key acts."""
    from regdesk.tui.screens import desk as desk_screen

    app = make_app(station, operator="ana")
    async with app.run_test(size=BIG) as pilot:
        screen = await desk_app(pilot)
        await find(pilot, "lauber", LAUBER)
        monkeypatch.setattr(desk_screen, "TYPING_PAUSE", 600)  # the search for "lauberx" stays on its way
        await pilot.press("x")
        await pilot.press("f2")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, IdentityCheckDialog)
        assert screen.selected_id is None


async def test_a_card_that_arrives_after_the_text_changed_is_loaded_again_when_it_is_selected(station, monkeypatch):
    """The card's load may finish after the clerk typed on (nobody selected then): when the new
    results select the same person again, their card must still come, not stay blank."""
    import threading

    from regdesk.tui.screens import desk as desk_screen

    release = threading.Event()
    real_card = desk_screen.participant_card
    calls = []

    def slow_first_card(station_, participant_id):
        calls.append(participant_id)
        if len(calls) == 1:
            release.wait(30)
        return real_card(station_, participant_id)

    monkeypatch.setattr(desk_screen, "participant_card", slow_first_card)
    monkeypatch.setattr(desk_screen, "TYPING_PAUSE", 600)  # searches run on Enter only
    app = make_app(station, operator="ana")
    async with app.run_test(size=BIG) as pilot:
        screen = await desk_app(pilot)
        await pilot.press(*"lau", "enter")  # several matches, Lauber first
        for _ in range(400):  # not wait_until: it waits for the workers, and one of them is held here
            if calls:
                break
            await pilot.pause(0.05)
        assert calls == [participant_id_of(station, "Lauber", "Jürg")], calls
        await pilot.press("b")  # "laub": the results on screen are for other text now
        release.set()
        await wait_until(pilot, lambda: not any(w.is_running for w in app.workers), "the first card handled")
        assert screen.search_box.value == "laub"
        await pilot.press("enter")  # the results for "laub" select Lauber again
        await wait_until(pilot, lambda: LAUBER in text_of(screen, "#detail-name"), "Lauber's card")


# --- 2. a failed print is never reported as success ---------------------------------------------------


LP_FAIL = "#!/bin/sh\necho 'lp: The printer or class does not exist.' >&2\nexit 1\n"
LP_OK = "#!/bin/sh\necho 'request id is westin-1-7 (1 file(s))'\n"


def install_lp(folder: Path, script: str) -> None:
    lp = folder / "lp"
    lp.write_text(script, encoding="utf-8")
    lp.chmod(lp.stat().st_mode | stat.S_IXUSR)


async def test_a_printer_that_fails_gives_issued_not_printed_then_f5_prints(station, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    install_lp(bin_dir, LP_FAIL)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    station.set_setting("printer", "westin-1")
    lauber = participant_id_of(station, "Lauber", "Jürg")
    desk.record_identity_check(station, lauber, "passport", "4821", "ana")
    app = make_app(station, operator="ana")
    async with app.run_test(size=SMALL) as pilot:
        screen = await desk_app(pilot)
        await find(pilot, "lauber", LAUBER)
        await pilot.press("f3")
        await wait_until(pilot, lambda: "NOT PRINTED" in text_of(screen, "#outcome"), "print failure")
        outcome = text_of(screen, "#outcome")
        with station.sessions() as s:
            serial = s.execute(select(Badge.serial).where(Badge.participant_id == lauber)).scalar_one()
        pdf = station.output_dir / f"badge-{serial}-1.pdf"
        assert "ISSUED – NOT PRINTED" in outcome and "printer westin-1" in outcome and "does not exist" in outcome
        assert f"PDF: {pdf}" in outcome and "F5" in outcome
        assert "READY" not in outcome and "COLLECTED" not in outcome
        await wait_until(pilot, lambda: status_cell(screen, lauber) == "NOT PRINTED", "row says not printed")
        assert "NOT PRINTED" in text_of(screen, "#detail-banner")

        install_lp(bin_dir, LP_OK)  # the printer is fixed
        await pilot.press("f5")
        await wait_until(pilot, lambda: "REPRINTED" in text_of(screen, "#outcome"), "reprinted")
        await wait_until(pilot, lambda: status_cell(screen, lauber) == "COLLECTED", "row says collected")
        assert "BADGE COLLECTED" in text_of(screen, "#detail-banner")


async def test_reprint_on_a_pdf_station_says_reprinted(station):
    lauber = participant_id_of(station, "Lauber", "Jürg")
    desk.record_identity_check(station, lauber, "passport", "4821", "ana")
    desk.issue_badge(station, lauber, operator="ana")
    app = make_app(station, operator="ana")
    async with app.run_test(size=SMALL) as pilot:
        screen = await desk_app(pilot)
        await find(pilot, "lauber", LAUBER)
        assert status_cell(screen, lauber) == "NOT PRINTED"  # issued from the command line with --no-print
        await pilot.press("f5")
        await wait_until(pilot, lambda: "REPRINTED as PDF" in text_of(screen, "#outcome"), "reprint outcome")
        await wait_until(pilot, lambda: status_cell(screen, lauber) == "COLLECTED", "collected once handed over")


# --- 5, 6. refusals in plain words; override reason and credential ------------------------------------


async def test_refusal_before_the_window_says_when_it_opens_and_shows_no_code(station, clock):
    clock.set(local("2017-12-01T12:35"))
    lauber = participant_id_of(station, "Lauber", "Jürg")
    desk.record_identity_check(station, lauber, "passport", "4821", "ana")
    app = make_app(station, operator="ana")
    async with app.run_test(size=SMALL) as pilot:
        screen = await desk_app(pilot)
        await find(pilot, "lauber", LAUBER)
        await pilot.press("f3")
        await wait_until(pilot, lambda: "NOT ISSUED" in text_of(screen, "#outcome"), "refusal")
        outcome = text_of(screen, "#outcome")
        assert "opens Fri 1 Dec 13:00, in 25 min" in outcome and "F6" in outcome
        assert "window_not_open" not in outcome and "[" not in outcome


async def test_override_needs_a_real_reason_and_a_wrong_pin_keeps_the_dialog(station, clock):
    clock.set(local("2017-12-05T15:20"))  # collection closed
    lauber = participant_id_of(station, "Lauber", "Jürg")
    desk.record_identity_check(station, lauber, "passport", "4821", "ana")
    app = make_app(station, operator="ana")
    async with app.run_test(size=SMALL) as pilot:
        screen = await desk_app(pilot)
        await find(pilot, "lauber", LAUBER)
        await pilot.press("f3")
        await wait_until(pilot, lambda: "closed Tue 5 Dec 15:00" in text_of(screen, "#outcome"), "refusal")
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, OverrideDialog), "override dialog")
        dialog = app.screen
        await pilot.press(*"maria", "enter", *demo_secret("maria"), "enter", *"ok", "enter")
        await wait_until(pilot, lambda: "3 words" in text_of(dialog, "#ov-error"), "reason refused")
        assert app.screen is dialog and dialog.focused is dialog.query_one("#ov-reason")
        dialog.query_one("#ov-reason").value = "flight from Geneva was late"
        dialog.query_one("#ov-pin").value = "0000"
        await pilot.click("#ov-ok")
        await wait_until(pilot, lambda: "wrong" in text_of(dialog, "#ov-error"), "wrong PIN")
        assert app.screen is dialog and dialog.query_one("#ov-reason").value == "flight from Geneva was late"
        assert count_events(station, EventKind.BADGE_ISSUED) == 0


# --- 6, 7. the search box: empty after a missed scan; QR codes and numbers find the holder ------------


async def test_a_scan_that_finds_nobody_leaves_the_box_empty_for_the_next_scan(station):
    app = make_app(station, operator="ana")
    async with app.run_test(size=SMALL) as pilot:
        screen = await desk_app(pilot)
        await pilot.press(*"QQQQZZZZ7", "enter")
        await wait_until(pilot, lambda: "No participant matches" in text_of(screen, "#results-caption"), "miss")
        assert screen.search_box.value == "" and "QQQQZZZZ7" in text_of(screen, "#results-caption")
        await pilot.press(*"361", "enter")  # the next scan is not glued to the last one
        await wait_until(pilot, lambda: LAUBER in text_of(screen, "#detail-name"), "361 finds Lauber")


async def test_a_badge_qr_scanned_into_the_search_finds_the_holder(station):
    lauber = participant_id_of(station, "Lauber", "Jürg")
    desk.record_identity_check(station, lauber, "passport", "4821", "ana")
    badge = desk.issue_badge(station, lauber, operator="ana")
    assert len(badge.token) > 120
    app = make_app(station, operator="ana")
    async with app.run_test(size=SMALL) as pilot:
        screen = await desk_app(pilot)
        await pilot.press(*badge.token, "enter")  # a keyboard-wedge scanner types the QR text, then Enter
        await wait_until(pilot, lambda: LAUBER in text_of(screen, "#detail-name"), "holder of the QR")
        assert screen.selected_id == lauber
        await pilot.press(*"000361", "enter")
        await wait_until(pilot, lambda: table_names(screen) == [LAUBER], "000361 finds Lauber")


# --- 8. the command palette offers the desk's actions --------------------------------------------------


async def test_palette_offers_the_desk_actions_that_apply(station):
    app = make_app(station, operator="ana")
    async with app.run_test(size=BIG) as pilot:
        screen = await desk_app(pilot)
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "Desk: New search (Esc)" in titles and "Sign out" in titles
        assert not any(t.startswith("Desk: Issue") for t in titles)  # nobody selected
        assert not any("Export" in t or t.startswith("Screen:") for t in titles)  # a clerk's palette
        await find(pilot, "lauber", LAUBER)
        titles = [c.title for c in app.get_system_commands(screen)]
        assert {"Desk: Check ID (F2)", "Desk: Issue & print (F3)"} <= set(titles)
        assert "Desk: Reprint (F5)" not in titles  # holds no badge

        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "command palette")
        await pilot.press(*"check id")
        await wait_until(pilot, lambda: app.screen.query_one(CommandList).option_count > 0, "matches")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, IdentityCheckDialog), "identity dialog from palette")


async def test_supervisor_palette_offers_export_and_screens(station):
    app = make_app(station, operator="maria")
    async with app.run_test(size=BIG) as pilot:
        screen = await desk_app(pilot)
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "Supervisor: Export tallies" in titles and "Screen: Supervisor" in titles


# --- 9. 80×24 and long names ------------------------------------------------------------------------


def on_screen(app, widget) -> bool:
    """The widget is displayed, wholly inside the terminal above the footer line, and not hidden by
    a parent that clips it (what is drawn at its middle is the widget itself)."""
    region = widget.region
    if not (
        widget.display
        and region.height > 0
        and region.y >= 0
        and region.bottom <= app.size.height - 1
        and region.right <= app.size.width
    ):
        return False
    shown, _ = app.screen.get_widget_at(region.x + region.width // 2, region.y + region.height // 2)
    return shown is widget or widget in shown.ancestors


async def test_at_80x24_f3_on_a_badge_holder_shows_the_refusal(station):
    lauber = participant_id_of(station, "Lauber", "Jürg")
    desk.record_identity_check(station, lauber, "passport", "4821", "ana")
    badge = desk.issue_badge(station, lauber, operator="ana")
    desk.print_badge(station, badge.serial, operator="ana")
    app = make_app(station, operator="ana")
    async with app.run_test(size=SMALL) as pilot:
        screen = await desk_app(pilot)
        await find(pilot, "lauber", LAUBER)
        await pilot.press("f3")
        await wait_until(pilot, lambda: "NOT ISSUED" in text_of(screen, "#outcome"), "refusal")
        outcome = screen.query_one("#outcome")
        await pilot.pause(0.2)
        assert on_screen(app, outcome)
        lines = str(outcome.content).count("\n") + 1
        assert outcome.region.height >= lines, "the whole outcome is readable"
        assert "Already holds valid badge" in str(outcome.content)


async def test_at_80x24_the_identity_dialog_buttons_are_on_screen(station):
    app = make_app(station, operator="ana")
    async with app.run_test(size=SMALL) as pilot:
        await desk_app(pilot)
        await find(pilot, "lauber", LAUBER)
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, IdentityCheckDialog), "identity dialog")
        await pilot.pause(0.2)
        dialog = app.screen
        for selector in ("#id-type", "#id-last4", "#id-ok", "#id-cancel"):
            assert on_screen(app, dialog.query_one(selector)), selector
        await pilot.press(*"4821")
        await pilot.click("#id-ok")
        await wait_until(pilot, lambda: "Identity checked" in text_of(app.screen, "#outcome"), "check recorded")


@pytest.mark.parametrize("size", [SMALL, BIG, (200, 60)], ids=["80x24", "140x45", "200x60"])
async def test_ten_gomez_rows_show_whole_names_and_the_clock_fits(station, size):
    app = make_app(station, operator="ana")
    async with app.run_test(size=size) as pilot:
        screen = await desk_app(pilot)
        await find(pilot, "gomez", "Luis Gómez")
        table = screen.query_one("#results", ParticipantTable)
        names = table_names(screen)
        assert len(names) == 10 and len(set(names)) == 10
        name_column = next(c for c in table.columns.values() if c.key.value == "name")
        assert name_column.width >= max(len(n) for n in names), "every name whole on one line"
        assert table.region.bottom <= app.size.height - 1
        clock_widget = screen.query_one("#status-clock")
        assert on_screen(app, clock_widget) or clock_widget.region.y == 0
        assert clock_widget.region.right <= app.size.width
        assert clock_widget.region.width >= len(str(clock_widget.content).rstrip())
        assert "13:05:00" in str(clock_widget.content)


async def test_the_card_shows_the_delegation_use(station):
    app = make_app(station, operator="ana")
    async with app.run_test(size=SMALL) as pilot:
        screen = await desk_app(pilot)
        await find(pilot, "lauber", LAUBER)
        assert "Switzerland 0/4, head not yet" in text_of(screen, "#detail-facts")
