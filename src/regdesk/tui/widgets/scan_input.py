"""ScanInput: the always-focused input a keyboard-wedge scanner types into.

A scan is a burst of keystrokes that ends in CR (enter), LF (ctrl+j), Tab, or nothing at all.
Textual's own Input submits through the `enter` *binding*, and bindings run only after the key
has bubbled up to the App; when keys arrive faster than that, the next scan's first characters
land in the value before `submit` reads it (textual#6605, anchors/textual-style.md §3.2). So the
terminators are caught here, in the widget's own key handler, in the same order the characters
were inserted: the value is taken at that instant, posted as `Scanned`, and cleared before the
next key is processed. Tab is swallowed too, so a Tab suffix never moves focus.

Scanners set to send no suffix are handled by an idle gap: when no key has arrived for
`idle_submit` seconds the value is submitted, provided it is long enough to be a code (a stray
key press is cleared instead).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from textual import events
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

    def __init__(self, *, idle_submit: float | None = 0.3, min_idle_length: int = 8, id: str | None = "scan",
                 placeholder: str = "Ready: scan a badge", **kwargs) -> None:
        super().__init__(placeholder=placeholder, select_on_focus=False, max_length=MAX_SCAN_CHARS, id=id,
                         **kwargs)
        self.idle_submit = idle_submit
        self.min_idle_length = min_idle_length
        self._last_key_at = 0.0

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
        self._last_key_at = time.monotonic()
        # Printable keys fall through to Input._on_key, which inserts them.

    def _on_paste(self, event: events.Paste) -> None:
        """A pasted block may hold several scans separated by line breaks or tabs."""
        event.stop()
        event.prevent_default()
        pieces = _LINE_BREAKS.split(event.text)
        for piece in pieces[:-1]:
            self.insert_text_at_cursor(piece)
            self.submit_scan()
        if pieces[-1]:
            self.insert_text_at_cursor(pieces[-1])
            self._last_key_at = time.monotonic()

    def submit_scan(self) -> None:
        code = self.value
        self.value = ""
        if code.strip():
            self.post_message(self.Scanned(self, code))

    def _check_idle(self) -> None:
        if not self.value or self.idle_submit is None:
            return
        if time.monotonic() - self._last_key_at < self.idle_submit:
            return
        if len(self.value.strip()) >= self.min_idle_length:
            self.submit_scan()
        else:
            self.value = ""  # a stray key press, not a scan
