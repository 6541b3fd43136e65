"""SVG snapshots of the focal-point collection dialog and of the desk after a passport read, at 80×24
and 140×45 (see test_snapshots.py for how the pictures are kept steady and rewritten)."""

from __future__ import annotations

import pytest
from mrz_helpers import passport
from test_snapshots import SIZES, desk_app, outcome_says, search, station, steady_pictures, steps  # noqa: F401
from test_tui_desk import LAUBER, clock, demo_template, text_of, wait_until  # noqa: F401
from test_tui_mrz import keys

from regdesk.tui.dialogs.collection import CollectionDialog
from regdesk.tui.widgets.photo import PhotoView

pytestmark = pytest.mark.xdist_group("snapshots")


def open_collection(pilot_query: str, name: str):
    async def run(pilot) -> None:
        await search(pilot_query, name)(pilot)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CollectionDialog), "collection dialog")
        await pilot.press("space", "down", "space", "down", "space", "tab", "tab", *"4821", "enter", *"NV 045/2017")

    return run


@SIZES
def test_dialog_collection_by_a_focal_point(snap_compare, station, size):  # noqa: F811
    run = steps(open_collection("gagne", "Clémence Gagné"))
    assert snap_compare(desk_app(station), terminal_size=size, run_before=run)


@SIZES
def test_desk_after_a_passport_read(snap_compare, station, size):  # noqa: F811
    async def read(pilot) -> None:
        await pilot.press(*keys(passport("LAUBER", "JUERG", "X4821K7Q9", state="CHE", expiry="251130")))
        await wait_until(pilot, lambda: outcome_says("PASSPORT READ")(pilot.app), "the read")
        await wait_until(pilot, lambda: LAUBER in text_of(pilot.app.screen, "#detail-name"), "Lauber's card")
        if pilot.app.size.width >= 110:  # the wide card shows his photo: wait until it is his that is drawn
            await wait_until(
                pilot,
                lambda: any(
                    view.shown_for == "GCM17-000361" and view.query(".photo-image").first().display
                    for view in pilot.app.screen.query(PhotoView)
                ),
                "Lauber's photo",
            )

    assert snap_compare(desk_app(station), terminal_size=size, run_before=steps(read))
