"""The full-screen answer at a scan point: huge VALID / DENIED / REPEAT, the reason in plain words,
and who the badge belongs to (name, delegation, category with its colour) so the officer can
compare the badge with the person in front of them.

The panel only shows plain data (`ScanView`); it never touches the database.

It is one widget that lays out and draws its lines itself, row by row (`render_line`): a verdict is
painted with no layout of the screen and as one widget, not eight (a lane has thirty milliseconds
from the scanner's Enter to the painted answer, and each widget in a frame costs Textual a fixed
share of it). The rules it follows are those of a column of centred, wrapped text lines; see
`VerdictPanel._arrange`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.content import Content
from textual.geometry import Region
from textual.strip import Strip
from textual.style import Style
from textual.visual import Visual
from textual.widget import Widget

from regdesk.domain.passes import format_pass_serial

# 5-row block letters for the headline words. Only the letters we need.
_GLYPHS: dict[str, tuple[str, ...]] = {
    "A": (" ███ ", "█   █", "█████", "█   █", "█   █"),
    "C": (" ████", "█    ", "█    ", "█    ", " ████"),
    "D": ("████ ", "█   █", "█   █", "█   █", "████ "),
    "E": ("█████", "█    ", "████ ", "█    ", "█████"),
    "I": ("███", " █ ", " █ ", " █ ", "███"),
    "L": ("█    ", "█    ", "█    ", "█    ", "█████"),
    "M": ("█   █", "██ ██", "█ █ █", "█   █", "█   █"),
    "N": ("█   █", "██  █", "█ █ █", "█  ██", "█   █"),
    "O": (" ███ ", "█   █", "█   █", "█   █", " ███ "),
    "P": ("████ ", "█   █", "████ ", "█    ", "█    "),
    "R": ("████ ", "█   █", "████ ", "█  █ ", "█   █"),
    "S": (" ████", "█    ", " ███ ", "    █", "████ "),
    "T": ("█████", "  █  ", "  █  ", "  █  ", "  █  "),
    "V": ("█   █", "█   █", "█   █", " █ █ ", "  █  "),
    "Y": ("█   █", " █ █ ", "  █  ", "  █  ", "  █  "),
    " ": ("  ", "  ", "  ", "  ", "  "),
}


def block_letters(word: str, width: int | None = None) -> str:
    """Render WORD in 5-row block letters, as wide as `width` allows: letters two columns apart,
    else one, else the plain word (also for characters without a glyph)."""
    word = word.upper()
    if any(ch not in _GLYPHS for ch in word):
        return word
    for gap in (2, 1):
        rows = ["".ljust(gap).join(_GLYPHS[ch][row] for ch in word) for row in range(5)]
        if width is None or len(rows[0]) <= width:
            return "\n".join(rows)
    return word


def block_width(word: str) -> int:
    """Columns WORD needs in block letters at their tightest (letters one column apart); 0 when
    it has a character without a glyph (it is then shown as plain text anyway)."""
    word = word.upper()
    if not word or any(ch not in _GLYPHS for ch in word):
        return 0
    return sum(len(_GLYPHS[ch][0]) for ch in word) + len(word) - 1


@dataclass(frozen=True)
class ScanView:
    """What the panel shows for one scan (built by the screen from a ScanResult)."""

    state: str  # valid | denied | repeat | over | error
    title: str  # VALID / DENIED / REPEAT / OVER CAPACITY / ERROR
    reason: str  # plain words
    action: str = ""  # what the officer does next (denials, a bus over capacity)
    note: str = ""
    name: str = ""
    name_latin: str = ""
    delegation: str = ""
    category_name: str = ""
    category_colour: str = ""
    serial: str = ""
    detail: str = ""  # entries today / on-board count
    manual: bool = False
    temporary_pass: bool = False  # `serial` is a temporary pass's (TP0012), not a badge's


STATES = ("ready", "valid", "denied", "repeat", "over", "error", "temporary")
# From this many rows the panel keeps a row for every line, blank when it has nothing to say: the
# verdict then never moves from one scan to the next. Below, an empty line gives its row to the
# others (an 80x24 terminal).
STEADY_MIN_ROWS = 20
ACTION_ROWS = 3
# A headline too wide for block letters in full tries its short form before plain text.
SHORT_TITLES = {"TEMPORARY PASS": "TEMP PASS"}
TITLE_ROWS = 5

LINES = ("title", "reason", "action", "name", "delegation", "note", "detail")


@dataclass(frozen=True)
class _LineLook:
    """How one line of the verdict is set: its text style, the rows kept above and below it (a
    compact panel keeps none below: the headline sits on its reason), and the rows it takes at
    least (and at most)."""

    text_style: Style
    gap_above: int = 0
    gap_below: int = 0
    rows: int | None = None  # exactly this many rows (the headline's block letters)
    steady_rows: int = 1  # at least this many rows when the panel is steady


_BOLD, _ITALIC, _PLAIN = Style(bold=True), Style(italic=True), Style()
_LOOKS: dict[str, _LineLook] = {
    "title": _LineLook(_BOLD, gap_below=1, rows=TITLE_ROWS),
    "reason": _LineLook(_BOLD),
    # What to do after a denial takes up to three rows; kept for it on a steady panel, so a
    # verdict with no instructions after one with them moves nothing.
    "action": _LineLook(_BOLD, gap_above=1, steady_rows=ACTION_ROWS),
    "name": _LineLook(_BOLD, gap_above=1),
    "delegation": _LineLook(_PLAIN),  # with the category's colour; one line, every row counts
    "note": _LineLook(_ITALIC, gap_above=1),
    "detail": _LineLook(_PLAIN, gap_above=1),
}


class VerdictPanel(Widget):
    """Fills its space; its CSS class (`-ready`, `-valid`, `-denied`, `-repeat`, `-over`, `-error`,
    `-temporary`) sets the colour. Top to bottom in order of importance (a short terminal cuts the
    bottom first): the verdict, its reason, what to do, who the badge belongs to, then the details.

    Each line is centred and wrapped to the panel's width; the column of lines is centred in the
    panel's height. A compact panel (`compact`, an 80x24 terminal) keeps no row under the headline."""

    can_focus = False

    DEFAULT_CSS = """
    VerdictPanel { width: 1fr; height: 1fr; text-align: center; }
    """

    def __init__(self, *, id: str | None = "verdict-panel") -> None:
        super().__init__(id=id)
        self.state = "ready"
        self.view: ScanView | None = None
        self._title = "READY"
        self._texts: dict[str, str | Text] = dict.fromkeys(LINES, "")
        self._texts["reason"] = "Scan a badge"
        self._compact = False
        # What is drawn now: for the content size it was drawn at, every row, and where each line is.
        self._drawn_for: tuple[int, int] | None = None
        self._rows: list[Strip] = []
        self._placed: dict[str, tuple[int, int]] = {}  # line -> (first row, rows), content coordinates
        self._drawn_title = ""

    # -- what the screen tells the panel --

    @property
    def compact(self) -> bool:
        return self._compact

    @compact.setter
    def compact(self, compact: bool) -> None:
        if compact != self._compact:
            self._compact = compact
            self._forget_rows()
            self.refresh()

    def show(self, view: ScanView) -> None:
        self.view = view
        self._set_state(view.state)
        self._title = view.title
        name = view.name + (f"  ({view.name_latin})" if view.name_latin else "")
        # Delegation and category on one line: on a 24-row terminal every line counts.
        who = Text(view.delegation)
        if view.category_name:
            colour = view.category_colour or "#777777"
            if view.delegation:
                who.append("   ")
            who.append("    ", style=f"on {colour}")
            who.append(f" {view.category_name} ", style="bold")
            who.append("    ", style=f"on {colour}")
        if view.temporary_pass:
            label = f"   pass {format_pass_serial(view.serial)}"
        else:
            label = f"   badge {view.serial[:4]}-{view.serial[4:]}" if view.serial else ""
        self._show_texts(
            reason=("MANUAL ENTRY · " if view.manual else "") + view.reason,
            action=view.action,
            name=name,
            delegation=who,
            note=view.note,
            detail=(view.detail + label).strip(),
        )

    def show_ready(self, message: str = "Scan a badge") -> None:
        self.view = None
        self._set_state("ready")
        self._title = "READY"
        self._show_texts(reason=message, action="", name="", delegation="", note="", detail="")

    @property
    def steady(self) -> bool:
        """Tall enough to keep a row for every line (STEADY_MIN_ROWS)."""
        return self.content_region.height >= STEADY_MIN_ROWS

    @property
    def title_text(self) -> str:
        """The headline as drawn (block letters where they fit)."""
        self._ensure_rows()
        return self._drawn_title

    def line_region(self, line: str) -> Region | None:
        """Where LINE (one of LINES) is on the screen, or None when it is not shown in full: hidden
        (an empty line on a short panel) or cut by the panel's edge."""
        self._ensure_rows()
        placed = self._placed.get(line)
        content = self.content_region
        if placed is None or placed[0] + placed[1] > content.height:
            return None
        return Region(content.x, content.y + placed[0], content.width, placed[1])

    # -- state --

    def _set_state(self, state: str) -> None:
        # A state is the panel's colours only (scan.tcss): restyle the panel alone, once. Textual's
        # own class change restyles it once per class added or removed.
        if state == self.state and self.has_class(f"-{state}"):
            return
        for name in STATES:
            self.set_class(name == state, f"-{name}", update=False)
        self.state = state
        if self.is_mounted:
            self.app.stylesheet.update_nodes([self])  # which calls notify_style_update

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._forget_rows()  # drawn in the previous colours

    def on_resize(self) -> None:
        self._forget_rows()

    def _show_texts(self, **texts: str | Text) -> None:
        before_rows, before_size = self._rows, self._drawn_for
        self._texts.update(texts)
        self._forget_rows()
        if before_size is None or not self.is_mounted or before_size != self.content_region.size:
            self.refresh()
            return
        # The same colours and size: repaint only the rows that changed (a repeat of the person just
        # scanned changes a word or two).
        self._ensure_rows()
        width = self.content_region.width
        changed = [
            y for y, (old, new) in enumerate(zip(before_rows, self._rows, strict=True)) if list(old) != list(new)
        ]
        if changed:
            self.refresh(*(Region(0, y, width, 1) for y in changed))  # regions of the content

    # -- drawing --

    def _forget_rows(self) -> None:
        self._drawn_for = None

    def render_line(self, y: int) -> Strip:
        self._ensure_rows()
        if 0 <= y < len(self._rows):
            return self._rows[y]
        return Strip.blank(self.content_region.width, self.rich_style)

    def _ensure_rows(self) -> None:
        size = self.content_region.size
        if self._drawn_for == (size.width, size.height):
            return
        self._drawn_for = (size.width, size.height)
        self._rows, self._placed = self._arrange(size.width, size.height)

    def _title_drawn(self, width: int) -> str:
        drawn = block_letters(self._title, width or None)
        if "\n" not in drawn and self._title in SHORT_TITLES:
            drawn = block_letters(SHORT_TITLES[self._title], width or None)
        return drawn

    def _line_strips(self, line: str, text: str | Text, width: int, steady: bool) -> list[Strip]:
        """LINE set at WIDTH: wrapped and centred, on as many rows as it takes (at least the rows it
        keeps), its words centred in those rows."""
        look = _LOOKS[line]
        content = Content.from_rich_text(text, console=self.app.console) if isinstance(text, Text) else Content(text)
        style = self.visual_style + look.text_style
        strips = Visual.to_strips(self, content, width, None, style)
        rows = look.rows or max(len(strips), look.steady_rows if steady else 1)
        fill = (style + Style(reverse=False)).rich_style
        return list(Strip.align(strips or [Strip.blank(0)], fill, width, rows, "center", "middle"))[:rows]

    def _arrange(self, width: int, height: int) -> tuple[list[Strip], dict[str, tuple[int, int]]]:
        """Every row of the panel's content, and where each line went.

        The lines stand one under the other, each `gap_above`/`gap_below` rows from its neighbour
        (the larger of the two; a compact panel keeps no `gap_below`); on a panel below
        STEADY_MIN_ROWS an empty line takes no room (the headline always does). The column is
        centred in the height, or starts at the top when it is taller (a short terminal cuts the
        bottom lines first)."""
        blank = Strip.blank(width, self.rich_style)
        if width <= 0 or height <= 0:
            return [], {}
        steady = height >= STEADY_MIN_ROWS
        self._drawn_title = self._title_drawn(width)
        column: list[tuple[str, list[Strip]]] = []
        for line in LINES:
            text = self._drawn_title if line == "title" else self._texts[line]
            plain = text.plain if isinstance(text, Text) else text
            if line != "title" and not steady and not plain:
                continue
            column.append((line, self._line_strips(line, text, width, steady)))
        gaps = [
            max(0 if self._compact else _LOOKS[above].gap_below, _LOOKS[below].gap_above)
            for (above, _), (below, _) in zip(column, column[1:], strict=False)
        ]
        total = sum(len(strips) for _, strips in column) + sum(gaps)
        y = max(0, (height - total) // 2)
        rows = [blank] * height
        placed: dict[str, tuple[int, int]] = {}
        for (line, strips), gap in zip(column, [*gaps, 0], strict=True):
            placed[line] = (y, len(strips))
            for strip in strips:
                if y < height:
                    rows[y] = strip
                y += 1
            y += gap
        return rows, placed
