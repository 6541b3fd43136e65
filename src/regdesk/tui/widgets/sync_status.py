"""The sync indicator in the status bar, and the background auto-sync behind it.

One `AutoSync` (services/sync.py) per app. A timer owned by the app (so it survives screen and
mode switches) starts one short thread worker per cycle, every `sync_interval` seconds (station
setting, default 30): a cycle pushes and pulls when the station setting "hub_url" is set. The UI
thread never touches the network nor waits for a sync; every status bar's indicator just reads
the latest status once a second. No worker lives longer than one cycle, so
`app.workers.wait_for_complete()` keeps working for everyone.

Shows: online/offline (or "no hub"), the last sync in event-local time, and the events still
waiting to reach the hub. Clicking the indicator asks for a sync now.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import App
from textual.widgets import Static
from textual.worker import get_current_worker

if TYPE_CHECKING:  # the sync service comes with the opened station, after the first frame
    from regdesk.services.station import Station
    from regdesk.services.station_front import StationFront
    from regdesk.services.sync import AutoSync, SyncStatus

_APP_ATTRIBUTE = "_regdesk_auto_sync"


def start_cycle(app: App, runner: AutoSync) -> None:
    """One sync cycle in a thread worker, unless one is already running."""
    if runner.busy:
        return
    runner.busy = True

    def work() -> None:
        worker = get_current_worker()
        runner.cycle(lambda: worker.is_cancelled)

    app.run_worker(
        work, thread=True, group="auto-sync", name="auto-sync", exit_on_error=False, description="sync with the hub"
    )


def auto_sync_for(app: App) -> AutoSync:
    """The app's auto-sync runner; the first call starts its timer and a first cycle."""
    runner: AutoSync | None = getattr(app, _APP_ATTRIBUTE, None)
    if runner is None:
        from regdesk.services.sync import AutoSync

        runner = AutoSync(app.station)  # type: ignore[attr-defined]
        setattr(app, _APP_ATTRIBUTE, runner)
        app.set_interval(runner.interval, lambda: start_cycle(app, runner), name="auto-sync")
        start_cycle(app, runner)
    return runner


def _when(station: Station | StationFront, moment: datetime | None) -> str:
    if moment is None:
        return "never"
    local = station.config.local(moment)
    today = station.config.local(station.clock.now()).date()
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%a %d %b %H:%M")


def describe(station: Station | StationFront, status: SyncStatus) -> tuple[str, str]:
    """(text, css class) for a status."""
    waiting = "" if status.waiting is None else f" · {status.waiting} waiting"
    if not status.hub:
        return f"○ sync off (no hub){waiting if status.waiting else ''}", "sync-none"
    if status.online is None:
        return f"… syncing · last {_when(station, status.last_sync)}{waiting}", "sync-pending"
    if status.online:
        return f"● online · synced {_when(station, status.last_sync)}{waiting}", "sync-online"
    return f"○ OFFLINE · last sync {_when(station, status.last_sync)}{waiting}", "sync-offline"


class SyncStatusWidget(Static):
    DEFAULT_CSS = """
    SyncStatusWidget { width: auto; height: 1; padding: 0 1; }
    SyncStatusWidget.sync-online { color: $success; }
    SyncStatusWidget.sync-offline { color: $background; background: $warning; text-style: bold; }
    SyncStatusWidget.sync-pending { color: $text-muted; }
    SyncStatusWidget.sync-none { color: $text-muted; }
    """

    _shown: tuple[str, str, str] | None = None

    runner: AutoSync | None = None

    def on_mount(self) -> None:
        # Drawn on the sign-in screen while the station may still be opening: the runner (and its
        # first reading of the log) waits for it, the indicator says so meanwhile.
        self.update(Text("… opening the station"))
        when_ready = getattr(self.app, "when_station_ready", None)
        if when_ready is None:  # an app that holds an opened station and no front
            self._station_ready()
        else:
            when_ready(self._station_ready)
        self.set_interval(1.0, self.refresh_status)

    def _station_ready(self) -> None:
        if not self.is_attached:
            return
        self.runner = auto_sync_for(self.app)
        self.refresh_status()

    def refresh_status(self) -> None:
        if self.runner is None:
            return
        status = self.runner.latest
        front = getattr(self.app, "front", None) or self.app.station  # type: ignore[attr-defined]
        text, css = describe(front, status)
        tip = status.message or (
            f"hub {status.hub}"
            if status.hub
            else "no hub: `regdesk sync --hub URL --remember` turns background sync on"
        )
        if (text, css, tip) == self._shown:
            return  # nothing changed: no repaint, no layout pass
        self._shown = (text, css, tip)
        self.update(Text(text))
        self.tooltip = tip
        self.set_classes(css)

    def on_click(self) -> None:
        if self.runner is not None:
            start_cycle(self.app, self.runner)
