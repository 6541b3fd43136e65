"""The bar at the top of every screen: station, operator, sync indicator slot, local event time.

It reads the station's front and the signed-in operator from the app (`app.front`, `app.operator`:
the bar is drawn before the station has opened) and redraws the clock once a second from its
clock (the injected clock, so a rehearsal shows 1 December 2017, not today).
"""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from regdesk.clock import SystemClock
from regdesk.domain.authority import STATION_ROLE_LABELS
from regdesk.tui.widgets.sync_status import SyncStatusWidget

COMPACT_COLUMNS = 120  # below: no app name, no role, a shorter clock: the clock is never cut


def format_local_time(moment: datetime, *, compact: bool = False) -> str:
    if compact:
        return moment.strftime("%a %d %b %H:%M:%S")
    return f"{moment:%a %d %b %Y  %H:%M:%S} {moment.tzname()}"


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
    StatusBar.-compact > #status-app { display: none; }
    """

    def compose(self) -> ComposeResult:
        station = self.app.front  # type: ignore[attr-defined]
        yield Static("regdesk", id="status-app")
        role = STATION_ROLE_LABELS.get(station.role, station.role)
        self._station_text = (Text(f"{station.name} · {role}"), Text(station.name))
        yield Static(self._station_text[0], id="status-station")
        yield Static("", id="status-operator")
        # The sync area owns what goes in this slot (online/offline, last sync, waiting events).
        yield Horizontal(SyncStatusWidget(), id="sync-status")
        if not isinstance(station.clock, SystemClock):
            yield Static("REHEARSAL", id="status-rehearsal")
        yield Static("", id="status-clock")

    _shown_operator: str | None = None
    compact = False

    def on_mount(self) -> None:
        self._fit(self.app.size.width)
        self.set_interval(1.0, self.tick)

    def on_resize(self) -> None:
        self._fit(self.app.size.width)

    def _fit(self, width: int) -> None:
        self.compact = width < COMPACT_COLUMNS
        self.set_class(self.compact, "-compact")
        self.query_one("#status-station", Static).update(self._station_text[1 if self.compact else 0])
        self._shown_operator = None
        self.tick(layout=True)

    def tick(self, layout: bool = False) -> None:
        station = self.app.front  # type: ignore[attr-defined]
        operator = getattr(self.app, "operator", None)
        if operator is None:
            who = "Not signed in"
        else:
            who = operator.name if self.compact else f"Operator: {operator.name} ({operator.role})"
        if who != self._shown_operator:
            self._shown_operator = who
            self.query_one("#status-operator", Static).update(Text(who))
        local = station.config.local(station.clock.now())
        # Same width every second: repaint the clock only, no layout pass for the whole screen.
        self.query_one("#status-clock", Static).update(format_local_time(local, compact=self.compact), layout=layout)
