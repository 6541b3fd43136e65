"""Shared look for the desk dialogs: a centred card on a dimmed screen.

Dialogs that mix in `FitsSmallTerminals` get the classes -short (under 32 rows) and -narrow (under
76 columns) and tighten up accordingly: one-line fields and buttons, no spacing lines, so every
field and button is on screen at 80×24.
"""

from __future__ import annotations

from typing import ClassVar

DIALOG_CSS = """
{name} {
    align: center middle;
    background: $background 70%;
}
{name} > #dialog {
    width: 72;
    max-width: 100%;
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

{name}.-short > #dialog { max-height: 100%; padding: 0 2; }
{name}.-short .dialog-title { margin-bottom: 0; }
{name}.-short .dialog-text { margin-bottom: 0; }
{name}.-short .dialog-text.-secondary { display: none; }
{name}.-short .dialog-label { margin-top: 0; }
{name}.-short .dialog-error { margin-top: 0; }
{name}.-short .dialog-buttons { margin-top: 0; }
{name}.-short .dialog-buttons Button { height: 1; border: none; min-width: 12; }
{name}.-short Input { height: 1; border: none; padding: 0 1; background: $panel-lighten-1; }
{name}.-short Input:focus { background: $primary 40%; }
{name}.-short SelectCurrent { height: 1; border: none; padding: 0 1; background: $panel-lighten-1; }
{name}.-short Select:focus > SelectCurrent { background: $primary 40%; }
{name}.-narrow > #dialog { width: 100%; }
"""


def dialog_css(name: str) -> str:
    return DIALOG_CSS.replace("{name}", name)


class FitsSmallTerminals:
    """Mixin for a dialog (before ModalScreen in the bases): size classes for small terminals."""

    VERTICAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-short"), (32, "-tall")]
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]]] = [(0, "-narrow"), (76, "-wide")]
