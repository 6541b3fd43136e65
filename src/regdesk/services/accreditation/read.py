"""Reading an accreditation export: CSV (any common encoding and separator) or XLSX (first sheet), decided
from the content, never the name; zip bombs and misread workbooks refused. Yields a `Table` of text cells."""

from __future__ import annotations

import codecs
import csv
import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from itertools import chain
from pathlib import Path
from typing import Any

from regdesk.domain.payloads import PARTICIPANT_OPTIONAL_FIELDS, PARTICIPANT_REQUIRED_FIELDS
from regdesk.services.accreditation.problems import FileRefused, ImportProblem, refuse

KNOWN_COLUMNS = PARTICIPANT_REQUIRED_FIELDS + PARTICIPANT_OPTIONAL_FIELDS
MAX_EXPORT_BYTES = 512 << 20  # the file itself is read into memory


@dataclass
class Table:
    kind: str  # "csv" | "xlsx"
    header: list[str]
    header_line: int
    rows: list[list[str]]
    lines: list[int] | None  # line (CSV) or row (XLSX) of each row; None = one line per row after the header
    notes: list[str]
    numeric_ids: frozenset[int] = frozenset()  # rows whose id cell is a number in the workbook

    def line_of(self, i: int) -> int:
        return self.lines[i] if self.lines is not None else self.header_line + 1 + i


def _named_as(path: Path) -> str:
    suffix = path.suffix.lower()
    return {".csv": "CSV", ".txt": "text", ".xlsx": "Excel .xlsx", ".xls": "Excel .xls", ".ods": "OpenDocument"}.get(
        suffix, ""
    )


def open_table(path: Path, raw: bytes) -> Table:
    name = str(path)
    named = _named_as(path)
    if not raw or raw.isspace():  # (not raw.strip(): that would copy the whole file)
        raise refuse(name, "the file is empty")
    if raw.startswith(b"PK\x03\x04") or raw.startswith(b"PK\x05\x06"):
        table = _open_xlsx(name, raw)
        if named and named != "Excel .xlsx":
            table.notes.append(f"{path.name} is named like a {named} file but is an Excel workbook; read as XLSX")
        return table
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise refuse(
            name,
            "this is an old Excel 97-2003 (.xls) workbook; open it in Excel or LibreOffice and "
            "save it as .xlsx or as 'CSV UTF-8'",
        )
    if raw.startswith(b"%PDF"):
        raise refuse(name, "this is a PDF document, not an export; ask for the CSV or XLSX export")
    if raw[:5].lower().startswith((b"<html", b"<!doc")) or raw[:100].lower().lstrip().startswith(b"<!doctype html"):
        raise refuse(name, "this is a web page (HTML), not an export; download the CSV or XLSX file itself")
    table = _open_csv(name, raw)
    if named in ("Excel .xlsx", "Excel .xls", "OpenDocument"):
        table.notes.append(f"{path.name} is named like an {named} file but holds CSV text; read as CSV")
    return table


def _decode(name: str, raw: bytes) -> tuple[str, list[str]]:
    notes: list[str] = []
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    elif raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text_ = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise refuse(
                name,
                f"starts with a UTF-16 byte-order mark but is not valid UTF-16 ({exc.reason}); "
                "save the export as 'CSV UTF-8'",
            ) from None
        notes.append("the file is UTF-16 (with byte-order mark), as Excel's 'Unicode text'; decoded as such")
        return text_, notes
    if raw.count(b"\x00") > len(raw) // 10:
        raise refuse(
            name,
            "looks like UTF-16 without a byte-order mark (every other byte is zero) or a binary "
            "file; save the export as 'CSV UTF-8'",
        )
    try:
        return raw.decode("utf-8"), notes
    except UnicodeDecodeError:
        raise FileRefused(_encoding_problems(name, raw)) from None


def _encoding_problems(name: str, raw: bytes) -> list[ImportProblem]:
    """Not UTF-8: say where, in which field, and what the bytes would be in Windows-1252/Latin-1."""
    lines = raw.split(b"\n")
    legacy = raw.decode("cp1252", errors="replace")
    delimiter = _delimiter(legacy.split("\n", 1)[0])
    header = [column_key(h) for h in _split_line(legacy.split("\n", 1)[0], delimiter)]
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
            problems.append(
                ImportProblem(
                    name,
                    number,
                    column,
                    f"not UTF-8 (byte 0x{byte:02X}); it looks like Latin-1/Windows-1252, where this reads {sample!r}. "
                    "Save the export as 'CSV UTF-8' and import it again",
                )
            )
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


def column_key(text_: str) -> str:
    return re.sub(r"[\s\-]+", "_", text_.strip().lstrip("\ufeff").strip().casefold())


def _open_csv(name: str, raw: bytes) -> Table:
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
        raise refuse(name, "the file is empty") from None
    except csv.Error as exc:
        raise refuse(name, f"cannot read the header: {exc}", 1) from None
    try:
        rows = list(reader)  # the fast path: the csv module reads everything in C
        if reader.line_num == len(rows) + 1:
            return Table("csv", header, 1, rows, None, notes)
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
            raise refuse(name, f"unreadable CSV ({exc})", previous_end + 1) from None
        lines.append(previous_end + 1)
        previous_end = reader.line_num
        rows.append(values)
    return Table("csv", header, 1, rows, lines, notes)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _open_xlsx(name: str, raw: bytes) -> Table:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        members = set(archive.namelist())
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise refuse(name, f"the Excel workbook is damaged or truncated ({exc}); export it again") from None
    if "xl/workbook.xml" not in members:
        if "mimetype" in members and b"opendocument.spreadsheet" in archive.read("mimetype"):
            raise refuse(name, "this is an OpenDocument spreadsheet (.ods); save it as .xlsx or as 'CSV UTF-8'")
        raise refuse(name, "this is a ZIP archive but not an Excel .xlsx workbook (no xl/workbook.xml)")
    unsafe = _zip_bomb(archive)
    if unsafe is not None:
        raise refuse(
            name,
            f"refused without opening it: {unsafe}. No export looks like this (100,000 participants "
            "make about 70 MB): it is a damaged file or a 'zip bomb'; export the list again",
        )
    for info in archive.infolist():
        problem = _inflation_problem(raw, info)
        if problem == "beyond":
            raise refuse(
                name,
                f"refused: part {info.filename} inflates beyond the {info.file_size:,} bytes it "
                "declares (a damaged file or a 'zip bomb'); export the list again",
            )
        if problem is not None:
            raise refuse(
                name, f"the Excel workbook is damaged or truncated (part {info.filename} is corrupt); export it again"
            )
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
            return (
                f"part {info.filename} would inflate from {from_mb:,.2f} MB to {mb:,.0f} MB "
                f"({info.file_size // max(1, info.compress_size):,} times)"
            )
        total += info.file_size
    if total > MAX_XLSX_TOTAL_BYTES:
        return f"its parts would inflate to {total / (1 << 20):,.0f} MB (at most {MAX_XLSX_TOTAL_BYTES >> 20} MB)"
    return None


def _inflation_problem(raw: bytes, info: zipfile.ZipInfo) -> str | None:
    """None when the part inflates to exactly the bytes it declares, with its checksum; "beyond" when
    it would inflate to more (stopped there: never trust the declared size alone); else "corrupt".
    Never holds more than a few MB of the part in memory."""
    start = info.header_offset
    local = raw[start : start + 30]
    if len(local) < 30 or local[:4] != b"PK\x03\x04":
        return "corrupt"
    start += 30 + int.from_bytes(local[26:28], "little") + int.from_bytes(local[28:30], "little")
    data = memoryview(raw)[start : start + info.compress_size]
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
                pending, position = data[position : position + _INFLATE_STEP], position + _INFLATE_STEP
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


def _read_xlsx_with_calamine(archive: zipfile.ZipFile, raw: bytes) -> Table | None:
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
    return Table("xlsx", rows[0], 1, rows[1:], None, notes, _numeric_id_rows(grid[0], grid[1:]))


def _grid_text(grid: list[list[Any]]) -> list[list[str]] | None:
    """calamine's cells as the text openpyxl's reading gives (in an export they are mostly all text).

    None when a column the desk reads holds a date, time or duration: calamine and openpyxl turn a
    date serial into different values at the edges (a day or a midnight, a time for a negative
    serial, a number beyond year 9999), so only openpyxl's reading is the known one there.
    """
    if set(map(type, chain.from_iterable(grid))) == {str}:
        return grid
    read = {i for i, v in enumerate(grid[0]) if type(v) is not str or column_key(v) in KNOWN_COLUMNS}
    columns: list[Sequence[str]] = []
    for i, column in enumerate(zip(*grid, strict=False)):
        kinds = set(map(type, column))
        if kinds == {str}:
            columns.append(column)
        elif i in read and any(issubclass(kind, (date, time, timedelta)) for kind in kinds):
            return None
        else:
            columns.append([v if type(v) is str else _cell_text(v) for v in column])
    return list(map(list, zip(*columns, strict=False)))


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
                after = data[at + len(formula) : at + len(formula) + 1]
                if after in (b">", b"/") or after.isspace():
                    return True
                at = data.find(formula, at + 1)
            tail = data[-16:]  # a tag cut between two chunks is seen whole in the next round
            chunk = stream.read(1 << 22)
    return False


def _read_xlsx_with_openpyxl(name: str, raw: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=False)
        sheet = workbook.worksheets[0]
        all_rows = sheet.iter_rows(values_only=True)
        header_cells = next(all_rows, None)
    except Exception as exc:  # openpyxl raises many kinds (KeyError, XML errors, zlib errors)
        raise refuse(
            name, f"the Excel workbook is damaged or truncated ({type(exc).__name__}: {exc}); export it again"
        ) from None
    if header_cells is None:
        raise refuse(name, "the first sheet of the workbook is empty")
    notes = []
    if len(workbook.worksheets) > 1:
        notes.append(f"the workbook has {len(workbook.worksheets)} sheets; only the first, '{sheet.title}', was read")

    rows: list[list[str]] = []
    numeric: list[int] = []
    id_column = _id_column(header_cells)
    try:
        for cells in all_rows:
            if id_column is not None and id_column < len(cells) and type(cells[id_column]) in (int, float):
                numeric.append(len(rows))
            rows.append([_cell_text(c) for c in cells])
    except Exception as exc:
        raise refuse(
            name,
            f"the Excel workbook is damaged or truncated after row {len(rows) + 1} "
            f"({type(exc).__name__}: {exc}); export it again",
        ) from None
    finally:
        workbook.close()
    return Table("xlsx", [_cell_text(c) for c in header_cells], 1, rows, None, notes, frozenset(numeric))


def _id_column(header: Sequence[Any]) -> int | None:
    return next((i for i, v in enumerate(header) if type(v) is str and column_key(v) == "accreditation_id"), None)


def _numeric_id_rows(header: Sequence[Any], rows: Sequence[Sequence[Any]]) -> frozenset[int]:
    """Rows whose accreditation id cell holds a number: where Excel may have dropped leading zeros."""
    i = _id_column(header)
    if i is None:
        return frozenset()
    cells = [row[i] if i < len(row) else "" for row in rows]
    if set(map(type, cells)) <= {str}:
        return frozenset()
    return frozenset(r for r, cell in enumerate(cells) if type(cell) in (int, float))
