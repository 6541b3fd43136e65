"""`regdesk passes print|assign|stock` as automation drives them: real processes, secrets from the
environment, JSON out; the supervisor's passphrase is required to print, a clerk's PIN to assign."""

from __future__ import annotations

import json

import pypdfium2 as pdfium
from cli_process import FIXTURE, MARIA, ROOT_PASSPHRASE, regdesk

from conftest import EVENT_TOML


def test_print_needs_the_supervisor_and_assign_a_clerk(tmp_path):
    desk = tmp_path / "desk"
    assert (
        regdesk(
            desk,
            "init",
            "--event",
            str(EVENT_TOML),
            "--role",
            "desk",
            "--name",
            "Westin desk 1",
            "--supervisor",
            "maria",
            "--json",
            root_passphrase=ROOT_PASSPHRASE,
            new_pin=MARIA,
        ).returncode
        == 0
    )
    assert (
        regdesk(
            desk, "operator", "add", "ana", "--role", "clerk", "--by", "maria", pin=MARIA, new_pin="1111"
        ).returncode
        == 0
    )
    assert regdesk(desk, "import", str(FIXTURE), "--operator", "ana", pin="1111").returncode == 0
    out = tmp_path / "stock.pdf"
    args = ("passes", "print", "--day", "2017-12-04", "--count", "12", "--out", str(out), "--operator")

    wrong = regdesk(desk, *args, "maria", "--json", pin="not-marias-passphrase")
    assert wrong.returncode == 4 and "Traceback" not in wrong.stderr and not out.exists()
    clerk = regdesk(desk, *args, "ana", "--json", pin="1111")
    assert clerk.returncode == 4 and "supervisor" in clerk.stderr and not out.exists()
    bad_day = regdesk(desk, "passes", "print", "--day", "2017-12-09", "--count", "2", "--operator", "maria", pin=MARIA)
    assert bad_day.returncode != 0 and "not a meeting day" in bad_day.stderr and "Traceback" not in bad_day.stderr

    printed = regdesk(desk, *args, "maria", "--json", pin=MARIA)
    assert printed.returncode == 0, printed.stderr
    run = json.loads(printed.stdout)
    assert (run["count"], run["first"], run["last"], run["day"]) == (
        12,
        f"TP{run['mark']}0001",
        f"TP{run['mark']}0012",
        "2017-12-04",
    )
    assert len(pdfium.PdfDocument(out.read_bytes())) == 2

    aid = json.loads(regdesk(desk, "search", "gomez camacho", "--json").stdout)[0]["accreditation_id"]
    no_pin = regdesk(
        desk,
        "passes",
        "assign",
        "TP-0003",
        aid,
        "--id-check",
        "passport:AB123456",
        "--operator",
        "ana",
        "--json",
        pin="0000",
    )
    assert no_pin.returncode == 4
    assigned = regdesk(
        desk,
        "passes",
        "assign",
        "TP-0003",
        aid,
        "--id-check",
        "passport:AB123456",
        "--operator",
        "ana",
        "--json",
        pin="1111",
    )
    assert assigned.returncode == 0, assigned.stderr
    data = json.loads(assigned.stdout)
    assert (data["serial"], data["accreditation_id"], data["day"]) == (f"TP{run['mark']}0003", aid, "2017-12-04")
    twice = regdesk(
        desk, "passes", "assign", "3", aid, "--id-check", "passport:AB123456", "--operator", "ana", pin="1111"
    )
    assert twice.returncode != 0 and "already assigned" in twice.stderr

    stock = json.loads(regdesk(desk, "passes", "stock", "--json").stdout)
    assert stock == {"days": [{"day": "2017-12-04", "printed": 12, "assigned": 1, "voided": 0, "unused": 11}]}

    # A supervisor corrects it: re-assigned to another person, then un-assigned; a clerk may do neither.
    other = json.loads(regdesk(desk, "search", "lauber", "--json").stdout)[0]["accreditation_id"]
    reassign = ("passes", "assign", "3", other, "--reassign", "--reason", "handed to the wrong person", "--json")
    clerk = regdesk(desk, *reassign, "--operator", "ana", pin="1111")
    assert clerk.returncode == 4 and "supervisor" in clerk.stderr and "Traceback" not in clerk.stderr
    no_reason = regdesk(desk, "passes", "assign", "3", other, "--reassign", "--operator", "maria", pin=MARIA)
    assert no_reason.returncode != 0 and "--reason" in no_reason.stderr
    done = regdesk(desk, *reassign, "--operator", "maria", pin=MARIA)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["accreditation_id"], data["previous_accreditation_id"]) == (other, aid)
    undone = regdesk(desk, "passes", "unassign", "3", "--reason", "pass taken back", "--operator", "maria", pin=MARIA)
    assert undone.returncode == 0 and "un-assigned" in undone.stdout, undone.stderr
    stock = json.loads(regdesk(desk, "passes", "stock", "--json").stdout)
    assert stock == {"days": [{"day": "2017-12-04", "printed": 12, "assigned": 0, "voided": 0, "unused": 12}]}
