"""Where each screen of authority.SCREENS lives, as lazy import paths so the app loads only what
it needs. Who may open which screen is decided in domain/authority.py, not here."""

from __future__ import annotations

import importlib

from regdesk.domain.authority import START_SCREEN as ROLE_START_MODE

# mode name -> "module:ScreenClass"
MODE_SCREENS: dict[str, str] = {
    "desk": "regdesk.tui.screens.desk:DeskScreen",
    "security": "regdesk.tui.screens.security:SecurityScreen",
    "bus": "regdesk.tui.screens.bus:BusScreen",
    "supervisor": "regdesk.tui.screens.supervisor:SupervisorScreen",
    "audit": "regdesk.tui.screens.audit:AuditScreen",
}

__all__ = ["MODE_SCREENS", "ROLE_START_MODE", "load_screen_class"]


def load_screen_class(mode: str) -> type:
    module_name, _, class_name = MODE_SCREENS[mode].partition(":")
    return getattr(importlib.import_module(module_name), class_name)
