"""Print a stock of temporary passes: the day they are valid and how many (supervisor screen, ctrl+t).
The passes are signed with this desk's badge key and written as an A4 PDF (8 per page) to the
station's output folder; the screen's worker does it (services/passes.py), this dialog only asks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from regdesk.domain.payloads import MAX_PASSES_PER_RUN
from regdesk.tui.dialogs._base import FitsSmallTerminals, dialog_css


@dataclass(frozen=True)
class PrintPassesRequest:
    day: date
    count: int


class PrintPassesDialog(FitsSmallTerminals, ModalScreen[PrintPassesRequest | None]):
    DEFAULT_CSS = (
        dialog_css("PrintPassesDialog")
        + """
    PrintPassesDialog > #dialog { border: thick #0d47a1; }
    PrintPassesDialog #passes-day { width: 20; }
    PrintPassesDialog #passes-count { width: 12; }
    """
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]
    AUTO_FOCUS = "#passes-count"

    def __init__(self, day: date, valid_days: tuple[date, ...]) -> None:
        super().__init__()
        self.day = day
        self.valid_days = valid_days

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static("Print temporary passes", classes="dialog-title")
            yield Static(
                "A numbered stock of signed passes with no name, valid on ONE day only, for when the desk "
                "is down. Print the PDF, keep the stock locked away; assign each pass at the desk later.",
                classes="dialog-text",
            )
            yield Label("Valid on (YYYY-MM-DD)", classes="dialog-label")
            yield Input(self.day.isoformat(), max_length=10, id="passes-day")
            yield Label(f"How many (1-{MAX_PASSES_PER_RUN})", classes="dialog-label")
            yield Input("40", max_length=4, restrict=r"[0-9]*", id="passes-count")
            yield Static("", id="passes-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="passes-cancel")
                yield Button("Print passes", variant="primary", id="passes-ok")

    @on(Input.Submitted)
    @on(Button.Pressed, "#passes-ok")
    def submit(self) -> None:
        error = self.query_one("#passes-error", Static)
        try:
            day = date.fromisoformat(self.query_one("#passes-day", Input).value.strip())
        except ValueError:
            error.update("Give the day as YYYY-MM-DD, e.g. 2017-12-04.")
            return
        if day not in self.valid_days:
            error.update("Not a meeting day: " + ", ".join(d.isoformat() for d in self.valid_days) + ".")
            return
        count_text = self.query_one("#passes-count", Input).value.strip()
        count = int(count_text) if count_text.isdigit() else 0
        if not 1 <= count <= MAX_PASSES_PER_RUN:
            error.update(f"Print 1 to {MAX_PASSES_PER_RUN} passes at a time.")
            return
        self.dismiss(PrintPassesRequest(day, count))

    @on(Button.Pressed, "#passes-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
