"""Inputs that recognise a passport reader's burst (the MRZ lines of ICAO 9303) wherever it lands.

A desk passport reader is a keyboard wedge: it types two or three lines of A-Z, 0-9 and the
filler '<', each followed by Enter (or Tab, or nothing). A name, a code or a badge never holds
'<', so the first '<' typed into a desk field starts a reading: the upper-case letters and digits
typed just before it (the document code, and on some identity cards the start of the number) are
taken out of the field, and every key after it goes into the reading instead of the field, line
ends included (Enter neither submits nor moves the focus; Tab does not either). The reading ends
when its format has all its lines (3 of 30, 2 of 36, 2 of 44), or after a pause of `MRZ_IDLE`
seconds; the field then posts `MrzRead` with the lines and is back to what it held before.
Escape abandons a reading.

The text of a reading is never inserted in the field, so the document number is not shown there
(only the characters before the first filler flash for the milliseconds of the burst), and the
screen hands it to services/idcheck.py, which keeps the last 4 characters only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from textual import events
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input

from regdesk.domain.mrz import FILLER, lines_expected

MRZ_IDLE = 0.5  # seconds without a key: the reading is over
LINE_END_KEYS = frozenset({"enter", "ctrl+j", "ctrl+m", "tab"})
MAX_READING = 400  # characters: far above the 90 of the longest MRZ; more is junk


@dataclass
class MrzRead(Message):
    """A passport reader typed this into `field` (lines separated by line feeds)."""

    field: Input
    text: str

    @property
    def control(self) -> Input:
        return self.field


class MrzCatcher:
    """Mixin for an Input (put it before Input in the bases)."""

    _mrz_lines: list[str] | None = None  # None: not reading
    _mrz_current: str = ""
    _mrz_last_key: float = 0.0
    _mrz_timer: Timer | None = None
    _mrz_placeholder: str = ""

    @property
    def mrz_reading(self) -> bool:
        return self._mrz_lines is not None

    async def _on_key(self, event: events.Key) -> None:
        field: Input = self  # type: ignore[assignment]
        if self._mrz_lines is not None:
            event.stop()
            event.prevent_default()
            self._mrz_last_key = time.monotonic()
            if event.key == "escape":
                self._mrz_reset()
            elif event.key in LINE_END_KEYS:
                self.mrz_line_end()
            elif event.character and event.is_printable and len(self._mrz_current) < MAX_READING:
                self._mrz_current += event.character
            return
        if event.character == FILLER:
            event.stop()
            event.prevent_default()
            value, cursor = field.value, field.cursor_position
            start = cursor
            while (
                start > 0 and value[start - 1].isascii() and (value[start - 1].isupper() or value[start - 1].isdigit())
            ):
                start -= 1
            self._mrz_lines, self._mrz_current = [], value[start:cursor] + FILLER
            self._mrz_last_key = time.monotonic()
            self._mrz_placeholder = field.placeholder
            if start != cursor:
                field.value = value[:start] + value[cursor:]
                field.cursor_position = start
            field.placeholder = "Reading a passport…"
            field.add_class("-reading-mrz")
            if self._mrz_timer is None:
                self._mrz_timer = field.set_interval(0.1, self._mrz_check_idle)
            else:
                self._mrz_timer.resume()
        # Anything else: the Input's own handling (this mixin's handler runs first).

    def mrz_line_end(self) -> None:
        """A line of the reading ended (Enter, LF, Tab): finish when the format has all its lines."""
        if self._mrz_lines is None:
            return
        if self._mrz_current:
            self._mrz_lines.append(self._mrz_current)
            self._mrz_current = ""
        lines = self._mrz_lines
        expected = lines_expected(lines[0]) if lines else None
        if expected is not None and len(lines) >= expected:
            self._mrz_finish()

    def _mrz_check_idle(self) -> None:
        if self._mrz_lines is not None and time.monotonic() - self._mrz_last_key >= MRZ_IDLE:
            self._mrz_finish()

    def _mrz_finish(self) -> None:
        lines = [*(self._mrz_lines or []), *([self._mrz_current] if self._mrz_current else [])]
        self._mrz_reset()
        if lines:
            self.post_message(MrzRead(self, "\n".join(lines)))  # type: ignore[arg-type]

    def _mrz_reset(self) -> None:
        field: Input = self  # type: ignore[assignment]
        self._mrz_lines, self._mrz_current = None, ""
        if self._mrz_timer is not None:
            self._mrz_timer.pause()
        field.placeholder = self._mrz_placeholder
        field.remove_class("-reading-mrz")


class MrzInput(MrzCatcher, Input):
    """An Input of a desk dialog: a passport read into it arrives as `MrzRead`."""

    DEFAULT_CSS = """
    MrzInput.-reading-mrz { background: $accent 30%; }
    """
