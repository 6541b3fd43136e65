"""Importing the UN accreditation export: formats, every refusal, atomicity, the re-import diff, the CLI."""

from __future__ import annotations

import codecs
import csv
import importlib.util
import io
import json
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from meeting import init_station
from openpyxl import Workbook
from sqlalchemy import func, select

from regdesk import cli
from regdesk.domain import token as t
from regdesk.domain.events import EventKind, canonical_json
from regdesk.services import desk, integrity, lookup
from regdesk.services.accreditation import AccreditationImportError, ImportProblem, import_file
from regdesk.store import projections
from regdesk.store.models import Badge, EventRow, Participant

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "accreditation.csv"
FIXTURE_UPDATE = ROOT / "fixtures" / "accreditation-update.csv"
_spec = importlib.util.spec_from_file_location("fixture_generate", ROOT / "fixtures" / "generate.py")
generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate)
COLUMNS = generate.COLUMNS


def small_rows() -> list[dict]:
    return [
        {
            "accreditation_id": "GCM17-000001",
            "title": "H.E. Mr.",
            "family_name": "Lauber",
            "given_names": "Jürg",
            "family_name_latin": "Lauber",
            "given_names_latin": "Jürg",
            "category": "MS",
            "delegation": "Switzerland",
            "delegation_role": "head",
            "status": "accredited",
            "confirmation_code": "K62KNFXVZP",
        },
        {
            "accreditation_id": "GCM17-000002",
            "title": "Ms.",
            "family_name": "Zürcher",
            "given_names": "Regula",
            "family_name_latin": "Zürcher",
            "given_names_latin": "Regula",
            "category": "MS",
            "delegation": "Switzerland",
            "delegation_role": "member",
            "status": "accredited",
            "confirmation_code": "TV7WP83KHK",
        },
        {
            "accreditation_id": "GCM17-000003",
            "title": "Mr.",
            "family_name": "خوري",
            "given_names": "سامي",
            "family_name_latin": "Khoury",
            "given_names_latin": "Sami",
            "category": "MS",
            "delegation": "Lebanon",
            "delegation_role": "head",
            "status": "accredited",
            "confirmation_code": "VJ4ULCYWYG",
        },
    ]


def write_csv(
    path: Path,
    rows: list[dict],
    *,
    delimiter: str = ",",
    encoding: str = "utf-8",
    bom: bool = False,
    columns: list[str] = COLUMNS,
) -> Path:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=columns, delimiter=delimiter, lineterminator="\r\n", extrasaction="ignore"
    )
    writer.writeheader()
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
    return path


def write_xlsx(path: Path, rows: list[dict], columns: list[str] = COLUMNS) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.append(columns)
    for row in rows:
        ws.append([row.get(c, "") for c in columns])
    wb.save(path)
    return path


def mirror(station) -> list[tuple]:
    with station.sessions() as s:
        return [
            tuple(
                getattr(p, f)
                for f in (
                    "accreditation_id",
                    "family_name",
                    "given_names",
                    "category",
                    "delegation_role",
                    "status",
                    "title",
                    "revision",
                )
            )
            for p in s.execute(select(Participant).order_by(Participant.accreditation_id)).scalars()
        ]


def event_count(station) -> int:
    with station.sessions() as s:
        return s.execute(select(func.count()).select_from(EventRow)).scalar_one()


def import_events(station) -> list[dict]:
    with station.sessions() as s:
        rows = s.execute(
            select(EventRow).where(EventRow.kind == EventKind.ACCREDITATION_IMPORTED).order_by(EventRow.local_order)
        ).scalars()
        return [json.loads(r.payload) for r in rows]


# --- formats ------------------------------------------------------------------------------------


def test_bundled_export_with_bom_imports_as_one_event(desk_station, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(codecs.BOM_UTF8 + FIXTURE.read_bytes())
    before = event_count(desk_station)
    report = import_file(desk_station, path, operator="ana")
    assert report.total_rows == 900 and len(report.added) == 900 and report.unchanged == 0
    assert report.file_format == "csv" and report.source == "export.csv"
    assert event_count(desk_station) == before + 1
    (payload,) = import_events(desk_station)
    assert payload["source"] == "export.csv" and len(payload["sha256"]) == 64
    assert len(payload["rows"]) == 900 and payload["counts"]["added"] == 900
    assert payload["revision"].startswith("2017-12-01T19:05")  # the station clock, in UTC
    with desk_station.sessions() as s:
        lauber = s.execute(select(Participant).where(Participant.family_name == "Lauber")).scalar_one()
    assert (lauber.given_names, lauber.category, lauber.delegation, lauber.delegation_role) == (
        "Jürg",
        "MS",
        "Switzerland",
        "head",
    )
    # The export's over-quota delegations are pointed out, not refused.
    assert any("quota" in note for note in report.notes)


def test_semicolon_csv_with_category_names_and_loose_case(desk_station, tmp_path):
    rows = small_rows()
    rows[0].update(category="Member State", delegation_role="Head", status="ACCREDITED")
    rows[1].update(category="ms", given_names="  Regula  ")
    path = write_csv(tmp_path / "export.csv", rows, delimiter=";")
    report = import_file(desk_station, path, operator="ana")
    assert len(report.added) == 3
    assert any("semicolon" in note for note in report.notes)
    got = {r[0]: r for r in mirror(desk_station)}
    assert got["GCM17-000001"][3:6] == ("MS", "head", "accredited")
    assert got["GCM17-000002"][2] == "Regula"


def test_xlsx_is_read_and_the_format_comes_from_the_content(desk_station, tmp_path):
    book = write_xlsx(tmp_path / "export.xlsx", small_rows())
    report = import_file(desk_station, book, operator="ana")
    assert report.file_format == "xlsx" and len(report.added) == 3
    # The same workbook saved under a .csv name is still read as a workbook, and the report says so.
    misnamed = tmp_path / "export-newer.csv"
    misnamed.write_bytes(book.read_bytes())
    report = import_file(desk_station, misnamed, operator="ana")
    assert report.file_format == "xlsx" and report.unchanged == 3
    assert any("named like a CSV" in note for note in report.notes)


def test_xlsx_ids_and_codes_typed_as_numbers_keep_their_digits(desk_station, tmp_path):
    rows = [dict(r, registered=datetime(2017, 11, 2, 9, 30)) for r in small_rows()]
    rows[0].update(accreditation_id=1001, confirmation_code=4711)
    rows[1].update(accreditation_id=1002.0)
    book = write_xlsx(tmp_path / "export.xlsx", rows, columns=[*COLUMNS, "registered"])
    report = import_file(desk_station, book, operator="ana")
    assert sorted(report.added) == ["1001", "1002", "GCM17-000003"]
    with desk_station.sessions() as s:
        assert s.get(Participant, "1001").confirmation_code == "4711"
    assert any("registered" in note for note in report.notes)  # a column of dates the desk does not use


def test_xlsx_date_typed_where_an_id_belongs_is_refused_as_the_date_and_time_it_holds(desk_station, tmp_path):
    rows = small_rows()
    rows[1]["accreditation_id"] = datetime(2017, 12, 4)  # read as '2017-12-04' it would pass for an id
    with pytest.raises(AccreditationImportError) as refused:
        import_file(desk_station, write_xlsx(tmp_path / "export.xlsx", rows), operator="ana")
    (problem,) = refused.value.problems
    assert (problem.line, problem.field) == (3, "accreditation_id")
    assert "'2017-12-04 00:00:00' is not an accreditation id" in problem.message


@pytest.mark.parametrize(
    "row, field, value, words",
    [
        (1, "family_name", '=HYPERLINK("http://x","Zürcher")', ["formula", "HYPERLINK"]),
        (0, "accreditation_id", "#N/A", ["'#N/A' is not an accreditation id"]),  # an error value, as Excel stores it
    ],
    ids=["formula", "error value"],
)
def test_xlsx_formula_or_error_cell_is_refused_by_what_it_holds(desk_station, tmp_path, row, field, value, words):
    rows = small_rows()
    rows[row][field] = value  # openpyxl stores it as a real formula / error cell
    before = event_count(desk_station)
    with pytest.raises(AccreditationImportError) as refused:
        import_file(desk_station, write_xlsx(tmp_path / "export.xlsx", rows), operator="ana")
    (problem,) = refused.value.problems
    assert (problem.line, problem.field) == (row + 2, field)
    for word in words:
        assert word in problem.message
    assert event_count(desk_station) == before


def test_xlsx_problems_name_the_excel_row_past_empty_rows_and_only_the_first_sheet_is_read(desk_station, tmp_path):
    def book(status: str) -> Path:
        wb = Workbook()
        ws = wb.active
        ws.title = "Participants"
        ws.append(COLUMNS)
        first, second = small_rows()[:2]
        ws.append([first[c] for c in COLUMNS])
        ws.append([""] * len(COLUMNS))  # a row of empty cells
        ws.append([])  # a row missing from the file altogether
        ws.append([dict(second, status=status)[c] for c in COLUMNS])
        wb.create_sheet("Summary").append(["accreditation_id", "=COUNTA(Participants!A:A)"])
        path = tmp_path / f"export-{status}.xlsx"
        wb.save(path)
        return path

    with pytest.raises(AccreditationImportError) as refused:
        import_file(desk_station, book("pending"), operator="ana")
    assert [(p.line, p.field) for p in refused.value.problems] == [(5, "status")]
    report = import_file(desk_station, book("accredited"), operator="ana")
    assert sorted(report.added) == ["GCM17-000001", "GCM17-000002"]
    assert any("2 sheets" in note and "'Participants'" in note for note in report.notes)


def test_xlsx_carriage_return_stored_the_excel_way_is_refused_like_a_line_break(desk_station, tmp_path):
    rows = small_rows()
    rows[1]["given_names"] = "Reg_x000D_ula"  # how a spreadsheet stores a carriage return inside a cell
    with pytest.raises(AccreditationImportError) as refused:
        import_file(desk_station, write_xlsx(tmp_path / "export.xlsx", rows), operator="ana")
    (problem,) = refused.value.problems
    assert (problem.line, problem.field) == (3, "given_names") and "line break" in problem.message


def test_xlsx_with_an_empty_first_sheet_is_refused(desk_station, tmp_path):
    path = tmp_path / "export.xlsx"
    Workbook().save(path)
    with pytest.raises(AccreditationImportError, match="the first sheet of the workbook is empty"):
        import_file(desk_station, path, operator="ana")


def test_utf16_with_byte_order_mark_is_decoded_and_said(desk_station, tmp_path):
    path = write_csv(tmp_path / "unicode.txt", small_rows(), delimiter="\t", encoding="utf-16")
    report = import_file(desk_station, path, operator="ana")
    assert len(report.added) == 3
    assert any("UTF-16" in note for note in report.notes)
    assert {r[1] for r in mirror(desk_station)} == {"Lauber", "Zürcher", "خوري"}


def test_extra_columns_are_ignored_and_named(desk_station, tmp_path):
    rows = [dict(r, email="someone@example.org", passport_no="X1234567") for r in small_rows()]
    path = write_csv(tmp_path / "export.csv", rows, columns=[*COLUMNS, "email", "passport_no"])
    report = import_file(desk_station, path, operator="ana")
    assert len(report.added) == 3
    assert any("email" in note and "passport_no" in note for note in report.notes)
    assert "X1234567" not in json.dumps(import_events(desk_station))  # never stored


def test_latin_rendering_defaults_to_the_name_for_latin_script(desk_station, tmp_path):
    rows = small_rows()
    rows[1].update(family_name_latin="", given_names_latin="")
    import_file(desk_station, write_csv(tmp_path / "e.csv", rows), operator="ana")
    with desk_station.sessions() as s:
        p = s.get(Participant, "GCM17-000002")
    assert (p.family_name_latin, p.given_names_latin) == ("Zürcher", "Regula")


def test_latin_renderings_may_use_any_latin_letters_and_codes_are_upper_cased(desk_station, tmp_path):
    rows = small_rows()
    rows[1].update(
        family_name="Nguyễn",
        family_name_latin="Nguyễn",
        given_names_latin="Regula\u2010Maria",
        confirmation_code="tv7w p83khk",
    )
    import_file(desk_station, write_csv(tmp_path / "export.csv", rows), operator="ana")
    with desk_station.sessions() as s:
        p = s.get(Participant, "GCM17-000002")
    assert (p.family_name_latin, p.given_names_latin, p.confirmation_code) == (
        "Nguyễn",
        "Regula\u2010Maria",
        "TV7WP83KHK",
    )


# --- refusals: every problem named, nothing applied -------------------------------------------------


def _latin1(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "export.csv", small_rows()[:2], encoding="latin-1")


def _utf16_without_bom(tmp_path: Path) -> Path:
    path = tmp_path / "export.csv"
    path.write_bytes(write_csv(tmp_path / "x.csv", small_rows()).read_text("utf-8").encode("utf-16-le"))
    return path


def _missing_column(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "export.csv", small_rows(), columns=[c for c in COLUMNS if c != "delegation"])


def _rows_with(tmp_path: Path, index: int, **changes: str) -> Path:
    rows = small_rows()
    rows[index].update(changes)
    return write_csv(tmp_path / "export.csv", rows)


def _duplicate_id(tmp_path: Path) -> Path:
    return _rows_with(tmp_path, 2, accreditation_id="gcm17-000001")


def _truncated_xlsx(tmp_path: Path) -> Path:
    book = write_xlsx(tmp_path / "full.xlsx", small_rows())
    path = tmp_path / "export.xlsx"
    path.write_bytes(book.read_bytes()[: book.stat().st_size // 2])
    return path


def _corrupt_xlsx(tmp_path: Path) -> Path:
    book = write_xlsx(tmp_path / "full.xlsx", small_rows())
    raw = bytearray(book.read_bytes())
    with zipfile.ZipFile(book) as archive:
        sheet = archive.getinfo("xl/worksheets/sheet1.xml")
    start = sheet.header_offset + 30 + len(sheet.filename.encode()) + len(sheet.extra)  # the compressed cells
    raw[start + 20 : start + 40] = bytes(20)
    path = tmp_path / "export.xlsx"
    path.write_bytes(bytes(raw))
    return path


def _pdf_named_xlsx(tmp_path: Path) -> Path:
    path = tmp_path / "export.xlsx"
    path.write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    return path


def _script_without_latin(tmp_path: Path) -> Path:
    return _rows_with(tmp_path, 2, family_name_latin="")


def _too_many_values(tmp_path: Path) -> Path:
    path = write_csv(tmp_path / "export.csv", small_rows())
    lines = path.read_bytes().decode("utf-8").split("\r\n")
    lines[2] = lines[2].replace("Regula,Zürcher", "Regula,Maria,Zürcher")
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    return path


REFUSALS = {
    # name: (builder, line, field, words the message must contain)
    "latin-1 encoding": (_latin1, 3, "family_name", ["not UTF-8", "Latin-1", "Zürcher"]),
    "utf-16 without bom": (_utf16_without_bom, 0, "", ["UTF-16"]),
    "missing column": (_missing_column, 1, "delegation", ["required column is missing"]),
    "duplicate id": (_duplicate_id, 4, "accreditation_id", ["duplicate", "line 2"]),
    "empty family name": (
        lambda p: _rows_with(p, 1, family_name="", family_name_latin=""),
        3,
        "family_name",
        ["is empty"],
    ),
    "absurdly long": (
        lambda p: _rows_with(p, 0, given_names="A" * 201, given_names_latin="A"),
        2,
        "given_names",
        ["201 characters", "at most 200"],
    ),
    "unknown category": (lambda p: _rows_with(p, 1, category="VIP"), 3, "category", ["unknown category 'VIP'"]),
    "bad role": (lambda p: _rows_with(p, 1, delegation_role="chief"), 3, "delegation_role", ["'chief'"]),
    "bad status": (lambda p: _rows_with(p, 1, status="pending"), 3, "status", ["'pending'"]),
    "formula in name": (
        lambda p: _rows_with(p, 1, family_name='=HYPERLINK("http://x","Zürcher")'),
        3,
        "family_name",
        ["formula"],
    ),
    "formula at sign": (
        lambda p: _rows_with(p, 0, given_names="@SUM(A1)", given_names_latin="Jurg"),
        2,
        "given_names",
        ["formula"],
    ),
    "formula plus": (lambda p: _rows_with(p, 0, delegation="+41 Switzerland"), 2, "delegation", ["formula"]),
    "truncated xlsx": (_truncated_xlsx, 0, "", ["damaged or truncated"]),
    "corrupt xlsx": (_corrupt_xlsx, 0, "", ["damaged or truncated", "xl/worksheets/sheet1.xml"]),
    "pdf named xlsx": (_pdf_named_xlsx, 0, "", ["PDF"]),
    "script without latin": (_script_without_latin, 4, "family_name_latin", ["Arabic script", "Latin rendering"]),
    "latin rendering in another script": (
        lambda p: _rows_with(p, 2, given_names_latin="Сами"),
        4,
        "given_names_latin",
        ["'Сами' is not in Latin script"],
    ),
    "line break in a name": (lambda p: _rows_with(p, 1, given_names="Reg\nula"), 3, "given_names", ["line break"]),
    "duplicate confirmation code": (
        lambda p: _rows_with(p, 1, confirmation_code="k62knfxvzp"),
        3,
        "confirmation_code",
        ["GCM17-000001", "line 2"],
    ),
    "too many values": (_too_many_values, 3, "(row)", ["12 values", "11 columns"]),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_bad_export_is_refused_with_file_line_field_and_nothing_changes(desk_station, tmp_path, case):
    import_file(desk_station, write_csv(tmp_path / "base.csv", small_rows()), operator="ana")
    before_mirror, before_events = mirror(desk_station), event_count(desk_station)
    builder, line, field, words = REFUSALS[case]
    path = builder(tmp_path)
    with pytest.raises(AccreditationImportError) as refused:
        import_file(desk_station, path, operator="ana")
    matching = [p for p in refused.value.problems if p.line == line and p.field == field]
    assert matching, f"no problem at line {line} field {field!r}: {refused.value}"
    text = str(matching[0])
    assert text.startswith(f"{path}:{line}: field '{field}':" if field else f"{path}")
    for word in words:
        assert word in text
    assert str(path) in str(refused.value) and "nothing was imported" in str(refused.value)
    assert mirror(desk_station) == before_mirror
    assert event_count(desk_station) == before_events


def test_every_problem_in_the_file_is_listed_at_once(desk_station, tmp_path):
    rows = small_rows()
    rows[0]["category"] = "XX"
    rows[1]["status"] = "maybe"
    rows[2]["family_name"] = "=1+1"
    rows.append(dict(rows[0], accreditation_id="GCM17-000001", confirmation_code=""))
    with pytest.raises(AccreditationImportError) as refused:
        import_file(desk_station, write_csv(tmp_path / "e.csv", rows), operator="ana")
    where = [(p.line, p.field) for p in refused.value.problems]
    assert where == [(2, "category"), (3, "status"), (4, "family_name"), (5, "accreditation_id"), (5, "category")]
    assert len(str(refused.value).splitlines()) == 1 + len(where)


def test_problem_text_format():
    assert str(ImportProblem("e.csv", 7, "status", "bad")) == "e.csv:7: field 'status': bad"
    assert str(ImportProblem("e.csv", 0, "", "the file is empty")) == "e.csv: the file is empty"


@pytest.mark.parametrize("content", [b"", b"   \r\n", ",".join(COLUMNS).encode() + b"\r\n"])
def test_empty_export_is_refused(desk_station, tmp_path, content):
    path = tmp_path / "e.csv"
    path.write_bytes(content)
    with pytest.raises(AccreditationImportError, match="empty|no participants"):
        import_file(desk_station, path, operator="ana")


def test_blank_lines_are_skipped_and_lines_are_counted_right(desk_station, tmp_path):
    rows = small_rows()
    rows[1]["given_names"] = "Reg\r\nula"  # a quoted value spanning two lines (refused, but counted right)
    rows[2]["category"] = "XX"
    path = write_csv(tmp_path / "e.csv", rows)
    text = path.read_bytes().decode("utf-8").replace("\r\nGCM17-000002", "\r\n\r\n,,, ,\r\nGCM17-000002")
    path.write_bytes(text.encode("utf-8"))
    with pytest.raises(AccreditationImportError) as refused:
        import_file(desk_station, path, operator="ana")
    # header 1, row 2, blank 3, ",,, ," 4, Zürcher 5-6, Khoury 7
    assert [(p.line, p.field) for p in refused.value.problems] == [(5, "given_names"), (7, "category")]


# --- the re-import diff ------------------------------------------------------------------------------


def test_newer_export_diff_and_issued_badges_survive(desk_station, tmp_path):
    import_file(desk_station, FIXTURE, operator="ana")
    # Badges issued before the newer export: one whose title changes, one who gets withdrawn.
    issued = {}
    for pid in ("GCM17-000131", "GCM17-000307"):
        desk.record_identity_check(desk_station, pid, "passport", "X1234567", "clerk")
        issued[pid] = desk.issue_badge(desk_station, pid, operator="clerk")
    with desk_station.sessions() as s:
        badges_before = [
            (b.serial, b.participant_id, b.revoked, b.token)
            for b in s.execute(select(Badge).order_by(Badge.serial)).scalars()
        ]

    report = import_file(desk_station, FIXTURE_UPDATE, operator="ana")

    assert report.added == [f"GCM17-{n:06d}" for n in range(901, 909)]
    assert report.changed["GCM17-000131"][0].field == "title"
    assert (report.changed["GCM17-000131"][0].old, report.changed["GCM17-000131"][0].new) == ("Mr.", "Dr.")
    assert {c.field for c in report.changed["GCM17-000027"]} == {"delegation_role"}
    assert report.changed["GCM17-000035"][0].field == "family_name_latin"
    assert set(report.dropped) == {"GCM17-000124", "GCM17-000451", "GCM17-000554"}
    assert set(report.withdrawn) == {"GCM17-000307", "GCM17-000527", "GCM17-000652", "GCM17-000696", *report.dropped}
    assert report.reinstated == ["GCM17-000238"]
    assert report.unchanged == 905 - 8 - 5 - 4 - 1
    payload = import_events(desk_station)[-1]
    assert len(payload["rows"]) == 8 + 5 + 7 + 1  # only what differs travels
    assert payload["counts"]["withdrawn"] == 7

    with desk_station.sessions() as s:
        assert s.get(Participant, "GCM17-000124").status == "withdrawn"  # dropped → withdrawn, still known
        assert s.get(Participant, "GCM17-000131").title == "Dr."
        assert s.get(Participant, "GCM17-000238").status == "accredited"
        badges_after = [
            (b.serial, b.participant_id, b.revoked, b.token)
            for b in s.execute(select(Badge).order_by(Badge.serial)).scalars()
        ]
        keys = desk_station.public_keys(s)
    assert badges_after == badges_before  # the import never touches badges
    badge = issued["GCM17-000131"]
    assert t.read_token(badge.token, event_code=desk_station.config.code, public_keys=keys).ok
    # The desk sees both facts: the badge is still there, and the accreditation is withdrawn.
    (hit,) = lookup.search(desk_station, "GCM17-000307")
    assert hit.status == "withdrawn"


def test_identical_reimport_records_an_empty_event_and_reports_nothing_changed(desk_station, tmp_path):
    import_file(desk_station, FIXTURE, operator="ana")
    before = mirror(desk_station)
    report = import_file(desk_station, FIXTURE, operator="ana")
    assert (report.added, report.changed, report.withdrawn, report.reinstated) == ([], {}, [], [])
    assert report.unchanged == 900 and report.event_id
    assert mirror(desk_station) == before  # not even the revision moved
    payload = import_events(desk_station)[-1]
    assert payload["rows"] == [] and payload["counts"]["unchanged"] == 900


def test_dry_run_reports_without_recording(desk_station):
    import_file(desk_station, FIXTURE, operator="ana")
    before, events = mirror(desk_station), event_count(desk_station)
    report = import_file(desk_station, FIXTURE_UPDATE, operator="ana", dry_run=True)
    assert report.event_id is None and len(report.added) == 8
    assert mirror(desk_station) == before and event_count(desk_station) == events


def test_an_export_missing_most_of_the_list_needs_confirmation(desk_station, tmp_path):
    import_file(desk_station, FIXTURE, operator="ana")
    rows = list(csv.DictReader(FIXTURE.open(encoding="utf-8")))
    cut = write_csv(tmp_path / "cut.csv", rows[:100])
    with pytest.raises(AccreditationImportError, match="missing from this export"):
        import_file(desk_station, cut, operator="ana")
    report = import_file(desk_station, cut, operator="ana", allow_mass_withdrawal=True)
    assert len(report.dropped) == sum(1 for r in rows[100:] if r["status"] == "accredited")


def test_rebuilding_projections_from_the_log_gives_the_same_mirror(desk_station):
    import_file(desk_station, FIXTURE, operator="ana")
    import_file(desk_station, FIXTURE_UPDATE, operator="ana")
    before = mirror(desk_station)
    with desk_station.transaction() as s:
        projections.rebuild(s)
    assert mirror(desk_station) == before


# --- the event it records ----------------------------------------------------------------------------

FIELDS = [
    "accreditation_id",
    "family_name",
    "given_names",
    "family_name_latin",
    "given_names_latin",
    "category",
    "delegation",
    "delegation_role",
    "status",
    "confirmation_code",
    "title",
]


def import_event_texts(station) -> list[str]:
    with station.sessions() as s:
        return list(
            s.execute(
                select(EventRow.payload)
                .where(EventRow.kind == EventKind.ACCREDITATION_IMPORTED)
                .order_by(EventRow.local_order)
            ).scalars()
        )


def full_mirror(station) -> list[tuple]:
    with station.sessions() as s:
        return [
            tuple(getattr(p, f) for f in (*FIELDS, "revision"))
            for p in s.execute(select(Participant).order_by(Participant.accreditation_id)).scalars()
        ]


def test_import_event_names_the_columns_once_and_is_canonical_json(desk_station):
    import_file(desk_station, FIXTURE, operator="ana")
    (text,) = import_event_texts(desk_station)
    payload = json.loads(text)
    assert payload["columns"] == FIELDS and all(isinstance(row, list) for row in payload["rows"])
    lauber = next(dict(zip(payload["columns"], row, strict=False)) for row in payload["rows"] if row[1] == "Lauber")
    assert (lauber["given_names"], lauber["delegation"], lauber["delegation_role"]) == ("Jürg", "Switzerland", "head")
    # Another station re-encoding the payload (a bundle, the hub) must store the very same bytes.
    assert canonical_json(payload) == text


def test_events_with_one_object_per_row_project_like_the_compact_ones(desk_station, tmp_path, clock):
    """Logs recorded before the compact payload (and other stations' copies of them) still apply."""
    import_file(desk_station, FIXTURE, operator="ana")
    import_file(desk_station, FIXTURE_UPDATE, operator="ana")
    old_shape = []
    for payload in import_events(desk_station):
        columns = payload.pop("columns")
        old_shape.append({**payload, "rows": [dict(zip(columns, row, strict=False)) for row in payload["rows"]]})
    other = init_station(tmp_path / "other", ROOT / "fixtures" / "event.toml", role="desk", name="Old log", clock=clock)
    try:
        with other.transaction() as s:
            for payload in old_shape:
                other.record(s, EventKind.ACCREDITATION_IMPORTED, payload, "ana")
        assert full_mirror(other) == full_mirror(desk_station)
        with other.transaction() as s:
            projections.rebuild(s)
        assert full_mirror(other) == full_mirror(desk_station)
    finally:
        other.close()


def test_columns_are_applied_by_name_whatever_their_order(desk_station):
    columns = [
        "status",
        "accreditation_id",
        "family_name",
        "given_names",
        "family_name_latin",
        "given_names_latin",
        "category",
        "delegation",
        "delegation_role",
        "confirmation_code",
    ]  # no title column
    row = ["accredited", "GCM17-999001", "Lauber", "Jürg", "Lauber", "Jürg", "MS", "Switzerland", "head", "K62KNFXV"]
    with desk_station.transaction() as s:
        desk_station.record(
            s,
            EventKind.ACCREDITATION_IMPORTED,
            {"revision": "2017-11-28T00:00:00Z", "source": "t", "columns": columns, "rows": [row]},
            "t",
        )
    (stored,) = full_mirror(desk_station)
    assert stored == (
        "GCM17-999001",
        "Lauber",
        "Jürg",
        "Lauber",
        "Jürg",
        "MS",
        "Switzerland",
        "head",
        "accredited",
        "K62KNFXV",
        "",
        "2017-11-28T00:00:00Z",
    )


def participant_indexes(station) -> set[str]:
    with station.sessions() as s:
        return {row[1] for row in s.connection().exec_driver_sql("PRAGMA index_list(participants)")}


def test_a_large_first_import_keeps_the_mirror_indexed_and_rebuildable(desk_station, tmp_path):
    indexes = participant_indexes(desk_station)
    assert {"ix_participants_delegation", "ix_participants_confirmation"} <= indexes
    rows = generate.generate_rows(6000)
    generate.write_csv(rows, tmp_path / "big.csv")
    report = import_file(desk_station, tmp_path / "big.csv", operator="ana")
    assert len(report.added) == 6000
    assert participant_indexes(desk_station) == indexes
    (hit,) = [h for h in lookup.search(desk_station, rows[4321]["confirmation_code"])]
    assert hit.accreditation_id == rows[4321]["accreditation_id"]
    desk_station.close()
    check = integrity.check_station(desk_station.data_dir)
    assert check.ok, check.problems


def test_a_large_first_import_rolled_back_leaves_the_mirror_empty_and_indexed(desk_station):
    indexes = participant_indexes(desk_station)
    rows = generate.generate_rows(6000)
    with pytest.raises(RuntimeError, match="power cut"), desk_station.transaction() as s:
        desk_station.record(
            s,
            EventKind.ACCREDITATION_IMPORTED,
            {
                "revision": "2017-11-28T00:00:00Z",
                "source": "t",
                "columns": FIELDS,
                "rows": [[r[f] for f in FIELDS] for r in rows],
            },
            "t",
        )
        raise RuntimeError("power cut")
    assert full_mirror(desk_station) == [] and participant_indexes(desk_station) == indexes
    assert import_file(desk_station, FIXTURE, operator="ana").total_rows == 900


# --- the command line --------------------------------------------------------------------------------


@pytest.fixture
def data_dir(desk_station):
    desk_station.close()
    return desk_station.data_dir


def test_cli_import_prints_the_diff(data_dir, capsys, monkeypatch):
    monkeypatch.setenv("REGDESK_PIN", "1111")
    assert cli.main(["--data-dir", str(data_dir), "import", str(FIXTURE), "--operator", "ana"]) == 0
    assert "900 added" in capsys.readouterr().out
    assert cli.main(["--data-dir", str(data_dir), "import", str(FIXTURE_UPDATE), "--operator", "ana", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["added"] == 8 and data["counts"]["withdrawn"] == 7
    assert data["changed"]["GCM17-000131"] == [{"field": "title", "old": "Mr.", "new": "Dr."}]


def test_cli_import_of_a_bad_file_exits_2_with_every_problem_on_stderr(data_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REGDESK_PIN", "1111")
    rows = small_rows()
    rows[0]["category"] = "XX"
    rows[2]["status"] = "gone"
    path = write_csv(tmp_path / "bad.csv", rows)
    assert cli.main(["--data-dir", str(data_dir), "import", str(path), "--operator", "ana"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{path}:2: field 'category'" in captured.err and f"{path}:4: field 'status'" in captured.err
    assert "nothing was imported" in captured.err


# --- the bundled demo data ------------------------------------------------------------------------


def test_bundled_exports_are_reproducible_and_shaped_like_the_meeting(tmp_path):
    rows = generate.generate_rows(900)
    generate.write_csv(rows, tmp_path / "a.csv")
    generate.write_csv(generate.generate_update_rows(rows), tmp_path / "b.csv")
    assert (tmp_path / "a.csv").read_bytes() == FIXTURE.read_bytes()
    assert (tmp_path / "b.csv").read_bytes() == FIXTURE_UPDATE.read_bytes()
    member_states: dict[str, int] = {}
    for r in rows:
        if r["category"] == "MS":
            member_states[r["delegation"]] = member_states.get(r["delegation"], 0) + 1
    assert len(member_states) == 136
    assert 3 <= sum(1 for n in member_states.values() if n == 5) <= 4
    assert sum(1 for n in member_states.values() if 2 <= n <= 4) > 0.8 * 136
    assert 100 <= sum(1 for r in rows if r["category"] in ("NGO", "PS", "AC")) <= 130
    assert 0.01 <= sum(1 for r in rows if r["status"] == "withdrawn") / 900 <= 0.03
    assert {r["category"] for r in rows} == {"MS", "OS", "IGO", "UN", "NHRI", "NGO", "PS", "AC", "MED", "HC", "STF"}
    assert len({r["confirmation_code"] for r in rows}) == 900
    named = {(r["given_names"], r["family_name"], r["category"], r["delegation"]) for r in rows}
    for person in generate.REAL_PEOPLE:
        assert (person[2], person[1], person[3], person[4]) in named
    scripts = [r for r in rows if r["family_name"] != r["family_name_latin"]]
    assert len(scripts) > 20 and all(r["family_name_latin"].isascii() and r["given_names_latin"] for r in scripts)
