"""The full-screen answer at a scan point: huge VALID / DENIED / REPEAT, the reason in plain words,
and who the badge belongs to (name, delegation, category with its colour) so the officer can
compare the badge with the person in front of them.

The panel only shows plain data (`ScanView`); it never touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.css.scalar import Unit
from textual.strip import Strip
from textual.widgets import Static

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
# verdict then never moves, and a new one is painted without a layout of the screen (a third of
# the time to paint it). Below, an empty line gives its row to the others (an 80x24 terminal).
STEADY_MIN_ROWS = 20
ACTION_ROWS = 3
# A headline too wide for block letters in full tries its short form before plain text.
SHORT_TITLES = {"TEMPORARY PASS": "TEMP PASS"}


class VerdictPanel(Vertical):
    """Fills its space; its CSS class (`-ready`, `-valid`, `-denied`, `-repeat`, `-over`, `-error`) sets the
    colour. Top to bottom in order of importance (a short terminal cuts the bottom first): the verdict,
    its reason, what to do, who the badge belongs to, then the details."""

    can_focus = False

    DEFAULT_CSS = """
    VerdictPanel { width: 1fr; height: 1fr; align: center middle; }
    VerdictPanel > Static { width: 1fr; content-align: center middle; text-align: center; }
    """

    def __init__(self, *, id: str | None = "verdict-panel") -> None:
        super().__init__(id=id)
        self.state = "ready"
        self.view: ScanView | None = None
        self._title = "READY"
        self._shown: dict[str, str] = {}  # the plain text each line shows now
        self._width_hint: int | None = None  # the width the panel is about to have (a photo slot came or went)
        self._steady = False  # tall enough to keep every line's row (STEADY_MIN_ROWS)
        self._blank_row: Strip | None = None

    def render_line(self, y: int) -> Strip:
        # The panel itself is only its colour behind the lines (a new verdict's colour repaints all
        # of its rows): one blank strip for every row, instead of Textual drawing an empty
        # renderable row by row.
        width = self.content_size.width
        if self._blank_row is None or self._blank_row.cell_length != width:
            self._blank_row = Strip.blank(width, self.rich_style)
        return self._blank_row

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._blank_row = None  # drawn in the previous colours

    def compose(self) -> ComposeResult:
        yield Static(block_letters("READY"), id="verdict-title", markup=False)
        yield Static("Scan a badge", id="verdict-reason", markup=False)
        yield Static("", id="verdict-action", markup=False)
        yield Static("", id="holder-name", markup=False)
        yield Static("", id="holder-delegation")
        yield Static("", id="verdict-note", markup=False)
        yield Static("", id="verdict-detail", markup=False)

    def on_resize(self) -> None:
        self._width_hint = None
        steady = self.content_region.height >= STEADY_MIN_ROWS
        if steady != self._steady:
            self._steady = steady
            for line in self.query(Static):
                line.display = steady or bool(self._shown.get(line.id or "", line.id == "verdict-title"))
            # What to do after a denial takes up to three rows; kept for it, a verdict with no
            # instructions after one with them needs no layout either.
            self.query_one("#verdict-action", Static).styles.min_height = ACTION_ROWS if steady else None
        self._draw_title()

    def _draw_title(self) -> None:
        width = self._width_hint or self.content_region.width or None
        drawn = block_letters(self._title, width)
        if "\n" not in drawn and self._title in SHORT_TITLES:
            drawn = block_letters(SHORT_TITLES[self._title], width)
        self._put("verdict-title", drawn)

    def _set_state(self, state: str) -> None:
        # A state is the panel's colours only (scan.tcss): restyle the panel alone, once, and let its
        # lines take the inherited colours on their next paint. Textual's own class change restyles
        # the panel and every line, once per class added or removed: two to four milliseconds of the
        # thirty a verdict has to be on screen.
        if state == self.state and self.has_class(f"-{state}"):
            return
        for name in STATES:
            self.set_class(name == state, f"-{name}", update=False)
        self.state = state
        if not self.is_mounted:
            return
        self.app.stylesheet.update_nodes([self])  # which calls notify_style_update: a new blank row
        for line in self.children:
            line.notify_style_update()  # drops the colours it inherited from the panel
            line.refresh()

    def _put(self, widget_id: str, content: str | Text) -> None:
        widget = self.query_one(f"#{widget_id}", Static)
        plain = content.plain if isinstance(content, Text) else content
        before = self._shown.get(widget_id)
        self._shown[widget_id] = plain
        if before == plain and not isinstance(content, Text):
            return  # the same words: nothing to paint
        # A new verdict must be painted at once: a layout of the whole screen costs more than the
        # rest of the scan. It is needed only when a line appears, goes, or may wrap differently.
        width = widget.content_region.width
        same_size = widget_id == "verdict-title" or (
            width > 0
            and before is not None
            and (self._steady or bool(before) == bool(plain))  # an empty line is one row when kept
            and "\n" not in before + plain
            and cell_len(before) <= width
            and cell_len(plain) <= width
        )
        if same_size or not (self._steady and width > 0 and widget.display):
            widget.update(content, layout=not same_size)
        else:
            # A line that wraps (a denial's instructions): it needs a layout only when it takes
            # another number of rows than the words it replaces.
            rows = widget.content_region.height
            widget.update(content, layout=False)
            least = widget.styles.min_height
            needed = widget.get_content_height(self.content_region.size, self.app.size, width)
            if max(needed, int(least.value) if least is not None and least.unit == Unit.CELLS else 0) != rows:
                widget.refresh(layout=True)
        widget.display = self._steady or bool(plain)

    def show(self, view: ScanView, *, width: int | None = None) -> None:
        self.view = view
        self._width_hint = width
        self._set_state(view.state)
        self._title = view.title
        self._draw_title()
        self._put("verdict-reason", ("MANUAL ENTRY · " if view.manual else "") + view.reason)
        self._put("verdict-action", view.action)
        name = view.name + (f"  ({view.name_latin})" if view.name_latin else "")
        self._put("holder-name", name)
        # Delegation and category on one line: on a 24-row terminal every line counts.
        who = Text(view.delegation)
        if view.category_name:
            colour = view.category_colour or "#777777"
            if view.delegation:
                who.append("   ")
            who.append("    ", style=f"on {colour}")
            who.append(f" {view.category_name} ", style="bold")
            who.append("    ", style=f"on {colour}")
        self._put("holder-delegation", who)
        self._put("verdict-note", view.note)
        if view.temporary_pass:
            label = f"   pass {format_pass_serial(view.serial)}"
        else:
            label = f"   badge {view.serial[:4]}-{view.serial[4:]}" if view.serial else ""
        detail = view.detail + label
        self._put("verdict-detail", detail.strip())

    def show_ready(self, message: str = "Scan a badge") -> None:
        self.view = None
        self._set_state("ready")
        self._title = "READY"
        self._draw_title()
        self._put("verdict-reason", message)
        for widget_id in ("verdict-action", "verdict-note", "holder-name", "verdict-detail"):
            self._put(widget_id, "")
        self._put("holder-delegation", Text())

    @property
    def steady(self) -> bool:
        """Tall enough to keep a row for every line (STEADY_MIN_ROWS)."""
        return self._steady

    @property
    def title_text(self) -> str:
        return str(self.query_one("#verdict-title", Static).content)
