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
import gc
import hashlib
import io
import posixpath
import re
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from itertools import chain, repeat
from operator import add, getitem, sub
from pathlib import Path

from sqlalchemy.orm import Session

from regdesk.errors import RegdeskError
from regdesk.domain import payloads
from regdesk.domain.events import EventKind, format_utc
from regdesk.services.station import Station
from regdesk.store.projections.core import PARTICIPANT_FIELDS
from regdesk.store.db import driver

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
MAX_EXPORT_BYTES = 512 << 20  # the file itself is read into memory

_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
_CODE_RE = re.compile(r"[A-Z0-9-]{1,64}")
# The text rules every station applies to names it merges (domain/payloads.py): control characters,
# terminal escapes and bidirectional overrides are refused here so that a merge never has to.
_CONTROL_RE = payloads.UNSAFE_TEXT
_SEP = "\x1f"  # joins a column's values for whole-column checks (ASCII: keeps the string compact)
_JOINED_CONTROL_RE = payloads.UNSAFE_JOINED
_FORMULA_RE = re.compile(r"\x1f[=+\-@]")
_MAYBE_NOT_LATIN_RE = re.compile("[^\x00-\u024f]")  # _is_latin_text accepts everything below U+0250
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


class AccreditationImportError(RegdeskError):
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
    rows: list[list[str]]
    lines: list[int] | None  # line (CSV) or row (XLSX) of each row; None = one line per row after the header
    notes: list[str]
    numeric_ids: frozenset[int] = frozenset()  # rows whose id cell is a number in the workbook

    def line_of(self, i: int) -> int:
        return self.lines[i] if self.lines is not None else self.header_line + 1 + i


def _refuse(file: str, message: str, line: int = 0, field_name: str = "") -> _FileRefused:
    return _FileRefused([ImportProblem(file, line, field_name, message)])


def _named_as(path: Path) -> str:
    suffix = path.suffix.lower()
    return {".csv": "CSV", ".txt": "text", ".xlsx": "Excel .xlsx", ".xls": "Excel .xls", ".ods": "OpenDocument"}.get(
        suffix, "")


def _open_table(path: Path, raw: bytes) -> _Table:
    name = str(path)
    named = _named_as(path)
    if not raw or raw.isspace():  # (not raw.strip(): that would copy the whole file)
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
    header = [_column_key(h) for h in _split_line(legacy.split("\n", 1)[0], delimiter)]
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
            values = _split_line(as_legacy.rstrip("\r"), delimiter)
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


def _split_line(line: str, delimiter: str) -> list[str]:
    """One physical line as fields, for error messages only; a stray CR must not break the report."""
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return line.replace("\r", " ").split(delimiter)


def _delimiter(header_line: str) -> str:
    counts = {d: header_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _column_key(text_: str) -> str:
    return re.sub(r"[\s\-]+", "_", text_.strip().lstrip("\ufeff").strip().casefold())


def _open_csv(name: str, raw: bytes) -> _Table:
    content, notes = _decode(name, raw)
    end = content.find("\n")  # (not split: that would copy the whole rest of the file)
    first_line = content if end < 0 else content[:end]
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
    try:
        rows = list(reader)  # the fast path: the csv module reads everything in C
        if reader.line_num == len(rows) + 1:
            return _Table("csv", header, 1, rows, None, notes)
    except csv.Error:
        pass
    # A quoted value spans lines (or a row is unreadable): read again, noting where each row starts.
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter, strict=False)
    next(reader)
    rows, lines = [], []
    previous_end = reader.line_num
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise _refuse(name, f"unreadable CSV ({exc})", previous_end + 1) from None
        lines.append(previous_end + 1)
        previous_end = reader.line_num
        rows.append(values)
    return _Table("csv", header, 1, rows, lines, notes)


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
    unsafe = _zip_bomb(archive)
    if unsafe is not None:
        raise _refuse(name, f"refused without opening it: {unsafe}. No export looks like this (100,000 participants "
                            "make about 70 MB): it is a damaged file or a 'zip bomb'; export the list again")
    for info in archive.infolist():
        problem = _inflation_problem(raw, info)
        if problem == "beyond":
            raise _refuse(name, f"refused: part {info.filename} inflates beyond the {info.file_size:,} bytes it "
                                "declares (a damaged file or a 'zip bomb'); export the list again")
        if problem is not None:
            raise _refuse(name, f"the Excel workbook is damaged or truncated (part {info.filename} is corrupt); "
                                "export it again")
    # Every part now holds exactly the bytes it declares, within the limits: calamine and openpyxl
    # may read it.
    table = _read_xlsx_with_calamine(archive, raw)
    return table if table is not None else _read_xlsx_with_openpyxl(name, raw)


# A workbook is a ZIP archive: a few kilobytes can declare, or hold, gigabytes of XML (a "zip
# bomb"), which calamine would build in memory. Real exports: 100,000 participants are a sheet
# of about 70 MB of XML, compressed about 10 times (XML compresses 5-15 times; a bomb, ~1000).
MAX_XLSX_PART_BYTES = 256 << 20
MAX_XLSX_TOTAL_BYTES = 512 << 20
MAX_XLSX_RATIO = 100
_RATIO_FROM_BYTES = 1 << 20  # small parts (styles, relationships) may compress better
MAX_XLSX_PARTS = 10_000
_INFLATE_STEP = 1 << 22


def _zip_bomb(archive: zipfile.ZipFile) -> str | None:
    """What makes this archive unsafe to open, judged from its directory alone (nothing inflated)."""
    infos = archive.infolist()
    if len(infos) > MAX_XLSX_PARTS:
        return f"it holds {len(infos):,} parts"
    seen: set[str] = set()
    total = 0
    for info in infos:
        if info.filename in seen:
            return f"part {info.filename} appears twice"
        seen.add(info.filename)
        if info.flag_bits & 0x1:
            return f"part {info.filename} is encrypted"
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            return f"part {info.filename} is compressed with method {info.compress_type}, which Excel never uses"
        mb, from_mb = info.file_size / (1 << 20), info.compress_size / (1 << 20)
        if info.file_size > MAX_XLSX_PART_BYTES:
            return f"part {info.filename} would inflate to {mb:,.0f} MB (at most {MAX_XLSX_PART_BYTES >> 20} MB)"
        if info.file_size > _RATIO_FROM_BYTES and info.file_size > MAX_XLSX_RATIO * max(1, info.compress_size):
            return (f"part {info.filename} would inflate from {from_mb:,.2f} MB to {mb:,.0f} MB "
                    f"({info.file_size // max(1, info.compress_size):,} times)")
        total += info.file_size
    if total > MAX_XLSX_TOTAL_BYTES:
        return f"its parts would inflate to {total / (1 << 20):,.0f} MB (at most {MAX_XLSX_TOTAL_BYTES >> 20} MB)"
    return None


def _inflation_problem(raw: bytes, info: zipfile.ZipInfo) -> str | None:
    """None when the part inflates to exactly the bytes it declares, with its checksum; "beyond" when
    it would inflate to more (stopped there: never trust the declared size alone); else "corrupt".
    Never holds more than a few MB of the part in memory."""
    start = info.header_offset
    local = raw[start:start + 30]
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        return "corrupt"
    start += 30 + int.from_bytes(local[26:28], "little") + int.from_bytes(local[28:30], "little")
    data = memoryview(raw)[start:start + info.compress_size]
    if len(data) != info.compress_size:
        return "corrupt"
    if info.compress_type == zipfile.ZIP_STORED:
        return None if len(data) == info.file_size and zlib.crc32(data) == info.CRC else "corrupt"
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = crc = position = 0
    pending: bytes | memoryview = b""
    try:
        while not inflater.eof:
            if not pending and position < len(data):
                pending, position = data[position:position + _INFLATE_STEP], position + _INFLATE_STEP
            out = inflater.decompress(pending, min(info.file_size - produced + 1, _INFLATE_STEP))
            pending = inflater.unconsumed_tail
            produced += len(out)
            if produced > info.file_size:
                return "beyond"
            if not out and not pending and position >= len(data):
                break  # the data ended before the stream did
            crc = zlib.crc32(out, crc)
    except zlib.error:
        return "corrupt"
    return None if inflater.eof and produced == info.file_size and crc == info.CRC else "corrupt"


def _read_xlsx_with_calamine(archive: zipfile.ZipFile, raw: bytes) -> _Table | None:
    """The first worksheet read by python-calamine (Rust): 100,000 rows in about a second, where
    openpyxl takes ten times as long or more. None when openpyxl has to read the workbook: calamine
    would read some of its cells differently (see _calamine_misreads, _grid_text) or cannot read it."""
    try:
        sheets = _worksheets(archive)
        if not sheets or _calamine_misreads(archive, sheets[0][1]):
            return None
        from python_calamine import CalamineWorkbook

        with CalamineWorkbook.from_filelike(io.BytesIO(raw)) as workbook:
            # skip_empty_area=False: rows and columns count from A1, so messages name Excel's row numbers.
            grid = workbook.get_sheet_by_name(sheets[0][0]).to_python(skip_empty_area=False)
    except Exception:  # noqa: BLE001 - whatever calamine refuses, openpyxl reads or refuses in its own words
        return None
    rows = _grid_text(grid) if grid else None  # (an empty sheet: openpyxl words the refusal)
    if rows is None:
        return None
    notes = []
    if len(sheets) > 1:
        notes.append(f"the workbook has {len(sheets)} sheets; only the first, '{sheets[0][0]}', was read")
    return _Table("xlsx", rows[0], 1, rows[1:], None, notes, _numeric_id_rows(grid[0], grid[1:]))


def _grid_text(grid: list[list]) -> list[list[str]] | None:
    """calamine's cells as the text openpyxl's reading gives (in an export they are mostly all text).

    None when a column the desk reads holds a date, time or duration: calamine and openpyxl turn a
    date serial into different values at the edges (a day or a midnight, a time for a negative
    serial, a number beyond year 9999), so only openpyxl's reading is the known one there.
    """
    if set(map(type, chain.from_iterable(grid))) == {str}:
        return grid
    read = {i for i, v in enumerate(grid[0]) if type(v) is not str or _column_key(v) in KNOWN_COLUMNS}
    columns: list = []
    for i, column in enumerate(zip(*grid)):
        kinds = set(map(type, column))
        if kinds == {str}:
            columns.append(column)
        elif i in read and any(issubclass(kind, (date, time, timedelta)) for kind in kinds):
            return None
        else:
            columns.append([v if type(v) is str else _cell_text(v) for v in column])
    return list(map(list, zip(*columns)))


def _worksheets(archive: zipfile.ZipFile) -> list[tuple[str, str]]:
    """(title, zip member) of each worksheet, in workbook order, as openpyxl lists them.

    Chartsheets and sheets whose part is missing are left out, as openpyxl does; anything
    unusual (a dialog or macro sheet, a dangling relationship) raises, so openpyxl reads the file.
    """
    from xml.etree import ElementTree

    relations: dict[str, tuple[str, str]] = {}
    for rel in ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels")):
        target, kind = rel.get("Target", ""), rel.get("Type", "")
        if rel.get("TargetMode") != "External":
            part = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            relations[rel.get("Id", "")] = (part, kind.rpartition("/")[2])
    members = set(archive.namelist())
    sheets = []
    for element in ElementTree.fromstring(archive.read("xl/workbook.xml")).iter():
        if element.tag.rpartition("}")[2] != "sheet":
            continue
        part, kind = relations[element.attrib[f"{{{_RELATIONSHIPS_NS}}}id"]]
        if kind == "chartsheet" or part not in members:
            continue
        if kind != "worksheet":
            raise ValueError(f"a {kind} part")
        sheets.append((element.attrib["name"], part))
    return sheets


_RELATIONSHIPS_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_ROOT_PREFIX_RE = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?worksheet[\s>]")


def _calamine_misreads(archive: zipfile.ZipFile, part: str) -> bool:
    """Whether the sheet holds a cell calamine reads unlike openpyxl: a scan of its XML, ~0.3 s per 100k rows.

    Those are formulas (calamine gives the last computed value, openpyxl the '=...' text that the
    validation refuses as a formula), error values like #N/A (calamine gives an empty cell) and
    ISO-8601 date cells (t="d", rare: a date, a time or a refusal where calamine differs).
    """
    with archive.open(part) as stream:
        chunk = stream.read(1 << 22)
        root = _ROOT_PREFIX_RE.search(chunk)
        if root is None:
            return True
        formula = b"<" + (root.group(1) + b":" if root.group(1) else b"") + b"f"
        types = (b't="e"', b't="d"', b"t='e'", b"t='d'") if b"='" in chunk else (b't="e"', b't="d"')
        tail = b""
        while chunk:
            data = tail + chunk
            if any(t in data for t in types):
                return True
            at = data.find(formula)
            while at >= 0:  # <f> and <f ...>, not <formula1> or <filterColumn> (outside the cells)
                after = data[at + len(formula):at + len(formula) + 1]
                if after in (b">", b"/") or after.isspace():
                    return True
                at = data.find(formula, at + 1)
            tail = data[-16:]  # a tag cut between two chunks is seen whole in the next round
            chunk = stream.read(1 << 22)
    return False


def _read_xlsx_with_openpyxl(name: str, raw: bytes) -> _Table:
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

    rows: list[list[str]] = []
    numeric: list[int] = []
    id_column = _id_column(header_cells)
    try:
        for cells in all_rows:
            if id_column is not None and id_column < len(cells) and type(cells[id_column]) in (int, float):
                numeric.append(len(rows))
            rows.append([_cell_text(c) for c in cells])
    except Exception as exc:
        raise _refuse(name, f"the Excel workbook is damaged or truncated after row {len(rows) + 1} "
                            f"({type(exc).__name__}: {exc}); export it again") from None
    finally:
        workbook.close()
    return _Table("xlsx", [_cell_text(c) for c in header_cells], 1, rows, None, notes, frozenset(numeric))


def _id_column(header: Sequence) -> int | None:
    return next((i for i, v in enumerate(header) if type(v) is str and _column_key(v) == "accreditation_id"), None)


def _numeric_id_rows(header: Sequence, rows: Sequence[Sequence]) -> frozenset[int]:
    """Rows whose accreditation id cell holds a number: where Excel may have dropped leading zeros."""
    i = _id_column(header)
    if i is None:
        return frozenset()
    cells = [row[i] if i < len(row) else "" for row in rows]
    if set(map(type, cells)) <= {str}:
        return frozenset()
    return frozenset(r for r, cell in enumerate(cells) if type(cell) in (int, float))


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


def _header_positions(name: str, table: _Table) -> tuple[list[int], list[ImportProblem]]:
    """Column index of each PARTICIPANT_FIELDS entry (-1 = optional column absent)."""
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
    shapes = Counter(zip(prefixes, serial_lengths, first_digits))
    padded: dict[str, tuple[int, int]] = {}  # prefix -> (ids, width) of its most common zero-padded width
    for (prefix, width, first), count in shapes.items():
        if first == "0" and width > 1 and count > padded.get(prefix, (0, 0))[0]:
            padded[prefix] = (count, width)

    def shortened(prefix: str, width: int, first: str) -> bool:
        return prefix in padded and width < padded[prefix][1] and first not in "0 "

    if not any(shortened(*shape) for shape in shapes):
        return []
    found = []
    for i, (prefix, width, first) in enumerate(zip(prefixes, serial_lengths, first_digits)):
        if shortened(prefix, width, first):
            found.append((i, prefix + ids[i][len(prefix):].zfill(padded[prefix][1])))
    return found


def _zeros_lost_against(aid: str, known: dict | set) -> str | None:
    """The id in `known` that `aid` is with its leading zeros lost (361 -> 000361), if any."""
    prefix = aid.rstrip(_DIGITS)
    serial = aid[len(prefix):]
    if not serial or serial[0] == "0":
        return None
    return next((prefix + serial.zfill(width) for width in range(len(serial) + 1, len(serial) + 13)
                 if prefix + serial.zfill(width) in known), None)


def _zeros_lost_message(aid: str, padded: str, evidence: str, numeric: bool) -> str:
    cell = f"the cell holds the number {aid}, and " if numeric else ""
    return (f"{aid!r} looks like {padded!r} with its leading zeros lost ({evidence}); {cell}Excel drops them "
            "when the id column is formatted as numbers: format that column as Text and export again. "
            "Nothing was taken as a new participant")


def _validate(name: str, table: _Table, categories: dict[str, str]
              ) -> tuple[list[tuple], list[ImportProblem], Callable[[int], tuple[int, bool]]]:
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
                found.append((table.line_of(i), -1, f"the row has {len(values)} values but the header has {width} "
                                                    "columns (a separator inside an unquoted value?)"))
                continue
            fixed.append((values + padding)[:width] if len(values) != width else values)
            origin.append(i)
        rows_in = fixed
    # Blank lines and Excel rows of empty cells are skipped (a real row has an accreditation id at least).
    id_column = pos[_FIELD_INDEX["accreditation_id"]]
    blank = {i for i in [i for i, v in enumerate(rows_in) if not v[id_column].strip()]
             if not "".join(rows_in[i]).strip()}
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
    source_columns = list(zip(*rows_in)) if n else [()] * width
    empty = ("",) * n
    columns: list[list[str]] = [list(source_columns[c]) if c >= 0 else list(empty) for c in pos]
    del source_columns
    bad_rows: set[int] = set()

    def problem(i: int, f: int, message: str) -> None:
        found.append((line_at(i), f, message))
        bad_rows.add(i)

    # Each column is checked as one string joined by the unit separator (C-speed regex scans);
    # only a column that fails a check is looked at value by value.
    f_id, f_code = _FIELD_INDEX["accreditation_id"], _FIELD_INDEX["confirmation_code"]
    for f in (f_id, f_code):  # their patterns below also refuse control characters and excess length
        column = columns[f]
        joined = _SEP.join(column)
        if " \x1f" in joined or "\x1f " in joined or joined[:1].isspace() or joined[-1:].isspace():
            columns[f] = [v.strip() for v in column]
    # Category, role and status are matched against their few allowed values further down.
    for f in (_FIELD_INDEX[t] for t in TEXT_FIELDS):
        column = columns[f]
        joined = _SEP.join(column)
        if _JOINED_CONTROL_RE.search(joined) or (n and joined.count(_SEP) != n - 1):
            for i, value in enumerate(column):
                if _CONTROL_RE.search(value.strip(" ")):
                    problem(i, f, "contains a line break, tab, control or text-direction character")
                    column[i] = ""
        if "  " in joined or not joined.isascii() and (
                "\xa0" in joined or "\u2009" in joined or "\u202f" in joined
                or not unicodedata.is_normalized("NFC", joined)):
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
                    problem(i, f, f"starts with {value[0]!r}: a spreadsheet formula is not a name ({value[:40]!r}); "
                                  "fix the cell in the export")

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
        problem(i, f_id, _zeros_lost_message(ids[i], padded, "the other ids of this export keep their zeros",
                                             where(i)[1]))

    f_family = _FIELD_INDEX["family_name"]
    if "" in columns[f_family]:
        for i, value in enumerate(columns[f_family]):
            if not value:
                problem(i, f_family, "is empty (a person with a single name has it in family_name)")
    f_deleg = _FIELD_INDEX["delegation"]
    if "" in columns[f_deleg]:
        for i, value in enumerate(columns[f_deleg]):
            if not value:
                problem(i, f_deleg, "is empty (the delegation or organisation is printed on the badge)")
    for original, latin in (("family_name", "family_name_latin"), ("given_names", "given_names_latin")):
        f_orig, f_latin = _FIELD_INDEX[original], _FIELD_INDEX[latin]
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
                    problem(i, f_latin, f"is empty but {original} {value!r} is in {_script_of(value)} "
                                        "script; the Latin rendering is required")

    known = ", ".join(sorted(set(categories.values())))
    for field_name, allowed, explain in (
        ("category", categories, f"unknown category {{value!r}}; use one of {known}"),
        ("delegation_role", {r: r for r in ROLES}, "{value!r} is not a delegation role; use head or member"),
        ("status", {s_: s_ for s_ in STATUSES}, "{value!r} is not a status; use accredited or withdrawn"),
    ):
        f = _FIELD_INDEX[field_name]
        mapping = {v: allowed.get(v.strip().casefold()) for v in set(columns[f])}
        for value, normal in mapping.items():
            if normal is None:
                message = "is empty" if not value.strip() else explain.format(value=value.strip()[:60])
                for i in [i for i, v in enumerate(columns[f]) if v == value]:
                    problem(i, f, message)
                mapping[value] = value
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
                problem(i, f_code, f"confirmation code {code} is also given to {ids[j]} (line {line_at(j)}); "
                                   "each e-mail code must identify one person")

    found.sort(key=lambda item: (item[0], item[1]))
    problems = [ImportProblem(name, line, PARTICIPANT_FIELDS[f] if f >= 0 else "(row)", message)
                for line, f, message in found]
    rows = list(zip(*columns)) if n else []
    if bad_rows:
        rows = [row for i, row in enumerate(rows) if i not in bad_rows]
    return rows, problems, where


def _quota_notes(rows: list[tuple], station: Station) -> list[str]:
    i_cat, i_deleg, i_role, i_status = (_FIELD_INDEX[f] for f in ("category", "delegation", "delegation_role",
                                                                    "status"))
    accredited = [(r[i_cat], r[i_deleg], r[i_role]) for r in rows if r[i_status] == "accredited"]
    sizes = Counter((cat, deleg) for cat, deleg, _role in accredited)
    heads = Counter((cat, deleg) for cat, deleg, role in accredited if role == "head")
    quotas = {c.code: c.quota for c in station.config.categories if c.quota}
    notes = []
    over = sorted(f"{deleg} ({size} of {quotas[cat]})" for (cat, deleg), size in sizes.items()
                  if cat in quotas and size > quotas[cat])
    if over:
        shown = ", ".join(over[:10]) + (f" and {len(over) - 10} more" if len(over) > 10 else "")
        notes.append(f"{len(over)} delegation(s) have more accredited participants than their quota "
                     f"(badges beyond the quota need a supervisor): {shown}")
    several = sorted(deleg for (cat, deleg), count in heads.items() if count > 1)
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


def _next_revision(session, now: datetime) -> str:
    """The station clock, but always after the mirror's newest revision.

    The projection keeps the row with the highest revision, so an import stamped earlier than the
    mirror (a rehearsal clock set to 2017, a clock that went back, two imports in one tick of a
    test clock) would report changes that never reach the mirror.
    """
    revision = format_utc(now)
    latest = driver(session).execute(
        "SELECT max(revision) FROM participants").fetchone()[0]
    if latest and latest >= revision:
        try:
            moment = datetime.fromisoformat(latest.replace("Z", "+00:00"))
        except ValueError:
            return latest + "1"  # still sorts after it
        revision = format_utc(moment + timedelta(microseconds=1))
    return revision


def _refuse_zeros_lost(name: str, rows: list[tuple], added: list[str], missing: dict[str, tuple],
                       where: Callable[[int], tuple[int, bool]]) -> None:
    """A new id that is a participant of the mirror with its zeros lost (361 for 000361, who is
    missing from this export) would add a stranger and withdraw the real person: refuse it."""
    lost = {aid: padded for aid in added if (padded := _zeros_lost_against(aid, missing))}
    if not lost:
        return
    problems = []
    for i, row in enumerate(rows):
        if row[0] in lost:
            line, numeric = where(i)
            problems.append(ImportProblem(name, line, "accreditation_id", _zeros_lost_message(
                row[0], lost[row[0]], f"{lost[row[0]]} is in the mirror and missing from this export", numeric)))
    raise AccreditationImportError(problems)


def _current_mirror(session) -> dict[str, tuple]:
    # The DBAPI cursor directly: rows come back as plain tuples, comparable with the export's.
    cursor = driver(session).execute(
        f"SELECT {', '.join(PARTICIPANT_FIELDS)} FROM participants")
    return {row[0]: row for row in cursor.fetchall()}


def import_file(station: Station, path: Path, *, operator: str, dry_run: bool = False,
                allow_mass_withdrawal: bool = False, then: Callable[[Session], None] | None = None) -> ImportReport:
    """Validate the export, diff it against the mirror and record it as one event (all or nothing).

    Raises AccreditationImportError listing every problem; then neither the mirror nor the log changed.
    With dry_run=True the report is computed but nothing is recorded (event_id is None).
    `then` runs in the same transaction once the list is recorded (the photos that come with it):
    if it raises, the list is not imported either.
    """
    # A 100,000-row export allocates millions of small objects that all survive; the cyclic
    # garbage collector would rescan them again and again (a third of the import time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _import(station, Path(path), operator=operator, dry_run=dry_run,
                       allow_mass_withdrawal=allow_mass_withdrawal, then=then)
    finally:
        if collecting:
            gc.enable()


def _import(station: Station, path: Path, *, operator: str, dry_run: bool,
            allow_mass_withdrawal: bool, then: Callable[[Session], None] | None = None) -> ImportReport:
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_EXPORT_BYTES:
            raise AccreditationImportError([ImportProblem(
                name, 0, "", f"is {size / (1 << 20):,.0f} MB; an export of 100,000 participants is about 20 MB "
                             f"(at most {MAX_EXPORT_BYTES >> 20} MB are read): is this the right file?")])
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AccreditationImportError([ImportProblem(name, 0, "", "no such file")]) from None
    except IsADirectoryError:
        raise AccreditationImportError([ImportProblem(name, 0, "", "is a folder, not an export file")]) from None
    except OSError as exc:
        raise AccreditationImportError([ImportProblem(name, 0, "", f"cannot be read: {exc.strerror}")]) from None
    try:
        table = _open_table(path, raw)
        rows, problems, where = _validate(name, table, _category_names(station))
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
        if added and mirror:  # (mirror: the participants this export does not list)
            _refuse_zeros_lost(name, rows, added, mirror, where)
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
            "revision": _next_revision(session, station.clock.now()),
            "source": path.name,
            "sha256": hashlib.sha256(raw).hexdigest(),
            "format": table.kind,
            # Field names once, each row a list (see projections.core._participant_records).
            "columns": list(PARTICIPANT_FIELDS),
            "rows": [list(r) for r in payload_rows],
            "counts": report.counts,
        }, operator)
        report.event_id = event.id
        if then is not None:
            then(session)
    _forget_search_index(station)
    return report


def _forget_search_index(station: Station) -> None:
    # The index notices a new import by itself; dropping it now frees the memory of the old one early.
    from regdesk.services import lookup

    lookup.invalidate(station)
