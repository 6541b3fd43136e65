"""Printing through a real CUPS (tests/helpers/cups_server.py): the real `lp` sends the badge to a queue of
this session's own cupsd, the queue's device writes what it receives to a folder, and the QR code
read back from that file is the badge's token. The printer's state comes from the real `lpstat`:
stopped with `cupsdisable`, out of paper as a device reports it, a queue that does not exist.

Without cupsd and the CUPS client these tests FAIL (they never skip) with the Debian packages to
install: `sudo apt-get install cups-daemon cups-client`.
"""

from __future__ import annotations

import json

import pytest
from cups_server import CUPS_PACKAGES, MISSING, start_cups, wait_for_state, which_missing
from qr_reading import qr_texts
from sqlalchemy import func, select

from conftest import participant_row, seed_participants
from regdesk import cli
from regdesk.domain import token as tokens
from regdesk.domain.events import EventKind
from regdesk.render import printing
from regdesk.services import desk, lookup, printers
from regdesk.store.models import Badge, EventRow


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


def test_missing_cups_fails_naming_the_debian_packages(monkeypatch, tmp_path):
    """What a machine without CUPS gets: a failure that says what to install, never a skip."""
    assert which_missing() == [], MISSING.format(missing=", ".join(which_missing()))
    monkeypatch.setenv("PATH", str(tmp_path))  # no lp, lpstat... on this PATH
    with pytest.raises(pytest.fail.Exception) as failed:
        start_cups(("Badge_X",))
    message = str(failed.value)
    assert "lp, lpstat, lpadmin, cupsenable, cupsdisable" in message
    assert f"sudo apt-get install {CUPS_PACKAGES}" in message and CUPS_PACKAGES == "cups-daemon cups-client"


def test_badge_printed_through_real_lp_comes_out_and_its_qr_is_the_token(cups, desk_station, issued):
    desk_station.set_setting("printer", "Badge_A")
    outcome = desk.print_badge(desk_station, issued.serial, operator="clerk")
    assert outcome.printed and outcome.status == desk.PRINTED, outcome.message
    assert "Badge_A" in outcome.message and "job Badge_A-" in outcome.message
    [received] = cups.wait_printed("Badge_A")
    assert received.read_bytes() == outcome.pdf_path.read_bytes()  # raw queue: the PDF as rendered
    with desk_station.sessions() as s:
        token = s.get(Badge, issued.serial).token
        check = tokens.read_token(token, event_code=desk_station.config.code, public_keys=desk_station.public_keys(s))
    assert qr_texts(received.read_bytes()) == [token] and check.ok and check.claims.serial == issued.serial
    assert printed_events(desk_station) == 1 and lookup.search(desk_station, "MS-CZ-1")[0].badge_delivered
    assert cups.printed("Badge_B") == []


def test_idle_printer_state_and_queue_length(cups):
    status = printing.printer_status("Badge_A")
    assert status.state == printing.IDLE and status.ready and status.queued == 0
    assert status.summary() == "idle · 0 queued"


def test_stopped_printer_is_not_sent_the_badge_then_retry_after_cupsenable_prints_it(cups, desk_station, issued):
    desk_station.set_setting("printer", "Badge_A")
    cups.run("cupsdisable", "-r", "ribbon jammed", "Badge_A")
    status = printing.printer_status("Badge_A")
    assert status.state == printing.STOPPED and not status.ready and status.message == "ribbon jammed"
    assert status.summary() == "STOPPED (ribbon jammed) · 0 queued"

    outcome = desk.print_badge(desk_station, issued.serial, operator="clerk")
    assert not outcome.printed and outcome.status == desk.NOT_PRINTED and not outcome.delivered
    assert outcome.problem == "stopped (ribbon jammed)"
    assert str(outcome.pdf_path) in outcome.message and "reprint" in outcome.message
    assert outcome.pdf_path.read_bytes().startswith(b"%PDF")
    # Nothing waits in CUPS to come out later beside a reprint, and the badge is not "collected".
    assert printing.printer_status("Badge_A").queued == 0 and cups.printed("Badge_A") == []
    assert printed_events(desk_station) == 0 and not lookup.search(desk_station, "MS-CZ-1")[0].badge_delivered

    cups.run("cupsenable", "Badge_A")
    again = desk.print_badge(desk_station, issued.serial, operator="clerk")
    assert again.printed, again.message
    [received] = cups.wait_printed("Badge_A")
    assert qr_texts(received.read_bytes()) == [desk.badge_content(desk_station, issued.serial).token]
    assert printed_events(desk_station) == 1 and lookup.search(desk_station, "MS-CZ-1")[0].badge_delivered


def test_nonexistent_queue_is_reported_not_printed_with_the_pdf(cups, desk_station, issued):
    desk_station.set_setting("printer", "Badge_Gone")
    assert printing.printer_status("Badge_Gone").state == printing.NOT_FOUND
    outcome = desk.print_badge(desk_station, issued.serial, operator="clerk")
    assert outcome.status == desk.NOT_PRINTED and "does not exist" in outcome.problem
    assert str(outcome.pdf_path) in outcome.message and outcome.pdf_path.is_file()
    assert printed_events(desk_station) == 0


def test_paper_out_stops_the_queue_with_its_reason_and_the_waiting_job(cups, tmp_path):
    pdf = tmp_path / "badge.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    (cups.queues["Badge_B"] / ".paper-out").touch()
    first = printing.deliver(pdf, "Badge_B")
    assert first.printed  # CUPS took it: only the device finds there is no paper
    status = wait_for_state("Badge_B", lambda s: s.state == printing.STOPPED, "stopped")
    assert status.condition == "paper out" and "media-empty-error" in status.reasons
    assert status.queued == 1 and status.job_problem == "Out of paper"
    assert status.summary() == "STOPPED – paper out (Out of paper) · 1 queued"
    second = printing.deliver(pdf, "Badge_B")
    assert not second.printed and "paper out" in second.problem and str(pdf) in second.message
    assert printing.printer_status("Badge_B").queued == 1  # the second badge was not added behind the first


def test_cups_not_running_is_a_state_not_a_crash(cups, monkeypatch, tmp_path):
    monkeypatch.setenv("CUPS_SERVER", str(tmp_path / "no-cupsd.sock"))
    status = printing.printer_status("Badge_A")
    assert status.state == printing.NO_SERVER and not status.known
    assert status.summary() == "CUPS not running"


def test_print_on_the_second_printer(cups, desk_station, issued):
    desk_station.set_setting("printer", "Badge_A")
    desk_station.set_setting("second_printer", "Badge_B")
    chosen = printers.configured(desk_station)
    assert chosen.other("Badge_A") == "Badge_B" and chosen.other("Badge_B") == "Badge_A"
    outcome = desk.print_badge(desk_station, issued.serial, operator="clerk", printer=chosen.other("Badge_A"))
    assert outcome.printed and outcome.printer == "Badge_B"
    assert len(cups.wait_printed("Badge_B")) == 1 and cups.printed("Badge_A") == []
    assert [s.name for s in printers.statuses(desk_station)] == ["Badge_A", "Badge_B"]


def test_printer_commands_set_the_second_printer_and_show_cups_states(cups, desk_station, capsys):
    data_dir = desk_station.data_dir
    desk_station.close()
    assert cli.main(["--data-dir", str(data_dir), "printer", "set", "Badge_A"]) == 0
    assert cli.main(["--data-dir", str(data_dir), "printer", "set", "Badge_B", "--second"]) == 0
    cups.run("cupsdisable", "-r", "paper jam", "Badge_B")
    capsys.readouterr()
    assert cli.main(["--data-dir", str(data_dir), "printer", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["printer"] == "Badge_A" and shown["second_printer"] == "Badge_B"
    states = {s["printer"]: s for s in shown["printer_states"]}
    assert states["Badge_A"]["state"] == "idle" and states["Badge_A"]["ready"] is True
    assert states["Badge_B"]["state"] == "stopped" and states["Badge_B"]["message"] == "paper jam"
    assert cli.main(["--data-dir", str(data_dir), "printer", "show"]) == 0
    text = capsys.readouterr().out
    assert "Printer: Badge_A  [idle · 0 queued]" in text
    assert "Second:  Badge_B  [STOPPED (paper jam) · 0 queued]" in text
    assert cli.main(["--data-dir", str(data_dir), "printer", "clear", "--second"]) == 0
    capsys.readouterr()
    cli.main(["--data-dir", str(data_dir), "printer", "show", "--json"])
    shown = json.loads(capsys.readouterr().out)
    assert shown["printer"] == "Badge_A" and shown["second_printer"] is None


def test_reprint_cli_reports_a_stopped_printer_truthfully(cups, desk_station, issued, capsys, monkeypatch):
    from meeting import secret_of

    desk_station.set_setting("printer", "Badge_A")
    cups.run("cupsdisable", "-r", "paper jam", "Badge_A")
    data_dir = desk_station.data_dir
    desk_station.close()
    monkeypatch.setenv("REGDESK_PIN", secret_of("clerk"))
    status = cli.main(["--data-dir", str(data_dir), "reprint", issued.serial, "--operator", "clerk", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert status != 0 and result["printed"] is False
    assert "NOT reprinted" in result["message"] and "stopped (paper jam)" in result["message"]
    assert cups.printed("Badge_A") == []


def test_paper_loaded_and_queue_enabled_prints_again(cups, tmp_path):
    """CUPS keeps the device's last reason until a job succeeds: it must not block that job."""
    pdf = tmp_path / "badge.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    paper_out = cups.queues["Badge_B"] / ".paper-out"
    paper_out.touch()
    assert printing.deliver(pdf, "Badge_B").printed
    wait_for_state("Badge_B", lambda s: s.state == printing.STOPPED, "stopped")
    paper_out.unlink()  # paper loaded
    cups.run("cupsenable", "Badge_B")
    assert len(cups.wait_printed("Badge_B")) == 1  # the waiting job comes out
    assert printing.deliver(pdf, "Badge_B").printed
    assert len(cups.wait_printed("Badge_B", 2)) == 2
    status = wait_for_state("Badge_B", lambda s: s.queued == 0, "empty")
    assert status.condition == "" and status.summary() == "idle · 0 queued"


def test_offline_printer_and_a_queue_not_accepting_jobs(cups, tmp_path):
    pdf = tmp_path / "badge.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    offline = cups.queues["Badge_B"] / ".offline"
    offline.touch()
    assert printing.deliver(pdf, "Badge_B").printed  # CUPS took it; the device does not answer
    status = wait_for_state("Badge_B", lambda s: s.condition == "offline", "offline")
    assert status.state == printing.PRINTING and not status.ready and status.queued == 1
    assert status.summary() == "PRINTING – offline (The printer is not responding) · 1 queued"
    second = printing.deliver(pdf, "Badge_B")  # not queued behind a job that does not come out
    assert not second.printed and second.problem == "printing – offline (The printer is not responding)"
    offline.unlink()  # the printer answers again
    assert len(cups.wait_printed("Badge_B")) == 1
    assert wait_for_state("Badge_B", lambda s: s.queued == 0, "empty").summary() == "idle · 0 queued"

    cups.run("cupsreject", "-r", "desk closed", "Badge_A")
    status = printing.printer_status("Badge_A")
    assert status.state == printing.REJECTING and status.summary() == "NOT ACCEPTING JOBS (desk closed) · 0 queued"
    refused = printing.deliver(pdf, "Badge_A")
    assert not refused.printed and refused.problem == "not accepting jobs (desk closed)" and str(pdf) in refused.message
