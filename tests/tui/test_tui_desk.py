"""The desk TUI driven headless with Pilot on a demo station (bundled event + 900-row fixture)."""

from __future__ import annotations

import shutil
import time

import pytest
from desk_pilot import (
    LAUBER,
    checked_lauber,
    demo_secret,
    events_of,
    find,
    participant_id_of,
    select_lauber,
    sign_in,
    status_cell,
    table_names,
    text_of,
    wait_until,
)
from sqlalchemy import select
from textual import events

from conftest import participant_row, seed_participants
from regdesk.domain.events import EventKind
from regdesk.services import desk, operators
from regdesk.services.station import open_station
from regdesk.store.models import Badge, IdentityCheck, Override, Participant
from regdesk.tui.app import make_app
from regdesk.tui.dialogs.confirm import ConfirmDialog
from regdesk.tui.dialogs.identity_check import IdentityCheckDialog
from regdesk.tui.dialogs.override import OverrideDialog
from regdesk.tui.screens.desk import DeskScreen
from regdesk.tui.screens.login import LoginScreen

SIZE = (140, 45)


# --- sign-in ------------------------------------------------------------------------------------


@pytest.mark.parametrize("between", ["\t", "\r"], ids=["tab", "enter"])
async def test_sign_in_typed_in_one_burst_lands_in_the_right_fields(station, between):
    """A password manager (or a fast typist) sends name, Tab or Enter, PIN, Enter before the app
    has drawn a frame; every key must still reach the field it was meant for."""
    app = make_app(station)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for ch in f"ana{between}1111\r":
            key = {"\t": "tab", "\r": "enter"}.get(ch, ch)
            app.post_message(events.Key(key, ch))  # all queued at once, no pause between keys
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk screen")
        assert app.operator.name == "ana"


async def test_sign_in_refuses_wrong_pin_then_opens_the_desk(station):
    app = make_app(station)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, LoginScreen)
        assert "ana / 1111" in text_of(screen, "#login-demo-hint")  # demo station: the hint is shown
        assert "Westin desk 1" in text_of(screen, "#login-station")
        assert "Friday 01 December 2017, 13:05" in text_of(screen, "#login-clock")

        await sign_in(pilot, "ana", "9999")
        await wait_until(pilot, lambda: "wrong" in text_of(screen, "#login-message"), "wrong-PIN message")
        assert isinstance(app.screen, LoginScreen) and app.operator is None

        await sign_in(pilot, "ana", "1111")
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk screen")
        assert app.operator.name == "ana"
        assert "Operator: ana" in text_of(app.screen, "#status-operator")
        assert "Fri 01 Dec 2017  13:05:00" in text_of(app.screen, "#status-clock")
        assert app.screen.query_one("#sync-status")  # the slot the sync area fills
        assert app.screen.focused is app.screen.query_one("#search")

        await pilot.press("f8")  # sign out: back to the sign-in, nobody signed in
        await wait_until(pilot, lambda: isinstance(app.screen, LoginScreen), "sign-in after sign-out")
        assert app.operator is None


@pytest.mark.slow
async def test_four_wrong_pins_lock_sign_in_for_30_seconds(station, clock):
    wall = {"now": 1_000_000.0}  # real seconds (a lockout never follows the rehearsal clock)
    station.wall_clock = lambda: wall["now"]
    app = make_app(station)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        for _ in range(4):
            await sign_in(pilot, "ana", "0000")
            await wait_until(pilot, lambda: not screen._checking, "PIN checked")
        assert "locked for 30 s" in text_of(screen, "#login-message")
        await sign_in(pilot, "ana", "1111")  # even the right PIN is not accepted while locked
        await wait_until(pilot, lambda: not screen._checking, "PIN checked")
        assert isinstance(app.screen, LoginScreen) and app.operator is None
        # Another process on the same station (a CLI) is locked out too: the count is station-wide.
        other = open_station(station.data_dir, clock=clock)
        other.wall_clock = station.wall_clock
        with pytest.raises(operators.SignInRefused, match="locked"):
            operators.sign_in(other, "ana", "1111")
        other.close()

        wall["now"] += 31
        await sign_in(pilot, "ana", "1111")
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk after lockout")


async def test_operator_role_must_fit_the_station(station):
    app = make_app(station)
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await sign_in(pilot, "sam", "3333")  # security staff at a desk station
        await wait_until(pilot, lambda: "cannot sign in" in text_of(screen, "#login-message"), "role refusal")
        assert isinstance(app.screen, LoginScreen) and app.operator is None
        await sign_in(pilot, "maria", demo_secret("maria"))  # a supervisor may sign in anywhere
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk for supervisor")


# --- the desk flow --------------------------------------------------------------------------------


async def test_find_check_id_issue_and_print(station):
    app = make_app(station, operator="ana")
    lauber = participant_id_of(station, "Lauber", "Jürg")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk screen")
        screen = app.screen
        await select_lauber(pilot)
        assert status_cell(screen, lauber) == "Accredited"
        assert "ACCREDITED" in text_of(screen, "#detail-banner")

        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, IdentityCheckDialog), "identity dialog")
        await pilot.press(*"4821", "enter")
        await wait_until(pilot, lambda: "Identity checked" in text_of(screen, "#outcome"), "check recorded")
        with station.sessions() as s:
            check = s.execute(select(IdentityCheck).where(IdentityCheck.participant_id == lauber)).scalar_one()
        assert (check.document_type, check.document_last4, check.operator) == ("passport", "4821", "ana")

        await pilot.press("f3")
        await wait_until(
            pilot,
            lambda: "ISSUED as PDF" in text_of(screen, "#outcome") or "NOT PRINTED" in text_of(screen, "#outcome"),
            "issue and print finished",
        )
        assert "ISSUED as PDF" in text_of(screen, "#outcome"), text_of(screen, "#outcome")
        with station.sessions() as s:
            badge = s.execute(select(Badge).where(Badge.participant_id == lauber)).scalar_one()
        assert badge.operator == "ana" and not badge.revoked
        pdfs = list(station.output_dir.glob(f"badge-{badge.serial}-*.pdf"))
        assert pdfs and pdfs[0].read_bytes().startswith(b"%PDF")
        assert str(pdfs[0]) in text_of(screen, "#outcome")  # the clerk sees where the PDF went
        await wait_until(pilot, lambda: status_cell(screen, lauber) == "COLLECTED", "status in the table")
        assert "BADGE COLLECTED" in text_of(screen, "#detail-banner")


async def test_issue_without_identity_check_is_refused_with_the_reason(station):
    app = make_app(station, operator="ana")
    lauber = participant_id_of(station, "Lauber", "Jürg")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk screen")
        screen = app.screen
        await select_lauber(pilot)
        assert "check an identity document" in text_of(screen, "#detail-next")  # told before pressing F3
        await pilot.press("f3")
        await wait_until(pilot, lambda: "NOT ISSUED" in text_of(screen, "#outcome"), "refusal shown")
        outcome = text_of(screen, "#outcome")
        assert "identity document" in outcome and "F2" in outcome
        assert "identity_not_checked" not in outcome  # plain words on screen, never the reason code
        assert "F6" not in outcome  # the identity rule is never overridable
        assert screen.check_action("override", ()) is False
        with station.sessions() as s:
            assert s.execute(select(Badge).where(Badge.participant_id == lauber)).first() is None


@pytest.mark.slow
async def test_quota_refusal_then_supervisor_override(station):
    rows = [
        participant_row(
            f"TL-{i}",
            f"Quotamember{i}",
            "Test",
            delegation="Testland",
            category="MS",
            role="head" if i == 1 else "member",
        )
        for i in range(1, 6)
    ]
    seed_participants(station, rows, revision="2017-11-29T00:00:00Z")
    for i in range(1, 5):
        desk.record_identity_check(station, f"TL-{i}", "passport", "1234", "ana")
        desk.issue_badge(station, f"TL-{i}", operator="ana")
    app = make_app(station, operator="ana")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk screen")
        screen = app.screen
        await find(pilot, "quotamember5", "Test Quotamember5")
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, IdentityCheckDialog), "identity dialog")
        await pilot.press(*"77AB", "enter")
        await wait_until(pilot, lambda: "Identity checked" in text_of(screen, "#outcome"), "check recorded")
        await pilot.press("f3")
        await wait_until(pilot, lambda: "NOT ISSUED" in text_of(screen, "#outcome"), "quota refusal")
        outcome = text_of(screen, "#outcome")
        assert "Testland already has 4 badges (limit 4)" in outcome and "supervisor" in outcome
        assert "quota_reached" not in outcome
        assert screen.check_action("override", ()) is True

        # A wrong supervisor PIN keeps the dialog open, with the reason already typed; nothing is issued.
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, OverrideDialog), "override dialog")
        dialog = app.screen
        assert "quota_reached" not in text_of(dialog, "#ov-refusal")
        await pilot.press(*"maria", "enter", *"0000", "enter", *"Delegation list corrected by NY", "enter")
        await wait_until(pilot, lambda: "wrong" in text_of(dialog, "#ov-error"), "wrong supervisor PIN")
        assert app.screen is dialog
        assert dialog.query_one("#ov-reason").value == "Delegation list corrected by NY"
        assert dialog.query_one("#ov-pin").value == "" and dialog.focused is dialog.query_one("#ov-pin")
        with station.sessions() as s:
            assert s.execute(select(Badge).where(Badge.participant_id == "TL-5")).first() is None

        await pilot.press(*demo_secret("maria"), "enter", "enter")  # the PIN again; the kept reason submits
        await wait_until(
            pilot,
            lambda: "override recorded" in text_of(screen, "#outcome") or "ISSUED" in text_of(screen, "#outcome"),
            "override issued",
        )
    with station.sessions() as s:
        badge = s.execute(select(Badge).where(Badge.participant_id == "TL-5")).scalar_one()
        override = s.execute(select(Override).where(Override.participant_id == "TL-5")).scalar_one()
    assert badge.override_event_id == override.event_id
    assert (override.rule, override.supervisor, override.operator) == ("quota_reached", "maria", "ana")
    assert override.reason == "Delegation list corrected by NY"
    assert len(events_of(station, EventKind.OVERRIDE_GRANTED)) == 1


async def test_scanned_confirmation_code_and_enter_selects_the_participant(station):
    with station.sessions() as s:
        code = s.execute(select(Participant.confirmation_code).where(Participant.family_name == "Lauber")).scalar_one()
    app = make_app(station, operator="ana")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk screen")
        screen = app.screen
        await pilot.press(*code, "enter")  # a keyboard-wedge scanner: the code, then Enter
        await wait_until(pilot, lambda: LAUBER in text_of(screen, "#detail-name"), "Lauber selected by code")
        assert table_names(screen) == [LAUBER]
        assert screen.focused is screen.query_one("#search")  # ready for the next scan


async def test_enter_with_several_matches_moves_into_the_results(station):
    app = make_app(station, operator="ana")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk screen")
        screen = app.screen
        await pilot.press(*"switzerland", "enter")
        await wait_until(pilot, lambda: len(table_names(screen)) > 1, "several Swiss participants")
        await wait_until(pilot, lambda: screen.focused is screen.query_one("#results"), "focus in the results")
        await pilot.press("down")
        second = table_names(screen)[1]
        await wait_until(pilot, lambda: second in text_of(screen, "#detail-name"), "second row's card")


async def test_replace_lost_badge_revokes_the_old_one(station, clock):
    lauber = participant_id_of(station, "Lauber", "Jürg")
    desk.record_identity_check(station, lauber, "passport", "4821", "ana")
    first = desk.issue_badge(station, lauber, operator="ana")
    desk.print_badge(station, first.serial, operator="ana")  # a PDF-only station: handed over as PDF
    clock.advance(hours=20)  # next day: the participant comes back, badge lost
    app = make_app(station, operator="ana")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk screen")
        screen = app.screen
        await select_lauber(pilot)
        assert status_cell(screen, lauber) == "COLLECTED"
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, IdentityCheckDialog), "identity dialog")
        await pilot.press(*"4821", "enter")
        await wait_until(pilot, lambda: "Identity checked" in text_of(screen, "#outcome"), "check recorded")
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "confirm dialog")
        await pilot.press("enter")
        await wait_until(pilot, lambda: status_cell(screen, lauber) == "REPLACED", "status REPLACED")
    with station.sessions() as s:
        badges = {b.serial: b for b in s.execute(select(Badge).where(Badge.participant_id == lauber)).scalars()}
    assert len(badges) == 2 and badges[first.serial].revoked
    assert [b.issue_no for b in badges.values() if not b.revoked] == [2]


async def lauber_at_the_desk(pilot) -> DeskScreen:
    """The desk screen up, with Jürg Lauber found and selected."""
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, DeskScreen), "desk screen")
    await select_lauber(pilot)
    return pilot.app.screen


async def test_a_quick_replacement_goes_straight_to_its_outcome_which_says_what_was_revoked(
    station, clock, monkeypatch
):
    # The progress lines ("Replacing…", "ISSUED… Printing…") wait before they are shown; here longer
    # than any issue takes, so none may appear, and the outcome must still say what they said.
    from regdesk.tui.screens import desk as desk_screen

    monkeypatch.setattr(desk_screen, "PROGRESS_SHOWN_AFTER", 60.0)
    lauber = checked_lauber(station)
    first = desk.issue_badge(station, lauber, operator="ana")
    desk.print_badge(station, first.serial, operator="ana")
    clock.advance(hours=20)
    app = make_app(station, operator="ana")
    async with app.run_test(size=SIZE) as pilot:
        screen = await lauber_at_the_desk(pilot)
        shown: list[str] = []
        show = screen._outcome
        monkeypatch.setattr(screen, "_outcome", lambda text, *a, **k: (shown.append(text), show(text, *a, **k)))
        checked_lauber(station)  # the document checked again for the replacement
        await pilot.press("f4")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog), "confirm dialog")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "ISSUED as PDF" in text_of(screen, "#outcome"), "the replacement's outcome")
        old = f"{first.serial[:4]}-{first.serial[4:]}"
        assert f"Badge {old} revoked." in text_of(screen, "#outcome")
        assert not [text for text in shown if "Replacing" in text or "Printing…" in text], shown


async def test_a_slow_print_says_the_badge_is_issued_and_printing_while_it_prints(station, monkeypatch):
    checked_lauber(station)
    real_print = desk.print_badge

    def slow_printer(*args, **kwargs):
        time.sleep(1.5)  # a printer warming up
        return real_print(*args, **kwargs)

    monkeypatch.setattr(desk, "print_badge", slow_printer)
    app = make_app(station, operator="ana")
    async with app.run_test(size=SIZE) as pilot:
        screen = await lauber_at_the_desk(pilot)
        await pilot.press("f3")
        seen = []
        for _ in range(200):  # while the print runs (wait_until would wait for it to end)
            await pilot.pause(0.02)
            seen.append(text_of(screen, "#outcome"))
            if "ISSUED (issue 1). Printing…" in seen[-1]:
                break
        assert "ISSUED (issue 1). Printing…" in seen[-1], seen[-1]
        await wait_until(pilot, lambda: "ISSUED as PDF" in text_of(screen, "#outcome"), "the outcome")


async def test_print_failure_says_the_badge_is_issued_and_offers_reprint(station, monkeypatch):
    lauber = checked_lauber(station)

    def broken_printer(*args, **kwargs):
        raise OSError("printer 'westin-1' is out of ribbon")

    monkeypatch.setattr(desk, "print_badge", broken_printer)
    app = make_app(station, operator="ana")
    async with app.run_test(size=SIZE) as pilot:
        screen = await lauber_at_the_desk(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: "NOT PRINTED" in text_of(screen, "#outcome"), "print failure")
        outcome = text_of(screen, "#outcome")
        assert "ISSUED – NOT PRINTED" in outcome and "out of ribbon" in outcome and "F5" in outcome
        await wait_until(pilot, lambda: screen.check_action("reprint", ()) is True, "reprint offered")
    with station.sessions() as s:
        assert s.execute(select(Badge).where(Badge.participant_id == lauber)).scalar_one()


# --- supervisors switch screens; clerks cannot --------------------------------------------------


async def test_only_supervisors_switch_screens_with_function_keys(station):
    app = make_app(station, operator="ana")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk screen")
        await pilot.press("f10", "f12")
        await pilot.pause()
        assert app.current_mode == "desk" and isinstance(app.screen, DeskScreen)

    app = make_app(station, operator="maria")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk screen")
        desk_screen = app.screen
        await find(pilot, "lauber", LAUBER)
        await pilot.press("f12")
        await wait_until(pilot, lambda: app.current_mode == "supervisor", "supervisor screen")
        await pilot.press("f9")
        await wait_until(pilot, lambda: app.current_mode == "desk", "back to the desk")
        assert app.screen is desk_screen  # the desk kept its search and selection
        assert LAUBER in text_of(desk_screen, "#detail-name")


# --- `regdesk demo`: where it lives, built once -------------------------------------------------


def test_demo_data_dir_is_a_separate_folder_unless_told(monkeypatch, tmp_path):
    from argparse import Namespace

    from regdesk.commands.common import default_data_dir
    from regdesk.commands.tui import demo_data_dir

    monkeypatch.delenv("REGDESK_DATA_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    # No --data-dir: cli.main fills in the usual data dir; the demo goes next to real stations, not into one.
    assert demo_data_dir(Namespace(data_dir=default_data_dir())) == tmp_path / "xdg" / "regdesk" / "demo"
    assert demo_data_dir(Namespace(data_dir=tmp_path / "mine")) == tmp_path / "mine"
    monkeypatch.setenv("REGDESK_DATA_DIR", str(tmp_path / "env"))
    assert demo_data_dir(Namespace(data_dir=default_data_dir())) == tmp_path / "env"


def test_demo_station_is_built_once_and_never_over_other_files(demo_template, tmp_path, clock):
    from regdesk.services.demo import DemoError, is_demo_station, open_or_build_demo

    shutil.copytree(demo_template, tmp_path / "demo")
    station, created = open_or_build_demo(tmp_path / "demo", clock=clock)
    try:
        assert not created and is_demo_station(station)
        with station.sessions() as s:
            assert s.execute(select(Participant)).first() is not None
    finally:
        station.close()
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("not a station")
    with pytest.raises(DemoError, match="not empty"):
        open_or_build_demo(tmp_path / "busy", clock=clock)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["busy", "demo"]  # no half-built folder left


def footer_keys(screen) -> dict[str, bool]:
    """The keys on the desk's footer: key -> shown as usable (not dimmed)."""
    from textual.widgets._footer import FooterKey

    return {k.key: not k.has_class("-disabled") for k in screen.query(FooterKey)}


async def test_footer_keys_follow_who_is_selected(station):
    """The footer greys its keys in place: it must still say which keys work after every change."""
    app = make_app(station, operator="ana")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk screen")
        screen = app.screen
        await wait_until(pilot, lambda: bool(footer_keys(screen)), "footer keys")
        nobody = footer_keys(screen)
        assert not any(nobody[k] for k in ("f2", "f3", "f4", "f5")) and "f6" not in nobody

        await select_lauber(pilot)
        await wait_until(pilot, lambda: footer_keys(screen)["f3"], "F3 usable")
        keys = footer_keys(screen)
        assert keys["f2"] and keys["f3"] and not keys["f4"] and not keys["f5"]  # no badge to replace yet

        await pilot.press("escape")
        await wait_until(pilot, lambda: not footer_keys(screen)["f3"], "F3 dimmed")
        assert footer_keys(screen) == nobody


async def test_a_search_and_an_issue_hold_back_syncing_while_they_run(station, monkeypatch):
    """While the clerk waits for results or for a badge, a sync in this station stands aside
    between its chunks (services/give_way.py); once the answer is there, it goes on."""
    from regdesk.services import lookup

    seen: list[tuple[str, bool]] = []
    real_search, real_issue = lookup.search, desk.issue_badge

    def search(st, *args, **kwargs):
        seen.append(("search", st.give_way.busy))
        return real_search(st, *args, **kwargs)

    def issue_badge(st, *args, **kwargs):
        seen.append(("issue", st.give_way.busy))
        return real_issue(st, *args, **kwargs)

    monkeypatch.setattr(lookup, "search", search)
    monkeypatch.setattr(desk, "issue_badge", issue_badge)
    lauber = participant_id_of(station, "Lauber", "Jürg")
    desk.record_identity_check(station, lauber, "passport", "4821", "ana")
    app = make_app(station, operator="ana")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk screen")
        screen = app.screen
        await select_lauber(pilot)
        await wait_until(pilot, lambda: not station.give_way.busy, "the sync let go after the search")
        await pilot.press("f3")
        await wait_until(
            pilot,
            lambda: "ISSUED" in text_of(screen, "#outcome") and "Printing" not in text_of(screen, "#outcome"),
            "issue and print finished",
        )
        await wait_until(pilot, lambda: not station.give_way.busy, "the sync let go after the issue")
    assert seen and all(busy for _what, busy in seen), seen
    assert {"search", "issue"} <= {what for what, _busy in seen}
