"""Where to write the tallies export: a directory, prefilled with station output / tallies-<day>.

Returns the chosen directory, or None when cancelled. The export itself runs in the supervisor
screen's worker; this dialog only asks.
"""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from regdesk.tui.dialogs._base import FitsSmallTerminals, dialog_css


class ExportTalliesDialog(FitsSmallTerminals, ModalScreen[Path | None]):
    DEFAULT_CSS = dialog_css("ExportTalliesDialog")
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    AUTO_FOCUS = "#export-dir"

    def __init__(self, default_dir: Path, what: str) -> None:
        super().__init__()
        self.default_dir = default_dir
        self.what = what

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Export tallies", classes="dialog-title")
            yield Static(
                f"{self.what}: one CSV file per table, README.txt with the columns, and the PDF report.",
                classes="dialog-text",
                markup=False,
            )
            yield Static("Directory", classes="dialog-label")
            yield Input(str(self.default_dir), id="export-dir")
            yield Static("", id="export-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="export-cancel")
                yield Button("Export", variant="primary", id="export-ok")

    @on(Input.Submitted, "#export-dir")
    @on(Button.Pressed, "#export-ok")
    def confirm(self) -> None:
        text = self.query_one("#export-dir", Input).value.strip()
        if not text:
            self.query_one("#export-error", Static).update("Give a directory.")
            return
        path = Path(text).expanduser()
        if path.exists() and not path.is_dir():
            self.query_one("#export-error", Static).update(f"{path} is a file, not a directory.")
            return
        self.dismiss(path)

    @on(Button.Pressed, "#export-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
