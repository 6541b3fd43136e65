"""After a whole day's flow, the full document number and the PINs are nowhere on disk or on screen,
and badge tokens are in no export and no log.

The flow goes through the real command line where one exists (operator add, issue with the
document number typed in full, scan, export, backup, audit, rotate-key) and the services
elsewhere (accreditation import, bundle transport), then every byte in the data directories
(databases, WAL files, backups, PDFs, CSVs, bundles) and everything printed or logged is searched.
"""

from __future__ import annotations

import io
import json
import logging
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import EVENT_TOML, local
from regdesk.cli import main
from regdesk.clock import FixedClock
from regdesk.services import accreditation, privacy
from regdesk.services.station import open_station
from regdesk.store.models import Badge

DOCUMENT = "PA7Q9K2M4"  # typed in full at the desk; only "K2M4" may be kept
# Secrets typed at the command line: none may be found on disk or in anything printed.
PINS = {"Maria Supervisor": "Maria's secret passphrase 804172639", "Carlos Clerk": "561938274", "guard": "73920"}
ROOT_PASSPHRASE = "the root passphrase 59381"


class Screen:
    """Everything printed (stdout, stderr) by the commands, plus every log record."""

    def __init__(self, capsys, caplog) -> None:
        self.capsys, self.caplog, self.text = capsys, caplog, ""

    def run(self, *argv: str, stdin: str = "", env: dict[str, str] | None = None, monkeypatch=None) -> int:
        for key, value in (env or {}).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main([str(a) for a in argv])
        out, err = self.capsys.readouterr()
        self.text += out + err
        for key in env or {}:
            monkeypatch.delenv(key)
        return code

    def everything(self) -> str:
        return self.text + "\n".join(r.getMessage() for r in self.caplog.records)


def all_bytes(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def day(tmp_path, capsys, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    screen = Screen(capsys, caplog)
    desk_dir, security_dir = tmp_path / "desk", tmp_path / "security"

    def run(*argv, **kw):
        return screen.run(*argv, monkeypatch=monkeypatch, **kw)

    assert (
        run(
            "--data-dir",
            desk_dir,
            "--clock",
            "2017-12-01T13:05",
            "init",
            "--event",
            EVENT_TOML,
            "--role",
            "desk",
            "--name",
            "Westin desk 1",
            "--supervisor",
            "Maria Supervisor",
            env={"REGDESK_ROOT_PASSPHRASE": ROOT_PASSPHRASE, "REGDESK_NEW_PIN": PINS["Maria Supervisor"]},
        )
        == 0
    )
    sup = {"REGDESK_PIN": PINS["Maria Supervisor"]}
    for name, role in (("Carlos Clerk", "clerk"), ("guard", "security")):
        assert (
            run(
                "--data-dir",
                desk_dir,
                "operator",
                "add",
                name,
                "--role",
                role,
                "--by",
                "Maria Supervisor",
                env={**sup, "REGDESK_NEW_PIN": PINS[name]},
            )
            == 0
        )

    export = tmp_path / "un-export.csv"
    export.write_text(
        "accreditation_id,family_name,given_names,category,delegation,delegation_role,status\n"
        "MX-1,Ruiz Ortega,Ana Lucía,HC,Mexico,head,accredited\n"
        "MX-2,Pérez,Juan,HC,Mexico,member,accredited\n",
        encoding="utf-8",
    )
    station = open_station(desk_dir, clock=FixedClock(local("2017-12-01T13:30")))
    accreditation.import_file(station, export, operator="Carlos Clerk")
    station.close()

    for pid in ("MX-1", "MX-2"):
        assert (
            run(
                "--data-dir",
                desk_dir,
                "--clock",
                "2017-12-01T14:00",
                "issue",
                pid,
                "--operator",
                "Carlos Clerk",
                "--id-check",
                f"passport:{DOCUMENT}",
                "--out",
                tmp_path / "out" / f"{pid}.pdf",
                env={"REGDESK_PIN": PINS["Carlos Clerk"]},
            )
            == 0
        )
    env = {"REGDESK_PIN": PINS["Maria Supervisor"]}
    assert run("--data-dir", desk_dir, "rotate-key", "--operator", "Maria Supervisor", env=env) == 0
    assert run("--data-dir", desk_dir, "audit", "--as", "Maria Supervisor", env=env) == 0
    assert run("--data-dir", desk_dir, "audit", "--as", "Maria Supervisor", "--json", env=env) == 0
    assert run("--data-dir", desk_dir, "audit", "--as", "Carlos Clerk", env={"REGDESK_PIN": PINS["Carlos Clerk"]}) == 4

    station = open_station(desk_dir)
    with station.sessions() as s:
        tokens = list(s.execute(select(Badge.token)).scalars())
    station.close()
    join = tmp_path / "icc.join"
    assert (
        run(
            "--data-dir",
            desk_dir,
            "provision",
            "--role",
            "security",
            "--name",
            "ICC main",
            "--out",
            join,
            "--operator",
            "Maria Supervisor",
            "--json",
            env={**sup, "REGDESK_ROOT_PASSPHRASE": ROOT_PASSPHRASE},
        )
        == 0
    )
    code = json.loads(screen.text.strip().splitlines()[-1])["code"]
    assert run("--data-dir", security_dir, "join", "--from", join, env={"REGDESK_JOIN_CODE": code}) == 0, screen.text[
        -600:
    ]
    scans = "\n".join([tokens[0], tokens[1].lower(), "JUNK", tokens[0][:50]]) + "\n"
    assert (
        run(
            "--data-dir",
            security_dir,
            "scan",
            "--point",
            "security:ICC-MAIN",
            "--clock",
            "2017-12-04T09:00",
            "--operator",
            "guard",
            stdin=scans,
            env={"REGDESK_PIN": PINS["guard"]},
        )
        == 0
    )
    bundle = tmp_path / "desk.bundle"
    assert run("--data-dir", desk_dir, "bundle", "export", bundle) == 0
    assert (
        run(
            "--data-dir",
            desk_dir,
            "--clock",
            "2017-12-04T20:00",
            "export",
            "tallies",
            "--all-days",
            "--as",
            "Maria Supervisor",
            "--out",
            tmp_path / "exports",
            env=env,
        )
        == 0
    )
    assert (
        run(
            "--data-dir",
            security_dir,
            "--clock",
            "2017-12-04T20:00",
            "export",
            "tallies",
            "--all-days",
            "--as",
            "Maria Supervisor",
            "--out",
            tmp_path / "exports-security",
            env=env,
        )
        == 0
    )
    assert run("--data-dir", desk_dir, "backup") == 0
    assert run("--data-dir", desk_dir, "check") == 0, screen.text[-1500:]
    return tmp_path, screen, tokens


def test_the_full_document_number_and_pins_are_nowhere(day):
    root, screen, _tokens = day
    files = all_bytes(root)
    assert any(p.name.endswith(".pdf") for p in files) and any(p.suffix == ".csv" for p in files)
    assert any(p.parent.name == "backups" for p in files) and any(p.name == "station.db" for p in files)
    kept = [p for p, data in files.items() if b"K2M4" in data and p.suffix == ".db"]
    assert kept, "the last 4 characters are what the desk keeps"
    for path, data in files.items():
        if path.name == "un-export.csv":
            continue
        for secret in (DOCUMENT, DOCUMENT[:5], ROOT_PASSPHRASE, *PINS.values()):
            assert secret.encode() not in data, f"{secret} found in {path}"
    printed = screen.everything()
    for secret in (DOCUMENT, DOCUMENT[:5], ROOT_PASSPHRASE, *PINS.values()):
        assert secret not in printed
    assert "…K2M4" in printed  # the audit shows what was checked, masked


def test_no_token_in_exports_logs_or_printed_output(day):
    root, screen, tokens = day
    exported = {**all_bytes(root / "exports"), **all_bytes(root / "exports-security")}
    assert exported
    printed = screen.everything()
    for token in tokens:
        for piece in (token, token[:40], token[-40:]):
            assert piece not in printed
            for path, data in exported.items():
                assert piece.encode() not in data, f"token in {path}"


def test_log_redaction_scrubs_tokens_and_pin_hashes(caplog):
    logger = logging.getLogger("regdesk.test.privacy")
    token = "A" * 20 + "B7" * 40
    with caplog.at_level(logging.INFO, logger=logger.name):
        privacy.install_log_redaction(logger)
        logger.info("scanned %s by %s", token, "scrypt$16384$8$1$c2FsdA==$ZGlnZXN0")
    assert caplog.records[-1].getMessage() == "scanned [token] by [pin hash]"


def test_masking_helpers():
    assert privacy.mask_document("PA 7Q9-K2M4") == "…K2M4"
    assert privacy.scrub_payload(
        {"token": "X", "pin_hash": "h", "document_number": DOCUMENT, "nested": [{"pin": "1234", "name": "Ana"}]}
    ) == {"document_number": "…K2M4", "nested": [{"name": "Ana"}]}
