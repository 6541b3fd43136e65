"""`regdesk COMMAND` imports only the module of that command (the TUI's start does not wait for
the PDF renderer, numpy and the other commands' libraries), and every command still exists."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from regdesk import cli


def test_every_command_is_found_in_the_module_that_registers_it():
    registered: dict[str, str] = {}
    for name in cli.COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(name).register(sub)
        registered.update(dict.fromkeys(sub.choices, name))
    assert cli.COMMAND_MODULE_OF == registered


@pytest.mark.parametrize(
    "argv, command",
    [
        (["tui"], "tui"),
        (["--data-dir", "/x", "tui", "--clock", "2017-12-01T13:05"], "tui"),
        (["--clock", "2017-12-01T13:05", "--data-dir=/x", "search", "lauber"], "search"),
        (["--help"], None),
        ([], None),
    ],
)
def test_the_command_word_is_read_after_the_global_options(argv, command):
    assert cli.command_named(argv) == command


def test_the_terminal_ui_starts_without_the_renderer_and_numpy():
    probe = (
        "import sys\n"
        "from regdesk import cli\n"
        "cli.build_parser(cli.command_named(['--data-dir', '/x', 'tui'])).parse_args(['--data-dir', '/x', 'tui'])\n"
        "import regdesk.tui.app\n"
        "print(' '.join(m for m in ('numpy', 'reportlab', 'qrcode', 'rapidfuzz') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_an_unknown_command_is_refused_naming_the_known_ones(capsys):
    with pytest.raises(SystemExit):
        cli.main(["no-such-command"])
    assert "tui" in capsys.readouterr().err
