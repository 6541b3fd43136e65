"""SVG snapshots of the desk's printer line against a real CUPS (tests/helpers/cups_server.py), at 80×24 and
140×45: a stopped printer with its reason beside an idle second printer, and a badge that did not
print with its retry (ctrl+r) and other-printer (ctrl+o) keys. See test_snapshots.py for how the pictures are
kept steady and rewritten."""

from __future__ import annotations

import pytest
from desk_pilot import LAUBER, checked_lauber, text_of, wait_until
from snapshot_steps import SIZES, desk_app, outcome_says, press_until, search, steps

pytestmark = [pytest.mark.xdist_group("snapshots"), pytest.mark.usefixtures("steady_pictures", "fixed_root_key")]


@pytest.fixture
def stopped_printer(station, cups):
    station.set_setting("printer", "Badge_A")
    station.set_setting("second_printer", "Badge_B")
    cups.run("cupsdisable", "-r", "ribbon jammed", "Badge_A")
    return cups


def printer_line_says(words: str):
    async def run(pilot) -> None:
        await wait_until(pilot, lambda: words in text_of(pilot.app.screen, "#printer-line"), f"printer line: {words}")

    return run


@SIZES
def test_desk_printer_stopped(snap_compare, station, stopped_printer, size):
    run = steps(printer_line_says("Badge_B: idle"))
    assert snap_compare(desk_app(station), terminal_size=size, run_before=run)


@SIZES
def test_desk_badge_not_printed_on_a_stopped_printer(snap_compare, station, stopped_printer, size):
    checked_lauber(station)
    run = steps(
        printer_line_says("Badge_B: idle"),
        search("lauber", LAUBER),
        press_until("f3", outcome_says("NOT PRINTED"), "print failure"),
        printer_line_says("retry"),
    )
    assert snap_compare(desk_app(station), terminal_size=size, run_before=run)
