"""A plain message with one OK button (errors the clerk must read before going on)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from regdesk.tui.dialogs._base import FitsSmallTerminals, dialog_css


class MessageDialog(FitsSmallTerminals, ModalScreen[None]):
    DEFAULT_CSS = (
        dialog_css("MessageDialog")
        + """
    MessageDialog.-error > #dialog { border: thick $error; }
    """
    )
    BINDINGS = [Binding("escape", "close", "Close", id="dialog.close")]
    AUTO_FOCUS = "#message-ok"

    def __init__(self, title: str, text: str, *, error: bool = False) -> None:
        super().__init__(classes="-error" if error else "")
        self.title_text, self.text = title, text

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            yield Static(self.text, classes="dialog-text", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", variant="primary", id="message-ok")

    @on(Button.Pressed, "#message-ok")
    def action_close(self) -> None:
        self.dismiss(None)
