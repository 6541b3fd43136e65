"""The desk's keys footer at 80×24 (and wider): whatever the desk shows, "f8 Sign out" and the key of
the act in hand are on screen, nothing passes the right edge, and keys that did not fit are behind
"^p More" (the command palette, which lists them all). Printers are a real CUPS
(tests/helpers/cups_server.py)."""

from __future__ import annotations

import pytest
from desk_pilot import LAUBER, wait_until
from desk_pilot import checked_lauber as checked
from snapshot_steps import outcome_says, search
from textual.widgets._footer import FooterKey

from regdesk.tui.app import make_app
from regdesk.tui.dialogs.override import OverrideDialog
from regdesk.tui.screens.desk import DeskScreen
from regdesk.tui.widgets.keys_footer import KeysFooter


def footer_keys(screen) -> dict[str, tuple[int, int]]:
    """Each key's label ("f8 Sign out") and its first and last column on screen."""
    footer = screen.query_one(KeysFooter)
    return {
        f"{key.key_display} {key.description}": (key.region.x, key.region.right)
        for key in footer.query_children(FooterKey)
        if key.region.width
    }


async def footer_shows(pilot, *labels: str) -> dict[str, tuple[int, int]]:
    width = pilot.app.size.width

    def fits() -> bool:
        keys = footer_keys(pilot.app.screen)
        return all(label in keys for label in labels) and all(right <= width for _, right in keys.values())

    await wait_until(pilot, fits, f"footer with {labels} within {width} columns: {footer_keys(pilot.app.screen)}")
    return footer_keys(pilot.app.screen)


async def desk(pilot) -> DeskScreen:
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, DeskScreen), "desk")
    return pilot.app.screen


async def not_printed(pilot) -> None:
    await search("lauber", LAUBER)(pilot)
    await pilot.press("f3")
    await wait_until(pilot, lambda: outcome_says("NOT PRINTED")(pilot.app), "print failure")


@pytest.fixture
def stopped_printer(station, cups):  # noqa: F811
    station.set_setting("printer", "Badge_A")
    station.set_setting("second_printer", "Badge_B")
    cups.run("cupsdisable", "-r", "ribbon jammed", "Badge_A")
    return cups


@pytest.mark.parametrize("width", [80, 100])
@pytest.mark.parametrize("operator", ["ana", "maria"])  # a clerk, and a supervisor with every screen key
async def test_printer_failed_keeps_sign_out_retry_and_other_printer(station, stopped_printer, operator, width):  # noqa: F811
    checked(station)
    app = make_app(station, operator=operator)
    async with app.run_test(size=(width, 24)) as pilot:
        await desk(pilot)
        await not_printed(pilot)
        keys = await footer_shows(pilot, "f8 Sign out", "^r Retry", "^o Other printer", "f3 Issue")
        if width == 80:
            assert "^p More" in keys  # what did not fit is one key away
            await pilot.press("ctrl+p")  # ... and More lists it
            await wait_until(pilot, lambda: not isinstance(app.screen, DeskScreen), "command palette")


@pytest.mark.parametrize("operator", ["ana", "maria"])
async def test_printer_fine_every_key_or_more_and_sign_out(station, cups, operator):  # noqa: F811
    app = make_app(station, operator=operator)
    async with app.run_test(size=(80, 24)) as pilot:
        await desk(pilot)
        await footer_shows(pilot, "f8 Sign out", "f2 Check ID", "f3 Issue")  # nobody selected
        await search("lauber", LAUBER)(pilot)
        await footer_shows(pilot, "f8 Sign out", "f2 Check ID", "f3 Issue", "esc Clear")


async def test_refusal_keeps_override_and_sign_out(station, clock):  # noqa: F811
    from conftest import local

    clock.set(local("2017-12-05T15:20"))  # collection closed: a supervisor may override
    checked(station)
    station.set_setting("printer", "Badge_A")
    station.set_setting("second_printer", "Badge_B")
    app = make_app(station, operator="maria")
    async with app.run_test(size=(80, 24)) as pilot:
        await desk(pilot)
        await search("lauber", LAUBER)(pilot)
        await pilot.press("f3")
        await wait_until(pilot, lambda: outcome_says("NOT ISSUED")(app), "refusal")
        await footer_shows(pilot, "f8 Sign out", "f6 Override", "f3 Issue")
        await pilot.press("f6")
        await wait_until(pilot, lambda: isinstance(app.screen, OverrideDialog), "the override the footer offers")


async def test_temporary_pass_dialog_and_back_keeps_sign_out(station, stopped_printer):  # noqa: F811
    from regdesk.tui.dialogs.assign_pass import AssignPassDialog

    checked(station)
    app = make_app(station, operator="maria")
    async with app.run_test(size=(80, 24)) as pilot:
        await desk(pilot)
        await not_printed(pilot)
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: isinstance(app.screen, AssignPassDialog), "pass dialog")
        await pilot.press("escape")
        await desk(pilot)
        await footer_shows(pilot, "f8 Sign out", "^r Retry", "^o Other printer")


async def test_a_resize_to_80_columns_fits_the_footer_again(station, stopped_printer):  # noqa: F811
    checked(station)
    app = make_app(station, operator="maria")
    async with app.run_test(size=(140, 45)) as pilot:
        await desk(pilot)
        await not_printed(pilot)
        keys = await footer_shows(pilot, "f8 Sign out", "^r Retry", "f12 Supervisor")
        assert "^p More" not in keys  # everything fits at 140
        await pilot.resize_terminal(80, 24)
        await footer_shows(pilot, "f8 Sign out", "^r Retry", "^o Other printer", "^p More")


@pytest.mark.parametrize("screen_key", ["f12", "f7"], ids=["supervisor", "audit"])
async def test_the_supervisor_and_audit_screens_keep_sign_out_and_the_palette_at_80(station, screen_key):  # noqa: F811
    from textual.widgets import Footer

    app = make_app(station, operator="maria")
    async with app.run_test(size=(80, 24)) as pilot:
        await desk(pilot)
        await pilot.press(screen_key)
        await wait_until(pilot, lambda: not isinstance(app.screen, DeskScreen), "the screen")

        def keys() -> dict[str, tuple[int, int]]:
            footer = app.screen.query_one(Footer)
            return {
                f"{k.key_display} {k.description}": (k.region.x, k.region.right)
                for k in footer.query_children(FooterKey)
                if k.region.width
            }

        def fits() -> bool:
            shown = keys()
            if "f8 Sign out" not in shown or "^p palette" not in shown:
                return False
            palette_from = shown["^p palette"][0]  # docked right: nothing may run under it
            return all(right <= palette_from for label, (_, right) in shown.items() if label != "^p palette")

        await wait_until(pilot, fits, f"sign out and the palette side by side: {keys()}")
