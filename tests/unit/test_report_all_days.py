"""The all-days tallies report and CLI: page 1 sums up the whole meeting (heading, tiles, what needs
attention over every day), then each day follows; the CLI prints every day and the totals."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from scripted_day import SUPERVISOR, meeting, meeting_template  # noqa: F401 (fixtures)

from regdesk import cli
from regdesk.render.report import attention_points, days_heading
from regdesk.services import exports, tallies


def page_texts(pdf: Path) -> list[str]:
    document = pdfium.PdfDocument(str(pdf))
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()


def test_all_days_summary_adds_up_every_day(meeting):
    days = tallies.all_days(meeting)
    summary = tallies.summarise(days)
    assert (summary.first_day, summary.last_day, summary.days) == (date(2017, 12, 1), date(2017, 12, 6), 6)
    assert summary.badges_issued == sum(d.badges.issued for d in days) == 10
    assert summary.entries == 6 and summary.bus_boardings == 6
    assert summary.denied_for("revoked") == 1 and summary.denials["revoked"] == ((date(2017, 12, 4), 1),)
    assert summary.overrides == 1 and summary.open_conflicts == 1
    # The last day alone is quiet: that is what page 1 showed before.
    assert days[-1].badges.issued == 0 and days[-1].security.denied == 0


def test_page_one_of_the_all_days_report_covers_the_whole_meeting(meeting, tmp_path):
    days = tallies.all_days(meeting)
    assert days_heading(days[0].day, days[-1].day) == "Friday 1 \u2013 Wednesday 6 December 2017"
    points = attention_points(tallies.summarise(days), meeting.config)
    assert "1 attempt to use a replaced (revoked) badge (Mon 4 Dec)." in points
    assert "Nothing needs attention." not in points

    result = exports.export_tallies(meeting, tmp_path / "all", [d.day for d in days], formats=("pdf",))
    [pdf] = result.files
    pages = page_texts(pdf)
    cover = pages[0]
    assert "Friday 1 \u2013 Wednesday 6 December 2017" in cover
    assert "Meeting summary over 6 local days" in cover
    assert "Nothing needs attention" not in cover
    assert "attempt to use a replaced (revoked) badge (Mon 4 Dec)" in cover
    assert "Badges issued" in cover and "\n10\n" in f"\n{cover}\n".replace("\r", "")  # 10 over all days
    assert "All days" in cover  # the day-by-day table has a totals line
    rest = "\n".join(pages[1:])
    for heading in ("Monday 4 December 2017", "Tuesday 5 December 2017"):
        assert heading in rest  # then each day on its own


def test_cli_all_days_prints_every_day_and_the_totals(meeting, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("REGDESK_PIN", SUPERVISOR[1])
    code = cli.main(
        [
            "--data-dir",
            str(meeting.data_dir),
            "export",
            "tallies",
            "--all-days",
            "--format",
            "csv",
            "--out",
            str(tmp_path / "all"),
            "--as",
            SUPERVISOR[0],
        ]
    )
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"Wrote 16 files to {tmp_path / 'all'}"
    table = {
        line.split("  ")[0].strip(): line.split()
        for line in lines[1:]
        if line[:3] in ("Fri", "Sat", "Sun", "Mon", "Tue", "Wed", "All")
    }
    assert list(table) == [
        "Fri 01 Dec",
        "Sat 02 Dec",
        "Sun 03 Dec",
        "Mon 04 Dec",
        "Tue 05 Dec",
        "Wed 06 Dec",
        "All days",
    ]
    assert table["Mon 04 Dec"][3:6] == ["6", "1", "2"]  # issued, replaced, revoked on 4 Dec
    assert table["All days"][2] == "10"  # issued over the meeting


@pytest.mark.parametrize(
    ("first", "last", "text"),
    [
        (date(2017, 12, 4), date(2017, 12, 4), "Monday 4 December 2017"),
        (date(2017, 11, 30), date(2017, 12, 6), "Thursday 30 November \u2013 Wednesday 6 December 2017"),
    ],
)
def test_days_heading_names_both_ends(first, last, text):
    assert days_heading(first, last) == text
