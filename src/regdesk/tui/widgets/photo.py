"""A participant's photo in the terminal, through textual-image: the Kitty graphics protocol or
Sixel where the terminal answers that it has them, coloured half-block cells everywhere else (and
always in tests, where stdout is no terminal: the half-blocks are plain text, so snapshots are
deterministic).

textual-image asks the terminal what it supports when it is first imported, by writing a query
and reading the answer from stdin; that only works before Textual owns the terminal, so
`prepare()` is called by the app before it runs. REGDESK_PHOTOS=halfcell skips the question (a
terminal that answers wrongly), REGDESK_PHOTOS=off shows no photos at all.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any

from PIL import Image
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static

_IMAGE_CLASS: Any = None
_OFF = False
BLANK_COLOUR = (21, 32, 44)  # the theme's surface (#15202C): an empty frame, not a black box


def prepare() -> None:
    """Choose how photos are drawn (once, before the app takes the terminal)."""
    global _IMAGE_CLASS, _OFF
    if _IMAGE_CLASS is not None or _OFF:
        return
    mode = os.environ.get("REGDESK_PHOTOS", "auto").strip().lower()
    if mode == "off":
        _OFF = True
        return
    try:
        if mode == "halfcell" or not (sys.__stdout__ and sys.__stdout__.isatty()):
            from textual_image.widget import HalfcellImage

            _IMAGE_CLASS = HalfcellImage
            return
        import textual_image.renderable as renderables
        from textual_image.widget import HalfcellImage
        from textual_image.widget import Image as AutoImage

        graphics = renderables.Image in (renderables.TGPImage, renderables.SixelImage)
        _IMAGE_CLASS = AutoImage if graphics else HalfcellImage
    except Exception:  # noqa: BLE001 - a terminal query gone wrong must never stop the desk
        _OFF = True


def _blank_like(image: Any) -> Image.Image | None:
    """A plain picture of `image`'s size: what the slot shows while the next photo is read (never
    the previous person's face beside a new verdict, in any terminal graphics mode)."""
    size = getattr(image, "size", None)
    return _blank(size) if size else None


@functools.cache
def _blank(size: tuple[int, int]) -> Image.Image:
    return Image.new("RGB", size, BLANK_COLOUR)  # never drawn on: one per size serves every scan


def _swap_in_place(widget: Any, image: Image.Image | None) -> bool:
    """Give the image widget a picture of the same pixel size as the one it shows, repainting it
    without a layout (textual-image's own setter always asks for one). False when that cannot be
    done: another size, or a textual-image without the attributes relied on here."""
    old = getattr(widget, "_image", None)
    if image is None or getattr(old, "size", None) != image.size:
        return False
    if not all(hasattr(widget, name) for name in ("_renderable", "_image_width", "_image_height")):
        return False
    if widget._renderable is not None:  # noqa: SLF001 - what the setter does first, minus the layout
        widget._renderable.cleanup()  # noqa: SLF001
        widget._renderable = None  # noqa: SLF001
    widget._image = image  # noqa: SLF001 - same size: _image_width and _image_height still hold
    widget.refresh()
    return True


def _hide_picture(widget: Any) -> None:
    """No picture in the image widget (if there is one), and the widget hidden."""
    if widget is None:
        return
    if widget.image is not None:  # textual-image's setter lays out the screen even to set None again
        widget.image = None
    widget.display = False


def image_class() -> Any:
    prepare()
    return _IMAGE_CLASS


class PhotoView(Vertical, can_focus=False):
    """A fixed-size slot: the photo, "no photo on file", or nothing (hidden) when no one is shown.

    The picture is sized `auto` both ways, never `100%` or in cells: for any other size textual-image
    measures its height from the widget's *previous* content size, which is zero for a picture shown
    for the first time or just unhidden, and a layout at that moment left the photo zero rows tall
    for good (now and then at lanes, where the slot is refilled scan after scan).
    """

    DEFAULT_CSS = """
    PhotoView { width: 22; height: auto; padding: 0 1; }
    PhotoView > .photo-image { width: auto; height: auto; }
    PhotoView > #photo-caption { width: 100%; height: auto; text-align: center; color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._shown_for: str | None = None
        # The slot waits for a photo being read (tests wait for it). Not Widget.loading: that one
        # mounts Textual's loading indicator over the slot, a new widget and two layouts a scan.
        self.photo_pending = False

    def compose(self) -> ComposeResult:
        cls = image_class()
        if cls is not None:
            image: Widget = cls(None, classes="photo-image")
            image.display = False
            yield image
        yield Static("", id="photo-caption", markup=False)

    @property
    def shown_for(self) -> str | None:
        return self._shown_for

    def _image(self) -> Any:
        found = self.query(".photo-image")
        return found.first() if found else None

    def show(self, participant_id: str, image: Image.Image | None, *, loading: bool = False) -> None:
        """The photo of `participant_id` (None: no photo on file; loading: the slot is kept while it loads)."""
        widget = self._image()
        drawn = widget is not None and widget.display and self.display and widget.image is not None
        if image is not None and drawn and self._shown_for == participant_id and not self.photo_pending:
            # The same person's card again (a refresh after an ID check, a reprint): their photo is
            # already drawn; handing the widget a new copy would only make it draw it again.
            return
        # Scan after scan at a lane the slot goes from one photo to a blank while the next is read,
        # then to that photo, all the same size: swapped in place, the verdict's frame needs no
        # layout of the screen (the largest part of painting a verdict).
        if drawn and (image is not None or loading):
            replacement = image if image is not None else _blank_like(widget.image)  # type: ignore[union-attr]
            if _swap_in_place(widget, replacement):
                self._shown_for = participant_id
                self.photo_pending = image is None
                return
        self._shown_for = participant_id
        self.photo_pending = loading
        self.display = True
        widget = self._image()
        caption = self.query_one("#photo-caption", Static)
        if image is not None and widget is not None:
            widget.image = image
            widget.display = True
            caption.update("")
            caption.display = False
            return
        _hide_picture(widget)
        caption.display = True
        # Scan after scan of people without a photo, only the caption's words change: in a slot of
        # fixed height that needs a repaint, not a layout of the screen.
        layout = not self._fixed_height(caption)
        if loading:
            caption.update("", layout=layout)
        elif image is None and widget is None:
            caption.update(Text("photo not shown here"), layout=layout)
        else:
            caption.update(Text("NO PHOTO\non file", style="bold"), layout=layout)

    def _fixed_height(self, caption: Static) -> bool:
        """The caption's height does not follow its words (the slot and the caption are sized by
        the screen, not by their content)."""
        slot, own = self.styles.height, caption.styles.height
        return slot is not None and own is not None and not slot.is_auto and not own.is_auto

    def blank(self) -> None:
        """The slot kept where it is, with no one in it (a verdict without a holder, READY): nothing
        beside it moves, and the frame needs no layout when the picture is swapped in place."""
        self._shown_for = None
        self.photo_pending = False
        widget = self._image()
        if widget is not None and widget.display and self.display and widget.image is not None:
            if _swap_in_place(widget, _blank_like(widget.image)):
                return
        _hide_picture(widget)
        caption = self.query_one("#photo-caption", Static)
        caption.display = True
        caption.update("", layout=not self._fixed_height(caption))
        self.display = True

    def clear(self) -> None:
        self._shown_for = None
        self.photo_pending = False
        _hide_picture(self._image())
        self.display = False
