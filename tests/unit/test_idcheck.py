"""Identity checks from a passport reader, through the service and `regdesk idcheck`."""

from __future__ import annotations

import io
import json
import sys

import pytest
from meeting import secret_of
from mrz_helpers import TD3, passport, typed
from sqlalchemy import select

from conftest import local, participant_row, seed_participants
from regdesk.cli import main
from regdesk.services import idcheck
from regdesk.store.models import EventRow, IdentityCheck

LAUBER = passport("LAUBER", "JUERG", "X4821K7Q", state="CHE", expiry="251130")


@pytest.fixture
def seeded(desk_station):
    seed_participants(
        desk_station,
        [
            participant_row("CH-1", "Lauber", "Jürg", delegation="Switzerland", role="head"),
            participant_row("CH-2", "Zürcher", "Lukas", delegation="Switzerland"),
            participant_row("UTO-1", "Eriksson", "Anna", delegation="Benin"),
            participant_row("UTO-2", "Eriksson", "Anna", delegation="Amnesty International", category="NGO"),
            participant_row("SE-1", "Eriksson", "Anna Maria", delegation="Sweden"),
            participant_row("MX-1", "Gómez Camacho", "Juan José", delegation="Mexico", role="head"),
        ],
    )
    return desk_station


def checks(station) -> list[IdentityCheck]:
    with station.sessions() as s:
        return list(s.execute(select(IdentityCheck).order_by(IdentityCheck.checked_at)).scalars())


def test_read_keeps_last4_and_drops_the_number(seeded):
    doc = idcheck.read(seeded, typed(LAUBER))
    assert doc.last4 == "1K7Q" and doc.document_type == "passport" and not doc.expired
    assert "X4821K7Q" not in repr(doc) and "X4821K7Q" not in doc.summary()
    assert doc.summary() == "Passport ····1K7Q · LAUBER, JUERG · Switzerland · valid until 30 Nov 2025"


def test_expiry_is_judged_by_the_station_clock(seeded, clock):
    lines = passport("LAUBER", "JUERG", "X4821K7Q", expiry="171201")
    clock.set(local("2017-12-01T13:05"))
    assert not idcheck.read(seeded, typed(lines)).expired  # valid through its last day
    clock.set(local("2017-12-02T09:00"))
    assert idcheck.read(seeded, typed(lines)).expired


def test_identify_by_name_folded_as_the_search_does(seeded):
    found = idcheck.identify(seeded, idcheck.read(seeded, typed(LAUBER)))
    assert found.participant_id == "CH-1" and "found by name" in found.note
    gomez = passport("GOMEZ CAMACHO", "JUAN JOSE", "G12345678", state="MEX")
    assert idcheck.identify(seeded, idcheck.read(seeded, typed(gomez))).participant_id == "MX-1"


def test_several_people_of_that_name_nationality_picks_the_delegation(seeded):
    swede = passport("ERIKSSON", "ANNA", "S1234567", state="SWE")
    found = idcheck.identify(seeded, idcheck.read(seeded, typed(swede)))
    assert found.participant_id == "SE-1" and "nationality" in found.note
    # The specimen's Utopia is no delegation: three Anna Erikssons, the clerk picks.
    specimen = idcheck.identify(seeded, idcheck.read(seeded, typed(TD3)))
    assert specimen.participant_id is None
    assert set(specimen.candidate_ids[:3]) == {"UTO-1", "UTO-2", "SE-1"}
    assert "pick" in specimen.note


def test_the_participant_on_screen_is_preferred_when_the_name_agrees(seeded):
    specimen = idcheck.read(seeded, typed(TD3))
    assert idcheck.identify(seeded, specimen, selected="UTO-2").participant_id == "UTO-2"
    # A selected participant of another name is not taken.
    assert idcheck.identify(seeded, specimen, selected="CH-1").participant_id is None


def test_nobody_of_that_name(seeded):
    stranger = passport("NOBODY", "ATALL", "N1234567", state="FRA")
    found = idcheck.identify(seeded, idcheck.read(seeded, typed(stranger)))
    assert found.participant_id is None and found.candidates == () and "Nobody" in found.note


def test_record_keeps_type_and_last4_and_warns(seeded):
    result = idcheck.record(seeded, "CH-1", idcheck.read(seeded, typed(LAUBER)), "ana")
    assert (result.document_type, result.last4, result.expired, result.name_matches) == (
        "passport",
        "1K7Q",
        False,
        True,
    )
    assert result.warnings == () and idcheck.DATE_OF_BIRTH_NOTE in result.notes
    # The specimen expired in 2012 and is not Mr Lauber's.
    result = idcheck.record(seeded, "CH-1", idcheck.read(seeded, typed(TD3)), "ana")
    assert result.expired and not result.name_matches
    assert any("EXPIRED on 15 Apr 2012" in w for w in result.warnings)
    assert any("does not match the accreditation" in w and "ERIKSSON" in w for w in result.warnings)
    assert [(c.document_type, c.document_last4) for c in checks(seeded)] == [("passport", "1K7Q"), ("passport", "02C3")]
    with seeded.sessions() as s:
        payloads = [
            json.loads(p)
            for p in s.execute(select(EventRow.payload).where(EventRow.kind == "identity_checked")).scalars()
        ]
    assert payloads[1]["read_by"] == "mrz" and payloads[1]["expired"] is True and payloads[1]["name_matches"] is False
    assert all("L898902C3" not in json.dumps(p) for p in payloads)


def test_a_damaged_reading_is_refused_with_its_line(seeded):
    bad = (TD3[0], TD3[1][:9] + "5" + TD3[1][10:])
    with pytest.raises(idcheck.DocumentUnreadable) as refused:
        idcheck.read(seeded, typed(bad))
    assert str(refused.value) == (
        "passport reader: line 2, document number: the check digit does not match. Read the document again"
    )
    assert checks(seeded) == []


# --- the command line ---------------------------------------------------------------------------------


def run(monkeypatch, capsys, *argv, pin: str | None = None) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    if pin is not None:
        monkeypatch.setenv("REGDESK_PIN", pin)
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_records_the_check_and_reports_json(seeded, tmp_path, monkeypatch, capsys):
    mrz_file = tmp_path / "reader.txt"
    mrz_file.write_text(typed(TD3), encoding="utf-8")
    code, out, _ = run(
        monkeypatch,
        capsys,
        "--data-dir",
        seeded.data_dir,
        "--clock",
        "2017-12-01T13:10",
        "idcheck",
        "UTO-1",
        "--mrz-file",
        mrz_file,
        "--operator",
        "ana",
        "--json",
        pin=secret_of("ana"),
    )
    assert code == 0
    data = json.loads(out)
    assert {k: data[k] for k in ("recorded", "document_type", "last4", "expired", "name_matches")} == {
        "recorded": True,
        "document_type": "passport",
        "last4": "02C3",
        "expired": True,
        "name_matches": True,
    }
    assert "L898902C3" not in out
    assert [c.document_last4 for c in checks(seeded)] == ["02C3"]


def test_cli_without_operator_reads_but_records_nothing(seeded, tmp_path, monkeypatch, capsys):
    mrz_file = tmp_path / "reader.txt"
    mrz_file.write_text(typed(LAUBER), encoding="utf-8")
    code, out, _ = run(monkeypatch, capsys, "--data-dir", seeded.data_dir, "idcheck", "CH-2", "--mrz-file", mrz_file)
    assert code == 0 and "not recorded" in out and "WARNING: The name on the document does not match" in out
    assert checks(seeded) == []


def test_cli_refuses_a_wrong_check_digit_in_one_line(seeded, tmp_path, monkeypatch, capsys):
    mrz_file = tmp_path / "reader.txt"
    mrz_file.write_text(typed((TD3[0], TD3[1][:19] + "3" + TD3[1][20:])), encoding="utf-8")
    code, out, err = run(
        monkeypatch,
        capsys,
        "--data-dir",
        seeded.data_dir,
        "idcheck",
        "UTO-1",
        "--mrz-file",
        mrz_file,
        "--operator",
        "ana",
        pin=secret_of("ana"),
    )
    assert code == 3 and out == ""
    assert err.strip().splitlines() == [
        "regdesk: passport reader: line 2, date of birth: the check digit (3) does not match. Read the document again"
    ]
    code, out, _ = run(
        monkeypatch, capsys, "--data-dir", seeded.data_dir, "idcheck", "UTO-1", "--mrz-file", mrz_file, "--json"
    )
    assert code == 3 and json.loads(out) == {
        "recorded": False,
        "line": 2,
        "field": "date of birth",
        "problem": "line 2, date of birth: the check digit (3) does not match. Read the document again",
    }
    assert checks(seeded) == []


def test_audit_says_the_reader_made_the_check_and_what_was_wrong(seeded):
    from regdesk.services import audit

    idcheck.record(seeded, "CH-1", idcheck.read(seeded, typed(TD3)), "ana")
    [row] = audit.list_audit(seeded, audit.AuditFilter(kind="identity_checked"), viewer_role="supervisor")
    assert row.summary == (
        "Identity of CH-1 checked: passport ending …02C3, read by the passport reader; "
        "the document had EXPIRED; its name did not match the accreditation"
    )
