"""What goes wrong during the drill (pure, by seed): the runner and the workers read this plan.

- a desk offline for hours (desk-3, Saturday 10:00-16:00): it keeps issuing, syncs nothing;
- a bus stop that never reaches the hub (Velas Vallarta): its events travel by bundle each night,
  relayed by the supervisor (in the plan's scripts);
- a hub outage (Monday 13:00-14:30): every station's sync meets a hub that does not answer;
- kill -9 of station workers at random moments, restarted a little later;
- kill -9 of the real `regdesk issue` mid-work (plan.cli_issues), retried by the clerk;
- two clerks issuing to the same person on partitioned desks (plan.expected_conflicts).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from regdesk.services.drill.plan import STATIONS, ZONE, minutes

OFFLINE_DESK = "desk-3"
OFFLINE = (minutes(datetime(2017, 12, 2, 10, 0, tzinfo=ZONE)), minutes(datetime(2017, 12, 2, 16, 0, tzinfo=ZONE)))
HUB_OUTAGE = (minutes(datetime(2017, 12, 4, 13, 0, tzinfo=ZONE)), minutes(datetime(2017, 12, 4, 14, 30, tzinfo=ZONE)))
BUNDLE_ONLY = "bus-vel"


@dataclass(frozen=True)
class Kill:
    station: str
    at: float  # simulated minute at which the worker is killed (kill -9)
    restart_after: float  # real seconds before it is started again


@dataclass
class Faults:
    offline: dict[str, tuple[float, float]] = field(default_factory=dict)
    hub_outage: tuple[float, float] = HUB_OUTAGE
    bundle_only: tuple[str, ...] = (BUNDLE_ONLY,)
    kills: list[Kill] = field(default_factory=list)

    def hub_reachable(self, station: str, minute: float) -> bool:
        """False while the station is cut off (its own partition) or the hub is down."""
        if station in self.bundle_only:
            return False
        window = self.offline.get(station)
        if window and window[0] <= minute < window[1]:
            return False
        return not (self.hub_outage[0] <= minute < self.hub_outage[1])

    def as_json(self) -> dict[str, Any]:
        return {
            "offline": {k: list(v) for k, v in self.offline.items()},
            "hub_outage": list(self.hub_outage),
            "bundle_only": list(self.bundle_only),
            "kills": [{"station": k.station, "at": k.at, "restart_after": k.restart_after} for k in self.kills],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Faults:
        return cls(
            {k: (v[0], v[1]) for k, v in data["offline"].items()},
            (data["hub_outage"][0], data["hub_outage"][1]),
            tuple(data["bundle_only"]),
            [Kill(k["station"], k["at"], k["restart_after"]) for k in data["kills"]],
        )


def build(seed: int, span_minutes: float, *, kills: int = 6) -> Faults:
    rng = random.Random(seed * 31 + 5)
    stations = [key for key, _, _ in STATIONS]
    plan = [
        Kill(rng.choice(stations), round(rng.uniform(60, span_minutes - 600), 2), round(rng.uniform(0.3, 1.5), 2))
        for _ in range(kills)
    ]
    # Always one desk during Friday's peak and one entrance on Monday morning.
    plan.append(Kill("desk-1", minutes(datetime(2017, 12, 1, 14, 20, tzinfo=ZONE)), 0.5))
    plan.append(Kill("icc-main", minutes(datetime(2017, 12, 4, 8, 30, tzinfo=ZONE)), 0.5))
    plan.sort(key=lambda k: k.at)
    return Faults({OFFLINE_DESK: OFFLINE}, HUB_OUTAGE, (BUNDLE_ONLY,), plan)
