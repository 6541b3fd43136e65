"""Which screen each station role opens, as lazy import paths so the app loads only what it needs.

Each area adds its own line; `RegdeskApp` builds Textual MODES from this table.
"""

from __future__ import annotations

import importlib

# mode name -> "module:ScreenClass"
MODE_SCREENS: dict[str, str] = {}
MODE_SCREENS["security"] = "regdesk.tui.screens.security:SecurityScreen"
MODE_SCREENS["bus"] = "regdesk.tui.screens.bus:BusScreen"
MODE_SCREENS["desk"] = "regdesk.tui.screens.desk:DeskScreen"
MODE_SCREENS["supervisor"] = "regdesk.tui.screens.supervisor:SupervisorScreen"
MODE_SCREENS["audit"] = "regdesk.tui.screens.audit:AuditScreen"

# station role -> the mode it starts in
ROLE_START_MODE: dict[str, str] = {
    "desk": "desk",
    "security": "security",
    "bus": "bus",
    "supervisor": "supervisor",
}


def load_screen_class(mode: str) -> type:
    module_name, _, class_name = MODE_SCREENS[mode].partition(":")
    return getattr(importlib.import_module(module_name), class_name)
