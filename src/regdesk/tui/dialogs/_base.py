"""Shared look for the desk dialogs: a centred card on a dimmed screen."""

from __future__ import annotations

DIALOG_CSS = """
{name} {
    align: center middle;
    background: $background 70%;
}
{name} > #dialog {
    width: 72;
    height: auto;
    max-height: 90%;
    padding: 1 2;
    border: thick $primary;
    background: $surface;
}
{name} .dialog-title { text-style: bold; width: 100%; margin-bottom: 1; color: $text; }
{name} .dialog-text { width: 100%; margin-bottom: 1; }
{name} .dialog-label { margin-top: 1; color: $text-muted; }
{name} .dialog-error { color: $error; text-style: bold; height: auto; margin-top: 1; }
{name} .dialog-buttons { height: auto; width: 100%; align-horizontal: right; margin-top: 1; }
{name} .dialog-buttons Button { margin-left: 2; }
"""


def dialog_css(name: str) -> str:
    return DIALOG_CSS.replace("{name}", name)
