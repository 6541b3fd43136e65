"""The domain and the services must work without the TUI: importing them must not load Textual. Each layer
imports only what it may, and no test module imports another one."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import regdesk

SRC = Path(regdesk.__file__).resolve().parent
TESTS = Path(__file__).resolve().parents[1]


def _modules(package: str) -> list[str]:
    path = SRC / package.replace("regdesk.", "").replace(".", "/")
    return [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(path)])]


def _loaded_after_importing(modules: list[str], roots: tuple[str, ...]) -> list[str]:
    """The modules under any of `roots` (a package or module name) loaded in a fresh interpreter
    once `modules` are imported."""
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"roots = {roots!r}\n"
        "print(sorted(m for m in sys.modules if any(m == r or m.startswith(r + '.') for r in roots)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded: list[str] = ast.literal_eval(out)
    return loaded


def test_headless_layers_never_import_textual():
    headless = ["regdesk.config", "regdesk.clock", "regdesk.cli"]
    for package in ("regdesk.domain", "regdesk.services", "regdesk.store", "regdesk.render", "regdesk.commands"):
        headless += _modules(package)
    # commands/tui.py is the one CLI module whose job is to start the TUI, lazily.
    loaded = _loaded_after_importing(headless, ("textual",))
    assert loaded == [], f"Textual was imported by a headless module: {loaded[:5]}"
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


# --- layer rules --------------------------------------------------------------------------------
# Read from the syntax tree (not the text: `read_text(` is not `text(`), over every module of a
# layer, sub-packages included (services/tallies/, services/accreditation/...).

# Services that may still hold raw SQL, each with the reason. Shrink only: a new entry is a regression.
RAW_SQL_ALLOWED: dict[str, str] = {}

# Modules that still build ORM queries themselves, each with the reason. Shrink only.
QUERY_BUILDING_ALLOWED: dict[str, str] = {}

# What builds a statement in SQLAlchemy. A service asks store/queries for named facts instead; session.get()
# of one row by its key and session.add() stay (the unit of work, not a query).
QUERY_BUILDERS = frozenset({"select", "update", "delete", "insert", "func", "or_", "and_", "not_", "exists", "case"})


def _layer_files(layer: str) -> list[Path]:
    return sorted((SRC / layer).rglob("*.py"))


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, dotted module) of every import, `from a import b` giving both "a" and "a.b"."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def services_imports(source: str) -> list[str]:
    """What a render/ module imports from services/ (it must import nothing)."""
    return [
        f"line {line}: {name}"
        for line, name in _imported_modules(ast.parse(source))
        if name == "regdesk.services" or name.startswith("regdesk.services.")
    ]


def store_imports(source: str) -> list[str]:
    """What a commands/ or tui/ module imports from store/ other than store.files (it must import nothing)."""
    bad = []
    for line, name in _imported_modules(ast.parse(source)):
        if name == "regdesk.store" or name == "regdesk.store.files" or name.startswith("regdesk.store.files."):
            continue
        if name.startswith("regdesk.store."):
            bad.append(f"line {line}: {name}")
    return bad


def raw_sql_markers(source: str) -> list[str]:
    """Raw SQL outside store/: sqlalchemy's text(), exec_driver_sql, the DB-API driver connection, a cursor,
    or sqlite3 itself."""
    tree = ast.parse(source)
    text_names = {"text"} & {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy")
        for alias in node.names
        if alias.name == "text"
    }
    driver_names = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "regdesk.store.db"
        for alias in node.names
        if alias.name == "driver"
    }
    bad = [
        f"line {line}: imports {name}"
        for line, name in _imported_modules(tree)
        if name == "sqlite3" or name.startswith("sqlite3.")
    ]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in text_names | driver_names:
            bad.append(f"line {node.lineno}: {func.id}(...)")
        elif isinstance(func, ast.Attribute) and func.attr in ("exec_driver_sql", "cursor", "driver_connection"):
            bad.append(f"line {node.lineno}: .{func.attr}(...)")
        elif (
            isinstance(func, ast.Attribute)
            and func.attr == "text"
            and isinstance(func.value, ast.Name)
            and (func.value.id in ("sqlalchemy", "sa"))
        ):
            bad.append(f"line {node.lineno}: {func.value.id}.text(...)")
    for node in ast.walk(tree):  # conn.connection.driver_connection: the DB-API connection, whatever is called on it
        if isinstance(node, ast.Attribute) and node.attr == "driver_connection":
            bad.append(f"line {node.lineno}: .driver_connection")
    return bad


def query_building(source: str) -> list[str]:
    """Statements built outside store/: select(), func.count(), or_()... imported from sqlalchemy."""
    return [
        f"line {line}: {name}"
        for line, name in _imported_modules(ast.parse(source))
        if name.startswith("sqlalchemy") and name.rsplit(".", 1)[-1] in QUERY_BUILDERS
    ]


def imported_test_modules(source: str) -> list[str]:
    """What a file under tests/ imports from a test module: shared fixtures and helpers belong in
    tests/helpers/ or a conftest.py, so that each test file runs alone and none is collected twice."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module] if node.module else [alias.name for alias in node.names]  # `from . import x`
        else:
            continue
        bad += [f"line {node.lineno}: {name}" for name in names if any(p.startswith("test_") for p in name.split("."))]
    return bad


@pytest.mark.parametrize(
    ("rule", "source", "caught"),
    [
        (imported_test_modules, "from test_trust_attacks import alerts, refused_bundle", True),
        (imported_test_modules, "def f():\n    from test_trust_attacks import alerts", True),
        (imported_test_modules, "import test_tmux_smoke", True),
        (imported_test_modules, "from tests.e2e.test_cli_contract import regdesk", True),
        (imported_test_modules, "from . import test_tui_desk", True),
        (imported_test_modules, "from security_alerts import alerts\nfrom conftest import local", False),
        (imported_test_modules, "from testing_tools import x\nimport latest_test", False),
        (services_imports, "from regdesk.services.tallies import DayTallies", True),
        (services_imports, "from regdesk.services import tallies", True),
        (services_imports, "import regdesk.services.exports as e", True),
        (services_imports, "from regdesk.domain.tallies import DayTallies", False),
        (store_imports, "from regdesk.store import files", False),
        (store_imports, "from regdesk.store.files import write_private", False),
        (store_imports, "from regdesk.store import eventlog", True),
        (store_imports, "from regdesk.store.models import Participant", True),
        (store_imports, "import regdesk.store.db", True),
        (raw_sql_markers, "from sqlalchemy import text\ns.execute(text('SELECT 1'))", True),
        (raw_sql_markers, "import sqlalchemy\ns.execute(sqlalchemy.text('SELECT 1'))", True),
        (raw_sql_markers, "conn.exec_driver_sql('PRAGMA x')", True),
        (raw_sql_markers, "import sqlite3", True),
        (raw_sql_markers, "cur = conn.cursor()", True),
        (raw_sql_markers, "from regdesk.store.db import driver\ndriver(session).execute('SELECT 1')", True),
        (raw_sql_markers, "c = conn.connection.driver_connection", True),
        (raw_sql_markers, "path.read_text()\nscrub_text(x)\ndef text(self): pass", False),
        (raw_sql_markers, "from sqlalchemy import select\nsession.execute(select(Row))", False),
        (query_building, "from sqlalchemy import select\nsession.execute(select(Row))", True),
        (query_building, "from sqlalchemy import func, or_", True),
        (query_building, "import sqlalchemy.sql.expression.select", True),
        (query_building, "from sqlalchemy.orm import Session\nsession.get(Row, 1)", False),
        (query_building, "from sqlalchemy import Engine", False),
    ],
)
def test_the_layer_rules_catch_what_they_name(rule, source, caught):
    """Each rule fails on the violation it names and stays quiet on its look-alikes."""
    assert bool(rule(source)) is caught


def test_render_imports_nothing_from_services():
    found = {
        p.relative_to(SRC).as_posix(): bad
        for p in _layer_files("render")
        if (bad := services_imports(p.read_text(encoding="utf-8")))
    }
    assert not found, f"render/ must depend on domain/ only (move the data it reads to domain/): {found}"


def test_commands_and_tui_import_nothing_from_store_but_files():
    files = _layer_files("commands") + _layer_files("tui")
    found = {p.relative_to(SRC).as_posix(): bad for p in files if (bad := store_imports(p.read_text(encoding="utf-8")))}
    assert not found, f"commands/ and tui/ call services, never the store (store.files excepted): {found}"
    assert len(files) > 20  # the scan really covered both layers


def test_raw_sql_lives_in_store_only():
    files = [p for layer in ("services", "commands", "tui", "render") for p in _layer_files(layer)]
    found = {}
    for path in files:
        name = path.relative_to(SRC).as_posix()
        bad = raw_sql_markers(path.read_text(encoding="utf-8"))
        if bad and name not in RAW_SQL_ALLOWED:
            found[name] = bad
    assert not found, f"raw SQL and DB-API cursors belong in store/queries/ behind a named function: {found}"
    stale = sorted(name for name in RAW_SQL_ALLOWED if not raw_sql_markers((SRC / name).read_text(encoding="utf-8")))
    assert not stale, f"clean now: remove from RAW_SQL_ALLOWED: {stale}"


# --- typed event payloads (domain/event_payloads.py) ----------------------------------------------


def _payload_like(node: ast.AST, bound: set[str]) -> bool:
    """An expression that holds an event payload as a dict: `<x>.payload`, a name `payload`, a
    name bound from one of those, or json/orjson.loads(...) of one."""
    if isinstance(node, ast.Attribute):
        return node.attr == "payload"
    if isinstance(node, ast.Name):
        return node.id == "payload" or node.id in bound
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "loads":
        return any(_payload_like(arg, bound) for arg in node.args)
    return False


def payload_key_reads(source: str) -> list[str]:
    """Reads of an event payload by string key (`e.payload["serial"]`, `p.get("reason")`,
    `"root_grant" in payload`, `json.loads(payload).get("name")`) and dict literals recorded as a
    payload (`station.record(session, EventKind.X, {...}, who)`): outside domain/ a payload is built
    and read through its type."""
    tree = ast.parse(source)
    bound: set[str] = set()
    for node in ast.walk(tree):  # p = event.payload / data = json.loads(payload) / for p in (e.payload,)
        if isinstance(node, ast.Assign) and _payload_like(node.value, bound):
            bound |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        if isinstance(node, ast.comprehension) and isinstance(node.target, ast.Name):
            items = node.iter.elts if isinstance(node.iter, ast.Tuple) else []
            if any(_payload_like(item, bound) for item in items):
                bound.add(node.target.id)
    for node in ast.walk(tree):  # def summary(p: dict[str, Any]): a payload handed over as a dict
        if isinstance(node, ast.FunctionDef):
            for arg in node.args.args:
                hint = ast.unparse(arg.annotation) if arg.annotation else ""
                if arg.arg in ("p", "payload") and ("dict" in hint or "Mapping" in hint):
                    bound.add(arg.arg)
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and _payload_like(node.value, bound):
            bad.append(f"line {node.lineno}: payload[...]")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get", "pop", "setdefault")
            and _payload_like(node.func.value, bound)
        ):
            bad.append(f"line {node.lineno}: payload.{node.func.attr}(...)")
        elif (
            isinstance(node, ast.Compare)
            and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops)
            and any(_payload_like(c, bound) for c in node.comparators)
        ):
            bad.append(f"line {node.lineno}: ... in payload")
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "record"
            and len(node.args) >= 3
            and isinstance(node.args[2], ast.Dict)
        ):
            bad.append(f"line {node.lineno}: record(..., {{...}}, ...) with a dict payload")
    return bad


# Modules that still read payload dicts by key, each with the reason. Shrink only.
PAYLOAD_DICTS_ALLOWED: dict[str, str] = {}


@pytest.mark.parametrize(
    ("source", "caught"),
    [
        ("x = event.payload['serial']", True),
        ("x = e.payload.get('for_badge')", True),
        ("p = event.payload\nx = p['name']", True),
        ("rows = [p['serial'] for e in events for p in (e.payload,)]", True),
        ("x = json.loads(payload).get('name', '')", True),
        ("data = orjson.loads(row.payload)\nx = data['kind']", True),
        ("if 'root_grant' in payload: pass", True),
        ("def summary(p: dict[str, Any]) -> str:\n    return p['name']", True),
        ("def summary(p: ep.StationCreated) -> str:\n    return p.name", False),
        ("station.record(session, EventKind.PASS_VOIDED, {'serial': s, 'reason': r}, who)", True),
        ("x = ep.BadgeIssued.from_payload(e.payload).serial", False),
        ("station.record(session, EventKind.PASS_VOIDED, ep.PassVoided(s, r), who)", False),
        ("counts = report.counts\nx = counts['rows']", False),
        ("payload[f'{key}_count'] = n", False),
    ],
)
def test_the_payload_rule_catches_what_it_names(source, caught):
    assert bool(payload_key_reads(source)) is caught


def test_payloads_are_read_and_built_through_their_types_outside_domain():
    files = [p for layer in ("services", "store", "commands", "tui", "render") for p in _layer_files(layer)]
    found = {}
    for path in files:
        name = path.relative_to(SRC).as_posix()
        bad = payload_key_reads(path.read_text(encoding="utf-8"))
        if bad and name not in PAYLOAD_DICTS_ALLOWED:
            found[name] = bad
    assert not found, (
        "read an event payload through its type (domain/event_payloads.py: Kind.from_payload(e.payload).field) "
        f"and record one built from it, never a dict by key: {found}"
    )
    stale = sorted(n for n in PAYLOAD_DICTS_ALLOWED if not payload_key_reads((SRC / n).read_text(encoding="utf-8")))
    assert not stale, f"clean now: remove from PAYLOAD_DICTS_ALLOWED: {stale}"


def test_services_ask_store_for_their_queries():
    files = [p for layer in ("services", "commands", "tui", "render") for p in _layer_files(layer)]
    found = {}
    for path in files:
        name = path.relative_to(SRC).as_posix()
        bad = query_building(path.read_text(encoding="utf-8"))
        if bad and name not in QUERY_BUILDING_ALLOWED:
            found[name] = bad
    assert not found, f"build queries in store/queries/ behind a named function, and call it: {found}"
    stale = sorted(
        name for name in QUERY_BUILDING_ALLOWED if not query_building((SRC / name).read_text(encoding="utf-8"))
    )
    assert not stale, f"clean now: remove from QUERY_BUILDING_ALLOWED: {stale}"


def test_no_test_module_imports_another():
    files = sorted(TESTS.rglob("*.py"))
    found = {
        p.relative_to(TESTS).as_posix(): bad
        for p in files
        if (bad := imported_test_modules(p.read_text(encoding="utf-8")))
    }
    assert not found, f"move what test modules share to tests/helpers/ or a conftest.py: {found}"
    assert len(files) > 50  # the scan really covered the tests


def test_what_draws_the_sign_in_screen_never_imports_the_orm():
    """`regdesk tui` shows the sign-in screen before SQLAlchemy is loaded (about half of a cold
    start); a top-level import of a station module on this path would quietly undo that."""
    first_frame = [
        "regdesk.cli",
        "regdesk.commands.common",
        "regdesk.commands.tui",
        "regdesk.services.station_front",
        "regdesk.store.queries.dbfile",
        "regdesk.tui.app",
        "regdesk.tui.screens.login",
        "regdesk.tui.widgets.status_bar",
        "regdesk.tui.widgets.sync_status",
        "regdesk.tui.dialogs.lock",
        "regdesk.tui.widgets.photo",
    ]
    loaded = _loaded_after_importing(first_frame, ("sqlalchemy", "numpy", "reportlab"))
    assert loaded == [], f"the sign-in path imports the station's heavy modules: {loaded[:5]}"


def test_the_index_builder_child_never_imports_the_orm_or_the_screens():
    """A large mirror's search index is built in a child process; what it imports is what it costs
    before building. A station or a screen imported on that path would add half a second to it."""
    builder = ["regdesk.services.index_build", "regdesk.services.search_index", "regdesk.services.search_cache"]
    loaded = _loaded_after_importing(builder, ("sqlalchemy", "textual", "reportlab", "regdesk.services.station"))
    assert loaded == []


def test_the_desk_screen_loads_neither_a_hub_driver_nor_the_pass_renderer():
    """The desk's screen and its auto-sync load when a clerk signs in: PostgreSQL's dialect (a hub is
    used only when a sync runs) and reportlab's pass sheet (printed by a supervisor) wait until used."""
    desk = ["regdesk.tui.screens.desk", "regdesk.tui.widgets.sync_status", "regdesk.services.sync"]
    loaded = _loaded_after_importing(desk, ("sqlalchemy.dialects.postgresql", "regdesk.render.passes"))
    assert loaded == []
