"""The bar at the top of every screen: station, operator, sync indicator slot, local event time.

It reads the station and the signed-in operator from the app (`app.station`, `app.operator`) and
redraws the clock once a second from `station.clock` (the injected clock, so a rehearsal shows
1 December 2017, not today).
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from regdesk.clock import SystemClock
from regdesk.tui.widgets.sync_status import SyncStatusWidget

ROLE_LABELS = {"desk": "Registration desk", "security": "Security screening", "bus": "Bus stop",
               "supervisor": "Supervisor"}


# Below this width the bar drops the year, the zone and the word "Operator" so the clock always fits.
COMPACT_BELOW = 100


def format_local_time(moment: datetime, *, compact: bool = False) -> str:
    if compact:
        return moment.strftime("%a %d %b %H:%M:%S")
    return moment.strftime("%a %d %b %Y  %H:%M:%S")


class StatusBar(Horizontal):
    DEFAULT_CSS = """
    StatusBar {
        dock: top;
        height: 1;
        background: $primary-darken-2;
        color: $text;
    }
    StatusBar > Static { width: auto; padding: 0 1; }
    StatusBar > #status-app { text-style: bold; background: $primary; }
    /* The station name gives way first on a narrow terminal; the clock always stays visible. */
    StatusBar > #status-station { width: 1fr; text-style: bold; text-wrap: nowrap; text-overflow: ellipsis; }
    StatusBar > #status-operator { color: $text; }
    StatusBar > #sync-status { width: auto; height: 1; }
    StatusBar > #status-clock { text-style: bold; }
    StatusBar > #status-rehearsal { background: $warning; color: $background; text-style: bold; }
    """

    def compose(self) -> ComposeResult:
        station = self.app.station  # type: ignore[attr-defined]
        yield Static("regdesk", id="status-app")
        role = ROLE_LABELS.get(station.role, station.role)
        yield Static(Text(f"{station.name} · {role}"), id="status-station")
        yield Static("", id="status-operator")
        # The sync area owns what goes in this slot (online/offline, last sync, waiting events).
        yield Horizontal(SyncStatusWidget(), id="sync-status")
        if not isinstance(station.clock, SystemClock):
            yield Static("REHEARSAL", id="status-rehearsal")
        yield Static("", id="status-clock")

    _shown_operator: str | None = None

    def on_mount(self) -> None:
        self.tick()
        self.set_interval(1.0, self.tick)

    def on_resize(self) -> None:
        self.tick(relayout=True)

    def tick(self, relayout: bool = False) -> None:
        station = self.app.station  # type: ignore[attr-defined]
        operator = getattr(self.app, "operator", None)
        compact = 0 < self.size.width < COMPACT_BELOW
        prefix = "" if compact else "Operator: "
        who = f"{prefix}{operator.name} ({operator.role})" if operator else "Not signed in"
        if who != self._shown_operator:
            self._shown_operator = who
            self.query_one("#status-operator", Static).update(Text(who))
        local = station.config.local(station.clock.now())
        shown = format_local_time(local, compact=compact) + ("" if compact else f" {local.tzname()}")
        # Same width every second: repaint the clock only, no layout pass for the whole screen.
        self.query_one("#status-clock", Static).update(shown, layout=relayout)
