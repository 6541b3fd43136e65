"""The documented CLI contract, driven as automation drives it: real `regdesk` processes, JSON out,
secrets from the environment (never on the command line), real key-derivation costs."""

from __future__ import annotations

import json

from cli_process import FIXTURE, MARIA, ROOT_PASSPHRASE, regdesk

from conftest import EVENT_TOML


def test_found_enrol_import_search_issue_refuse_provision_join_and_scan(tmp_path):
    desk = tmp_path / "desk"
    founded = regdesk(
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
    )
    assert founded.returncode == 0, founded.stderr
    root = json.loads(founded.stdout)["root_fingerprint"]
    for name, role, pin in (("ana", "clerk", "1111"), ("sam", "security", "3333")):
        added = regdesk(desk, "operator", "add", name, "--role", role, "--by", "maria", pin=MARIA, new_pin=pin)
        assert added.returncode == 0, added.stderr
    assert regdesk(desk, "import", str(FIXTURE), "--operator", "ana", pin="1111").returncode == 0

    hits = json.loads(regdesk(desk, "search", "gomez camacho", "--json").stdout)
    assert hits[0]["name"] == "Juan José Gómez Camacho"
    assert {"accreditation_id", "name", "delegation", "category", "status"} <= hits[0].keys()
    aid = hits[0]["accreditation_id"]

    # Nobody acts without their own PIN, and only in their role.
    for operator, pin in (("nobody", "1111"), ("ana", "9999"), ("sam", "3333")):
        refused = regdesk(
            desk,
            "issue",
            aid,
            "--operator",
            operator,
            "--id-check",
            "passport:AB123456",
            "--clock",
            "2017-12-01T13:05",
            "--json",
            pin=pin,
        )
        assert refused.returncode == 4 and "Traceback" not in refused.stderr, (operator, refused.stderr)
    assert json.loads(regdesk(desk, "search", aid, "--json").stdout)[0]["status"] != "badge_collected"

    # --clock after the subcommand, as in the contract; 12:59 local on 1 Dec is still closed.
    early = regdesk(
        desk,
        "issue",
        aid,
        "--operator",
        "ana",
        "--id-check",
        "passport:AB123456",
        "--clock",
        "2017-12-01T12:59",
        "--json",
        pin="1111",
    )
    assert early.returncode == 3 and json.loads(early.stdout)["reason"] == "window_not_open"

    pdf = tmp_path / "badge.pdf"
    issued = regdesk(
        desk,
        "issue",
        aid,
        "--operator",
        "ana",
        "--id-check",
        "passport:AB123456",
        "--clock",
        "2017-12-01T13:00",
        "--out",
        str(pdf),
        "--json",
        pin="1111",
    )
    assert issued.returncode == 0, issued.stderr
    badge = json.loads(issued.stdout)
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    assert json.loads(regdesk(desk, "search", aid, "--json").stdout)[0]["status"] == "badge_collected"

    again = regdesk(desk, "issue", aid, "--operator", "ana", "--clock", "2017-12-01T13:10", "--json", pin="1111")
    assert again.returncode == 3 and json.loads(again.stdout)["reason"] == "already_holds_badge"

    # A security lane is enrolled by the supervisor (root passphrase) and joins with the one-time code.
    join_file = tmp_path / "icc.join"
    provisioned = regdesk(
        desk,
        "provision",
        "--role",
        "security",
        "--name",
        "ICC lane 1",
        "--out",
        str(join_file),
        "--operator",
        "maria",
        "--json",
        pin=MARIA,
        root_passphrase=ROOT_PASSPHRASE,
    )
    assert provisioned.returncode == 0, provisioned.stderr
    code = json.loads(provisioned.stdout)["code"]
    assert code not in join_file.read_bytes().decode("latin-1")
    lane = tmp_path / "icc-lane"
    wrong = regdesk(lane, "join", "--from", str(join_file), join_code="AAAA-AAAA-AAAA-AAAA-AAAA")
    assert wrong.returncode != 0 and "wrong join code" in wrong.stderr and not lane.exists()
    joined = regdesk(lane, "join", "--from", str(join_file), "--expect-root", root, "--json", join_code=code)
    assert joined.returncode == 0, joined.stderr
    assert json.loads(joined.stdout)["root_fingerprint"] == root
    # A scan station holds its own station key only: no badge-signing key, no root key.
    assert sorted(p.name for p in lane.glob("keys/*.key")) == ["station.key"]
    shown = json.loads(regdesk(lane, "station", "show", "--json").stdout)
    assert (shown["name"], shown["role"], shown["root_fingerprint"]) == ("ICC lane 1", "security", root)
    out = regdesk(
        lane,
        "scan",
        "--operator",
        "sam",
        "--point",
        "security:ICC-MAIN",
        "--clock",
        "2017-12-04T08:40",
        "--json",
        stdin=badge["token"] + "\n" + "garbage\n",
        pin="3333",
    )
    verdicts = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert [v["verdict"] for v in verdicts] == ["valid", "denied"]
    assert verdicts[0]["badge_serial"] == badge["badge_serial"] and verdicts[1]["reason"] == "unreadable"
