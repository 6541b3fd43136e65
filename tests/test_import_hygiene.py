"""The domain and the services must work without the TUI: importing them must not load Textual."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import regdesk

SRC = Path(regdesk.__file__).resolve().parent


def _modules(package: str) -> list[str]:
    path = SRC / package.replace("regdesk.", "").replace(".", "/")
    return [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(path)])]


def test_headless_layers_never_import_textual():
    headless = ["regdesk.config", "regdesk.clock", "regdesk.cli"]
    for package in ("regdesk.domain", "regdesk.services", "regdesk.store", "regdesk.render", "regdesk.commands"):
        headless += _modules(package)
    # commands/tui.py is the one CLI module whose job is to start the TUI, lazily.
    code = (
        "import importlib, sys\n"
        f"for name in {headless!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print('LOADED' if loaded else 'CLEAN', loaded[:5])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("CLEAN"), f"Textual was imported by a headless module: {out}"
    assert len(headless) > 15  # the scan really covered the layers


def test_domain_does_no_io_or_clock_reads():
    forbidden = ("open(", "datetime.now", "time.time", "sqlalchemy", "import os", "subprocess", "textual")
    for path in (SRC / "domain").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        for needle in forbidden:
            assert needle not in text, f"{path.name} uses {needle}: domain/ must stay pure"
