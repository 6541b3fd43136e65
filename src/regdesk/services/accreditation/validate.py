"""The field rules of an accreditation export: columns, ids, names and their Latin rendering, formulas,
categories, roles, statuses, lengths; every problem of every row, or the rows as tuples in
PARTICIPANT_FIELDS order. Field definitions come from domain/payloads.py."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Container
from functools import lru_cache
from itertools import repeat
from operator import add, getitem, sub

from regdesk.domain import payloads
from regdesk.domain.payloads import PARTICIPANT_FIELDS
from regdesk.services.accreditation.problems import ImportProblem
from regdesk.services.accreditation.read import Table, column_key
from regdesk.services.station import Station

# The participant fields are defined once, in domain/payloads.py (the merge checks them too).
REQUIRED_COLUMNS = payloads.PARTICIPANT_REQUIRED_FIELDS
OPTIONAL_COLUMNS = payloads.PARTICIPANT_OPTIONAL_FIELDS
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
ROLES = payloads.DELEGATION_ROLES
STATUSES = payloads.PARTICIPANT_STATUSES
# The longest value a field may hold (the mirror's column sizes); anything longer is not a name.
MAX_LENGTH = payloads.PARTICIPANT_MAX_LENGTH
DEFAULT_MAX_LENGTH = payloads.PARTICIPANT_DEFAULT_MAX_LENGTH
TEXT_FIELDS = payloads.PARTICIPANT_TEXT_FIELDS
FORMULA_STARTS = ("=", "+", "-", "@")

_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
_CODE_RE = re.compile(r"[A-Z0-9-]{1,64}")
# The text rules every station applies to names it merges (domain/payloads.py): control characters,
# terminal escapes and bidirectional overrides are refused here so that a merge never has to.
_CONTROL_RE = payloads.UNSAFE_TEXT
_SEP = "\x1f"  # joins a column's values for whole-column checks (ASCII: keeps the string compact)
_JOINED_CONTROL_RE = payloads.UNSAFE_JOINED
_FORMULA_RE = re.compile(r"\x1f[=+\-@]")
_MAYBE_NOT_LATIN_RE = re.compile("[^\x00-\u024f]")  # _is_latin_text accepts everything below U+0250
FIELD_INDEX = {name: i for i, name in enumerate(payloads.PARTICIPANT_FIELDS)}

# --- validating ---------------------------------------------------------------------------------


@lru_cache(maxsize=65536)
def _is_latin_text(value: str) -> bool:
    for ch in value:
        if ord(ch) < 0x250 or not ch.isalpha():
            continue
        if not unicodedata.name(ch, "").startswith("LATIN"):
            return False
    return True


def _script_of(value: str) -> str:
    for ch in value:
        if ch.isalpha() and ord(ch) >= 0x250:
            name = unicodedata.name(ch, "")
            if not name.startswith("LATIN"):
                return name.split(" ")[0].title()
    return "another"


def _clean(value: str) -> str:
    value = value.strip()
    if not value.isascii():
        if not unicodedata.is_normalized("NFC", value):
            value = unicodedata.normalize("NFC", value)
        if "\xa0" in value or "\u2009" in value or "\u202f" in value:
            value = " ".join(value.split())
    if "  " in value:
        value = " ".join(value.split())
    return value


def _header_positions(name: str, table: Table) -> tuple[list[int], list[ImportProblem]]:
    """Column index of each PARTICIPANT_FIELDS entry (-1 = optional column absent)."""
    problems: list[ImportProblem] = []
    keys = [column_key(h) for h in table.header]
    positions: dict[str, int] = {}
    for i, key in enumerate(keys):
        if not key:
            continue
        if key in positions and key in KNOWN_COLUMNS:
            problems.append(
                ImportProblem(
                    name, table.header_line, key, f"column appears twice (columns {positions[key] + 1} and {i + 1})"
                )
            )
        positions.setdefault(key, i)
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        found = ", ".join(repr(h) for h in table.header[:6]) or "nothing"
        for column in missing:
            problems.append(
                ImportProblem(
                    name,
                    table.header_line,
                    column,
                    f"required column is missing (the header row has {found}"
                    f"{', ...' if len(table.header) > 6 else ''})",
                )
            )
    extra = [table.header[i].strip() for i, k in enumerate(keys) if k and k not in KNOWN_COLUMNS]
    if extra and not problems:
        table.notes.append("ignored columns not used by the desk: " + ", ".join(extra))
    return [positions.get(f, -1) for f in PARTICIPANT_FIELDS], problems


_DIGITS = "0123456789"


def _zeros_lost_within(ids: list[str]) -> list[tuple[int, str]]:
    """(row, the id it must have been) for each id whose serial number is shorter than the
    zero-padded serials of the other ids with its prefix (GCM17-361 among GCM17-000001 ...,
    361 among 000001 ...): Excel drops leading zeros from a column it takes for numbers."""
    if len(set(map(len, ids))) < 2:
        return []  # all as long as each other: none is another one shortened (the usual export)
    prefixes = list(map(str.rstrip, ids, repeat(_DIGITS)))
    serial_lengths = list(map(sub, map(len, ids), map(len, prefixes)))
    first_digits = list(map(getitem, map(add, ids, repeat(" ")), map(len, prefixes)))  # " ": no serial
    shapes = Counter(zip(prefixes, serial_lengths, first_digits, strict=False))
    padded: dict[str, tuple[int, int]] = {}  # prefix -> (ids, width) of its most common zero-padded width
    for (prefix, width, first), count in shapes.items():
        if first == "0" and width > 1 and count > padded.get(prefix, (0, 0))[0]:
            padded[prefix] = (count, width)

    def shortened(prefix: str, width: int, first: str) -> bool:
        return prefix in padded and width < padded[prefix][1] and first not in "0 "

    if not any(shortened(*shape) for shape in shapes):
        return []
    found = []
    for i, (prefix, width, first) in enumerate(zip(prefixes, serial_lengths, first_digits, strict=False)):
        if shortened(prefix, width, first):
            found.append((i, prefix + ids[i][len(prefix) :].zfill(padded[prefix][1])))
    return found


def zeros_lost_against(aid: str, known: Container[str]) -> str | None:
    """The id in `known` that `aid` is with its leading zeros lost (361 -> 000361), if any."""
    prefix = aid.rstrip(_DIGITS)
    serial = aid[len(prefix) :]
    if not serial or serial[0] == "0":
        return None
    return next(
        (
            prefix + serial.zfill(width)
            for width in range(len(serial) + 1, len(serial) + 13)
            if prefix + serial.zfill(width) in known
        ),
        None,
    )


def zeros_lost_message(aid: str, padded: str, evidence: str, numeric: bool) -> str:
    cell = f"the cell holds the number {aid}, and " if numeric else ""
    return (
        f"{aid!r} looks like {padded!r} with its leading zeros lost ({evidence}); {cell}Excel drops them "
        "when the id column is formatted as numbers: format that column as Text and export again. "
        "Nothing was taken as a new participant"
    )


def validate(
    name: str, table: Table, categories: dict[str, str]
) -> tuple[list[tuple[str, ...]], list[ImportProblem], Callable[[int], tuple[int, bool]]]:
    """Rows as tuples in PARTICIPANT_FIELDS order, every problem found, and (when there is no
    problem) the line of each row and whether its id cell is a number.

    Works column by column (one fast pass per column, row-by-row detail only where a column
    check fails): 100,000 rows validate in a fraction of a second.
    """
    pos, header_problems = _header_positions(name, table)
    if header_problems:
        return [], header_problems, lambda i: (0, False)
    width = len(table.header)
    found: list[tuple[int, int, str]] = []  # (line, field index, message)
    rows_in = table.rows
    origin: list[int] | None = None  # position in table.rows of each kept row (None = all kept, in order)
    if set(map(len, rows_in)) - {width}:
        padding = [""] * width
        fixed, origin = [], []
        for i, values in enumerate(rows_in):
            if len(values) > width and any(v.strip() for v in values[width:]):
                found.append(
                    (
                        table.line_of(i),
                        -1,
                        f"the row has {len(values)} values but the header has {width} "
                        "columns (a separator inside an unquoted value?)",
                    )
                )
                continue
            fixed.append((values + padding)[:width] if len(values) != width else values)
            origin.append(i)
        rows_in = fixed
    # Blank lines and Excel rows of empty cells are skipped (a real row has an accreditation id at least).
    id_column = pos[FIELD_INDEX["accreditation_id"]]
    blank = {
        i for i in [i for i, v in enumerate(rows_in) if not v[id_column].strip()] if not "".join(rows_in[i]).strip()
    }
    if blank:
        base = origin if origin is not None else range(len(rows_in))
        origin = [base[i] for i in range(len(rows_in)) if i not in blank]
        rows_in = [v for i, v in enumerate(rows_in) if i not in blank]
    n = len(rows_in)
    line_of = table.line_of

    def line_at(i: int) -> int:
        return line_of(origin[i] if origin is not None else i)

    def where(i: int) -> tuple[int, bool]:
        row = origin[i] if origin is not None else i
        return line_of(row), row in table.numeric_ids

    if n == 0 and not found:
        return [], [ImportProblem(name, 0, "", "the export holds a header but no participants")], where
    source_columns = list(zip(*rows_in, strict=False)) if n else [()] * width
    empty = ("",) * n
    columns: list[list[str]] = [list(source_columns[c]) if c >= 0 else list(empty) for c in pos]
    del source_columns
    bad_rows: set[int] = set()

    def problem(i: int, f: int, message: str) -> None:
        found.append((line_at(i), f, message))
        bad_rows.add(i)

    # Each column is checked as one string joined by the unit separator (C-speed regex scans);
    # only a column that fails a check is looked at value by value.
    f_id, f_code = FIELD_INDEX["accreditation_id"], FIELD_INDEX["confirmation_code"]
    for f in (f_id, f_code):  # their patterns below also refuse control characters and excess length
        column = columns[f]
        joined = _SEP.join(column)
        if " \x1f" in joined or "\x1f " in joined or joined[:1].isspace() or joined[-1:].isspace():
            columns[f] = [v.strip() for v in column]
    # Category, role and status are matched against their few allowed values further down.
    for f in (FIELD_INDEX[t] for t in TEXT_FIELDS):
        column = columns[f]
        joined = _SEP.join(column)
        if _JOINED_CONTROL_RE.search(joined) or (n and joined.count(_SEP) != n - 1):
            for i, value in enumerate(column):
                if _CONTROL_RE.search(value.strip(" ")):
                    problem(i, f, "contains a line break, tab, control or text-direction character")
                    column[i] = ""
        if (
            "  " in joined
            or not joined.isascii()
            and (
                "\xa0" in joined
                or "\u2009" in joined
                or "\u202f" in joined
                or not unicodedata.is_normalized("NFC", joined)
            )
        ):
            column[:] = [_clean(v) for v in column]  # collapse spaces, NFC (exports from macOS are NFD)
            joined = _SEP.join(column)
        elif " \x1f" in joined or "\x1f " in joined or joined[:1].isspace() or joined[-1:].isspace():
            column[:] = [v.strip() for v in column]
            joined = _SEP.join(column)
        limit = MAX_LENGTH.get(PARTICIPANT_FIELDS[f], DEFAULT_MAX_LENGTH)
        if n and max(map(len, column)) > limit:
            for i, value in enumerate(column):
                if len(value) > limit:
                    problem(i, f, f"is {len(value)} characters long; at most {limit} are allowed")
        if _FORMULA_RE.search(joined) or joined[:1] in FORMULA_STARTS and joined:
            for i, value in enumerate(column):
                if value[:1] in FORMULA_STARTS and value:
                    problem(
                        i,
                        f,
                        f"starts with {value[0]!r}: a spreadsheet formula is not a name ({value[:40]!r}); "
                        "fix the cell in the export",
                    )

    ids = columns[f_id]
    if not all(map(_ID_RE.fullmatch, ids)):
        for i, aid in enumerate(ids):
            if not aid:
                problem(i, f_id, "is empty")
            elif len(aid) > MAX_LENGTH["accreditation_id"]:
                problem(i, f_id, f"is {len(aid)} characters long; at most {MAX_LENGTH['accreditation_id']} are allowed")
            elif not _ID_RE.fullmatch(aid):
                problem(i, f_id, f"{aid[:40]!r} is not an accreditation id (letters, digits and . _ / - only)")
    folded_ids = [a.casefold() for a in ids]
    if len(set(folded_ids)) != n:
        first_row: dict[str, int] = {}
        for i, key in enumerate(folded_ids):
            if key and first_row.setdefault(key, i) != i:
                problem(i, f_id, f"duplicate accreditation id {ids[i]!r}: also on line {line_at(first_row[key])}")
    for i, padded in _zeros_lost_within(ids):
        problem(
            i, f_id, zeros_lost_message(ids[i], padded, "the other ids of this export keep their zeros", where(i)[1])
        )

    f_family = FIELD_INDEX["family_name"]
    if "" in columns[f_family]:
        for i, value in enumerate(columns[f_family]):
            if not value:
                problem(i, f_family, "is empty (a person with a single name has it in family_name)")
    f_deleg = FIELD_INDEX["delegation"]
    if "" in columns[f_deleg]:
        for i, value in enumerate(columns[f_deleg]):
            if not value:
                problem(i, f_deleg, "is empty (the delegation or organisation is printed on the badge)")
    for original, latin in (("family_name", "family_name_latin"), ("given_names", "given_names_latin")):
        f_orig, f_latin = FIELD_INDEX[original], FIELD_INDEX[latin]
        orig_col, latin_col = columns[f_orig], columns[f_latin]
        # Only letters from U+0250 on can be in another script: look at each distinct one once.
        beyond = set(_MAYBE_NOT_LATIN_RE.findall("".join(latin_col)))
        if beyond and not _is_latin_text("".join(sorted(beyond))):
            for i in [i for i, value in enumerate(latin_col) if not value.isascii()]:
                if not _is_latin_text(latin_col[i]):
                    problem(i, f_latin, f"{latin_col[i]!r} is not in Latin script")
        if "" in latin_col:
            for i in [i for i, value in enumerate(latin_col) if not value]:
                value = orig_col[i]
                if value.isascii() or _is_latin_text(value):
                    latin_col[i] = value
                else:
                    problem(
                        i,
                        f_latin,
                        f"is empty but {original} {value!r} is in {_script_of(value)} "
                        "script; the Latin rendering is required",
                    )

    known = ", ".join(sorted(set(categories.values())))
    for field_name, allowed, explain in (
        ("category", categories, f"unknown category {{value!r}}; use one of {known}"),
        ("delegation_role", {r: r for r in ROLES}, "{value!r} is not a delegation role; use head or member"),
        ("status", {s_: s_ for s_ in STATUSES}, "{value!r} is not a status; use accredited or withdrawn"),
    ):
        f = FIELD_INDEX[field_name]
        mapping: dict[str, str] = {}
        for value in set(columns[f]):
            normal = allowed.get(value.strip().casefold())
            if normal is None:
                message = "is empty" if not value.strip() else explain.format(value=value.strip()[:60])
                for i in [i for i, v in enumerate(columns[f]) if v == value]:
                    problem(i, f, message)
                normal = value
            mapping[value] = normal
        if any(normal != value for value, normal in mapping.items()):
            columns[f] = list(map(mapping.__getitem__, columns[f]))

    codes = columns[f_code]
    joined = _SEP.join(codes)
    if " " in joined or joined.upper() != joined:
        codes = columns[f_code] = [c.upper().replace(" ", "") for c in codes]
    present = [c for c in codes if c] if "" in codes else codes
    if not all(map(_CODE_RE.fullmatch, present)) or len(set(present)) != len(present):
        first: dict[str, int] = {}
        for i, code in enumerate(codes):
            if not code:
                continue
            if not _CODE_RE.fullmatch(code):
                problem(i, f_code, f"{code[:40]!r} is not a confirmation code (letters and digits only)")
            elif first.setdefault(code, i) != i:
                j = first[code]
                problem(
                    i,
                    f_code,
                    f"confirmation code {code} is also given to {ids[j]} (line {line_at(j)}); "
                    "each e-mail code must identify one person",
                )

    found.sort(key=lambda item: (item[0], item[1]))
    problems = [
        ImportProblem(name, line, PARTICIPANT_FIELDS[f] if f >= 0 else "(row)", message) for line, f, message in found
    ]
    rows = list(zip(*columns, strict=False)) if n else []
    if bad_rows:
        rows = [row for i, row in enumerate(rows) if i not in bad_rows]
    return rows, problems, where


def quota_notes(rows: list[tuple[str, ...]], station: Station) -> list[str]:
    i_cat, i_deleg, i_role, i_status = (FIELD_INDEX[f] for f in ("category", "delegation", "delegation_role", "status"))
    accredited = [(r[i_cat], r[i_deleg], r[i_role]) for r in rows if r[i_status] == "accredited"]
    sizes = Counter((cat, deleg) for cat, deleg, _role in accredited)
    heads = Counter((cat, deleg) for cat, deleg, role in accredited if role == "head")
    quotas = {c.code: c.quota for c in station.config.categories if c.quota}
    notes = []
    over = sorted(
        f"{deleg} ({size} of {quotas[cat]})"
        for (cat, deleg), size in sizes.items()
        if cat in quotas and size > quotas[cat]
    )
    if over:
        shown = ", ".join(over[:10]) + (f" and {len(over) - 10} more" if len(over) > 10 else "")
        notes.append(
            f"{len(over)} delegation(s) have more accredited participants than their quota "
            f"(badges beyond the quota need a supervisor): {shown}"
        )
    several = sorted(deleg for (cat, deleg), count in heads.items() if count > 1)
    if several:
        notes.append(
            f"{len(several)} delegation(s) list more than one head: "
            + ", ".join(several[:10])
            + (" ..." if len(several) > 10 else "")
        )
    return notes
