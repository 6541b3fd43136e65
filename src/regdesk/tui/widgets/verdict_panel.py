"""The full-screen answer at a scan point: huge VALID / DENIED / REPEAT, the reason in plain words,
and who the badge belongs to (name, delegation, category with its colour) so the officer can
compare the badge with the person in front of them.

The panel only shows plain data (`ScanView`); it never touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

# 5-row block letters for the headline words. Only the letters we need.
_GLYPHS: dict[str, tuple[str, ...]] = {
    "A": (" ███ ", "█   █", "█████", "█   █", "█   █"),
    "C": (" ████", "█    ", "█    ", "█    ", " ████"),
    "D": ("████ ", "█   █", "█   █", "█   █", "████ "),
    "E": ("█████", "█    ", "████ ", "█    ", "█████"),
    "I": ("███", " █ ", " █ ", " █ ", "███"),
    "L": ("█    ", "█    ", "█    ", "█    ", "█████"),
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


def block_letters(word: str) -> str:
    """Render WORD in 5-row block letters (unknown characters fall back to plain text)."""
    word = word.upper()
    if any(ch not in _GLYPHS for ch in word):
        return word
    rows = []
    for row in range(5):
        rows.append("  ".join(_GLYPHS[ch][row] for ch in word))
    return "\n".join(rows)


@dataclass(frozen=True)
class ScanView:
    """What the panel shows for one scan (built by the screen from a ScanResult)."""

    state: str  # valid | denied | repeat | error
    title: str  # VALID / DENIED / REPEAT / ERROR
    reason: str  # plain words
    note: str = ""
    name: str = ""
    name_latin: str = ""
    delegation: str = ""
    category_name: str = ""
    category_colour: str = ""
    serial: str = ""
    detail: str = ""  # entries today / on-board count
    manual: bool = False


STATES = ("ready", "valid", "denied", "repeat", "error")


class VerdictPanel(Vertical):
    """Fills the screen; its CSS class (`-ready`, `-valid`, `-denied`, `-repeat`, `-error`) sets the colour."""

    can_focus = False

    DEFAULT_CSS = """
    VerdictPanel { width: 1fr; height: 1fr; align: center middle; }
    VerdictPanel > Static { width: 1fr; content-align: center middle; text-align: center; }
    """

    def __init__(self, *, id: str | None = "verdict-panel") -> None:
        super().__init__(id=id)
        self.state = "ready"
        self.view: ScanView | None = None

    def compose(self) -> ComposeResult:
        yield Static(block_letters("READY"), id="verdict-title", markup=False)
        yield Static("Scan a badge", id="verdict-reason", markup=False)
        yield Static("", id="verdict-note", markup=False)
        yield Static("", id="holder-name", markup=False)
        yield Static("", id="holder-delegation", markup=False)
        yield Static("", id="holder-category")
        yield Static("", id="verdict-detail", markup=False)

    def _set_state(self, state: str) -> None:
        for name in STATES:
            self.set_class(name == state, f"-{name}")
        self.state = state

    def _put(self, widget_id: str, content: str | Text) -> None:
        widget = self.query_one(f"#{widget_id}", Static)
        widget.update(content)
        widget.display = bool(content.plain if isinstance(content, Text) else content)

    def show(self, view: ScanView) -> None:
        self.view = view
        self._set_state(view.state)
        self._put("verdict-title", block_letters(view.title))
        self._put("verdict-reason", ("MANUAL ENTRY · " if view.manual else "") + view.reason)
        self._put("verdict-note", view.note)
        name = view.name + (f"  ({view.name_latin})" if view.name_latin else "")
        self._put("holder-name", name)
        self._put("holder-delegation", view.delegation)
        category = Text()
        if view.category_name:
            colour = view.category_colour or "#777777"
            category.append("      ", style=f"on {colour}")
            category.append(f"  {view.category_name}  ", style="bold")
            category.append("      ", style=f"on {colour}")
        self._put("holder-category", category)
        detail = view.detail + (f"   badge {view.serial[:4]}-{view.serial[4:]}" if view.serial else "")
        self._put("verdict-detail", detail.strip())

    def show_ready(self, message: str = "Scan a badge") -> None:
        self.view = None
        self._set_state("ready")
        self._put("verdict-title", block_letters("READY"))
        self._put("verdict-reason", message)
        for widget_id in ("verdict-note", "holder-name", "holder-delegation", "verdict-detail"):
            self._put(widget_id, "")
        self._put("holder-category", Text())

    @property
    def title_text(self) -> str:
        return str(self.query_one("#verdict-title", Static).content)
