"""Printing through a real `lp` subprocess (a fake CUPS client script first on PATH), the
no-printer fallback, and the `regdesk printer` / `regdesk layout` commands."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path

import pytest
from meeting import secret_of
from sqlalchemy import func, select

from conftest import participant_row, seed_participants
from regdesk import cli
from regdesk.commands import printing as printing_commands
from regdesk.commands.common import CommandError
from regdesk.domain import token as tokens
from regdesk.domain.events import EventKind
from regdesk.render import printing
from regdesk.services import desk, lookup
from regdesk.services.station import open_station
from regdesk.store.models import Badge, EventRow

LP_OK = """#!/bin/sh
printf '%s\\n' "$@" > "{log}"
echo "request id is Badge_Printer-42 (1 file(s))"
"""
LP_FAIL = """#!/bin/sh
printf '%s\\n' "$@" > "{log}"
echo "lp: The printer or class does not exist." >&2
exit 1
"""
LP_HANG = """#!/bin/sh
exec sleep 30
"""


@pytest.fixture
def fake_lp(tmp_path, monkeypatch):
    """Install a fake `lp` first on PATH; returns a function that swaps its behaviour."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "lp-args.txt"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")

    def install(script: str) -> Path:
        lp = bin_dir / "lp"
        lp.write_text(script.format(log=log), encoding="utf-8")
        lp.chmod(lp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        return log

    return install


@pytest.fixture
def issued(desk_station):
    seed_participants(desk_station, [participant_row("MS-CZ-1", "Ružička", "František", delegation="Czechia")])
    desk.record_identity_check(desk_station, "MS-CZ-1", "passport", "X1234567", "clerk")
    return desk.issue_badge(desk_station, "MS-CZ-1", operator="clerk")


def printed_events(station) -> int:
    with station.sessions() as s:
        return s.execute(
            select(func.count()).select_from(EventRow).where(EventRow.kind == EventKind.BADGE_PRINTED)
        ).scalar_one()


def test_print_success_records_badge_printed(desk_station, issued, fake_lp):
    log = fake_lp(LP_OK)
    desk_station.set_setting("printer", "Badge_Printer")
    outcome = desk.print_badge(desk_station, issued.serial, operator="clerk")
    assert outcome.printed and "Badge_Printer" in outcome.message and "Badge_Printer-42" in outcome.message
    assert printed_events(desk_station) == 1
    args = log.read_text(encoding="utf-8").splitlines()
    assert args[:2] == ["-d", "Badge_Printer"]
    assert args[-1] == str(outcome.pdf_path.resolve())
    assert outcome.pdf_path.read_bytes().startswith(b"%PDF")


def test_failing_printer_keeps_the_badge_and_a_reprint_succeeds(desk_station, issued, fake_lp):
    fake_lp(LP_FAIL)
    desk_station.set_setting("printer", "Badge_Printer")
    outcome = desk.print_badge(desk_station, issued.serial, operator="clerk")
    assert not outcome.printed and outcome.status == desk.NOT_PRINTED and not outcome.delivered
    assert "The printer or class does not exist" in outcome.message and str(outcome.pdf_path) in outcome.message
    assert "does not exist" in outcome.problem and outcome.printer == "Badge_Printer"
    assert printed_events(desk_station) == 0
    assert not lookup.search(desk_station, "MS-CZ-1")[0].badge_delivered  # shown as "not printed"
    with desk_station.sessions() as s:
        badge = s.get(Badge, issued.serial)
        check = tokens.read_token(
            badge.token, event_code=desk_station.config.code, public_keys=desk_station.public_keys(s)
        )
    assert not badge.revoked and check.ok and check.claims.serial == issued.serial

    fake_lp(LP_OK)  # the clerk fixed the paper jam
    again = desk.print_badge(desk_station, issued.serial, operator="clerk")
    assert again.printed and printed_events(desk_station) == 1
    assert lookup.search(desk_station, "MS-CZ-1")[0].badge_delivered


def test_hanging_printer_times_out_with_a_message(tmp_path, fake_lp):
    fake_lp(LP_HANG)
    pdf = tmp_path / "badge.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    result = printing.deliver(pdf, "Badge_Printer", timeout=0.5)
    assert not result.printed and "did not answer" in result.message and str(pdf) in result.message


def test_missing_lp_is_reported_not_raised(tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = printing.deliver(tmp_path / "badge.pdf", "Badge_Printer")
    assert not result.printed and "`lp`" in result.message and "not installed" in result.message


def test_unsafe_printer_name_is_not_passed_to_lp(tmp_path, fake_lp):
    log = fake_lp(LP_OK)
    result = printing.deliver(tmp_path / "badge.pdf", "-oraw")
    assert not result.printed and "not a valid CUPS queue name" in result.message
    assert not log.exists()


def test_no_printer_saves_the_pdf_and_says_where(desk_station, issued):
    outcome = desk.print_badge(desk_station, issued.serial, operator="clerk")
    assert not outcome.printed
    assert outcome.pdf_path.parent == desk_station.output_dir and outcome.pdf_path.is_file()
    assert outcome.pdf_path.read_bytes().startswith(b"%PDF")
    assert str(outcome.pdf_path) in outcome.message and "saved" in outcome.message
    # A PDF-only station hands the PDF over: the badge counts as delivered ("collected").
    assert outcome.status == desk.PDF_ONLY and outcome.delivered
    assert printed_events(desk_station) == 1


def test_layout_setting_is_used_for_printing(desk_station, issued):
    desk_station.set_setting("badge_layout", "cr80")
    outcome = desk.print_badge(desk_station, issued.serial, operator="clerk")
    import pypdfium2 as pdfium

    width, height = pdfium.PdfDocument(outcome.pdf_path.read_bytes())[0].get_size()
    assert (round(width / 72 * 25.4, 1), round(height / 72 * 25.4, 1)) == (85.6, 54.0)


# --- commands -----------------------------------------------------------------------------------


def run_command(data_dir: Path, *argv: str) -> None:
    """Parse and run with only this area's commands registered, as `regdesk` does."""
    parser = argparse.ArgumentParser(prog="regdesk")
    parser.add_argument("--data-dir", type=Path, default=data_dir)
    parser.add_argument("--clock", default=None)
    printing_commands.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(list(argv))
    args.func(args)


def test_printing_commands_are_registered():
    assert "regdesk.commands.printing" in cli.COMMAND_MODULES


def test_printer_and_layout_commands_store_station_settings(desk_station, capsys):
    data_dir = desk_station.data_dir
    run_command(data_dir, "printer", "set", "Zebra_ZC300")
    run_command(data_dir, "layout", "set", "cr80")
    reopened = open_station(data_dir)
    try:
        assert reopened.setting("printer") == "Zebra_ZC300" and reopened.setting("badge_layout") == "cr80"
    finally:
        reopened.close()
    run_command(data_dir, "printer", "show")
    shown = capsys.readouterr().out
    assert "Zebra_ZC300" in shown and "cr80" in shown
    run_command(data_dir, "printer", "clear")
    reopened = open_station(data_dir)
    try:
        assert reopened.setting("printer") == ""
    finally:
        reopened.close()


def test_bad_printer_or_layout_is_refused_and_not_stored(desk_station):
    data_dir = desk_station.data_dir
    with pytest.raises(CommandError, match="CUPS queue name"):
        run_command(data_dir, "printer", "set", "my printer")
    with pytest.raises(CommandError, match="no layout named 'a5'"):
        run_command(data_dir, "layout", "set", "a5")
    reopened = open_station(data_dir)
    try:
        assert reopened.setting("printer") == "" and reopened.setting("badge_layout") == ""
    finally:
        reopened.close()


def test_badge_sheet_command_writes_a_multi_badge_pdf(desk_station, issued, tmp_path, capsys):
    out = tmp_path / "sheet.pdf"
    run_command(desk_station.data_dir, "badge-sheet", issued.serial, "--out", str(out))
    assert out.read_bytes().startswith(b"%PDF") and "1 badge written" in capsys.readouterr().out


def test_issue_json_is_truthful_when_the_printer_fails(desk_station, fake_lp, capsys, monkeypatch):
    """`regdesk issue --json` with a printer that refuses the job: issued, printed false, and the
    message says it was NOT printed, where the PDF is and how to retry."""
    import json

    seed_participants(desk_station, [participant_row("MS-CZ-2", "Novák", "Jan", delegation="Czechia")])
    desk_station.set_setting("printer", "Badge_Printer")
    fake_lp(LP_FAIL)
    data_dir = desk_station.data_dir
    desk_station.close()
    monkeypatch.setenv("REGDESK_PIN", secret_of("clerk"))
    status = cli.main(
        [
            "--data-dir",
            str(data_dir),
            "--clock",
            "2017-12-01T13:05",
            "issue",
            "MS-CZ-2",
            "--operator",
            "clerk",
            "--id-check",
            "passport:X1234567",
            "--json",
        ]
    )
    result = json.loads(capsys.readouterr().out)
    assert status == 0 and result["issued"] is True
    assert result["printed"] is False and result["print_status"] == "not_printed"
    message = result["print_message"]
    assert "NOT printed" in message and "does not exist" in message and result["pdf"] in message
    assert f"regdesk reprint {result['badge_serial']}" in message

    status = cli.main(["--data-dir", str(data_dir), "reprint", result["badge_serial"], "--operator", "clerk", "--json"])
    again = json.loads(capsys.readouterr().out)
    assert status != 0 and again["printed"] is False and "NOT reprinted" in again["message"]


LPSTAT_STOPPED = """#!/bin/sh
echo "printer Badge_Printer disabled since Mon 07 Dec 2026 10:00:00 AM UTC -"
echo "	Paper out"
"""


def test_the_printer_state_asked_while_the_badge_is_recorded_still_stops_the_job(desk_station, fake_lp, tmp_path):
    """F3 asks CUPS how the printer is doing while the badge is recorded and rendered (not after):
    a printer CUPS reports stopped then is still never sent the job, and the desk says NOT PRINTED."""
    log = fake_lp(LP_OK)
    lpstat = tmp_path / "bin" / "lpstat"
    lpstat.write_text(LPSTAT_STOPPED, encoding="utf-8")
    lpstat.chmod(0o755)
    desk_station.set_setting("printer", "Badge_Printer")
    seed_participants(desk_station, [participant_row("MS-CZ-2", "Dvořák", "Jan", delegation="Czechia")])
    desk.record_identity_check(desk_station, "MS-CZ-2", "passport", "X1234567", "clerk")
    state = desk.check_printer(desk_station)
    assert state is not None and state.name == "Badge_Printer"
    badge = desk.issue_badge(desk_station, "MS-CZ-2", operator="clerk")
    outcome = desk.print_badge(desk_station, badge.serial, operator="clerk", state=state)
    assert outcome.status == desk.NOT_PRINTED and not outcome.printed
    assert "paper out" in outcome.problem.lower() or "stopped" in outcome.problem.lower()
    assert not log.exists(), "the job was sent to a stopped printer"
    assert printed_events(desk_station) == 0
