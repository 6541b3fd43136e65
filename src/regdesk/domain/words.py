"""Counting words in English: "1 entry", "2 entries", "1,234 badges". Pure.

Every screen and report that puts a number in front of a noun goes through `plural`, so no
screen ever says "1 entries today" again.
"""

from __future__ import annotations


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """`count` and the noun that agrees with it, with a thousands separator.

    The plural defaults to singular + "s"; give it when English does something else
    ("entry"/"entries", "person"/"people", "bus"/"buses").
    """
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"


def noun(count: int, singular: str, plural_form: str | None = None) -> str:
    """Only the noun that agrees with `count` (for "N" drawn elsewhere, e.g. in a table cell)."""
    return singular if count == 1 else (plural_form or singular + "s")
