"""Keeping the garbage collector's full passes off the screen's critical path."""

from __future__ import annotations

import gc


def settle_heap() -> None:
    """Move every object alive now out of the cyclic garbage collector's sight (gc.freeze).

    A full collection walks every object the process holds: with a station, its screens and, at a
    desk, a search index of 100,000 participants, that is 100-300 ms during which nothing is
    painted, at moments chosen by allocation counts (mid-scan, mid-keystroke). What exists once a
    screen is up lives for the whole session; objects made afterwards are collected as usual, and
    frozen ones are still freed when nothing refers to them (reference counting)."""
    gc.freeze()
