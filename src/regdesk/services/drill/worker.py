"""One station of the drill: a long-lived process executing its script through the services.

    python -m regdesk.services.drill.worker CONFIG.json

Each action waits for its moment on the drill's fast clock (simulated minutes per real second),
sets the station's clock to the action's simulated time and calls the same services the CLI and
the TUI call. Its journal (journal.jsonl, fsync'd) says which actions were acknowledged and which
events each one committed, so a `kill -9` at any moment can be told apart from a lost event: on
restart an action started but not acknowledged is checked against the station's own log (committed:
acknowledged now as recovered; not: done again). Sync runs in a thread beside the actions (as the
TUI's auto-sync does), so a scan can meet a pull merging; every call is timed with perf_counter.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event as sa_event

from regdesk.clock import FixedClock
from regdesk.services import accreditation, bundles, collection, desk
from regdesk.services.drill.faults import Faults
from regdesk.services.drill.plan import OPERATOR, local_at
from regdesk.services.scanning import Scanner, ScanPoint
from regdesk.services.station import Station, open_station
from regdesk.services.sync import Hub, sync_in_use, sync_once
from regdesk.store.queries import badges as badge_queries
from regdesk.store.queries import events as event_queries

AUTHORISATION = "Note verbale of the Permanent Mission, ref. GCM/2017/114"


class Journal:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.acked: dict[int, dict[str, Any]] = {}
        self.started: int | None = None
        if path.exists():
            for line in path.read_text().splitlines():
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by kill -9 was never acknowledged
                if "start" in entry:
                    self.started = entry["start"]
                elif "ack" in entry:
                    self.acked[entry["ack"]] = entry
                    self.started = None
        self._file = path.open("a")

    def write(self, entry: dict[str, Any], *, durable: bool = True) -> None:
        """Flushed to the OS (a kill -9 cannot lose it); acknowledgements also fsync'd (nor can a power cut)."""
        self._file.write(json.dumps(entry) + "\n")
        self._file.flush()
        if durable:
            os.fsync(self._file.fileno())


class Metrics:
    def __init__(self, path: Path) -> None:
        self._file = path.open("a", buffering=1)
        self._lock = threading.Lock()

    def write(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._file.write(json.dumps(entry) + "\n")


class Worker:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.key = config["station"]
        self.role = config["role"]
        self.operator = OPERATOR[self.role]
        self.faults = Faults.from_json(config["faults"])
        self.clock = FixedClock(local_at(0))
        self.station: Station = open_station(Path(config["data_dir"]), clock=self.clock)
        self.journal = Journal(Path(config["journal"]))
        self.metrics = Metrics(Path(config["metrics"]))
        self.script: list[dict[str, Any]] = json.loads(Path(config["script"]).read_text())
        self.scanner: Scanner | None = None
        self.lock_at = 0.0
        self.merging = threading.Event()
        self.sync_thread: threading.Thread | None = None
        self.hub: Hub | None = None
        self.first_unpushed: float | None = None
        self.usb = Path(config["usb"])
        self.restarted = bool(self.journal.acked) or self.journal.started is not None

    # --- own events ------------------------------------------------------------------------------
    def own_seq(self) -> int:
        with self.station.sessions() as session:
            return event_queries.newest_seq(session, self.station.station_id)

    def own_events_after(self, seq: int) -> list[str]:
        with self.station.sessions() as session:
            return event_queries.ids_after(session, self.station.station_id, seq)

    # --- scanning ----------------------------------------------------------------------------------
    def point(self) -> ScanPoint:
        return ScanPoint(self.config["point_kind"], self.config["point_code"], self.config.get("point_direction", ""))

    def get_scanner(self) -> Scanner:
        if self.scanner is None:
            self.scanner = Scanner(self.station, self.operator, self.point())
            sa_event.listen(self.scanner._session, "after_begin", self._locked)
        return self.scanner

    def _locked(self, *_args: Any) -> None:
        self.lock_at = time.perf_counter()

    def token_of(self, pid: str, *, revoked: bool) -> str | None:
        with self.station.sessions() as session:
            return badge_queries.latest_token(session, pid, revoked=revoked)

    def timed_scan(self, token: str) -> dict[str, Any]:
        scanner = self.get_scanner()
        merging = self.merging.is_set()
        self.lock_at = 0.0
        t0 = time.perf_counter()
        result = scanner.scan(token)
        t1 = time.perf_counter()
        lock_ms = (self.lock_at - t0) * 1000 if self.lock_at else None
        return {
            "ms": (t1 - t0) * 1000,
            "lock_ms": lock_ms,
            "merging": merging or self.merging.is_set(),
            "outcome": str(result.outcome),
            "serial": result.serial,
        }

    # --- sync ------------------------------------------------------------------------------------
    def sync(self, at: float) -> dict[str, Any]:
        if not self.faults.hub_reachable(self.key, at):
            window = self.faults.hub_outage
            if window[0] <= at < window[1]:
                # The hub is down: a real attempt against a port nobody answers.
                t0 = time.perf_counter()
                try:
                    with Hub(self.config["dead_hub_url"]) as hub:
                        sync_once(self.station, hub)
                    outcome = "unexpectedly reached"
                except Exception as exc:  # noqa: BLE001 - what the station shows: hub unreachable
                    outcome = f"hub down: {type(exc).__name__}"
                return {"ok": False, "outcome": outcome, "ms": (time.perf_counter() - t0) * 1000}
            return {"ok": False, "outcome": "offline"}
        if self.sync_thread is not None and self.sync_thread.is_alive():
            return {"ok": False, "outcome": "previous sync still running"}
        self.sync_thread = threading.Thread(target=self._sync_run, args=(at,), daemon=True)
        self.merging.set()
        self.sync_thread.start()
        return {"ok": True, "outcome": "started"}

    def _sync_run(self, at: float) -> None:
        first = self.first_unpushed
        t0 = time.perf_counter()
        try:
            if self.hub is None:
                self.hub = Hub(self.config["hub_url"])
            report = sync_in_use(self.station, self.hub)  # as the TUI's auto-sync does
            entry = {
                "do": "sync_done",
                "at": at,
                "ms": (time.perf_counter() - t0) * 1000,
                "pushed": report.pushed,
                "pulled": report.pulled,
                "added": report.added,
                "ok": True,
                "lag_min": (at - first) if first is not None else None,
            }
            if self.first_unpushed == first:
                self.first_unpushed = None
        except Exception as exc:  # noqa: BLE001 - recorded; the next cycle tries again
            entry = {
                "do": "sync_done",
                "at": at,
                "ok": False,
                "error": f"{type(exc).__name__}: {exc}"[:300],
                "ms": (time.perf_counter() - t0) * 1000,
            }
            if self.hub is not None:
                self.hub.close()
                self.hub = None
        finally:
            self.merging.clear()
        self.metrics.write(entry)

    def wait_sync(self) -> None:
        if self.sync_thread is not None:
            self.sync_thread.join()

    # --- actions ---------------------------------------------------------------------------------
    def issue(self, pid: str, *, replace: bool = False) -> dict[str, Any]:
        t0 = time.perf_counter()
        desk.record_identity_check(self.station, pid, "passport", f"P{abs(hash(pid)) % 10**7:07d}", self.operator)
        try:
            badge = desk.issue_badge(self.station, pid, operator=self.operator, replace=replace)
            outcome: dict[str, Any] = {"outcome": "issued", "serial": badge.serial, "replaced": badge.replaced_serial}
        except desk.IssueRefused as refused:
            outcome = {"outcome": "refused", "reason": str(refused.refusal)}
        outcome["ms"] = (time.perf_counter() - t0) * 1000
        return outcome

    def collect(self, collector: str, members: list[str]) -> dict[str, Any]:
        own = self.issue(collector)
        t0 = time.perf_counter()
        try:
            result = collection.issue_batch(
                self.station,
                members,
                collector_id=collector,
                authorisation=AUTHORISATION,
                check=collection.CollectorCheck("passport", "4417"),
                operator=self.operator,
                only_fitting=True,
            )
            serials = [m.serial for m in result.issued if getattr(m, "serial", None)]
            outcome: dict[str, Any] = {
                "outcome": "collected",
                "issued": len(result.issued),
                "refused": len(result.refused),
                "serials": serials,
            }
        except desk.DeskError as exc:
            outcome = {"outcome": "refused", "reason": str(exc)[:200]}
        outcome["ms"] = (time.perf_counter() - t0) * 1000
        outcome["collector"] = own
        return outcome

    def wait_file(self, path: Path, timeout: float = 120.0) -> bool:
        deadline = time.monotonic() + timeout
        while not path.exists():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)
        return True

    def run_action(self, action: dict[str, Any]) -> dict[str, Any]:
        do = action["do"]
        if do == "sync":
            return self.sync(action["at"])
        if do == "issue":
            return self.issue(action["pid"])
        if do == "replace":
            return self.issue(action["pid"], replace=True)
        if do == "collect":
            return self.collect(action["collector"], action["members"])
        if do == "reimport":
            t0 = time.perf_counter()
            report = accreditation.import_file(
                self.station, Path(self.config["update_csv"]), operator=self.operator, allow_mass_withdrawal=True
            )
            return {"outcome": "imported", "counts": report.counts, "ms": (time.perf_counter() - t0) * 1000}
        if do in ("scan", "board", "scan_old"):
            token = self.token_of(action["pid"], revoked=do == "scan_old")
            if token is None:
                return {"outcome": "no badge known here" if do != "scan_old" else "no replaced badge known here"}
            return self.timed_scan(token)
        if do == "forged":
            real = self.token_of_any()
            forged = (real[:-6] + ("AAAAAA" if not real.endswith("AAAAAA") else "BBBBBB")) if real else "GCM17-FORGED"
            return self.timed_scan(forged)
        if do == "depart":
            scanner = self.get_scanner()
            t0 = time.perf_counter()
            boarded = scanner.headcount
            scanner.close_departure()
            return {"outcome": "departed", "boarded": boarded, "ms": (time.perf_counter() - t0) * 1000}
        if do == "bundle_out":
            path = self.usb / f"{action['night']}-{self.key}.gz"
            result = bundles.export_bundle(self.station, path.with_suffix(".part"))
            path.with_suffix(".part").rename(path)
            return {"outcome": "bundle written", "events": result.count}
        if do == "relay":
            incoming = self.usb / f"{action['night']}-bus-vel.gz"
            received = 0
            if self.wait_file(incoming):
                received = bundles.import_bundle(self.station, incoming).received
            self.wait_sync()
            if self.faults.hub_reachable(self.key, action["at"]):
                with Hub(self.config["hub_url"]) as hub:
                    sync_once(self.station, hub)
            out = self.usb / f"{action['night']}-hub.gz"
            result = bundles.export_bundle(self.station, out.with_suffix(".part"))
            out.with_suffix(".part").rename(out)
            return {"outcome": "relayed", "received": received, "sent": result.count}
        if do == "bundle_in":
            incoming = self.usb / f"{action['night']}-hub.gz"
            if not self.wait_file(incoming):
                return {"outcome": "no bundle came"}
            return {"outcome": "bundle read", "received": bundles.import_bundle(self.station, incoming).received}
        raise ValueError(f"unknown drill action {do!r}")

    def token_of_any(self) -> str | None:
        with self.station.sessions() as session:
            return badge_queries.any_token(session)

    def recover(self) -> None:
        """After a kill -9: was the action in flight committed? Its events say so."""
        started = self.journal.started
        if started is None:
            return
        last = max((e.get("seq_after", 0) for e in self.journal.acked.values()), default=self.config["seq0"])
        committed = self.own_events_after(last)
        action = self.script[started]
        if committed and action["do"] != "sync":
            self.journal.write(
                {
                    "ack": started,
                    "events": committed,
                    "seq_after": self.own_seq(),
                    "recovered": True,
                    "do": action["do"],
                }
            )
            self.journal.acked[started] = {"ack": started}
        self.journal.started = None

    def run(self) -> int:
        self.recover()
        t0 = float(self.config["t0"])
        speed = float(self.config["speed"])  # simulated minutes per real second
        self.metrics.write({"do": "start", "restarted": self.restarted, "wall": time.time()})
        for action in self.script:
            i = action["i"]
            if i in self.journal.acked:
                continue
            due = t0 + action["at"] / speed
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            late = max(0.0, time.time() - due) * speed
            self.clock.set(local_at(action["at"]))
            if action["do"] == "sync":
                result = self.run_action(action)
                self.metrics.write({"do": "sync", "i": i, "at": action["at"], **result})
                continue
            seq = self.own_seq()
            self.journal.write({"start": i}, durable=False)
            result = self.run_action(action)
            events = self.own_events_after(seq)
            if events and self.first_unpushed is None:
                self.first_unpushed = action["at"]
            self.journal.write(
                {
                    "ack": i,
                    "do": action["do"],
                    "events": events,
                    "seq_after": seq + len(events),
                    **{k: v for k, v in result.items() if k in ("serial", "serials", "outcome")},
                }
            )
            self.metrics.write({"do": action["do"], "i": i, "at": action["at"], "late_min": late, **result})
        self.wait_sync()
        if self.scanner is not None:
            self.scanner.close()
        self.metrics.write({"do": "end", "wall": time.time()})
        self.journal.write({"done": True})
        self.station.close()
        return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    config = json.loads(Path(argv[0]).read_text())
    return Worker(config).run()


if __name__ == "__main__":
    raise SystemExit(main())
