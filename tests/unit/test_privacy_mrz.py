"""A passport read at the desk leaves only its type and last 4 characters: after an identity check
from the reader's MRZ, a badge, an audit, a backup, a bundle and a tallies export, the full
document number (and the personal number of the same MRZ) is in no file of the station and in
nothing printed or logged."""

from __future__ import annotations

import io
import logging
import sys

from meeting import SUPERVISOR, secret_of
from mrz_helpers import passport, typed

from conftest import participant_row, seed_participants
from regdesk.cli import main

NUMBER = "K7Q4821X9"
PERSONAL = "ZE184226B"
SECRETS = (NUMBER, NUMBER[:5], PERSONAL)


def test_the_full_document_number_is_nowhere_after_a_reader_check(desk_station, tmp_path, monkeypatch, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    seed_participants(desk_station, [participant_row("CH-1", "Lauber", "Jürg", delegation="Switzerland", role="head")])
    data_dir = desk_station.data_dir
    desk_station.close()
    reader_file = tmp_path / "typed-by-the-reader.txt"  # what the reader typed: the only place the number is
    reader_file.write_text(typed(passport("LAUBER", "JUERG", NUMBER, personal=PERSONAL)), encoding="utf-8")
    printed = ""

    def run(*argv: object, who: str = "ana") -> int:
        nonlocal printed
        monkeypatch.setattr(sys, "stdin", io.StringIO(""))
        monkeypatch.setenv("REGDESK_PIN", secret_of(who))
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        printed += out + err
        return code

    base = ("--data-dir", data_dir, "--clock", "2017-12-01T13:10")
    assert run(*base, "idcheck", "CH-1", "--mrz-file", reader_file, "--operator", "ana") == 0
    assert run(*base, "idcheck", "CH-1", "--mrz-file", reader_file, "--operator", "ana", "--json") == 0
    assert run(*base, "issue", "CH-1", "--operator", "ana") == 0
    assert run(*base, "audit", "--as", SUPERVISOR, who=SUPERVISOR) == 0
    assert run(*base, "bundle", "export", tmp_path / "desk.bundle") == 0
    assert (
        run(*base, "export", "tallies", "--all-days", "--as", SUPERVISOR, "--out", tmp_path / "exports", who=SUPERVISOR)
        == 0
    )
    assert run(*base, "backup") == 0
    files = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file() and p != reader_file}
    assert any(p.name == "station.db" for p in files) and any(p.suffix == ".pdf" for p in files)
    assert any(b"21X9" in data for p, data in files.items() if p.suffix == ".db"), "the last 4 are kept"
    for path, data in files.items():
        for secret in SECRETS:
            assert secret.encode() not in data, f"{secret} found in {path}"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in SECRETS:
        assert secret not in printed and secret not in logged
    assert "····21X9" in printed  # what the clerk sees
