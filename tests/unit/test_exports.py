"""Tallies export: CSV files (documented, neutralised, no secrets), the CLI, and the PDF report
rendered to images (every page must carry real content)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from scripted_day import SUPERVISOR, meeting, meeting_template  # noqa: F401 (fixtures)

from conftest import participant_row, seed_participants
from regdesk import cli
from regdesk.services import exports, tallies
from regdesk.services.exports import neutralise
from regdesk.store.models import Badge

DEC4 = date(2017, 12, 4)


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), f"{path.name} has no UTF-8 byte-order mark"
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_neutralise_formula_cells_but_not_numbers():
    assert neutralise('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert [neutralise(v) for v in ("+34 600", "-2", "@SUM(A1)", "\tx", "Kenya")] == [
        "'+34 600",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "Kenya",
    ]
    assert (neutralise(-3), neutralise(12), neutralise(64.2857), neutralise(True), neutralise(DEC4)) == (
        "-3",
        "12",
        "64.3",
        "yes",
        "2017-12-04",
    )


def test_csv_files_hold_the_day_documented_and_without_secrets(meeting, tmp_path):
    result = exports.export_tallies(meeting, tmp_path / "out", [DEC4], formats=("csv",))
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted([spec.filename for spec in exports.TABLES] + ["README.txt"])
    assert not list(out.glob(".*.part"))  # written atomically

    summary = read_csv(out / "summary.csv")
    assert [
        (
            r["day"],
            r["badges_issued"],
            r["badges_replaced"],
            r["badges_revoked"],
            r["collected"],
            r["pre_registered"],
            r["security_entries"],
            r["bus_boardings"],
            r["overrides"],
        )
        for r in summary
    ] == [("2017-12-04", "6", "1", "2", "7", "11", "5", "5", "1")]
    no_shows = read_csv(out / "no_shows.csv")
    assert [(r["delegation"], r["accreditation_id"]) for r in no_shows] == [
        ("IOM", "UN-1"),
        ("Kenya", "KE-2"),
        ("Kenya", "KE-3"),
        ("Mexico", "MX-1"),
    ]
    assert no_shows[-1]["name"] == "José Hernández"
    [override] = read_csv(out / "overrides.csv")
    assert (override["time_local"], override["supervisor"], override["participant_id"]) == (
        "2017-12-04T17:30:00-06:00",
        "Maria Supervisor",
        "CH-5",
    )
    hourly = read_csv(out / "hourly.csv")
    assert len(hourly) == 24 and hourly[9]["entries"] == "3"

    readme = (out / "README.txt").read_text(encoding="utf-8")
    for spec in exports.TABLES:
        header = next(csv.reader(io.StringIO((out / spec.filename).read_bytes().decode("utf-8-sig"))))
        assert header[0] == "day"
        section = readme.split(f"{spec.filename}:", 1)[1].split(".csv:", 1)[0]
        for column in header:
            assert re.search(rf"^  {re.escape(column)}\s*:", section, re.M), f"{spec.filename}.{column} undocumented"
    # The meeting's own words (time zone, hotels, venue stop) come from the event file, not from the code.
    assert "hourly.csv: Activity per local hour of the day (America/Mexico_City)." in readme
    assert "bus_stops.csv: Bus boardings per stop (four hotels and the ICC) and direction." in readme
    assert re.search(r"^  direction\s*: to_venue \| to_hotel$", readme, re.M) and "{" not in readme

    # No document numbers (the script checked "ZQ9X4471"), PINs or badge tokens in any file.
    with meeting.sessions() as session:
        tokens = [b.token for b in session.query(Badge)]
    everything = "".join(p.read_bytes().decode("utf-8-sig") for p in out.iterdir())
    assert "ZQ9X4471" not in everything
    assert SUPERVISOR[1] not in everything
    assert tokens and not any(token in everything for token in tokens)
    assert result.tallies[0].badges.issued == 6


def test_cells_a_spreadsheet_would_run_are_neutralised(desk_station, tmp_path):
    seed_participants(
        desk_station,
        [
            participant_row("EVIL-1", "=cmd|' /C calc'!A0", "+Mallory", delegation="@Attackers", category="NGO"),
            participant_row("EVIL-2", "-Minus", "Ordinary", delegation='=HYPERLINK("http://evil")', category="NGO"),
        ],
    )
    exports.export_tallies(desk_station, tmp_path / "out", [DEC4], formats=("csv",))
    rows = read_csv(tmp_path / "out" / "no_shows.csv")
    cells = {value for row in rows for value in row.values()}
    assert "'@Attackers" in cells and '\'=HYPERLINK("http://evil")' in cells
    assert "'+Mallory =cmd|' /C calc'!A0" in cells  # the name cell starts with "+"
    assert not any(value[:1] in "=+-@" for value in cells if value)
    delegations = read_csv(tmp_path / "out" / "delegations.csv")
    assert {r["delegation"] for r in delegations} == {"'@Attackers", '\'=HYPERLINK("http://evil")'}


def test_cli_exports_all_days_with_progress(meeting, tmp_path, capsys, monkeypatch):
    out = tmp_path / "all"
    monkeypatch.setenv("REGDESK_PIN", SUPERVISOR[1])
    code = cli.main(
        [
            "--data-dir",
            str(meeting.data_dir),
            "export",
            "tallies",
            "--all-days",
            "--out",
            str(out),
            "--format",
            "csv",
            "--as",
            SUPERVISOR[0],
        ]
    )
    captured = capsys.readouterr()
    assert code == 0
    assert (
        "Wrote 16 files" in captured.out
    )  # one CSV per table (proxy_collections, temporary_passes included) + README.txt
    progress = captured.err.splitlines()
    assert progress[0].startswith("[") and "computing tallies for 6 day(s)" in progress[0]
    assert progress[-1].endswith(f"done: 16 files in {out}")
    assert not list(out.glob("*.pdf"))
    summary = read_csv(out / "summary.csv")
    assert [r["day"] for r in summary] == [f"2017-12-0{n}" for n in range(1, 7)]
    assert [r["badges_issued"] for r in summary] == ["1", "0", "1", "6", "2", "0"]
    # Tables with one row per item carry every day's rows, each tagged with its day.
    assert {r["day"] for r in read_csv(out / "no_shows.csv")} == {f"2017-12-0{n}" for n in range(1, 7)}


def test_cli_export_is_for_supervisors_only(meeting, tmp_path, capsys, monkeypatch):
    base = [
        "--data-dir",
        str(meeting.data_dir),
        "export",
        "tallies",
        "--day",
        "2017-12-04",
        "--out",
        str(tmp_path / "x"),
    ]
    monkeypatch.setenv("REGDESK_PIN", "1357")
    assert cli.main([*base, "--as", "Carlos Clerk"]) == 4
    assert "only for a supervisor" in capsys.readouterr().err
    monkeypatch.setenv("REGDESK_PIN", "0000")
    assert cli.main([*base, "--as", SUPERVISOR[0]]) == 4
    assert "PIN/passphrase is wrong" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_cli_refuses_bad_arguments_with_a_clear_message(meeting, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REGDESK_PIN", SUPERVISOR[1])
    base = [
        "--data-dir",
        str(meeting.data_dir),
        "export",
        "tallies",
        "--as",
        SUPERVISOR[0],
        "--out",
        str(tmp_path / "x"),
    ]
    assert cli.main([*base, "--day", "4 December"]) == 2
    assert "--day: '4 December' is not a day (YYYY-MM-DD)" in capsys.readouterr().err
    assert cli.main([*base, "--day", "2017-12-04", "--format", "xlsx"]) == 2
    assert "--format 'xlsx'" in capsys.readouterr().err
    (tmp_path / "file").write_text("not a directory")
    assert cli.main([*base[:-1], str(tmp_path / "file"), "--day", "2017-12-04"]) == 2
    assert "is not a directory" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main([*base])  # neither --day nor --all-days


def _page_images(pdf_path: Path, save_to: Path) -> list:
    document = pdfium.PdfDocument(str(pdf_path))
    try:
        images = []
        for index in range(len(document)):
            image = document[index].render(scale=1.0).to_pil().convert("L")
            image.save(save_to / f"{pdf_path.stem}-page{index + 1}.png")
            images.append(image)
        return images
    finally:
        document.close()


def _ink(image) -> float:
    """Share of pixels that are not (near) white."""
    histogram = image.histogram()
    return 1 - sum(histogram[240:]) / (image.width * image.height)


@pytest.mark.slow
def test_pdf_report_has_content_on_every_page(meeting, tmp_path):
    result = exports.export_tallies(meeting, tmp_path / "out", [DEC4], formats=("pdf",))
    [pdf] = result.files
    assert pdf.name == "tallies-2017-12-04.pdf"
    images = _page_images(pdf, tmp_path)
    assert len(images) >= 3
    for number, image in enumerate(images, start=1):
        assert _ink(image) > 0.02, f"page {number} is (almost) blank"
    assert _ink(images[0]) > 0.10  # the cover: blue band, headline tiles, category chart

    everything = tallies.all_days(meeting)
    multi = exports.export_tallies(meeting, tmp_path / "all", [t.day for t in everything], formats=("pdf",))
    [multi_pdf] = multi.files
    assert multi_pdf.name == "tallies-2017-12-01_to_2017-12-06.pdf"
    multi_images = _page_images(multi_pdf, tmp_path)
    assert len(multi_images) > len(images)
    assert all(_ink(image) > 0.02 for image in multi_images)
