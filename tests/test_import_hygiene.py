"""The domain and the services must work without the TUI: importing them must not load Textual."""

from __future__ import annotations

import ast
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
    """Read the syntax tree, not the text: `may_open(` is not `open(`."""
    forbidden_imports = {"os", "subprocess", "sqlalchemy", "textual", "time", "socket", "sqlite3", "pathlib", "shutil"}
    forbidden_calls = {"open", "now", "utcnow", "today", "time", "monotonic"}
    checked = 0
    for path in (SRC / "domain").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                names = {(node.module or "").split(".")[0]}
            else:
                names = set()
            assert not names & forbidden_imports, f"{path.name} imports {names & forbidden_imports}: domain/ stays pure"
            if isinstance(node, ast.Call):
                func = node.func
                called = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                assert called not in forbidden_calls, f"{path.name}:{node.lineno} calls {called}(): domain/ stays pure"
        checked += 1
    assert checked >= 5
