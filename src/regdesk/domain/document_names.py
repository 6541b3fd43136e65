"""Does the name on a travel document belong to this accreditation? Pure.

An MRZ writes names in A-Z with transliterations (Jürg → JUERG or JURG, Lajčák → LAJCAK,
O'Brien → OBRIEN, Gómez Camacho → GOMEZ<CAMACHO), and a long name may be cut at the end of its
field. Names are compared folded as the desk's search folds them (domain/names.py), in every form
the list holds (as in passport, and the Latin rendering):

- family names agree when their letters agree, spaces, hyphens and apostrophes aside (a cut name
  agrees with the start of the listed one);
- given names agree when one side's names are the other's first names ("ANNA MARIA" on the
  passport, "Anna" on the list), since lists often carry only the first given name;
- "close" is one slip of a letter in a name of 5 letters or more (Tatyana / TATIANA): never a
  match, only a hint for the clerk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz.distance import OSA

from regdesk.domain.names import spellings, word_tuple


class Agreement(StrEnum):
    SAME = "same"
    CLOSE = "close"
    DIFFERENT = "different"


_ORDER = {Agreement.SAME: 0, Agreement.CLOSE: 1, Agreement.DIFFERENT: 2}
CLOSE_MIN_LETTERS = 5


@dataclass(frozen=True)
class NameComparison:
    family: Agreement
    given: Agreement
    note: str  # plain words for the clerk; "" when the names agree

    @property
    def matches(self) -> bool:
        return self.family is Agreement.SAME and self.given is Agreement.SAME

    @property
    def overall(self) -> Agreement:
        return max(self.family, self.given, key=_ORDER.__getitem__)


def _joined_forms(text: str) -> list[str]:
    return ["".join(words) for words in spellings(text) if words]


def _compare_family(document: str, listed: str, truncated: bool) -> Agreement:
    doc = "".join(word_tuple(document))
    forms = _joined_forms(listed)
    if not doc or not forms:
        return Agreement.DIFFERENT
    if any(doc == form or (truncated and form.startswith(doc)) for form in forms):
        return Agreement.SAME
    if len(doc) >= CLOSE_MIN_LETTERS and any(OSA.distance(doc, form) <= 1 for form in forms):
        return Agreement.CLOSE
    return Agreement.DIFFERENT


def _leading(short: tuple[str, ...], long: tuple[str, ...], truncated_last: bool) -> bool:
    """`short` are the first words of `long` (the last of `short` may be cut when truncated)."""
    if len(short) > len(long):
        return False
    for i, word in enumerate(short):
        if word == long[i]:
            continue
        if truncated_last and i == len(short) - 1 and long[i].startswith(word):
            continue
        return False
    return True


def _compare_given(document: str, listed: str, truncated: bool) -> Agreement:
    doc = word_tuple(document)
    forms = [form for form in spellings(listed) if form]
    if not forms:
        return Agreement.SAME  # the list carries no given names: nothing to contradict
    if not doc:
        return Agreement.SAME if truncated else Agreement.DIFFERENT  # a cut name may have lost them
    if any(_leading(form, doc, False) or _leading(doc, form, truncated) for form in forms):
        return Agreement.SAME
    if any(len(form[0]) >= CLOSE_MIN_LETTERS and OSA.distance(form[0], doc[0]) <= 1 for form in forms):
        return Agreement.CLOSE
    return Agreement.DIFFERENT


def compare(
    document_surname: str, document_given: str, listed: Sequence[tuple[str, str]], *, truncated: bool = False
) -> NameComparison:
    """Compare a document's names with the participant's (family, given) forms: as in passport,
    and Latin. The best-agreeing form decides."""
    best: NameComparison | None = None
    for family, given in listed:
        result = NameComparison(
            _compare_family(document_surname, family, truncated), _compare_given(document_given, given, truncated), ""
        )
        if best is None or (_ORDER[result.overall], _ORDER[result.family]) < (
            _ORDER[best.overall],
            _ORDER[best.family],
        ):
            best = result
    if best is None:
        return NameComparison(Agreement.DIFFERENT, Agreement.DIFFERENT, "the list holds no name to compare")
    return NameComparison(best.family, best.given, _note(best, document_surname, document_given, listed))


def _note(result: NameComparison, surname: str, given: str, listed: Sequence[tuple[str, str]]) -> str:
    if result.matches:
        return ""
    family, first = listed[-1] if listed else ("", "")  # the Latin form, as the document spells names
    parts = []
    if result.family is not Agreement.SAME:
        how = "nearly agrees with" if result.family is Agreement.CLOSE else "differs from"
        parts.append(f"family name on the document {surname} {how} {family} on the list")
    if result.given is not Agreement.SAME:
        how = "nearly agree with" if result.given is Agreement.CLOSE else "differ from"
        parts.append(f"given names {given or '(none)'} {how} {first or '(none)'}")
    return "; ".join(parts)


__all__ = ["Agreement", "NameComparison", "compare"]
