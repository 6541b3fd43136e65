"""A passport reader's burst never paints the document number: every frame the desk's search box and the
F2 dialog's field draw during a typed TD1 burst is recorded (and every value they hold), and the number
of an identity card whose code has no filler ("IDUTOD23145890...") appears in none of them."""

from __future__ import annotations

import pytest
from desk_pilot import LAUBER, outcome, text_of, wait_until
from mrz_helpers import TD1, TD1_ID, TD1_LONG, keys
from scan_helpers import post_keys
from textual.widgets import Input

from regdesk.tui.app import make_app
from regdesk.tui.dialogs.identity_check import IdentityCheckDialog
from regdesk.tui.screens.desk import DeskScreen

NUMBER = "D23145890"


@pytest.fixture
def frames(monkeypatch) -> list[str]:
    """What every Input draws (each line of each frame) and every value it takes, in order."""
    seen: list[str] = []
    render_line = Input.render_line
    watch_value = Input._watch_value

    def recorded_render_line(self, y):
        strip = render_line(self, y)
        seen.append("".join(segment.text for segment in strip))
        return strip

    def recorded_watch_value(self, value):
        seen.append(value)
        return watch_value(self, value)

    monkeypatch.setattr(Input, "render_line", recorded_render_line)
    monkeypatch.setattr(Input, "_watch_value", recorded_watch_value)
    return seen


def shown_number(seen: list[str]) -> list[str]:
    """Frames or values that hold any 3 characters of the number in a row after the state ("UTOD")."""
    return [text for text in seen if "UTOD" in text or any(NUMBER[i : i + 3] in text for i in range(len(NUMBER) - 2))]


@pytest.mark.parametrize("lines", [TD1_ID, TD1, TD1_LONG], ids=["ID-code", "I<-code", "long-number"])
async def test_a_typed_td1_burst_never_paints_the_number_in_the_search_box(station, frames, lines):  # noqa: F811
    app = make_app(station, operator="ana")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk")
        for key in keys(lines):
            await pilot.press(key)
            await pilot.pause()  # a frame after every key
        await wait_until(pilot, lambda: "PASSPORT READ" in outcome(app), "the reading")
        assert "card ····5890" in outcome(app) or "card ····0734" in outcome(app)
        assert frames and shown_number(frames) == []


async def test_a_burst_all_at_once_never_paints_the_number(station, frames):  # noqa: F811
    app = make_app(station, operator="ana")
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk")
        post_keys(app, "".join(line + "\r" for line in TD1_ID))
        await wait_until(pilot, lambda: "····5890" in outcome(app), "the reading")
        assert shown_number(frames) == []


async def test_the_f2_dialog_field_never_paints_the_number(station, frames):  # noqa: F811
    app = make_app(station, operator="ana")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk")
        await pilot.press(*"lauber")
        await wait_until(pilot, lambda: LAUBER in text_of(app.screen, "#detail-name"), "Lauber's card")
        await pilot.press("f2")
        await wait_until(pilot, lambda: isinstance(app.screen, IdentityCheckDialog), "the dialog")
        for key in keys(TD1_ID):
            await pilot.press(key)
            await pilot.pause()
        await wait_until(pilot, lambda: "····5890" in outcome(app), "the dialog's reading recorded")
        assert shown_number(frames) == []


async def test_capitals_typed_by_a_clerk_still_arrive_in_order(station):  # noqa: F811
    """Held keys that were no reading go into the box as typed: on the next other key, or after the pause."""
    app = make_app(station, operator="ana")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, DeskScreen), "desk")
        box = app.screen.query_one("#search")
        await pilot.press(*"ADAMSON", "space", *"jr")
        assert box.value == "ADAMSON jr"
        await pilot.press("escape")
        await pilot.press(*"PASSPORTS")
        await wait_until(pilot, lambda: box.value == "PASSPORTS", "the capitals after the pause")
