"""SVG snapshots of the focal-point collection dialog and of the desk after a passport read, at 80×24
and 140×45 (see test_snapshots.py for how the pictures are kept steady and rewritten)."""

from __future__ import annotations

import pytest
from desk_pilot import LAUBER, text_of, wait_until
from mrz_helpers import keys, passport
from snapshot_steps import SIZES, desk_app, outcome_says, search, steps

from regdesk.tui.dialogs.collection import CollectionDialog
from regdesk.tui.widgets.photo import PhotoView

pytestmark = [pytest.mark.xdist_group("snapshots"), pytest.mark.usefixtures("steady_pictures", "fixed_root_key")]


def open_collection(pilot_query: str, name: str):
    async def run(pilot) -> None:
        await search(pilot_query, name)(pilot)
        await pilot.press("ctrl+g")
        await wait_until(pilot, lambda: isinstance(pilot.app.screen, CollectionDialog), "collection dialog")
        await pilot.press("space", "down", "space", "down", "space", "tab", "tab", *"4821", "enter", *"NV 045/2017")

    return run


@SIZES
def test_dialog_collection_by_a_focal_point(snap_compare, station, size):
    run = steps(open_collection("gagne", "Clémence Gagné"))
    assert snap_compare(desk_app(station), terminal_size=size, run_before=run)


@SIZES
def test_desk_after_a_passport_read(snap_compare, station, size):
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
