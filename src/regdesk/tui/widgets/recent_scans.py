"""The last scans at this lane, newest first (as pretixSCAN shows them): time, verdict, name, reason.

A guard who looked away, or a person who asks "was I let in?", finds the answer here after the big
verdict has gone back to READY. Plain data in (`RecentScan`), never the database; never focusable,
so a scanner's keystrokes always reach the scan input.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from rich._ratio import ratio_distribute
from rich.cells import cell_len, set_cell_size
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

LIMIT = 10
STATE_STYLE = {
    "valid": "bold #3FAE6A",
    "denied": "bold #E05252",
    "repeat": "bold #E0A030",
    "over": "bold #F57C00",
    "error": "bold #B07CD8",
    "temporary": "bold #64B5F6",
}


@dataclass(frozen=True)
class RecentScan:
    time: str  # local HH:MM:SS
    state: str  # valid | denied | repeat | over | error
    verdict: str  # VALID / DENIED / REPEAT / OVER CAP. / ERROR
    name: str  # holder, or "" when the badge did not verify
    reason: str  # plain words


def rows_text(items: list[RecentScan], width: int) -> Text | None:
    """The rows laid out exactly as the Rich table in `_draw` lays them out (fixed time and verdict
    columns, name and reason sharing the rest 5:4, one space of padding between cells), as one
    Text: a new row on every scan, and a Rich table measures every cell several times (tens of
    milliseconds a scan). None when the width is too small for that (the table copes)."""
    time_w = max(8, *(cell_len(i.time) for i in items))
    verdict_w = max(9, *(cell_len(i.verdict) for i in items))
    flexible = width - (time_w + 1) - (verdict_w + 2)
    if flexible < 2 * (1 + 2):
        return None
    name_w, reason_w = ratio_distribute(flexible, [5, 4], [1 + 2, 1 + 1])
    name_w, reason_w = name_w - 2, reason_w - 1
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    for n, item in enumerate(items):
        if n:
            out.append("\n")
        out.append(set_cell_size(item.time, time_w) + " ")
        out.append(" ")
        out.append(set_cell_size(item.verdict, verdict_w), style=STATE_STYLE.get(item.state, ""))
        out.append("  ")
        name = Text(item.name or "—")
        name.truncate(name_w, overflow="ellipsis", pad=True)
        out.append_text(name)
        out.append("  ")
        reason = Text(item.reason)
        reason.truncate(reason_w, overflow="ellipsis", pad=True)
        out.append_text(reason)
    return out


class RecentScans(Static):
    can_focus = False

    DEFAULT_CSS = """
    RecentScans { border-top: solid $primary-darken-1; border-title-color: $text-muted; padding: 0 1; }
    """

    def __init__(self, *, limit: int = LIMIT, id: str | None = "recent-scans") -> None:
        super().__init__(id=id)
        self.items: deque[RecentScan] = deque(maxlen=limit)
        self.border_title = "Recent scans, newest first"

    def on_mount(self) -> None:
        self._draw()

    def add(self, item: RecentScan) -> None:
        self.items.appendleft(item)
        self._draw()

    def _draw(self) -> None:
        if not self.items:
            self.update(Text("No scan yet at this lane.", style="italic"))
            return
        width = self.content_region.width
        lines = rows_text(list(self.items), width) if width else None
        if lines is not None:
            # The list has a fixed height (scan.tcss): a new row never needs a layout of the screen.
            self.update(lines, layout=False)
            return
        table = Table(box=None, expand=True, show_header=False, pad_edge=False, padding=(0, 1))
        # Fixed columns need a min_width: with ratio columns beside them Rich drops their padding.
        table.add_column("time", no_wrap=True, min_width=8)
        table.add_column("verdict", no_wrap=True, min_width=9)
        table.add_column("name", ratio=5, no_wrap=True, overflow="ellipsis")
        table.add_column("reason", ratio=4, no_wrap=True, overflow="ellipsis")
        for item in self.items:
            table.add_row(
                item.time, Text(item.verdict, style=STATE_STYLE.get(item.state, "")), item.name or "—", item.reason
            )
        self.update(table)
