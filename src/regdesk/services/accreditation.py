"""Importing the UN accreditation export into the local mirror.

The export is a CSV (UTF-8, with or without BOM, comma / semicolon / tab separated; UTF-16 with a
byte-order mark is decoded too, as Excel's "Unicode text" produces it) or an XLSX workbook (first
sheet). The format is decided from the file's content, never from its name.

All or nothing: every row is validated first and every problem is reported (file, line, field);
one bad row means nothing is imported. A valid file becomes ONE `accreditation_imported` event
carrying only the rows that differ from the mirror; the projection applies them. Participants
missing from a newer export are withdrawn. Badges, scans and other events are never touched.

Decisions (documented for the desk supervisor):
- Required columns: accreditation_id, family_name, given_names, category, delegation,
  delegation_role, status. Optional: title, family_name_latin, given_names_latin,
  confirmation_code. Unknown extra columns are ignored and named in the report's notes.
- given_names may be empty (people with a single name); family_name may not.
- A name in a non-Latin script needs its Latin rendering in the *_latin column (badges and the
  international staff need it); a Latin-script name without one gets itself as rendering.
- A cell beginning with = + - @ in a text field is refused: it is a spreadsheet formula (or a
  formula-injection attempt), never a name.
- An export that would silently withdraw a large part of the list (missing rows) is refused
  unless `allow_mass_withdrawal=True`: a cut-off file must not withdraw half the meeting.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from regdesk.domain.events import EventKind, format_utc
from regdesk.services.station import Station
from regdesk.store.projections.core import PARTICIPANT_FIELDS

REQUIRED_COLUMNS = ("accreditation_id", "family_name", "given_names", "category", "delegation",
                    "delegation_role", "status")
OPTIONAL_COLUMNS = ("title", "family_name_latin", "given_names_latin", "confirmation_code")
KNOWN_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
ROLES = ("head", "member")
STATUSES = ("accredited", "withdrawn")
# The longest value a field may hold (the mirror's column sizes); anything longer is not a name.
MAX_LENGTH = {"accreditation_id": 64, "title": 64, "confirmation_code": 64, "category": 200,
              "delegation_role": 16, "status": 16}
DEFAULT_MAX_LENGTH = 200
TEXT_FIELDS = ("title", "family_name", "given_names", "family_name_latin", "given_names_latin", "delegation")
FORMULA_STARTS = ("=", "+", "-", "@")
# Refuse an export that drops (without a "withdrawn" row) more than this share of the accredited.
MASS_WITHDRAWAL_SHARE = 0.2
MASS_WITHDRAWAL_MIN = 10

_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")
_CODE_RE = re.compile(r"[A-Z0-9-]+")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029]|[\r\n\t]")
_FIELD_INDEX = {name: i for i, name in enumerate(PARTICIPANT_FIELDS)}


@dataclass(frozen=True)
class ImportProblem:
    file: str
    line: int  # 0 = the file as a whole
    field: str  # "" = not about one field
    message: str

    def __str__(self) -> str:
        if self.line <= 0 and not self.field:
            return f"{self.file}: {self.message}"
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        return f"{where}: field '{self.field}': {self.message}" if self.field else f"{where}: {self.message}"


class AccreditationImportError(Exception):
    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems
        head = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}; nothing was imported"
        super().__init__(head + "\n" + "\n".join(str(p) for p in problems))


@dataclass
class FieldChange:
    field: str
    old: str
    new: str


@dataclass
class ImportReport:
    source: str
    total_rows: int
    added: list[str]
    changed: dict[str, list[FieldChange]]
    withdrawn: list[str]  # accredited before, withdrawn now (includes `dropped`)
    reinstated: list[str]  # withdrawn before, accredited now
    unchanged: int
    event_id: str | None  # None for a dry run
    notes: list[str] = field(default_factory=list)  # non-blocking remarks (ignored columns, quotas...)
    dropped: list[str] = field(default_factory=list)  # in the mirror but missing from this export
    file_format: str = ""

    @property
    def counts(self) -> dict[str, int]:
        return {"rows": self.total_rows, "added": len(self.added), "changed": len(self.changed),
                "withdrawn": len(self.withdrawn), "reinstated": len(self.reinstated),
                "unchanged": self.unchanged, "dropped": len(self.dropped)}

    def as_json(self) -> dict:
        return {
            "source": self.source, "format": self.file_format, "event_id": self.event_id, "counts": self.counts,
            "added": self.added, "withdrawn": self.withdrawn, "reinstated": self.reinstated, "dropped": self.dropped,
            "changed": {aid: [{"field": c.field, "old": c.old, "new": c.new} for c in changes]
                        for aid, changes in self.changed.items()},
            "notes": self.notes,
        }


# --- reading the file ---------------------------------------------------------------------------


class _FileRefused(Exception):
    def __init__(self, problems: list[ImportProblem]) -> None:
        self.problems = problems


@dataclass
class _Table:
    kind: str  # "csv" | "xlsx"
    header: list[str]
    header_line: int
    rows: Iterator[tuple[int, list[str]]]  # (line or row number, values)
    notes: list[str]


def _refuse(file: str, message: str, line: int = 0, field_name: str = "") -> _FileRefused:
    return _FileRefused([ImportProblem(file, line, field_name, message)])


def _named_as(path: Path) -> str:
    suffix = path.suffix.lower()
    return {".csv": "CSV", ".txt": "text", ".xlsx": "Excel .xlsx", ".xls": "Excel .xls", ".ods": "OpenDocument"}.get(
        suffix, "")


def _open_table(path: Path, raw: bytes) -> _Table:
    name = str(path)
    named = _named_as(path)
    if not raw.strip():
        raise _refuse(name, "the file is empty")
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"PK\x05\x06"):
        table = _open_xlsx(name, raw)
        if named and named != "Excel .xlsx":
            table.notes.append(f"{path.name} is named like a {named} file but is an Excel workbook; read as XLSX")
        return table
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise _refuse(name, "this is an old Excel 97-2003 (.xls) workbook; open it in Excel or LibreOffice and "
                            "save it as .xlsx or as 'CSV UTF-8'")
    if raw.startswith(b"%PDF"):
        raise _refuse(name, "this is a PDF document, not an export; ask for the CSV or XLSX export")
    if raw[:5].lower().startswith((b"<html", b"<!doc")) or raw[:100].lower().lstrip().startswith(b"<!doctype html"):
        raise _refuse(name, "this is a web page (HTML), not an export; download the CSV or XLSX file itself")
    table = _open_csv(name, raw)
    if named in ("Excel .xlsx", "Excel .xls", "OpenDocument"):
        table.notes.append(f"{path.name} is named like an {named} file but holds CSV text; read as CSV")
    return table


def _decode(name: str, raw: bytes) -> tuple[str, list[str]]:
    notes: list[str] = []
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text_ = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _refuse(name, f"starts with a UTF-16 byte-order mark but is not valid UTF-16 ({exc.reason}); "
                                "save the export as 'CSV UTF-8'") from None
        notes.append("the file is UTF-16 (with byte-order mark), as Excel's 'Unicode text'; decoded as such")
        return text_, notes
    if raw.count(b"\x00") > len(raw) // 10:
        raise _refuse(name, "looks like UTF-16 without a byte-order mark (every other byte is zero) or a binary "
                            "file; save the export as 'CSV UTF-8'")
    try:
        return raw.decode("utf-8"), notes
    except UnicodeDecodeError:
        raise _FileRefused(_encoding_problems(name, raw)) from None


def _encoding_problems(name: str, raw: bytes) -> list[ImportProblem]:
    """Not UTF-8: say where, in which field, and what the bytes would be in Windows-1252/Latin-1."""
    lines = raw.split(b"\n")
    legacy = raw.decode("cp1252", errors="replace")
    delimiter = _delimiter(legacy.split("\n", 1)[0])
    header = [_column_key(h) for h in next(csv.reader([legacy.split("\n", 1)[0]], delimiter=delimiter), [])]
    problems = []
    bad_lines = 0
    for number, line in enumerate(lines, start=1):
        try:
            line.decode("utf-8")
            continue
        except UnicodeDecodeError as exc:
            bad_lines += 1
            if bad_lines > 20:
                continue
            byte = line[exc.start]
            as_legacy = line.decode("cp1252", errors="replace")
            values = next(csv.reader([as_legacy.rstrip("\r")], delimiter=delimiter), [])
            column = ""
            for i, value in enumerate(values):
                if any(ord(ch) > 127 for ch in value):
                    column = header[i] if i < len(header) else f"column {i + 1}"
                    break
            sample = next((v for v in values if any(ord(ch) > 127 for ch in v)), "")
            problems.append(ImportProblem(
                name, number, column,
                f"not UTF-8 (byte 0x{byte:02X}); it looks like Latin-1/Windows-1252, where this reads {sample!r}. "
                "Save the export as 'CSV UTF-8' and import it again"))
    if bad_lines > 20:
        problems.append(ImportProblem(name, 0, "", f"... {bad_lines - 20} more lines are not UTF-8 either"))
    return problems


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _column_key(text_: str) -> str:
    return re.sub(r"[\s\-]+", "_", text_.strip().lstrip("\ufeff").strip().casefold())


def _open_csv(name: str, raw: bytes) -> _Table:
    content, notes = _decode(name, raw)
    first_line = content.split("\n", 1)[0]
    delimiter = _delimiter(first_line)
    if delimiter != ",":
        notes.append(f"columns separated by {'semicolons' if delimiter == ';' else 'tabs'}")
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter, strict=False)
    try:
        header = next(reader)
    except StopIteration:
        raise _refuse(name, "the file is empty") from None
    except csv.Error as exc:
        raise _refuse(name, f"cannot read the header: {exc}", 1) from None

    def rows() -> Iterator[tuple[int, list[str]]]:
        previous_end = reader.line_num
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise _refuse(name, f"unreadable CSV ({exc})", previous_end + 1) from None
            start = previous_end + 1
            previous_end = reader.line_num
            yield start, values

    return _Table("csv", header, 1, rows(), notes)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _open_xlsx(name: str, raw: bytes) -> _Table:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        members = set(archive.namelist())
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise _refuse(name, f"the Excel workbook is damaged or truncated ({exc}); export it again") from None
    if "xl/workbook.xml" not in members:
        if "mimetype" in members and b"opendocument.spreadsheet" in archive.read("mimetype"):
            raise _refuse(name, "this is an OpenDocument spreadsheet (.ods); save it as .xlsx or as 'CSV UTF-8'")
        raise _refuse(name, "this is a ZIP archive but not an Excel .xlsx workbook (no xl/workbook.xml)")
    bad = archive.testzip() if len(raw) < 50_000_000 else None
    if bad is not None:
        raise _refuse(name, f"the Excel workbook is damaged or truncated (part {bad} is corrupt); export it again")
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
        all_rows = sheet.iter_rows(values_only=True)
        header_cells = next(all_rows, None)
    except Exception as exc:  # openpyxl raises many kinds (KeyError, XML errors, zlib errors)
        raise _refuse(name, f"the Excel workbook is damaged or truncated ({type(exc).__name__}: {exc}); "
                            "export it again") from None
    if header_cells is None:
        raise _refuse(name, "the first sheet of the workbook is empty")
    notes = []
    if len(workbook.worksheets) > 1:
        notes.append(f"the workbook has {len(workbook.worksheets)} sheets; only the first, "
                     f"'{sheet.title}', was read")

    def rows() -> Iterator[tuple[int, list[str]]]:
        number = 1
        try:
            for cells in all_rows:
                number += 1
                yield number, [_cell_text(c) for c in cells]
        except _FileRefused:
            raise
        except Exception as exc:
            raise _refuse(name, f"the Excel workbook is damaged or truncated after row {number} "
                                f"({type(exc).__name__}: {exc}); export it again") from None
        finally:
            workbook.close()

    return _Table("xlsx", [_cell_text(c) for c in header_cells], 1, rows(), notes)


# --- validating ---------------------------------------------------------------------------------


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


def _validate(name: str, table: _Table, categories: dict[str, str]) -> tuple[list[tuple], list[ImportProblem]]:
    """Rows as tuples in PARTICIPANT_FIELDS order, and every problem found."""
    problems: list[ImportProblem] = []
    keys = [_column_key(h) for h in table.header]
    positions: dict[str, int] = {}
    for i, key in enumerate(keys):
        if not key:
            continue
        if key in positions and key in KNOWN_COLUMNS:
            problems.append(ImportProblem(name, table.header_line, key,
                                          f"column appears twice (columns {positions[key] + 1} and {i + 1})"))
        positions.setdefault(key, i)
    missing = [c for c in REQUIRED_COLUMNS if c not in positions]
    if missing:
        found = ", ".join(repr(h) for h in table.header[:6]) or "nothing"
        for column in missing:
            problems.append(ImportProblem(name, table.header_line, column,
                                          f"required column is missing (the header row has {found}"
                                          f"{', ...' if len(table.header) > 6 else ''})"))
    if problems:
        return [], problems
    extra = [table.header[i].strip() for i, k in enumerate(keys) if k and k not in KNOWN_COLUMNS]
    if extra:
        table.notes.append("ignored columns not used by the desk: " + ", ".join(extra))

    width = len(keys)
    pos = [positions.get(f, -1) for f in PARTICIPANT_FIELDS]
    i_id, i_family, i_given, i_family_latin, i_given_latin = (_FIELD_INDEX[f] for f in (
        "accreditation_id", "family_name", "given_names", "family_name_latin", "given_names_latin"))
    i_cat, i_role, i_status, i_code = (_FIELD_INDEX[f] for f in (
        "category", "delegation_role", "status", "confirmation_code"))
    text_indices = [_FIELD_INDEX[f] for f in TEXT_FIELDS]
    limits = [MAX_LENGTH.get(f, DEFAULT_MAX_LENGTH) for f in PARTICIPANT_FIELDS]
    seen_ids: dict[str, int] = {}
    seen_codes: dict[str, tuple[int, str]] = {}
    out: list[tuple] = []

    for line, values in table.rows:
        if not any(v.strip() for v in values):
            continue  # blank line, or an Excel row of empty cells
        if len(values) > width and any(v.strip() for v in values[width:]):
            problems.append(ImportProblem(
                name, line, keys[-1] if keys else "",
                f"the row has {len(values)} values but the header has {width} columns "
                "(a separator inside an unquoted value?)"))
            continue
        record = [""] * len(PARTICIPANT_FIELDS)
        for f_index, column in enumerate(pos):
            if 0 <= column < len(values):
                record[f_index] = values[column]
        row_problems: list[ImportProblem] = []

        def bad(f_index: int, message: str) -> None:
            row_problems.append(ImportProblem(name, line, PARTICIPANT_FIELDS[f_index], message))

        joined = "\x1e".join(record)
        if _CONTROL_RE.search(joined.replace("\x1e", "")):
            for f_index, value in enumerate(record):
                if _CONTROL_RE.search(value.strip()):
                    bad(f_index, "contains a line break, tab or control character")
                    record[f_index] = ""
        for f_index in range(len(record)):
            value = _clean(record[f_index])
            if len(value) > limits[f_index]:
                bad(f_index, f"is {len(value)} characters long; at most {limits[f_index]} are allowed")
            record[f_index] = value
        for f_index in text_indices:
            if record[f_index].startswith(FORMULA_STARTS):
                bad(f_index, f"starts with {record[f_index][0]!r}: a spreadsheet formula is not a name "
                             f"({record[f_index][:40]!r}); fix the cell in the export")

        aid = record[i_id]
        if not aid:
            bad(i_id, "is empty")
        elif not _ID_RE.fullmatch(aid):
            bad(i_id, f"{aid[:40]!r} is not an accreditation id (letters, digits and . _ / - only)")
        else:
            folded = aid.casefold()
            if folded in seen_ids:
                bad(i_id, f"duplicate accreditation id {aid!r}: also on line {seen_ids[folded]}")
            else:
                seen_ids[folded] = line
        if not record[i_family]:
            bad(i_family, "is empty (a person with a single name has it in family_name)")
        for original, latin in ((i_family, i_family_latin), (i_given, i_given_latin)):
            if record[latin]:
                if not _is_latin_text(record[latin]):
                    bad(latin, f"{record[latin]!r} is not in Latin script")
            elif record[original]:
                if _is_latin_text(record[original]):
                    record[latin] = record[original]
                else:
                    bad(latin, f"is empty but {PARTICIPANT_FIELDS[original]} {record[original]!r} is in "
                               f"{_script_of(record[original])} script; the Latin rendering is required")
        category = categories.get(record[i_cat].casefold())
        if category is None:
            bad(i_cat, f"unknown category {record[i_cat]!r}; use one of {', '.join(sorted(set(categories.values())))}"
                if record[i_cat] else "is empty")
        else:
            record[i_cat] = category
        if not record[_FIELD_INDEX["delegation"]]:
            bad(_FIELD_INDEX["delegation"], "is empty (the delegation or organisation is printed on the badge)")
        role = record[i_role].casefold()
        if role not in ROLES:
            bad(i_role, f"{record[i_role]!r} is not a delegation role; use head or member")
        record[i_role] = role
        status = record[i_status].casefold()
        if status not in STATUSES:
            bad(i_status, f"{record[i_status]!r} is not a status; use accredited or withdrawn")
        record[i_status] = status
        code = record[i_code].upper().replace(" ", "")
        record[i_code] = code
        if code:
            if not _CODE_RE.fullmatch(code):
                bad(i_code, f"{code[:40]!r} is not a confirmation code (letters and digits only)")
            elif code in seen_codes:
                bad(i_code, f"confirmation code {code} is also given to {seen_codes[code][1]} "
                            f"(line {seen_codes[code][0]}); each e-mail code must identify one person")
            else:
                seen_codes[code] = (line, aid)
        if row_problems:
            problems.extend(row_problems)
        else:
            out.append(tuple(record))
    if not out and not problems:
        problems.append(ImportProblem(name, 0, "", "the export holds a header but no participants"))
    return out, problems


def _quota_notes(rows: list[tuple], station: Station) -> list[str]:
    i_cat, i_deleg, i_role, i_status = (_FIELD_INDEX[f] for f in ("category", "delegation", "delegation_role",
                                                                    "status"))
    sizes: dict[tuple[str, str], int] = {}
    heads: dict[tuple[str, str], int] = {}
    for row in rows:
        if row[i_status] != "accredited":
            continue
        key = (row[i_cat], row[i_deleg])
        sizes[key] = sizes.get(key, 0) + 1
        if row[i_role] == "head":
            heads[key] = heads.get(key, 0) + 1
    notes = []
    over = []
    for (cat, deleg), size in sorted(sizes.items()):
        category = station.config.category(cat)
        if category and category.quota and size > category.quota:
            over.append(f"{deleg} ({size} of {category.quota})")
    if over:
        shown = ", ".join(over[:10]) + (f" and {len(over) - 10} more" if len(over) > 10 else "")
        notes.append(f"{len(over)} delegation(s) have more accredited participants than their quota "
                     f"(badges beyond the quota need a supervisor): {shown}")
    several = sorted(deleg for (cat, deleg), n in heads.items() if n > 1)
    if several:
        notes.append(f"{len(several)} delegation(s) list more than one head: " + ", ".join(several[:10])
                     + (" ..." if len(several) > 10 else ""))
    return notes


# --- the import ---------------------------------------------------------------------------------


def _category_names(station: Station) -> dict[str, str]:
    names: dict[str, str] = {}
    for category in station.config.categories:
        names[category.name.casefold()] = category.code
        names[category.code.casefold()] = category.code
    return names


def _current_mirror(session) -> dict[str, tuple]:
    columns = ", ".join(PARTICIPANT_FIELDS)
    result = session.execute(text(f"SELECT {columns} FROM participants"))
    return {row[0]: tuple("" if v is None else v for v in row) for row in result}


def import_file(station: Station, path: Path, *, operator: str, dry_run: bool = False,
                allow_mass_withdrawal: bool = False) -> ImportReport:
    """Validate the export, diff it against the mirror and record it as one event (all or nothing).

    Raises AccreditationImportError listing every problem; then neither the mirror nor the log changed.
    With dry_run=True the report is computed but nothing is recorded (event_id is None).
    """
    path = Path(path)
    name = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AccreditationImportError([ImportProblem(name, 0, "", "no such file")]) from None
    except IsADirectoryError:
        raise AccreditationImportError([ImportProblem(name, 0, "", "is a folder, not an export file")]) from None
    except OSError as exc:
        raise AccreditationImportError([ImportProblem(name, 0, "", f"cannot be read: {exc.strerror}")]) from None
    try:
        table = _open_table(path, raw)
        rows, problems = _validate(name, table, _category_names(station))
    except _FileRefused as refused:
        raise AccreditationImportError(refused.problems) from None
    if problems:
        raise AccreditationImportError(problems)
    notes = table.notes + _quota_notes(rows, station)

    i_status = _FIELD_INDEX["status"]
    added: list[str] = []
    changed: dict[str, list[FieldChange]] = {}
    withdrawn: list[str] = []
    reinstated: list[str] = []
    dropped: list[str] = []
    unchanged = 0
    payload_rows: list[tuple] = []
    with station.transaction() as session:
        mirror = _current_mirror(session)
        accredited_before = sum(1 for r in mirror.values() if r[i_status] == "accredited")
        for row in rows:
            old = mirror.pop(row[0], None)
            if old is None:
                added.append(row[0])
                payload_rows.append(row)
                continue
            if old == row:
                unchanged += 1
                continue
            payload_rows.append(row)
            diffs = [FieldChange(f, old[i], row[i]) for i, f in enumerate(PARTICIPANT_FIELDS)
                     if old[i] != row[i] and i != i_status]
            if diffs:
                changed[row[0]] = diffs
            if old[i_status] != row[i_status]:
                (withdrawn if row[i_status] == "withdrawn" else reinstated).append(row[0])
        # Whatever is left in the mirror is missing from this export: withdrawn.
        for aid, old in mirror.items():
            if old[i_status] == "withdrawn":
                continue
            dropped.append(aid)
            withdrawn.append(aid)
            payload_rows.append(old[:i_status] + ("withdrawn",) + old[i_status + 1:])
        dropped_limit = max(MASS_WITHDRAWAL_MIN, MASS_WITHDRAWAL_SHARE * accredited_before)
        if dropped and len(dropped) > dropped_limit and not allow_mass_withdrawal:
            raise AccreditationImportError([ImportProblem(
                name, 0, "",
                f"{len(dropped)} participants in the mirror are missing from this export and would be withdrawn "
                f"(e.g. {', '.join(dropped[:5])}). Is the file cut off or for another list? If this is really the "
                "newer export, import it with --allow-mass-withdrawal")])
        report = ImportReport(
            source=path.name, total_rows=len(rows), added=added, changed=changed, withdrawn=withdrawn,
            reinstated=reinstated, unchanged=unchanged, event_id=None, notes=notes, dropped=dropped,
            file_format=table.kind,
        )
        if dry_run:
            return report
        event = station.record(session, EventKind.ACCREDITATION_IMPORTED, {
            "revision": format_utc(station.clock.now()),
            "source": path.name,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "format": table.kind,
            "rows": [dict(zip(PARTICIPANT_FIELDS, r)) for r in payload_rows],
            "counts": report.counts,
        }, operator)
        report.event_id = event.id
    _forget_search_index(station)
    return report


def _forget_search_index(station: Station) -> None:
    # The index notices a new import by itself; dropping it now frees the memory of the old one early.
    from regdesk.services import lookup

    lookup.invalidate(station)
