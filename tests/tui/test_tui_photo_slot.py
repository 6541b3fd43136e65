"""The photo slot draws its picture at full size however it is shown: the first time, after being
hidden, or refilled scan after scan. A lane showed a zero-row photo now and then: the picture's height
was measured from the widget's size in the previous frame, which is zero for a picture never drawn."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.geometry import Size

from regdesk.domain import photos as rules
from regdesk.render import avatar
from regdesk.services import photos
from regdesk.tui.widgets.photo import PhotoView


class Slot(App[None]):
    CSS = "PhotoView { width: 18; height: 14; }"

    def compose(self) -> ComposeResult:
        yield PhotoView(id="slot")


def picture():
    return photos.decode(avatar.jpeg("MX-1", rules.PHOTO_WIDTH, rules.PHOTO_HEIGHT))


async def test_a_picture_never_drawn_before_is_measured_from_the_slot_not_from_its_last_frame():
    app = Slot()
    async with app.run_test(size=(40, 20)):
        image = app.query_one(PhotoView).query_one(".photo-image")
        image.image = picture()
        assert image.content_size.width == 0  # hidden since compose: no frame has sized it
        # What the layout asks for the frame in which the picture is first shown, 16 columns wide:
        rows = image.get_content_height(Size(16, 12), Size(40, 20), 16)
        assert rows >= 8, f"the photo would be drawn {rows} rows tall"


@pytest.mark.parametrize("shows", [1, 2, 5])
async def test_a_photo_refilled_scan_after_scan_is_drawn_at_full_height(shows):
    app = Slot()
    async with app.run_test(size=(40, 20)) as pilot:
        slot = app.query_one(PhotoView)
        for n in range(shows):
            slot.show(f"P-{n}", None, loading=True)
            await pilot.pause()
            slot.show(f"P-{n}", picture())
            await pilot.pause()
            image = slot.query_one(".photo-image")
            assert image.display and image.region.height >= 8, f"show {n + 1}: {image.region.height} rows"


async def test_a_slot_waiting_for_its_photo_shows_no_spinner_over_the_verdict_row():
    """While the photo is read (after the verdict is painted), the slot stays as it is: Textual's
    loading indicator over it was a widget mounted and removed on every scan, two layouts of the
    lane's screen each time, in the frames that paint the next verdict."""
    app = Slot()
    async with app.run_test(size=(40, 20)) as pilot:
        slot = app.query_one(PhotoView)
        slot.show("P-1", None, loading=True)
        await pilot.pause()
        assert slot.photo_pending
        # What Textual draws in place of a widget (its loading indicator); None: the slot itself.
        assert slot._cover_widget is None, f"{type(slot._cover_widget).__name__} drawn over the photo slot"
        slot.show("P-1", picture())
        await pilot.pause()
        assert not slot.photo_pending


def _face(seed: str):
    return photos.decode(avatar.jpeg(seed, rules.PHOTO_WIDTH, rules.PHOTO_HEIGHT))


async def test_while_the_next_photo_loads_the_previous_face_is_gone_and_the_slot_keeps_its_size():
    """Scan after scan: the verdict for the next person is painted before their photo is read. The
    slot must not show the previous person's face beside it (in any graphics mode: it is replaced,
    not hidden by styling), and must keep its size (no jump of the verdict, no layout)."""
    app = Slot()
    async with app.run_test(size=(40, 20)) as pilot:
        slot = app.query_one(PhotoView)
        first = _face("MX-1")
        slot.show("P-1", first)
        await pilot.pause()
        image = slot.query_one(".photo-image")
        region = image.region
        slot.show("P-2", None, loading=True)
        await pilot.pause()
        shown = image.image
        assert shown is not first and slot.photo_pending and slot.shown_for == "P-2"
        assert all(low == high for low, high in shown.getextrema()), "the placeholder shows a picture"
        assert image.region == region, f"the slot moved or resized: {region} -> {image.region}"
        second = _face("MX-2")
        slot.show("P-2", second)
        await pilot.pause()
        assert image.image is second and not slot.photo_pending
        assert image.display and image.region == region
