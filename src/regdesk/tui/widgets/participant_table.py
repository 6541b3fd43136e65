"""Search results: one row per participant, keyed by accreditation id, status readable at a glance.

Names get the width: the category and status columns have fixed, short labels; the delegation
(and the Latin rendering, when some result has one) give way before the name does, and a name
that still does not fit wraps onto a second line instead of being cut. Ten "Gómez" rows can be
told apart at 80 columns.
"""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual.widgets import DataTable

from regdesk.services.lookup import SearchHit

# status -> (label, Rich style). At most 11 characters: the status column never takes a name's room.
STATUS_LOOK: dict[str, tuple[str, str]] = {
    "accredited": ("Accredited", "bold #9cc3ff"),
    "badge_collected": ("COLLECTED", "bold #4ec27a"),
    "badge_replaced": ("REPLACED", "bold #f0b43c"),
    "withdrawn": ("WITHDRAWN", "bold #ff6b6b"),
    "not_printed": ("NOT PRINTED", "bold #ffffff on #a8741a"),
}
STATUS_WIDTH = max(len(label) for label, _ in STATUS_LOOK.values())


def shown_status(status: str, delivered: bool) -> str:
    """The status the desk shows: a badge is "collected" only once printed or handed over as a PDF."""
    if status in ("badge_collected", "badge_replaced") and not delivered:
        return "not_printed"
    return status


def status_text(status: str) -> Text:
    label, style = STATUS_LOOK.get(status, (status, ""))
    return Text(label, style=style, no_wrap=True)


class ParticipantTable(DataTable):
    """Rows are replaced wholesale per search; single cells are updated by key (row key = accreditation id)."""

    COLUMNS = (
        ("name", "Name"),
        ("latin", "Latin"),
        ("delegation", "Delegation"),
        ("category", "Cat."),
        ("status", "Status"),
    )
    FIXED_WIDTHS = {"category": 5, "status": STATUS_WIDTH}
    MIN_NAME = 16
    MIN_OTHER = 10  # delegation / Latin never narrower than this (when there is room for it)
    SCROLLBAR = 2

    def __init__(self, *, category_colours: dict[str, str] | None = None, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._colours = category_colours or {}
        self._hits: list[SearchHit] = []
        self._widths: dict[str, int] = {}

    @property
    def hits(self) -> list[SearchHit]:
        return list(self._hits)

    def on_mount(self) -> None:
        self._rebuild()

    def on_resize(self) -> None:
        if self._compute_widths() != self._widths:
            self._rebuild()

    def _compute_widths(self) -> dict[str, int]:
        hits = self._hits
        needs_latin = any(hit.name_latin != hit.name for hit in hits)
        free = (
            self.size.width
            - self.SCROLLBAR
            - 2 * self.cell_padding * len(self.COLUMNS)
            - sum(self.FIXED_WIDTHS.values())
        )
        name_need = max([len(h.name) for h in hits] + [self.MIN_NAME])
        deleg_need = max([len(h.delegation) for h in hits] + [len("Delegation")])
        latin_need = (
            max([len(h.name_latin) for h in hits if h.name_latin != h.name] + [self.MIN_OTHER]) if needs_latin else 0
        )
        others = deleg_need + latin_need
        if name_need + others <= free:
            name = name_need
        else:
            # Names first: the other text columns keep at least a readable stub, names take the rest.
            stubs = self.MIN_OTHER * (2 if needs_latin else 1)
            name = max(min(name_need, free - stubs), min(self.MIN_NAME, free // 2), 4)
        rest = max(free - name, 0)
        if needs_latin:
            latin = max(min(latin_need, rest // 2), 1)
            deleg = max(rest - latin, 1)
        else:
            latin, deleg = 0, max(rest, 1)
        return {"name": name, "latin": latin, "delegation": deleg} | self.FIXED_WIDTHS

    def _rebuild(self) -> None:
        cursor = self.cursor_row
        self._widths = self._compute_widths()
        self.clear(columns=True)
        for key, label in self.COLUMNS:
            width = self._widths[key]
            if width:
                self.add_column(label, key=key, width=width)
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
        name_width = self._widths.get("name", 0)
        with_latin = bool(self._widths.get("latin"))
        for hit in hits:
            cells = [Text(hit.name, style="bold", overflow="fold")]  # a name wraps, it is never cut
            if with_latin:
                # Only show the Latin rendering when it adds something (names in other scripts).
                cells.append(self._fit(hit.name_latin if hit.name_latin != hit.name else "", "italic"))
            cells += [
                self._fit(hit.delegation),
                self._category_cell(hit.category),
                status_text(shown_status(hit.status, hit.badge_delivered)),
            ]
            lines = -(-len(hit.name) // name_width) if name_width else 1
            self.add_row(*cells, key=hit.accreditation_id, height=None if lines > 1 else 1)

    def show_hits(self, hits: list[SearchHit]) -> None:
        """Show exactly these results (an empty list leaves nothing to show, also after a resize)."""
        if hits == self._hits and len(hits) == self.row_count:
            # The same rows (a longer text that still finds the same people): nothing to redraw.
            # Like a rebuild, the first row is highlighted and shown.
            if hits:
                self.move_cursor(row=0, animate=False)
            return
        self._hits = list(hits)
        if self._compute_widths() != self._widths:
            self._rebuild()
            return
        self.clear()
        self._add_rows(self._hits)

    def set_status(self, participant_id: str, status: str, delivered: bool) -> None:
        self._hits = [
            h if h.accreditation_id != participant_id else replace(h, status=status, badge_delivered=delivered)
            for h in self._hits
        ]
        if participant_id in self.rows:
            self.update_cell(participant_id, "status", status_text(shown_status(status, delivered)))

    def highlighted_id(self) -> str | None:
        if not self.row_count or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        return self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value
