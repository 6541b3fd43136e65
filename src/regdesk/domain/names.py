"""Name folding: how "Lajčák", "LAJCAK" and "lajcak" become the same search key. Pure."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

# Letters that Unicode decomposition does not reduce to ASCII.
_SPECIAL = str.maketrans({
    "ß": "ss", "ẞ": "ss", "ø": "o", "Ø": "o", "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "ð": "d",
    "Ð": "d", "þ": "th", "Þ": "th", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe", "ı": "i",
    "ħ": "h", "Ħ": "h", "ŀ": "l", "Ŀ": "l", "ŋ": "ng", "Ŋ": "ng", "ĸ": "k",
    "’": "'", "‘": "'", "ʼ": "'", "`": "'",
})
_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case, accent-free, apostrophes and hyphens removed inside words.

    Non-Latin scripts are kept (folded case, marks removed) so a clerk can also type
    "Иванов" or "王" when the keyboard allows it.
    """
    text = unicodedata.normalize("NFKC", text).translate(_SPECIAL)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Arabic short vowels and tatweel are marks/format characters, drop them too.
    stripped = "".join(ch for ch in stripped if unicodedata.category(ch) not in ("Mn", "Cf") and ch != "ـ")
    stripped = stripped.replace("'", "")
    return stripped.casefold()


def words(text: str) -> list[str]:
    """Folded words; hyphenated and apostrophised names split into their parts."""
    return _WORD.findall(fold(text).replace("_", " "))


def participant_search_text(row: Mapping[str, str]) -> str:
    """All searchable words of a participant, folded and de-duplicated, space-separated."""
    parts = [
        row.get("given_names", ""), row.get("family_name", ""),
        row.get("given_names_latin", ""), row.get("family_name_latin", ""),
    ]
    seen: dict[str, None] = {}
    for part in parts:
        for word in words(part):
            seen.setdefault(word, None)
    return " ".join(seen)
