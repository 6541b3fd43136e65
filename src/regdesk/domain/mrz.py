"""Machine-readable zones of travel documents (ICAO Doc 9303 parts 3-6). Pure: no I/O, no clock.

A desk passport reader is a keyboard wedge: it types the two or three MRZ lines, each followed
by Enter (or Tab, or nothing). `parse(text)` reads them:

  TD1  3 lines of 30  identity cards       (part 5)
  TD2  2 lines of 36  identity cards       (part 6)
  TD3  2 lines of 44  passports            (part 4)

Every check digit is verified: document number, date of birth, date of expiry, optional data
(TD3 personal number) and the composite. The result is an `MrzDocument` or an `MrzProblem` that
names the line and the field ("line 2, date of expiry: ...").

OCR confusions. A reader may take O for 0, I for 1, B for 8, S for 5 (and back). Such a reading is
corrected only where a check digit confirms it: a letter in a numeric field (a date, a check
digit) becomes the digit it resembles only if the field's check digit then agrees, and a document
number or personal number whose check digit fails is corrected only if exactly one choice among
its confusable characters makes both its own check digit and the composite agree. Every
correction is listed in `corrections`; nothing is corrected in a name or a state code, which no
check digit covers.

The full document number lives only in the `MrzDocument` object (it is left out of its repr, and
no problem text quotes it); callers keep `last4` and drop the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from itertools import combinations

from regdesk.domain import icao_states

FILLER = "<"
_ALLOWED = re.compile(r"[A-Z0-9<]*")
_SEPARATORS = re.compile(r"[\r\n\t]+")
_WEIGHTS = (7, 3, 1)
# What an OCR engine reads instead of a digit, and instead of a letter.
LETTER_FOR_DIGIT = {"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "G": "6", "B": "8"}
SWAPS = {
    "O": "0",
    "0": "O",
    "I": "1",
    "1": "I",
    "B": "8",
    "8": "B",
    "S": "5",
    "5": "S",
    "Z": "2",
    "2": "Z",
    "G": "6",
    "6": "G",
}
DIGIT_LOOKS_LIKE = {"0": "O", "1": "I", "8": "B", "5": "S", "2": "Z", "6": "G"}
MAX_SWAPS = 2  # characters of one document number that may be corrected together


class MrzFormat(StrEnum):
    TD1 = "TD1"
    TD2 = "TD2"
    TD3 = "TD3"


LINE_LENGTHS = {MrzFormat.TD1: 30, MrzFormat.TD2: 36, MrzFormat.TD3: 44}
LINE_COUNTS = {MrzFormat.TD1: 3, MrzFormat.TD2: 2, MrzFormat.TD3: 2}
FORMAT_WORDS = {
    MrzFormat.TD1: "an identity card (TD1, 3 lines of 30)",
    MrzFormat.TD2: "an identity card (TD2, 2 lines of 36)",
    MrzFormat.TD3: "a passport (TD3, 2 lines of 44)",
}


def char_value(ch: str) -> int:
    if ch.isdigit():
        return ord(ch) - 48
    if "A" <= ch <= "Z":
        return ord(ch) - 55
    return 0  # the filler


def check_digit(text: str) -> str:
    """ICAO 9303 part 3 §4.9: weights 7, 3, 1 repeated; digits, A=10..Z=35, < = 0; modulo 10."""
    return str(sum(char_value(ch) * _WEIGHTS[i % 3] for i, ch in enumerate(text)) % 10)


@dataclass(frozen=True)
class MrzProblem:
    """Why a reading cannot be used, naming the line (1-3, None for the whole reading) and the field."""

    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}, {self.field}" if self.line else self.field
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Correction:
    """One character taken for another because a check digit confirmed it."""

    line: int
    field: str
    column: int  # 1-based position on the line
    read: str
    taken_as: str
    secret: bool = False  # part of the document number: words never quote its characters

    def __str__(self) -> str:
        if self.secret:
            return (
                f"line {self.line}, {self.field}: one character corrected "
                f"({_kind(self.read)} read for {_kind(self.taken_as)}), confirmed by the check digit"
            )
        return (
            f"line {self.line}, {self.field}: {self.read!r} read as {self.taken_as!r} at column {self.column}, "
            "confirmed by the check digit"
        )


def _kind(ch: str) -> str:
    return "a digit" if ch.isdigit() else "a letter"


class MrzError(ValueError):
    def __init__(self, problem: MrzProblem) -> None:
        self.problem = problem
        super().__init__(str(problem))


@dataclass(frozen=True)
class MrzDocument:
    format: MrzFormat
    document_code: str  # "P", "PD", "I", "ID", "AC"... (fillers removed)
    issuing_state: str  # "UTO", "D" (fillers removed)
    surname: str  # primary identifier, words separated by spaces: "ERIKSSON"
    given_names: str  # secondary identifier: "ANNA MARIA" ("" when the document has none)
    name_truncated: bool  # the name filled its field: its last word may be cut
    document_number: str = field(repr=False)  # in full: never store, log or show it
    nationality: str = ""
    birth_date: str = ""  # YYMMDD as printed ("<" where unknown)
    sex: str = ""  # M, F, X or "" (unspecified)
    expiry_date: str = ""  # YYMMDD ("<<<<<<" for a document without expiry)
    optional_data: str = field(default="", repr=False)  # may hold a personal number: never shown
    corrections: tuple[Correction, ...] = ()

    @property
    def last4(self) -> str:
        return self.document_number[-4:]

    @property
    def document_type(self) -> str:
        """The desk's document type: passport, un_laissez_passer, national_id or other."""
        first = self.document_code[:1]
        if first == "P":
            return "un_laissez_passer" if self.issuing_state in icao_states.UN_ISSUERS else "passport"
        if first == "I":
            return "national_id"
        return "other"

    def expiry(self, today: date | None = None) -> date | None:
        """The expiry date; None when not given. Its century is the one that puts it within 50
        years of `today` (without `today`: this century)."""
        expiry = _date(self.expiry_date, 2000)
        if expiry is not None and today is not None and expiry.year - today.year > 50:
            expiry = expiry.replace(year=expiry.year - 100)
        return expiry

    def birth(self, today: date) -> date | None:
        """The date of birth, its century chosen so that it is not after `today`; None when unknown."""
        born = _date(self.birth_date, 2000)
        if born is not None and born > today:
            born = born.replace(year=born.year - 100)
        return born

    def expired(self, today: date) -> bool:
        """Expired before `today` (a document is valid through its expiry date)."""
        expiry = self.expiry(today)
        return expiry is not None and expiry < today


def _date(yymmdd: str, century: int) -> date | None:
    if not yymmdd.isdigit():
        return None
    try:
        return date(century + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6]))
    except ValueError:
        return None


# --- reading the lines ----------------------------------------------------------------------------


def split_lines(text: str) -> list[str]:
    """The MRZ lines in what a reader typed: split at Enter/LF/Tab, or at the format's line length
    when it typed them all in one burst; upper-cased, spaces removed."""
    lines = [line.replace(" ", "").upper() for line in _SEPARATORS.split(text.strip()) if line.strip()]
    if len(lines) == 1:
        line = lines[0]
        for fmt in (MrzFormat.TD3, MrzFormat.TD1, MrzFormat.TD2):
            size, count = LINE_LENGTHS[fmt], LINE_COUNTS[fmt]
            if len(line) == size * count:
                return [line[i * size : (i + 1) * size] for i in range(count)]
    return lines


def lines_expected(first_line: str) -> int | None:
    """How many lines a reading that starts with this line has (None: cannot tell yet)."""
    length = len(first_line.strip())
    if length == LINE_LENGTHS[MrzFormat.TD1]:
        return 3
    if length in (LINE_LENGTHS[MrzFormat.TD2], LINE_LENGTHS[MrzFormat.TD3]):
        return 2
    if length == 88 or length == 72 or length == 90:
        return 1  # all lines typed in one burst
    return None


def looks_like_mrz(text: str) -> bool:
    """A cheap test for a typed burst: upper-case MRZ characters with fillers (a name search has none)."""
    stripped = text.strip()
    return (
        len(stripped) >= 20
        and FILLER in stripped
        and bool(_ALLOWED.fullmatch(_SEPARATORS.sub("", stripped).replace(" ", "").upper()))
    )


def _format_of(lines: list[str]) -> MrzFormat | MrzProblem:
    if not lines:
        return MrzProblem(None, "reading", "nothing was read")
    if len(lines) > 3:
        return MrzProblem(None, "reading", f"{len(lines)} lines were read; a document has 2 or 3. Read it again")
    lengths = [len(line) for line in lines]
    if len(lines) == 3 or (len(lines) == 2 and lengths == [30, 30]):
        fmt = MrzFormat.TD1
    elif len(lines) == 1:
        return MrzProblem(
            None, "reading", f"only one line was read ({lengths[0]} characters); a document has 2 or 3. Read it again"
        )
    elif lengths[0] == 44 or lengths[1] == 44:
        fmt = MrzFormat.TD3
    elif lengths[0] == 36 or lengths[1] == 36:
        fmt = MrzFormat.TD2
    elif lines[0].startswith("P"):
        fmt = MrzFormat.TD3  # passports are TD3
    else:
        fmt = min((MrzFormat.TD2, MrzFormat.TD3), key=lambda f: abs(LINE_LENGTHS[f] - max(lengths)))
    size = LINE_LENGTHS[fmt]
    for number, length in enumerate(lengths, start=1):
        if length != size:
            what = "short" if length < size else "long"
            return MrzProblem(
                number,
                "length",
                f"{length} characters read, {size} expected for "
                f"{FORMAT_WORDS[fmt]}: the line is {what}. Read the document again",
            )
    if len(lines) == 2 and fmt is MrzFormat.TD1:
        return MrzProblem(3, "length", "missing: an identity card (TD1) has 3 lines. Read the document again")
    return fmt


def parse(text: str) -> MrzDocument | MrzProblem:
    """Read an MRZ as typed by a reader. Never raises on bad input: a problem says what is wrong."""
    lines = split_lines(text)
    fmt = _format_of(lines)
    if isinstance(fmt, MrzProblem):
        return fmt
    for number, line in enumerate(lines, start=1):
        bad = next((ch for ch in line if not (ch.isascii() and (ch.isalnum() or ch == FILLER))), None)
        if bad is not None:
            return MrzProblem(
                number, "characters", f"{bad!r} is not an MRZ character (A-Z, 0-9, <). Read the document again"
            )
    if lines[0][0] == "V":
        return MrzProblem(
            1, "document code", "this is a visa (MRV), not an identity document: read the passport's own data page"
        )
    try:
        return _Reader(fmt, lines).read()
    except MrzError as exc:
        return exc.problem


def parse_or_raise(text: str) -> MrzDocument:
    found = parse(text)
    if isinstance(found, MrzProblem):
        raise MrzError(found)
    return found


@dataclass
class _Field:
    line: int  # 1-based
    start: int  # 0-based column
    end: int
    name: str

    @classmethod
    def of(cls, span: _Span, name: str) -> _Field:
        return cls(*span, name)

    def check_digit(self) -> _Field:
        """The check digit that follows this field."""
        return _Field(self.line, self.end, self.end + 1, self.name)


_Span = tuple[int, int, int]  # (line 1-based, first column 0-based, column after the last)


@dataclass(frozen=True)
class _Layout:
    """Where one format keeps each field (ICAO 9303 parts 4-6). A field with a check digit has it
    right after its end."""

    code: _Span
    state: _Span
    name: _Span
    number: _Span  # the document number's first 9 characters
    nationality: _Span
    birth: _Span
    sex: _Span
    expiry: _Span
    optional: tuple[_Span, ...]  # the optional data, in the order it is read
    composite: _Span
    composite_covers: tuple[_Span, ...]
    # TD3: the optional data is a personal number with its own check digit. TD1/TD2: a document number
    # longer than 9 characters goes on at the start of the first optional data (part 5 §4.2.4).
    personal_number: bool = False


_TD3 = _Layout(
    code=(1, 0, 2),
    state=(1, 2, 5),
    name=(1, 5, 44),
    number=(2, 0, 9),
    nationality=(2, 10, 13),
    birth=(2, 13, 19),
    sex=(2, 20, 21),
    expiry=(2, 21, 27),
    optional=((2, 28, 42),),
    composite=(2, 43, 44),
    composite_covers=((2, 0, 10), (2, 13, 20), (2, 21, 43)),
    personal_number=True,
)
LAYOUTS = {
    MrzFormat.TD3: _TD3,
    # TD2 is TD3 on shorter lines: the same fields up to column 28 of line 2, then less optional data.
    MrzFormat.TD2: replace(
        _TD3,
        name=(1, 5, 36),
        optional=((2, 28, 35),),
        composite=(2, 35, 36),
        composite_covers=((2, 0, 10), (2, 13, 20), (2, 21, 35)),
        personal_number=False,
    ),
    MrzFormat.TD1: _Layout(
        code=(1, 0, 2),
        state=(1, 2, 5),
        name=(3, 0, 30),
        number=(1, 5, 14),
        nationality=(2, 15, 18),
        birth=(2, 0, 6),
        sex=(2, 7, 8),
        expiry=(2, 8, 14),
        optional=((1, 15, 30), (2, 18, 29)),
        composite=(2, 29, 30),
        composite_covers=((1, 5, 30), (2, 0, 7), (2, 8, 15), (2, 18, 29)),
    ),
}


class _Reader:
    """Reads one MRZ whose format and line lengths are right."""

    def __init__(self, fmt: MrzFormat, lines: list[str]) -> None:
        self.fmt = fmt
        self.lines = [list(line) for line in lines]
        self.corrections: list[Correction] = []

    def at(self, span: _Span) -> str:
        line, start, end = span
        return "".join(self.lines[line - 1][start:end])

    def text(self, f: _Field) -> str:
        return self.at((f.line, f.start, f.end))

    def put(self, f: _Field, value: str) -> None:
        self.lines[f.line - 1][f.start : f.end] = list(value)

    # -- numeric fields: a letter may only be the digit it resembles, if the check digit agrees --

    def numeric(self, f: _Field, *, fillers_ok: bool = False) -> list[Correction]:
        raw = self.text(f)
        fixed = []
        changes = []
        for i, ch in enumerate(raw):
            if ch.isdigit() or (fillers_ok and ch == FILLER):
                fixed.append(ch)
            elif ch in LETTER_FOR_DIGIT:
                fixed.append(LETTER_FOR_DIGIT[ch])
                changes.append(Correction(f.line, f.name, f.start + i + 1, ch, LETTER_FOR_DIGIT[ch]))
            else:
                raise MrzError(
                    MrzProblem(
                        f.line, f.name, f"{ch!r} at column {f.start + i + 1} should be a digit. Read the document again"
                    )
                )
        self.put(f, "".join(fixed))
        return changes

    def checked(self, data: _Field, digit: _Field, *, fillers_ok: bool = True, empty_check_ok: bool = False) -> None:
        """A numeric field and its check digit: corrections kept only if the check digit agrees."""
        before = self.text(data), self.text(digit)
        if empty_check_ok and set(before[0]) == {FILLER} and before[1] in (FILLER, "0"):
            return
        changes = self.numeric(data, fillers_ok=fillers_ok) + self.numeric(digit)
        if check_digit(self.text(data)) != self.text(digit):
            self.put(data, before[0])
            self.put(digit, before[1])
            if changes:
                raise MrzError(
                    MrzProblem(
                        data.line,
                        data.name,
                        "unreadable characters, and the check digit does "
                        "not confirm a reading. Read the document again",
                    )
                )
            raise MrzError(
                MrzProblem(
                    data.line, data.name, f"the check digit ({before[1]}) does not match. Read the document again"
                )
            )
        self.corrections += changes

    # -- alphanumeric numbers: a confusable character may be swapped if the check digits agree --

    def alphanumeric(
        self, parts: list[_Field], digit: _Field, composite: _Field | None, *, secret: bool, name: str
    ) -> None:
        """A document or personal number (possibly split over two fields), its check digit, and
        the composite check digit that also covers it."""
        digit_changes = self.numeric(digit)
        if self._agrees(parts, digit, None):  # read right: the composite is checked on its own later
            self.corrections += digit_changes
            return
        positions = [(f, i) for f in parts for i in range(f.start, f.end) if self.lines[f.line - 1][i] in SWAPS]
        answers = []
        for count in range(1, MAX_SWAPS + 1):
            for chosen in combinations(positions, count):
                saved = [self.lines[f.line - 1][i] for f, i in chosen]
                for (f, i), ch in zip(chosen, saved, strict=False):
                    self.lines[f.line - 1][i] = SWAPS[ch]
                if self._agrees(parts, digit, composite):
                    answers.append([(f, i, ch, SWAPS[ch]) for (f, i), ch in zip(chosen, saved, strict=False)])
                for (f, i), ch in zip(chosen, saved, strict=False):
                    self.lines[f.line - 1][i] = ch
            if answers:
                break
        if len(answers) != 1:
            why = (
                "the check digit does not match"
                if not answers
                else "its check digit fits more than one reading of unclear characters"
            )
            raise MrzError(MrzProblem(parts[0].line, name, f"{why}. Read the document again"))
        for f, i, read, taken in answers[0]:
            self.lines[f.line - 1][i] = taken
            self.corrections.append(Correction(f.line, name, i + 1, read, taken, secret=secret))
        self.corrections += digit_changes

    def _agrees(self, parts: list[_Field], digit: _Field, composite: _Field | None) -> bool:
        value = "".join(self.text(f) for f in parts)
        if check_digit(value) != self.text(digit):
            return False
        return composite is None or self._composite_ok(composite)

    def _composite_ok(self, composite: _Field) -> bool:
        return check_digit(self._composite_text()) == self.text(composite)

    def _composite_text(self) -> str:
        return "".join(self.at(span) for span in LAYOUTS[self.fmt].composite_covers)

    # -- one reader for every format, driven by its layout -------------------------------------------

    def read(self) -> MrzDocument:
        layout = LAYOUTS[self.fmt]
        composite = _Field.of(layout.composite, "composite check digit")
        for span, name in ((layout.birth, "date of birth"), (layout.expiry, "date of expiry")):
            dated = _Field.of(span, name)
            self.checked(dated, dated.check_digit())
        if layout.personal_number:
            personal = _Field.of(layout.optional[0], "personal number")
            digit = personal.check_digit()
            if not (set(self.text(personal)) == {FILLER} and self.text(digit) in (FILLER, "0")):
                self.alphanumeric([personal], digit, None, secret=True, name="personal number")
        number = self._document_number(layout, composite)
        self._composite(composite)
        at = self.at
        return self._document(
            at(layout.code),
            at(layout.state),
            at(layout.name),
            number,
            at(layout.nationality),
            at(layout.birth),
            at(layout.sex),
            at(layout.expiry),
            "".join(at(span) for span in layout.optional),
            name_line=layout.name[0],
        )

    def _composite(self, composite: _Field) -> None:
        changes = self.numeric(composite)
        if not self._composite_ok(composite):
            raise MrzError(
                MrzProblem(
                    composite.line,
                    "composite check digit",
                    f"{self.text(composite)} does not match the line. Read the document again",
                )
            )
        self.corrections += changes

    def _document_number(self, layout: _Layout, composite: _Field) -> str:
        """The document number checked with its check digit and the composite (fillers removed)."""
        number = _Field.of(layout.number, "document number")
        digit = number.check_digit()
        if layout.personal_number or self.text(digit) != FILLER:
            self.alphanumeric([number], digit, composite, secret=True, name="document number")
            return self.text(number).rstrip(FILLER)
        return self._long_number(number, digit, _Field.of(layout.optional[0], "optional data"), composite)

    def _long_number(self, number: _Field, digit: _Field, optional: _Field, composite: _Field) -> str:
        """TD1/TD2: a number longer than 9 characters has a filler for its check digit and goes on
        in the optional data, followed by its check digit and a filler (Doc 9303 part 5 §4.2.4)."""
        rest = self.text(optional).split(FILLER, 1)[0]
        if len(rest) < 2:
            raise MrzError(
                MrzProblem(digit.line, "document number", "its check digit is missing. Read the document again")
            )
        tail = _Field(optional.line, optional.start, optional.start + len(rest) - 1, "document number")
        tail_digit = _Field(optional.line, tail.end, tail.end + 1, "document number")
        self.alphanumeric([number, tail], tail_digit, composite, secret=True, name="document number")
        return self.text(number) + self.text(tail)

    def _document(
        self,
        code: str,
        state: str,
        name: str,
        number: str,
        nationality: str,
        birth: str,
        sex: str,
        expiry: str,
        optional: str,
        *,
        name_line: int,
    ) -> MrzDocument:
        self._letters(1, "document code", code, fillers_ok=True)
        self._letters(1, "issuing state", state, fillers_ok=True)
        self._letters(2, "nationality", nationality, fillers_ok=True)
        self._letters(name_line, "name", name, fillers_ok=True)
        if not code.strip(FILLER):
            raise MrzError(MrzProblem(1, "document code", "is empty. Read the document again"))
        if not state.strip(FILLER):
            raise MrzError(MrzProblem(1, "issuing state", "is empty. Read the document again"))
        for label, value in (("date of birth", birth), ("date of expiry", expiry)):
            if value.isdigit() and _date(value, 2000) is None:
                raise MrzError(MrzProblem(2, label, f"{value} is not a date (YYMMDD). Read the document again"))
        if sex not in ("M", "F", "X", FILLER):
            raise MrzError(MrzProblem(2, "sex", f"{sex!r} is not M, F, X or <. Read the document again"))
        surname, given, truncated = split_name(name)
        if not surname:
            raise MrzError(
                MrzProblem(name_line, "name", "the primary identifier (surname) is empty. Read the document again")
            )
        return MrzDocument(
            format=self.fmt,
            document_code=code.strip(FILLER),
            issuing_state=state.strip(FILLER),
            surname=surname,
            given_names=given,
            name_truncated=truncated,
            document_number=number.rstrip(FILLER),
            nationality=nationality.strip(FILLER),
            birth_date=birth,
            sex="" if sex == FILLER else sex,
            expiry_date=expiry,
            optional_data=optional.strip(FILLER),
            corrections=tuple(self.corrections),
        )

    @staticmethod
    def _letters(line: int, name: str, value: str, *, fillers_ok: bool) -> None:
        for ch in value:
            if ch.isdigit():
                like = DIGIT_LOOKS_LIKE.get(ch)
                hint = f" (the letter {like} misread?)" if like else ""
                raise MrzError(
                    MrzProblem(
                        line,
                        name,
                        f"holds the digit {ch}{hint}; no check digit covers it, "
                        "so it is not corrected. Read the document again",
                    )
                )
            if ch == FILLER and not fillers_ok:
                raise MrzError(MrzProblem(line, name, "has a filler where a letter belongs"))


def split_name(field_text: str) -> tuple[str, str, bool]:
    """'ERIKSSON<<ANNA<MARIA<<<<' -> ('ERIKSSON', 'ANNA MARIA', False). Truncated when the name
    fills the field to its last character."""
    truncated = not field_text.endswith(FILLER)
    primary, _, secondary = field_text.rstrip(FILLER).partition(FILLER * 2)

    def words(part: str) -> str:
        return " ".join(w for w in part.split(FILLER) if w)

    return words(primary), words(secondary), truncated


__all__ = [
    "Correction",
    "FORMAT_WORDS",
    "MrzDocument",
    "MrzError",
    "MrzFormat",
    "MrzProblem",
    "check_digit",
    "lines_expected",
    "looks_like_mrz",
    "parse",
    "parse_or_raise",
    "split_lines",
    "split_name",
]
