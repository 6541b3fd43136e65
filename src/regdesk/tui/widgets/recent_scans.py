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
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

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


def _columns(items: list[RecentScan], width: int) -> tuple[int, int, int, int] | None:
    """Widths of the time, verdict, name and reason columns as the Rich table in `_table` lays them
    out (fixed time and verdict columns, name and reason sharing the rest 5:4, one space of padding
    between cells); None when the width is too small for that (the table copes)."""
    time_w = max(8, *(cell_len(i.time) for i in items))
    verdict_w = max(9, *(cell_len(i.verdict) for i in items))
    flexible = width - (time_w + 1) - (verdict_w + 2)
    if flexible < 2 * (1 + 2):
        return None
    name_w, reason_w = ratio_distribute(flexible, [5, 4], [1 + 2, 1 + 1])
    return time_w, verdict_w, name_w - 2, reason_w - 1


def row_text(item: RecentScan, columns: tuple[int, int, int, int]) -> Text:
    """One scan's row, laid out in `columns` (see `_columns`)."""
    time_w, verdict_w, name_w, reason_w = columns
    out = Text(no_wrap=True, overflow="ellipsis", end="")
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


def _table(items: list[RecentScan]) -> Table:
    table = Table(box=None, expand=True, show_header=False, pad_edge=False, padding=(0, 1))
    # Fixed columns need a min_width: with ratio columns beside them Rich drops their padding.
    table.add_column("time", no_wrap=True, min_width=8)
    table.add_column("verdict", no_wrap=True, min_width=9)
    table.add_column("name", ratio=5, no_wrap=True, overflow="ellipsis")
    table.add_column("reason", ratio=4, no_wrap=True, overflow="ellipsis")
    for item in items:
        table.add_row(
            item.time, Text(item.verdict, style=STATE_STYLE.get(item.state, "")), item.name or "—", item.reason
        )
    return table


class RecentScans(Widget):
    """Drawn line by line (Textual's line API): a scan repaints the list's rows, each row drawn once
    and kept while it stays on the list. As a Static it redrew its whole height from a new text on
    every scan, the largest part of painting a verdict (a fifth of the frame at 140x45)."""

    can_focus = False

    DEFAULT_CSS = """
    RecentScans { border-top: solid $primary-darken-1; border-title-color: $text-muted; padding: 0 1; height: auto; }
    """

    def __init__(self, *, limit: int = LIMIT, id: str | None = "recent-scans") -> None:
        super().__init__(id=id)
        self.items: deque[RecentScan] = deque(maxlen=limit)
        self.border_title = "Recent scans, newest first"
        self._lines: list[Strip] | None = None  # the rows at `_lines_width`, None: to be drawn
        self._lines_width = 0
        self._row_cache: dict[tuple[RecentScan, tuple[int, int, int, int]], Strip] = {}

    def add(self, item: RecentScan) -> None:
        shown = len(self._lines) if self._lines is not None else len(self.items)
        self.items.appendleft(item)
        self._lines = None
        # Only the rows of the list change (and the border row above them): no layout, and the
        # blank rows under the list are not painted again.
        rows = max(shown, len(self.items)) + self.styles.gutter.top
        self.refresh(Region(0, 0, self.outer_size.width, rows))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines = None  # the rows carry the colours they were drawn in
        self._row_cache.clear()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self.items))

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        if self._lines is None or self._lines_width != width:
            self._lines, self._lines_width = self._draw(width), width
        if y < len(self._lines):
            return self._lines[y]
        return Strip.blank(width, self.rich_style)

    def _draw(self, width: int) -> list[Strip]:
        items = list(self.items)
        if not width:
            return []
        if not items:
            return self._render(Text("No scan yet at this lane.", style="italic"), width)
        columns = _columns(items, width)
        if columns is None:
            return self._render(_table(items), width)
        cache, self._row_cache = self._row_cache, {}
        lines = []
        for item in items:
            key = (item, columns)
            strip = cache.get(key) or self._render(row_text(item, columns), width)[0]
            self._row_cache[key] = strip
            lines.append(strip)
        return lines

    def _render(self, renderable: RenderableType, width: int) -> list[Strip]:
        console = self.app.console
        style = self.rich_style
        rendered = console.render_lines(renderable, console.options.update_width(width), style=style, pad=True)
        return [Strip(line, width).simplify() for line in rendered]
