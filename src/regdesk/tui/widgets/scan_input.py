"""ScanInput: the always-focused input a keyboard-wedge scanner types into.

A scan is a burst of keystrokes that ends in CR (enter), LF (ctrl+j), Tab, or nothing at all.
Textual's own Input submits through the `enter` *binding*, and bindings run only after the key
has bubbled up to the App; when keys arrive faster than that, the next scan's first characters
land in the value before `submit` reads it (textual#6605, anchors/textual-style.md §3.2). So the
terminators are caught here, in the widget's own key handler, in the same order the characters
were inserted: the value is taken at that instant, posted as `Scanned`, and cleared before the
next key is processed. Tab is swallowed too, so a Tab suffix never moves focus.

A scanner's burst is 100-200 keys in a few milliseconds. Inserting each one through Input costs
about a millisecond of reactive updates, refreshes and scrolling, so a burst alone took longer than
the officer may wait for the verdict. Printable keys are therefore kept in a buffer (`take_typed`)
and put in the box once per refresh; a terminator submits the box's text plus the buffer. The app
hands printable keys and terminators to the focused ScanInput directly, in arrival order
(RegdeskApp.on_event), so a burst skips the per-key binding checks and forwarding as well.

Scanners set to send no suffix are handled by an idle gap: when no key has arrived for
`idle_submit` seconds the value is submitted, provided it is long enough to be a code (a stray
key press is cleared instead).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from textual import events
from textual.geometry import Size
from textual.message import Message
from textual.widgets import Input

TERMINATOR_KEYS = frozenset({"enter", "ctrl+j", "ctrl+m", "tab"})
_LINE_BREAKS = re.compile(r"[\r\n\t]+")
MAX_SCAN_CHARS = 1600  # far above any badge token; longer input is junk and is cut


class ScanInput(Input):
    DEFAULT_CSS = """
    ScanInput { height: 3; }
    """

    @dataclass
    class Scanned(Message):
        """One complete scan, exactly as typed (terminator removed)."""

        scan_input: ScanInput
        code: str

        @property
        def control(self) -> ScanInput:
            return self.scan_input

    def __init__(
        self,
        *,
        idle_submit: float | None = 0.3,
        min_idle_length: int = 8,
        id: str | None = "scan",
        placeholder: str = "Ready: scan a badge",
        **kwargs,
    ) -> None:
        super().__init__(placeholder=placeholder, select_on_focus=False, max_length=MAX_SCAN_CHARS, id=id, **kwargs)
        self.idle_submit = idle_submit
        self.min_idle_length = min_idle_length
        self._last_key_at = 0.0
        self._typed: list[str] = []  # printable keys not yet in the box (see take_typed)

    def on_mount(self) -> None:
        if self.idle_submit:
            self.set_interval(min(0.05, self.idle_submit / 4), self._check_idle)

    async def _on_key(self, event: events.Key) -> None:
        if event.key in TERMINATOR_KEYS:
            # Stop it here: no bubbling to the App, no binding, no focus change.
            event.stop()
            event.prevent_default()
            self.submit_scan()
            return
        if event.is_printable and event.character:
            event.stop()
            event.prevent_default()
            self.take_typed(event.character)
            return
        self._last_key_at = time.monotonic()
        # Other keys (arrows, backspace...) fall through to Input._on_key; typed text goes in first.
        self._put_typed()

    def _watch_value(self, value: str) -> None:
        # Input's watcher, without the layout of the whole screen that a new virtual width asks
        # for: this box has a fixed size and no scrollbar, and two layouts a scan (text in, text
        # out) cost more than painting the verdict.
        self.set_reactive(ScanInput.virtual_size, Size(self.content_width, 1))
        self._suggestion = ""

    def take_typed(self, character: str) -> None:
        """One printable key of a burst: buffered, in the box at the next refresh (or the terminator)."""
        self._last_key_at = time.monotonic()
        if not self._typed:
            self.call_after_refresh(self._put_typed)
        if len(self._typed) < MAX_SCAN_CHARS:  # a device that never stops typing is not held in memory
            self._typed.append(character)

    def _put_typed(self) -> None:
        if not self._typed:
            return
        text = "".join(self._typed)
        self._typed.clear()
        selection = self.selection
        if selection.is_empty:
            self.insert_text_at_cursor(text)
        else:
            self.replace(text, *selection)

    @property
    def scanned_text(self) -> str:
        """What the box holds, buffered keys included."""
        self._put_typed()
        return self.value

    def _on_paste(self, event: events.Paste) -> None:
        event.stop()
        event.prevent_default()
        self.take_pasted(event.text)

    def take_pasted(self, text: str) -> None:
        """A pasted block may hold several scans separated by line breaks or tabs."""
        self._put_typed()
        pieces = _LINE_BREAKS.split(text)
        for piece in pieces[:-1]:
            self.insert_text_at_cursor(piece)
            self.submit_scan()
        if pieces[-1]:
            self.insert_text_at_cursor(pieces[-1])
            self._last_key_at = time.monotonic()

    def submit_scan(self) -> None:
        if self.value:
            code = self.scanned_text
            self.value = ""
        else:
            # A whole burst still in the buffer (the usual scan): it never goes through the box,
            # whose every change of value is a round of reactive updates and a Changed message
            # queued ahead of the scan.
            code = "".join(self._typed)[:MAX_SCAN_CHARS]  # as the box itself would have cut it
            self._typed.clear()
        if code.strip():
            # Straight to the screen: it handles scans, and a bubble from here is a hop through this
            # widget's own message queue first.
            self.screen.post_message(self.Scanned(self, code))

    def _check_idle(self) -> None:
        if (not self.value and not self._typed) or self.idle_submit is None:
            return
        if time.monotonic() - self._last_key_at < self.idle_submit:
            return
        self._put_typed()
        if len(self.value.strip()) >= self.min_idle_length:
            self.submit_scan()
        else:
            self.value = ""  # a stray key press, not a scan
