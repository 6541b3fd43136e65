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

The text of a reading is never inserted in the field, so the document number is not shown there,
and the screen hands it to services/idcheck.py, which keeps the last 4 characters only.

Before the first '<': an identity card whose code has no filler ("ID", "AC", ...) types its number
straight after the code and the issuing state ("IDUTOD231458907<<<..."). So while the upper-case
letters and digits typed could be the start of an MRZ line (a document code letter, 4 letters of
code and state, then letters and digits), they are held back, not typed into the field: a '<' then
starts the reading with them, and anything else (a lower-case letter, a space, Enter, an arrow...)
or a pause of `MRZ_IDLE` puts them into the field as typed. Only a word typed in capitals that
starts with A, C, I, P or V waits for that pause: names are typed in lower case, and accreditation
numbers, badge serials and codes have a digit or a dash early on. Holding from the first key also
lets a short field (the 4 characters of the F2 dialog) take a whole reading.
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
CODE_AND_STATE = 5  # a line's document code and issuing state: letters (or fillers) only
DOCUMENT_CODES = frozenset("ACIPV")  # the first letter of an ICAO 9303 document code
MRZ_LINE_MAX = 44


def _mrz_character(ch: str) -> bool:
    return ch.isascii() and (ch.isupper() or ch.isdigit())


def could_start_mrz_line(run: str) -> bool:
    """Whether upper-case letters and digits typed with no filler yet could open an MRZ line."""
    return (
        0 < len(run) <= MRZ_LINE_MAX
        and run[0] in DOCUMENT_CODES
        and all(ch.isalpha() for ch in run[1:CODE_AND_STATE])
        and all(_mrz_character(ch) for ch in run)
    )


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
    _mrz_held: str = ""  # keys held back: perhaps a document number before the first filler

    @property
    def mrz_reading(self) -> bool:
        return self._mrz_lines is not None

    def _mrz_run_before_cursor(self) -> int:
        """Where the upper-case letters and digits just before the cursor start."""
        field: Input = self  # type: ignore[assignment]
        value, start = field.value, field.cursor_position
        while start > 0 and _mrz_character(value[start - 1]):
            start -= 1
        return start

    def _mrz_release_held(self) -> None:
        """Not a reading after all: the held keys go into the field as typed."""
        held, self._mrz_held = self._mrz_held, ""
        field: Input = self  # type: ignore[assignment]
        for character in held:  # one by one, as typed: a short field takes what fits
            field.insert_text_at_cursor(character)

    def _mrz_watch(self) -> None:
        field: Input = self  # type: ignore[assignment]
        if self._mrz_timer is None:
            self._mrz_timer = field.set_interval(0.1, self._mrz_check_idle)
        else:
            self._mrz_timer.resume()

    async def _on_key(self, event: events.Key) -> None:
        field: Input = self  # type: ignore[assignment]
        if self._mrz_lines is None and event.character != FILLER:
            character = event.character or ""
            if len(character) == 1 and _mrz_character(character) and event.is_printable:
                start = self._mrz_run_before_cursor()
                run = field.value[start : field.cursor_position] + self._mrz_held + character
                if could_start_mrz_line(run):
                    event.stop()
                    event.prevent_default()
                    self._mrz_held += character
                    self._mrz_last_key = time.monotonic()
                    self._mrz_watch()
                    return
            # Anything else shows it was typed, not read: what was held goes in first, then this key.
            self._mrz_release_held()
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
            start = self._mrz_run_before_cursor()
            held, self._mrz_held = self._mrz_held, ""
            self._mrz_lines, self._mrz_current = [], value[start:cursor] + held + FILLER
            self._mrz_last_key = time.monotonic()
            self._mrz_placeholder = field.placeholder
            if start != cursor:
                field.value = value[:start] + value[cursor:]
                field.cursor_position = start
            field.placeholder = "Reading a passport…"
            field.add_class("-reading-mrz")
            self._mrz_watch()
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
        if time.monotonic() - self._mrz_last_key < MRZ_IDLE:
            return
        if self._mrz_lines is not None:
            self._mrz_finish()
        elif self._mrz_held:
            self._mrz_release_held()
            if self._mrz_timer is not None:
                self._mrz_timer.pause()

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
