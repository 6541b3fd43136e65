"""Yes / no question. Escape means no."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from regdesk.tui.dialogs._base import FitsSmallTerminals, dialog_css


class ConfirmDialog(FitsSmallTerminals, ModalScreen[bool]):
    DEFAULT_CSS = dialog_css("ConfirmDialog")
    BINDINGS = [Binding("escape", "no", "Cancel", id="dialog.cancel")]
    AUTO_FOCUS = "#confirm-yes"

    def __init__(self, title: str, text: str, *, yes: str = "Yes", no: str = "Cancel") -> None:
        super().__init__()
        self.title_text, self.text, self.yes_label, self.no_label = title, text, yes, no

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.text, classes="dialog-text", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.no_label, id="confirm-no")
                yield Button(self.yes_label, variant="primary", id="confirm-yes")

    @on(Button.Pressed, "#confirm-yes")
    def yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def action_no(self) -> None:
        self.dismiss(False)
