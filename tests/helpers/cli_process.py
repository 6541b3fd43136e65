"""The real `regdesk` command run as automation runs it: a fresh process, secrets from the environment
(never on the command line), no REGDESK_ setting inherited from the test's own environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from meeting import ROOT

FIXTURE = ROOT / "fixtures" / "accreditation.csv"
ROOT_PASSPHRASE = "contract test root passphrase"
MARIA = "maria-contract-passphrase-17"


def regdesk(data_dir: Path, *args: str, stdin: str | None = None, **secrets: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGDESK_")}
    env.update({f"REGDESK_{name.upper()}": value for name, value in secrets.items()})
    return subprocess.run(
        [sys.executable, "-m", "regdesk", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=180,
        env=env,
    )
