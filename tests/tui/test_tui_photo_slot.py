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
