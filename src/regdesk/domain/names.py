"""Name folding: how "Lajčák", "LAJCAK" and "lajcak" become the same search key. Pure."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters that Unicode decomposition does not reduce to ASCII.
_SPECIAL = str.maketrans(
    {
        "ß": "ss",
        "ẞ": "ss",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "þ": "th",
        "Þ": "th",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ı": "i",
        "ħ": "h",
        "Ħ": "h",
        "ŀ": "l",
        "Ŀ": "l",
        "ŋ": "ng",
        "Ŋ": "ng",
        "ĸ": "k",
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
    }
)
_WORD = re.compile(r"\w+", re.UNICODE)


def fold(text: str) -> str:
    """Lower-case, accent-free, apostrophes and hyphens removed inside words.

    Non-Latin scripts are kept (folded case, marks removed) so a clerk can also type
    "Иванов" or "王" when the keyboard allows it.
    """
    if text.isascii():  # most exports: nothing to decompose, only apostrophes and case
        return text.replace("`", "").replace("'", "").lower()
    return _fold_unicode(text)


@lru_cache(maxsize=65536)  # name parts repeat a lot (100k participants share far fewer names)
def _fold_unicode(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_SPECIAL)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    # Arabic short vowels and tatweel are marks/format characters, drop them too.
    stripped = "".join(ch for ch in stripped if unicodedata.category(ch) not in ("Mn", "Cf") and ch != "ـ")
    stripped = stripped.replace("'", "")
    return stripped.casefold()


def words(text: str) -> list[str]:
    """Folded words; hyphenated and apostrophised names split into their parts."""
    return list(word_tuple(text))


@lru_cache(maxsize=131072)  # an import folds 4 name parts per participant; most parts recur
def word_tuple(text: str) -> tuple[str, ...]:
    """`words` as a cached tuple (do not mutate what you get: it is shared)."""
    return tuple(_WORD.findall(fold(text).replace("_", " ")))


# Scripts written without spaces between the parts of a name: each character is a search word,
# so "王小明" finds family name 王 + given names 小明 whichever way the clerk types it.
_CHAR_WORDS = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0002fa1f]")

# Usual spellings on keyboards without the letter: Jürg = Juerg, Bjørn = Bjoern, Åsa = Aasa.
_TRANSCRIBE = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "å": "aa",
        "Å": "Aa",
        "ø": "oe",
        "Ø": "Oe",
        "æ": "ae",
        "Æ": "Ae",
    }
)


def search_words(text: str) -> list[str]:
    """Folded words for searching: like `words`, with CJK/Hangul/kana split into single characters."""
    found = words(text)
    if text.isascii():
        return found
    out: list[str] = []
    for word in found:
        if _CHAR_WORDS.search(word):
            out.extend(part for part in _CHAR_WORDS.sub(lambda m: f" {m.group(0)} ", word).split())
        else:
            out.append(word)
    return out


def alternate_words(text: str) -> list[str]:
    """Other ways a clerk may type this name, as extra folded search words.

    German/Nordic transcriptions (Jürg → juerg) and the parts of names joined by an apostrophe
    (O'Brien → o, brien; the folded word itself is obrien).
    """
    extra: list[str] = []
    if "'" in text or "\u2019" in text or "`" in text:
        extra += words(re.sub("['\u2019`]", " ", text))
    if not text.isascii():
        transcribed = text.translate(_TRANSCRIBE)
        if transcribed != text:
            extra += words(transcribed)
    return extra


def spellings(text: str) -> list[tuple[str, ...]]:
    """The folded words of a name as a document may spell it: the usual folding (Jürg → jurg) and
    the keyboard/passport transcription (Jürg → juerg, Bjørn → bjoern), without repeats."""
    found = [word_tuple(text)]
    if not text.isascii():
        transcribed = word_tuple(text.translate(_TRANSCRIBE))
        if transcribed not in found:
            found.append(transcribed)
    return found


# --- how a name is shown -------------------------------------------------------------------------
# One rule for every screen, list and report (the badge prints the same order, with the family name in
# capitals: render/badge.py). Chinese, Japanese and Korean names go family first, unspaced, as their
# holders write them; their Latin rendering goes family first too ("WANG Xiaoming" on the badge).

_FAMILY_FIRST_SCRIPTS = ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH", "HIRAGANA", "KATAKANA", "HANGUL")


def written_family_first(text: str) -> bool:
    """True when `text` holds Chinese, Japanese or Korean letters."""
    return any(unicodedata.name(ch, "").startswith(_FAMILY_FIRST_SCRIPTS) for ch in text if ord(ch) > 0x2E7F)


def display_name(given: str, family: str) -> str:
    """A participant's name as people read it: "Jürg Lauber", "王小明"."""
    given, family = given.strip(), family.strip()
    if written_family_first(family + given):
        return f"{family}{given}"
    return " ".join(part for part in (given, family) if part)


def latin_display_name(given_latin: str, family_latin: str, *, given: str = "", family: str = "") -> str:
    """The Latin rendering of a name, in the order of the name it renders ("Wang Xiaoming" for 王小明)."""
    given_latin, family_latin = given_latin.strip(), family_latin.strip()
    order = (family_latin, given_latin) if written_family_first(family + given) else (given_latin, family_latin)
    return " ".join(part for part in order if part)
