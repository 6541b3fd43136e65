"""Exports that would hurt the desk (issue 10, point 8): zip bombs and ids Excel has mangled.

A .xlsx is a ZIP archive; a few megabytes of it can inflate to gigabytes of sheet XML, which the
readers would build in memory. The bombs here are made by hand (a deflate block that inflates a
megabyte of repetitive XML, repeated thousands of times), with a true checksum, or lying about their
size, or only implausibly compressed. And an id column Excel took for numbers loses its leading
zeros (000361 -> 361): such an id is refused with its line, never taken as a new person.
"""

from __future__ import annotations

import io
import os
import re
import resource
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from meeting import secret_of
from openpyxl import Workbook
from sqlalchemy import func, select

from regdesk.services.accreditation import AccreditationImportError, import_file
from regdesk.store.models import EventRow, Participant

SHEET = "xl/worksheets/sheet1.xml"
COLUMNS = ["accreditation_id", "family_name", "given_names", "category", "delegation", "delegation_role", "status"]
MIB = 1 << 20


# --- building zip bombs --------------------------------------------------------------------------------


def _gf2_times(matrix: list[int], vector: int) -> int:
    total, i = 0, 0
    while vector:
        if vector & 1:
            total ^= matrix[i]
        vector >>= 1
        i += 1
    return total


def _gf2_square(matrix: list[int]) -> list[int]:
    return [_gf2_times(matrix, matrix[n]) for n in range(32)]


def crc32_combine(crc1: int, crc2: int, length2: int) -> int:
    """zlib's crc32_combine: the CRC of A+B from CRC(A), CRC(B) and len(B), without reading them."""
    odd = [0xEDB88320] + [1 << n for n in range(31)]
    even = _gf2_square(odd)
    odd = _gf2_square(even)
    while length2:
        even = _gf2_square(odd)
        if length2 & 1:
            crc1 = _gf2_times(even, crc1)
        length2 >>= 1
        if not length2:
            break
        odd = _gf2_square(even)
        if length2 & 1:
            crc1 = _gf2_times(odd, crc1)
        length2 >>= 1
    return crc1 ^ crc2


def repeated_crc(chunk: bytes, times: int) -> int:
    """CRC-32 of `chunk` repeated `times` times, by doubling."""
    crc, length, result, result_length = zlib.crc32(chunk), len(chunk), None, 0
    while times:
        if times & 1:
            result = crc if result is None else crc32_combine(result, crc, length)
            result_length += length
        crc, length = crc32_combine(crc, crc, length), length * 2
        times >>= 1
    return result or 0


def bomb_stream(chunk: bytes, times: int) -> bytes:
    """A raw deflate stream inflating to `chunk` * `times`: one fully flushed block (it refers to
    nothing before it) repeated, then an empty final block."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    return block * times + b"\x03\x00"


def sheet_chunk(size: int = MIB) -> bytes:
    """A megabyte of sheet XML: one cell of a million letters (deflate packs it ~1000 times)."""
    start, end = b'<row r="2"><c r="A2" t="inlineStr"><is><t>', b"</t></is></c></row>"
    return start + b"A" * (size - len(start) - len(end)) + end


def zip_of(parts: list[tuple[str, bytes, int, int, int]]) -> bytes:
    """A ZIP archive written by hand from (name, deflated data, crc, declared size, method) parts,
    so that the declared sizes are whatever the test says (no ZIP64: sizes under 4 GiB)."""
    out, directory = io.BytesIO(), io.BytesIO()
    for name, data, crc, size, method in parts:
        offset = out.tell()
        encoded = name.encode()
        out.write(
            struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, method, 0, 0x21, crc, len(data), size, len(encoded), 0)
        )
        out.write(encoded + data)
        directory.write(
            struct.pack(
                "<4s6H3I5H2I",
                b"PK\x01\x02",
                20,
                20,
                0,
                method,
                0,
                0x21,
                crc,
                len(data),
                size,
                len(encoded),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
        )
        directory.write(encoded)
    start = out.tell()
    out.write(directory.getvalue())
    out.write(struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, len(parts), len(parts), len(directory.getvalue()), start, 0))
    return out.getvalue()


def workbook_parts() -> list[tuple[str, bytes, int, int, int]]:
    """The parts of a real one-row workbook (openpyxl), deflated, except its sheet."""
    book = Workbook()
    book.active.append(COLUMNS)
    buffer = io.BytesIO()
    book.save(buffer)
    parts = []
    with zipfile.ZipFile(buffer) as archive:
        for info in archive.infolist():
            if info.filename == SHEET:
                continue
            content = archive.read(info)
            compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
            data = compressor.compress(content) + compressor.flush()
            parts.append((info.filename, data, zlib.crc32(content), len(content), zipfile.ZIP_DEFLATED))
    return parts


def bomb(path: Path, *, times: int, declared: int | None = None, honest_crc: bool = True) -> Path:
    chunk = sheet_chunk()
    stream = bomb_stream(chunk, times)
    crc = repeated_crc(chunk, times) if honest_crc else 0
    size = len(chunk) * times if declared is None else declared
    path.write_bytes(zip_of([*workbook_parts(), (SHEET, stream, crc, size, zipfile.ZIP_DEFLATED)]))
    return path


def test_the_hand_made_bomb_is_a_true_deflate_stream_with_a_true_checksum(tmp_path):
    """The helpers above are right: a small one is read back by Python's own zipfile."""
    path = bomb(tmp_path / "small.xlsx", times=3)
    with zipfile.ZipFile(path) as archive:
        assert archive.read(SHEET) == sheet_chunk() * 3  # checks the CRC too
        assert archive.testzip() is None


# --- refusing them -------------------------------------------------------------------------------------


def regdesk_import(data_dir: Path, book: Path) -> tuple[subprocess.CompletedProcess, float]:
    """`regdesk import` in a process that may use 20 CPU seconds and 2 GB of memory at most:
    inflating the bomb, or holding it, would end it there."""

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (20, 20))
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "regdesk", "--data-dir", str(data_dir), "import", str(book), "--operator", "ana"],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=limits,
        env={**os.environ, "REGDESK_PIN": secret_of("ana")},
    )
    return done, time.monotonic() - started


def events(station) -> int:
    with station.sessions() as session:
        return session.execute(select(func.count()).select_from(EventRow)).scalar_one()


def test_a_workbook_declaring_gigabytes_of_cells_is_refused_unread(desk_station, tmp_path):
    # 4 MB on disk, a true checksum over 3.9 GiB of repetitive sheet XML: everything about it is honest.
    book = bomb(tmp_path / "accreditation.xlsx", times=3900)
    assert book.stat().st_size < 8 * MIB
    before = events(desk_station)
    data_dir = desk_station.data_dir
    desk_station.close()

    done, seconds = regdesk_import(data_dir, book)
    print(f"zip bomb of {book.stat().st_size / MIB:.1f} MB declaring 3.9 GiB refused in {seconds:.2f} s")
    assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr
    assert f"{book}: refused without opening it: part {SHEET} would inflate to 3,900 MB" in done.stderr
    assert "zip bomb" in done.stderr and "export the list again" in done.stderr
    from regdesk.services.station import open_station

    station = open_station(data_dir)
    try:
        assert events(station) == before
    finally:
        station.close()


def test_a_workbook_whose_cells_inflate_beyond_what_it_declares_is_stopped_there(desk_station, tmp_path):
    """Never trust the declared size: 100 KB declared, gigabytes inside."""
    book = bomb(tmp_path / "accreditation.xlsx", times=3000, declared=100_000, honest_crc=False)
    with pytest.raises(AccreditationImportError) as refused:
        import_file(desk_station, book, operator="maria")
    (problem,) = refused.value.problems
    assert str(problem) == (
        f"{book}: refused: part {SHEET} inflates beyond the 100,000 bytes it declares "
        "(a damaged file or a 'zip bomb'); export the list again"
    )


def test_a_workbook_a_thousand_times_compressed_is_refused_even_under_the_size_limit(desk_station, tmp_path):
    book = bomb(tmp_path / "accreditation.xlsx", times=200)  # 200 MB of XML in about 200 KB
    with pytest.raises(AccreditationImportError) as refused:
        import_file(desk_station, book, operator="maria")
    (problem,) = refused.value.problems
    assert re.search(rf"part {SHEET} would inflate from 0\.\d\d MB to 200 MB \(\d{{3,4}} times\)", problem.message)
    assert "zip bomb" in problem.message


def test_a_plain_export_too_big_to_be_one_is_refused_before_it_is_read(desk_station, tmp_path):
    huge = tmp_path / "accreditation.csv"
    with open(huge, "wb") as fh:
        fh.truncate(600 * MIB)  # sparse: takes no disk space
    with pytest.raises(AccreditationImportError) as refused:
        import_file(desk_station, huge, operator="maria")
    assert "is 600 MB" in str(refused.value) and "is this the right file?" in str(refused.value)


# --- ids Excel shortened --------------------------------------------------------------------------------


def row(aid, family: str, delegation: str = "Switzerland") -> list:
    return [aid, family, "Ana", "MS", delegation, "member", "accredited"]


def xlsx(path: Path, rows: list[list]) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(COLUMNS)
    for values in rows:
        sheet.append(values)
    book.save(path)
    return path


def mirror_ids(station) -> list[str]:
    with station.sessions() as session:
        return sorted(session.execute(select(Participant.accreditation_id)).scalars())


def test_an_id_shorter_than_the_zero_padded_others_is_refused_with_its_line(desk_station, tmp_path):
    book = xlsx(
        tmp_path / "export.xlsx",
        [
            row("GCM17-000001", "Lauber"),
            row("GCM17-000002", "Zürcher"),
            row("GCM17-361", "Gómez", "Mexico"),
            row("GCM17-000004", "Khoury"),
        ],
    )
    with pytest.raises(AccreditationImportError) as refused:
        import_file(desk_station, book, operator="maria")
    (problem,) = refused.value.problems
    assert (problem.line, problem.field) == (4, "accreditation_id")
    assert problem.message.startswith(
        "'GCM17-361' looks like 'GCM17-000361' with its leading zeros lost "
        "(the other ids of this export keep their zeros)"
    )
    assert "format that column as Text" in problem.message
    assert mirror_ids(desk_station) == []


def test_a_number_cell_among_zero_padded_ids_is_refused_and_named_as_a_number(desk_station, tmp_path):
    book = xlsx(
        tmp_path / "export.xlsx", [row("000001", "Lauber"), row(361, "Gómez", "Mexico"), row("000002", "Zürcher")]
    )
    with pytest.raises(AccreditationImportError) as refused:
        import_file(desk_station, book, operator="maria")
    (problem,) = refused.value.problems
    assert (problem.line, problem.field) == (3, "accreditation_id")
    assert "'361' looks like '000361'" in problem.message and "the cell holds the number 361" in problem.message


def test_a_whole_id_column_that_lost_its_zeros_is_not_taken_as_new_people(desk_station, tmp_path):
    first = xlsx(tmp_path / "first.xlsx", [row(f"{n:06d}", f"Person{n}") for n in range(1, 6)])
    import_file(desk_station, first, operator="maria")
    before = events(desk_station)
    # The newer export went through Excel with the column as numbers: 1, 2, ... 5, and a new person 6.
    newer = xlsx(tmp_path / "newer.xlsx", [row(n, f"Person{n}") for n in range(1, 7)])
    with pytest.raises(AccreditationImportError) as refused:
        import_file(desk_station, newer, operator="maria")
    problems = refused.value.problems
    assert [(p.line, p.field) for p in problems] == [(line, "accreditation_id") for line in range(2, 7)]
    assert problems[0].message.startswith(
        "'1' looks like '000001' with its leading zeros lost (000001 is in the mirror and missing from this export)"
    )
    assert all("the cell holds the number" in p.message for p in problems)
    assert mirror_ids(desk_station) == [f"{n:06d}" for n in range(1, 6)] and events(desk_station) == before


def test_ids_that_are_plain_numbers_everywhere_are_still_accepted(desk_station, tmp_path):
    book = xlsx(tmp_path / "export.xlsx", [row(7, "Lauber"), row(12, "Zürcher"), row(361, "Gómez", "Mexico")])
    report = import_file(desk_station, book, operator="maria")
    assert sorted(report.added) == ["12", "361", "7"]
    again = xlsx(
        tmp_path / "again.xlsx",
        [row(7, "Lauber"), row(12, "Zürcher"), row(361, "Gómez", "Mexico"), row(1000, "Khoury", "Lebanon")],
    )
    assert import_file(desk_station, again, operator="maria").added == ["1000"]
