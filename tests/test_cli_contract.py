"""The documented CLI contract, driven as automation drives it: real `regdesk` processes, JSON out."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import EVENT_TOML, ROOT

FIXTURE = ROOT / "fixtures" / "accreditation.csv"


def regdesk(data_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "regdesk", "--data-dir", str(data_dir), *args],
                          capture_output=True, text=True, input=stdin, timeout=120)


def test_init_import_search_issue_refuse_and_scan(tmp_path):
    desk = tmp_path / "desk"
    assert regdesk(desk, "init", "--event", str(EVENT_TOML)).returncode == 0
    assert regdesk(desk, "import", str(FIXTURE)).returncode == 0

    hits = json.loads(regdesk(desk, "search", "gomez camacho", "--json").stdout)
    assert hits[0]["name"] == "Juan José Gómez Camacho"
    assert {"accreditation_id", "name", "delegation", "category", "status"} <= hits[0].keys()
    aid = hits[0]["accreditation_id"]

    # --clock after the subcommand, as in the contract; 12:59 local on 1 Dec is still closed.
    early = regdesk(desk, "issue", aid, "--operator", "ana", "--id-check", "passport:AB123456",
                    "--clock", "2017-12-01T12:59", "--json")
    assert early.returncode != 0 and json.loads(early.stdout)["reason"] == "window_not_open"

    pdf = tmp_path / "badge.pdf"
    issued = regdesk(desk, "issue", aid, "--operator", "ana", "--id-check", "passport:AB123456",
                     "--clock", "2017-12-01T13:00", "--out", str(pdf), "--json")
    assert issued.returncode == 0, issued.stderr
    badge = json.loads(issued.stdout)
    assert pdf.exists() and pdf.read_bytes().startswith(b"%PDF")
    assert json.loads(regdesk(desk, "search", aid, "--json").stdout)[0]["status"] == "badge_collected"

    again = regdesk(desk, "issue", aid, "--operator", "ana", "--clock", "2017-12-01T13:10", "--json")
    assert again.returncode != 0 and json.loads(again.stdout)["reason"] == "already_holds_badge"

    # A security lane joins from the desk's provisioning file (public keys only) and scans.
    join_file = tmp_path / "icc.join"
    assert regdesk(desk, "provision", "--role", "security", "--out", str(join_file)).returncode == 0
    lane = tmp_path / "icc-lane"
    joined = regdesk(lane, "join", "--from", str(join_file), "--role", "security", "--name", "ICC lane 1")
    assert joined.returncode == 0, joined.stderr
    assert not list(lane.glob("keys/*.key"))  # a scan station never holds a signing key
    out = regdesk(lane, "scan", "--point", "security:ICC-MAIN", "--clock", "2017-12-04T08:40", "--json",
                  stdin=badge["token"] + "\n" + "garbage\n")
    verdicts = [json.loads(line) for line in out.stdout.splitlines() if line.strip()]
    assert [v["verdict"] for v in verdicts] == ["valid", "denied"]
    assert verdicts[0]["badge_serial"] == badge["badge_serial"] and verdicts[1]["reason"] == "unreadable"
