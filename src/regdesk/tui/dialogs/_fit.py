"""Dialogs that fit an 80x24 terminal (the scanning netbooks) and still look right at 200x60.

On a short terminal (under SHORT_ROWS rows) the dialog screen gets the `-short` class: inputs,
selects and buttons turn compact (one row, no border), margins go; if the card is still taller than
the terminal it scrolls, so the buttons are never cut off. Use `fit_dialog_css(name)` next to
`dialog_css(name)` and mix `FitsTerminal` into the ModalScreen.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Button, Input, Select

SHORT_ROWS = 32

FIT_CSS = """
{name} > #dialog { max-width: 100%; overflow-y: auto; }
{name}.-short > #dialog { max-height: 100%; padding: 0 1; border: tall $primary; }
{name}.-short .dialog-title { margin-bottom: 0; }
{name}.-short .dialog-text { margin-bottom: 0; }
{name}.-short .dialog-label { margin-top: 0; }
{name}.-short .dialog-error { margin-top: 0; }
{name}.-short .dialog-buttons { margin-top: 0; }
{name}.-short .dialog-buttons Button { margin-left: 1; }
"""


def fit_dialog_css(name: str) -> str:
    return FIT_CSS.replace("{name}", name)


class FitsTerminal:
    """Mixin for a ModalScreen: compact widgets and margins on a short terminal."""

    def _fit_terminal(self) -> None:
        short = self.app.size.height < SHORT_ROWS  # type: ignore[attr-defined]
        self.set_class(short, "-short")  # type: ignore[attr-defined]
        for widget in self.query("Input, Select, Button"):  # type: ignore[attr-defined]
            if isinstance(widget, (Input, Select, Button)):
                widget.compact = short

    def on_mount(self, _event: events.Mount) -> None:
        self._fit_terminal()

    def on_resize(self, _event: events.Resize) -> None:
        self._fit_terminal()
