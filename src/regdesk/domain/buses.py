"""Bus directions, generic for any meeting: towards the venue's stop, or back to the hotels. Pure.

Early regdesk wrote the first meeting's venue into the value ("to_icc"). That value still arrives in old
event payloads (logs, bundles, hub rows), saved scan-point settings, event files and command lines, so
every way in goes through `bus_direction`, which maps it to "to_venue".
"""

from __future__ import annotations

TO_VENUE = "to_venue"
TO_HOTEL = "to_hotel"
BUS_DIRECTIONS = (TO_VENUE, TO_HOTEL)
LEGACY_DIRECTIONS = {"to_icc": TO_VENUE}


def bus_direction(value: str) -> str:
    """The direction as regdesk names it now: a legacy value is mapped, anything else is returned as it is
    (the caller decides whether it is one of BUS_DIRECTIONS)."""
    return LEGACY_DIRECTIONS.get(value, value)
