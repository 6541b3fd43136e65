"""Search results: one row per participant, keyed by accreditation id, status readable at a glance."""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual.widgets import DataTable

from regdesk.services.lookup import SearchHit

# status -> (label, Rich style). The same words are used in the detail panel.
STATUS_LOOK: dict[str, tuple[str, str]] = {
    "accredited": ("Accredited", "bold #9cc3ff"),
    "badge_collected": ("BADGE COLLECTED", "bold #4ec27a"),
    "badge_replaced": ("REPLACED", "bold #f0b43c"),
    "withdrawn": ("WITHDRAWN", "bold #ff6b6b"),
}


def status_text(status: str) -> Text:
    label, style = STATUS_LOOK.get(status, (status, ""))
    return Text(label, style=style)


class ParticipantTable(DataTable):
    """Rows are replaced wholesale per search; single cells are updated by key (row key = accreditation id).

    Column widths follow the widget's width so the status column is never pushed off screen; long
    names are cut with an ellipsis (the detail panel shows them in full).
    """

    COLUMNS = (("name", "Name"), ("latin", "Latin"), ("delegation", "Delegation"), ("category", "Cat."),
               ("status", "Status"))
    FIXED_WIDTHS = {"category": 5, "status": 15}
    # The Latin column only gets room when some result is written in another script.
    SHARES = {"name": 0.38, "latin": 0.26, "delegation": 0.36}
    SHARES_NO_LATIN = {"name": 0.52, "latin": 0.0, "delegation": 0.48}
    MIN_WIDTH = 6

    def __init__(self, *, category_colours: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._colours = category_colours or {}
        self._hits: list[SearchHit] = []
        self._widths: dict[str, int] = {}

    def on_mount(self) -> None:
        self._rebuild()

    def on_resize(self) -> None:
        if self._compute_widths() != self._widths:
            self._rebuild()

    def _compute_widths(self) -> dict[str, int]:
        # Each cell has one column of padding on both sides; keep two for the vertical scrollbar.
        free = self.size.width - 2 - 2 * self.cell_padding * len(self.COLUMNS) - sum(self.FIXED_WIDTHS.values())
        shares = self.SHARES if self._needs_latin(self._hits) else self.SHARES_NO_LATIN
        widths = {key: self.MIN_WIDTH for key, share in shares.items() if not share}
        free -= sum(widths.values())
        widths |= {key: max(self.MIN_WIDTH, int(free * share)) for key, share in shares.items() if share}
        return widths | self.FIXED_WIDTHS

    def _rebuild(self) -> None:
        cursor = self.cursor_row
        self._widths = self._compute_widths()
        self.clear(columns=True)
        for key, label in self.COLUMNS:
            self.add_column(label, key=key, width=self._widths[key])
        self._add_rows(self._hits)
        if self._hits and 0 <= cursor < len(self._hits):
            self.move_cursor(row=cursor)

    @staticmethod
    def _fit(text: str, style: str = "") -> Text:
        return Text(text, style=style, no_wrap=True, overflow="ellipsis")  # cut to the column width

    def _category_cell(self, code: str) -> Text:
        colour = self._colours.get(code)
        return Text(f"{code:^5}", style=f"bold #ffffff on {colour}") if colour else Text(code)

    def _add_rows(self, hits: list[SearchHit]) -> None:
        for hit in hits:
            self.add_row(
                self._fit(hit.name, "bold"),
                # Only show the Latin rendering when it adds something (names in other scripts).
                self._fit(hit.name_latin if hit.name_latin != hit.name else "", "italic"),
                self._fit(hit.delegation),
                self._category_cell(hit.category),
                status_text(hit.status),
                key=hit.accreditation_id,
            )

    @staticmethod
    def _needs_latin(hits: list[SearchHit]) -> bool:
        return any(hit.name_latin != hit.name for hit in hits)

    def show_hits(self, hits: list[SearchHit]) -> None:
        self._hits = list(hits)
        if self._compute_widths() != self._widths:
            self._rebuild()
            return
        self.clear()
        self._add_rows(self._hits)

    def set_status(self, participant_id: str, status: str) -> None:
        self._hits = [h if h.accreditation_id != participant_id else replace(h, status=status) for h in self._hits]
        if participant_id in self.rows:
            self.update_cell(participant_id, "status", status_text(status))

    def highlighted_id(self) -> str | None:
        if not self.row_count or self.cursor_row < 0:
            return None
        return self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
