"""Keeping the garbage collector's passes off the screen's critical path.

Two kinds of pause: a full pass walks every object the process holds (100-300 ms at a desk with its
search index of 100,000 participants); a young pass walks what was made since the last one, and
Python starts one every 700 new objects, so several a second land in the middle of a scan or a
keystroke while a frame's strips and segments are being made (a few milliseconds each, up to ten
when one reaches the older generations). Both are moved to moments when nobody waits: what lives
for the session is frozen once its screen is up (`settle_heap`), the automatic young passes wait
for many more objects, and a screen collects its young objects itself once an answer is painted
(`tidy_heap`, after the frame, while the next person steps up).
"""

from __future__ import annotations

import gc

# New objects before Python starts a young pass by itself: a scan or a keystroke makes a few
# thousand, so the automatic pass rarely falls inside one; `tidy_heap` collects them in between.
YOUNG_OBJECTS = 20_000


def settle_heap() -> None:
    """Move every object alive now out of the cyclic garbage collector's sight (gc.freeze), and let
    young passes wait for `YOUNG_OBJECTS` new objects.

    What exists once a screen is up lives for the whole session; objects made afterwards are
    collected as usual, and frozen ones are still freed when nothing refers to them (reference
    counting)."""
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, older, oldest)


def tidy_heap() -> None:
    """Collect the young generations now (a moment when no one waits for the screen): the cycles a
    scan or a search left behind are freed here, not by an automatic pass during the next one."""
    gc.collect(1)
