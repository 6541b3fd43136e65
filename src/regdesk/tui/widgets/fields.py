"""Forms that survive fast type-ahead ("ana⏎1111⏎" typed in one burst, or sent by tmux).

Textual queues each key on the focused widget. When Enter is handled by the field itself, the
keys typed after it are already queued on that same field, so moving the focus from an
`Input.Submitted` handler is too late: "ana⏎1111⏎" becomes "ana1111" in the first field.

`TypeAheadForm` binds Enter with priority on the screen, so the app runs it *before* forwarding
the next key, and moves the focus synchronously (`Screen.set_focus`, not `Widget.focus`, which is
deferred). After the last field it submits through `call_later` on that field, i.e. only once the
field has processed every key already queued on it.

Tab and Shift+Tab have the same hazard (a password manager types "ana⇥1111⏎"): Textual's own Tab
binding runs only after the key has bubbled up from the field, by which time the PIN is queued on
the name field. FORM_TAB / FORM_BACKTAB move the focus with priority instead.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Button

# Put this in the screen's own BINDINGS (Textual only merges BINDINGS of DOM classes, not mixins).
FORM_ENTER = Binding("enter", "form_enter", "Next", show=False, priority=True)
FORM_TAB = Binding("tab", "form_focus(1)", "Next field", show=False, priority=True)
FORM_BACKTAB = Binding("shift+tab", "form_focus(-1)", "Previous field", show=False, priority=True)
FORM_BINDINGS = [FORM_ENTER, FORM_TAB, FORM_BACKTAB]


class TypeAheadForm:
    """Mixin for a Screen: Enter walks through FORM_FIELDS (widget ids) and then calls `submit_form`."""

    FORM_FIELDS: tuple[str, ...] = ()

    def submit_form(self) -> None:  # pragma: no cover - screens override it
        raise NotImplementedError

    def action_form_focus(self, step: int) -> None:
        """Tab / Shift+Tab: the screen's usual focus order, but moved before the next key is forwarded."""
        focused = self.focused  # type: ignore[attr-defined]
        if getattr(focused, "mrz_reading", False):
            focused.mrz_line_end()  # a passport reader ending a line with Tab (widgets/mrz_input.py)
            return
        if step > 0:
            self.focus_next()  # type: ignore[attr-defined]
        else:
            self.focus_previous()  # type: ignore[attr-defined]

    def action_form_enter(self) -> None:
        focused = self.focused  # type: ignore[attr-defined]
        if getattr(focused, "mrz_reading", False):
            focused.mrz_line_end()  # a passport reader ending a line (widgets/mrz_input.py)
            return
        if isinstance(focused, Button):
            focused.press()
            return
        if focused is None or focused.id not in self.FORM_FIELDS:
            self.set_focus(self.query_one(f"#{self.FORM_FIELDS[0]}"))  # type: ignore[attr-defined]
            return
        index = self.FORM_FIELDS.index(focused.id)
        if index + 1 < len(self.FORM_FIELDS):
            self.set_focus(self.query_one(f"#{self.FORM_FIELDS[index + 1]}"))  # type: ignore[attr-defined]
        else:
            focused.call_later(self.submit_form)
