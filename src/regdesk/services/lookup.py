"""Finding a participant at the desk: by name, delegation, accreditation id, badge serial, confirmation code.

Contract used by the TUI and the CLI (keep it stable):
    search(station, query, limit=50) -> list[SearchHit]   best first
    SearchHit: accreditation_id, name, name_latin, delegation, category, status, delegation_role, badge_serial
    status is one of STATUSES.

How it is fast: an in-memory index of folded name and delegation words is built once per station
(about a second for 100,000 participants) and rebuilt only when the mirror changes (a new
`accreditation_imported` event or new participant rows). A query is scored with numpy over
posting lists laid out in vocabulary order, so a prefix is one contiguous slice. Badge status is
read fresh from the database for the returned hits only, so a badge issued a second ago shows.

Matching: every query word must match a word of the participant (order does not matter) as the
same word, as a prefix, or with one typo (words of 5+ letters); accents and case never matter.
Name matches outrank delegation matches, exact outranks prefix outranks typo, family name
outranks given names; ties go to the closest full name, then alphabetical order. An exact
accreditation id, confirmation code (scanned from the e-mail), badge serial or badge QR code
returns exactly that participant.
"""

from __future__ import annotations

import re
import threading
import time
from bisect import bisect_left
from dataclasses import asdict, dataclass, field

import numpy as np
from rapidfuzz.distance import OSA
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from regdesk.domain import token as tokens
from regdesk.domain.names import alternate_words, fold, search_words
from regdesk.services.station import Station
from regdesk.store.models import Badge, Participant

STATUSES = ("accredited", "badge_collected", "badge_replaced", "withdrawn")

# Quality of one query word's best match in a participant, ascending. Assigned in this order so
# a later (better) match overwrites an earlier one in the per-word score array.
Q_DELEG_TYPO, Q_DELEG_PREFIX, Q_DELEG_EXACT = 1, 2, 3
Q_GIVEN_TYPO, Q_FAMILY_TYPO = 4, 5
Q_GIVEN_PREFIX, Q_FAMILY_PREFIX = 6, 7
Q_GIVEN_EXACT, Q_FAMILY_EXACT = 9, 10
TYPO_MIN_LENGTH = 5
# Courtesy titles a clerk may type in front of a name ("Mr Lauber", "H.E. Lajčák"); never part of a name.
HONORIFICS = frozenset({"mr", "mrs", "ms", "mme", "mlle", "dr", "prof", "sr", "sra", "srta", "dra", "excmo",
                        "excma", "amb"})
_HE = re.compile(r"\bH\.\s*E\.", re.IGNORECASE)
_KEY_CHARS = re.compile(r"[^0-9a-z]")
_TOP = "\U0010ffff"
FIELDS = ("family", "given", "deleg")


@dataclass(frozen=True)
class SearchHit:
    accreditation_id: str
    name: str  # as in passport
    name_latin: str
    delegation: str
    category: str
    status: str
    delegation_role: str
    badge_serial: str  # current valid badge, or ""

    def as_json(self) -> dict:
        return asdict(self)


def display_name(p: Participant) -> str:
    return f"{p.given_names} {p.family_name}".strip()


def latin_name(p: Participant) -> str:
    return f"{p.given_names_latin} {p.family_name_latin}".strip()


def participant_status(session: Session, p: Participant) -> tuple[str, str]:
    """(status, current badge serial)."""
    badges = session.execute(select(Badge.serial, Badge.revoked, Badge.issue_no)
                             .where(Badge.participant_id == p.accreditation_id)).all()
    return _status(p.status, badges)


def _status(accreditation_status: str, badges: list[tuple[str, bool, int]]) -> tuple[str, str]:
    if accreditation_status == "withdrawn":
        return "withdrawn", ""
    valid = sorted((issue_no, serial) for serial, revoked, issue_no in badges if not revoked)
    if not valid:
        return "accredited", ""
    return ("badge_replaced" if len(badges) > 1 else "badge_collected"), valid[-1][1]


def to_hit(session: Session, p: Participant) -> SearchHit:
    status, serial = participant_status(session, p)
    return SearchHit(p.accreditation_id, display_name(p), latin_name(p), p.delegation, p.category, status,
                     p.delegation_role, serial)


# --- the index ----------------------------------------------------------------------------------


@dataclass
class _Postings:
    """Record numbers per vocabulary word, concatenated in vocabulary order: word w owns
    ids[start[w]:start[w + 1]], so all words with a given prefix own one contiguous slice."""

    start: np.ndarray
    ids: np.ndarray

    def slice(self, lo: int, hi: int) -> np.ndarray:
        return self.ids[self.start[lo]:self.start[hi]]


@dataclass
class SearchIndex:
    fingerprint: tuple
    ids: list[str]  # accreditation ids, alphabetical by Latin family then given name
    vocabulary: list[str]
    postings: dict[str, _Postings]
    name_words: np.ndarray  # number of distinct words in the Latin name (closeness tie-break)
    is_head: np.ndarray
    by_key: dict[str, list[int]]  # folded accreditation id / confirmation code -> records
    deletes: dict[str, list[int]]  # one-letter deletions -> vocabulary words (typo matching)
    built_seconds: float = 0.0
    stats: dict = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.ids)


def _key(text_: str) -> str:
    """Accreditation ids and codes compare without case or punctuation ("gcm17'000123" from a
    scanner on a Latin-American keyboard layout is GCM17-000123)."""
    return _KEY_CHARS.sub("", text_.casefold())


def _deletions(word: str) -> list[str]:
    return [word[:i] + word[i + 1:] for i in range(len(word))]


_WORDS_CACHE: dict[str, tuple[str, ...]] = {}


def _name_words(*parts: str) -> tuple[str, ...]:
    out: dict[str, None] = {}
    for part in parts:
        if not part:
            continue
        cached = _WORDS_CACHE.get(part)
        if cached is None:
            cached = tuple(dict.fromkeys(search_words(part) + alternate_words(part)))
            if len(_WORDS_CACHE) < 500_000:
                _WORDS_CACHE[part] = cached
        for word in cached:
            out[word] = None
    return tuple(out)


def _fingerprint(conn) -> tuple:
    last_import = conn.exec_driver_sql(
        "SELECT max(local_order) FROM events WHERE kind = 'accreditation_imported'").scalar()
    # max(rowid) also notices participants written without an import event (bulk loads, tests).
    last_row = conn.exec_driver_sql("SELECT max(rowid) FROM participants").scalar()
    return (last_import, last_row)


def build_index(station: Station) -> SearchIndex:
    started = time.perf_counter()
    with station.engine.connect() as conn:
        fingerprint = _fingerprint(conn)
        rows = conn.exec_driver_sql(
            "SELECT accreditation_id, family_name, given_names, family_name_latin, given_names_latin, "
            "delegation, delegation_role, confirmation_code FROM participants").all()
    rows.sort(key=lambda r: (fold(r[3]), fold(r[4]), r[0]))
    n = len(rows)
    per_field: dict[str, dict[str, list[int]]] = {f: {} for f in FIELDS}
    family_map, given_map, deleg_map = per_field["family"], per_field["given"], per_field["deleg"]
    name_words = np.zeros(n, dtype=np.int16)
    is_head = np.zeros(n, dtype=bool)
    by_key: dict[str, list[int]] = {}
    ids: list[str] = []
    for i, (aid, family, given, family_latin, given_latin, delegation, role, code) in enumerate(rows):
        ids.append(aid)
        for word in _name_words(family, family_latin):
            family_map.setdefault(word, []).append(i)
        for word in _name_words(given, given_latin):
            given_map.setdefault(word, []).append(i)
        for word in _name_words(delegation):
            deleg_map.setdefault(word, []).append(i)
        name_words[i] = len(set(search_words(f"{given_latin} {family_latin}")))
        is_head[i] = role == "head"
        by_key.setdefault(_key(aid), []).append(i)
        if code:
            by_key.setdefault(_key(code), []).append(i)
    vocabulary = sorted(set(family_map) | set(given_map) | set(deleg_map))
    postings = {}
    for name, mapping in per_field.items():
        start = np.zeros(len(vocabulary) + 1, dtype=np.int64)
        chunks = []
        total = 0
        for w, word in enumerate(vocabulary):
            records = mapping.get(word)
            if records:
                chunks.extend(records)
                total += len(records)
            start[w + 1] = total
        postings[name] = _Postings(start, np.asarray(chunks, dtype=np.int32))
    deletes: dict[str, list[int]] = {}
    for w, word in enumerate(vocabulary):
        if len(word) >= TYPO_MIN_LENGTH - 1:
            for variant in _deletions(word):
                deletes.setdefault(variant, []).append(w)
    index = SearchIndex(fingerprint, ids, vocabulary, postings, name_words, is_head, by_key, deletes)
    index.built_seconds = time.perf_counter() - started
    index.stats = {"participants": n, "words": len(vocabulary), "typo_keys": len(deletes)}
    return index


_CACHE: dict[str, SearchIndex] = {}
_CACHE_LOCK = threading.Lock()
_CACHE_MAX = 4  # stations open in one process at a time (tests, the demo); oldest dropped first


def _cache_key(station: Station) -> str:
    return str(station.db_path.resolve())


def invalidate(station: Station) -> None:
    """Forget the station's index (it is rebuilt on the next search)."""
    with _CACHE_LOCK:
        _CACHE.pop(_cache_key(station), None)


def index_for(station: Station) -> SearchIndex:
    """The station's current index, rebuilt when the mirror changed since it was built."""
    key = _cache_key(station)
    with station.engine.connect() as conn:
        fingerprint = _fingerprint(conn)
    index = _CACHE.get(key)
    if index is not None and index.fingerprint == fingerprint:
        return index
    with _CACHE_LOCK:  # one build at a time; a second caller waits and reuses it
        index = _CACHE.get(key)
        if index is None or index.fingerprint != fingerprint:
            index = build_index(station)
            _CACHE.pop(key, None)
            _CACHE[key] = index
            while len(_CACHE) > _CACHE_MAX:
                _CACHE.pop(next(iter(_CACHE)))
    return index


# --- querying -----------------------------------------------------------------------------------


def _query_terms(query: str) -> list[str]:
    terms = list(dict.fromkeys(search_words(_HE.sub(" ", query))))
    meaningful = [t for t in terms if t not in HONORIFICS]
    return meaningful or terms


def _typo_words(index: SearchIndex, term: str) -> list[int]:
    if len(term) < TYPO_MIN_LENGTH:
        return []
    candidates: set[int] = set(index.deletes.get(term, ()))
    for variant in _deletions(term):
        candidates.update(index.deletes.get(variant, ()))
        # A deleted letter in the query ("lauer" for "lauber") equals a vocabulary word itself.
        w = bisect_left(index.vocabulary, variant)
        if w < len(index.vocabulary) and index.vocabulary[w] == variant and len(variant) >= TYPO_MIN_LENGTH - 1:
            candidates.add(w)
    vocabulary = index.vocabulary
    return [w for w in candidates if vocabulary[w] != term and OSA.distance(vocabulary[w], term, score_cutoff=1) <= 1]


def _term_scores(index: SearchIndex, term: str) -> np.ndarray | None:
    """Per-participant quality of this word's best match (0 = no match); None if it matches nothing."""
    vocabulary = index.vocabulary
    lo = bisect_left(vocabulary, term)
    hi = bisect_left(vocabulary, term + _TOP, lo)
    exact = lo < len(vocabulary) and vocabulary[lo] == term
    typos = _typo_words(index, term)
    if lo == hi and not typos:
        return None
    family, given, deleg = index.postings["family"], index.postings["given"], index.postings["deleg"]
    scores = np.zeros(index.size, dtype=np.int16)
    # Ascending quality: each assignment may only raise what an earlier one set.
    for w in typos:
        scores[deleg.slice(w, w + 1)] = Q_DELEG_TYPO
    scores[deleg.slice(lo, hi)] = Q_DELEG_PREFIX
    if exact:
        scores[deleg.slice(lo, lo + 1)] = Q_DELEG_EXACT
    for w in typos:
        scores[given.slice(w, w + 1)] = Q_GIVEN_TYPO
    for w in typos:
        scores[family.slice(w, w + 1)] = Q_FAMILY_TYPO
    scores[given.slice(lo, hi)] = Q_GIVEN_PREFIX
    scores[family.slice(lo, hi)] = Q_FAMILY_PREFIX
    if exact:
        scores[given.slice(lo, lo + 1)] = Q_GIVEN_EXACT
        scores[family.slice(lo, lo + 1)] = Q_FAMILY_EXACT
    return scores


def _estimated_matches(index: SearchIndex, term: str) -> int:
    vocabulary = index.vocabulary
    lo = bisect_left(vocabulary, term)
    hi = bisect_left(vocabulary, term + _TOP, lo)
    return sum(int(p.start[hi] - p.start[lo]) for p in index.postings.values())


def rank(index: SearchIndex, query: str, limit: int = 50) -> list[int]:
    """Record numbers of the best `limit` name/delegation matches, best first."""
    terms = _query_terms(query)
    if not terms or index.size == 0 or limit <= 0:
        return []
    # Most selective word first: its matches are the candidates the others filter.
    terms.sort(key=lambda t: _estimated_matches(index, t))
    candidates: np.ndarray | None = None
    total: np.ndarray | None = None
    name_hit: np.ndarray | None = None
    for term in terms:
        scores = _term_scores(index, term)
        if scores is None:
            return []  # every word must match something
        if candidates is None:
            candidates = np.flatnonzero(scores)
            total = scores[candidates].astype(np.int32)
        else:
            gathered = scores[candidates]
            keep = gathered > 0
            candidates, total, gathered = candidates[keep], total[keep] + gathered[keep], gathered[keep]
            name_hit = name_hit[keep]
        if not len(candidates):
            return []
        this_name = scores[candidates] >= Q_GIVEN_TYPO
        name_hit = this_name if name_hit is None else (name_hit | this_name)
    # Ties: a name match prefers the participant whose full name has the fewest other words
    # ("Maria Garcia" before "Maria Garcia Lopez"); a delegation match lists the head first.
    closeness = np.where(name_hit, 64 - np.minimum(index.name_words[candidates], 63), index.is_head[candidates])
    key = (total.astype(np.int64) << 40) | (closeness.astype(np.int64) << 32) | (0xFFFFFFFF - candidates)
    if len(key) > limit:
        top = np.argpartition(-key, limit - 1)[:limit]
        candidates, key = candidates[top], key[top]
    order = np.argsort(-key, kind="stable")
    return [int(i) for i in candidates[order]]


def _exact_records(station: Station, index: SearchIndex, query: str) -> list[str]:
    """Accreditation ids for a query that IS an id, a confirmation code, a badge serial or a badge QR."""
    cleaned = tokens.clean_scan(query)
    if not cleaned or len(cleaned) != len(query.strip()):
        return []  # the query has spaces inside: a name, not a code
    found = index.by_key.get(_key(cleaned))
    if found:
        return [index.ids[i] for i in found]
    if len(cleaned) > 64:  # long enough to be a badge's QR code (signature alone is 103 characters)
        with station.sessions() as session:
            check = tokens.read_token(cleaned, event_code=station.config.code,
                                      public_keys=station.public_keys(session))
        if check.ok and check.claims is not None:
            return [check.claims.participant_id]
        return []
    serial = tokens.normalise_serial(cleaned)
    if len(serial) == 8 and len(cleaned) <= 10:
        with station.engine.connect() as conn:
            owner = conn.exec_driver_sql("SELECT participant_id FROM badges WHERE serial = ?", (serial,)).scalar()
        if owner:
            return [owner]
    return []


def hits_for(station: Station, accreditation_ids: list[str]) -> list[SearchHit]:
    """Search hits with status and badge read fresh from the database, in the given order."""
    if not accreditation_ids:
        return []
    marks = ",".join("?" * len(accreditation_ids))
    params = tuple(accreditation_ids)
    with station.engine.connect() as conn:
        people = {r[0]: r for r in conn.exec_driver_sql(
            "SELECT accreditation_id, given_names, family_name, given_names_latin, family_name_latin, delegation, "
            f"category, status, delegation_role FROM participants WHERE accreditation_id IN ({marks})", params)}
        badges: dict[str, list[tuple[str, bool, int]]] = {}
        for pid, serial, revoked, issue_no in conn.exec_driver_sql(
                f"SELECT participant_id, serial, revoked, issue_no FROM badges WHERE participant_id IN ({marks})",
                params):
            badges.setdefault(pid, []).append((serial, bool(revoked), issue_no))
    hits = []
    for aid in accreditation_ids:
        p = people.get(aid)
        if p is None:
            continue  # e.g. a badge whose holder is not (yet) in this mirror
        status, serial = _status(p[7], badges.get(aid, []))
        hits.append(SearchHit(aid, f"{p[1]} {p[2]}".strip(), f"{p[3]} {p[4]}".strip(), p[5], p[6], status, p[8],
                              serial))
    return hits


def search(station: Station, query: str, limit: int = 50) -> list[SearchHit]:
    """Best matches first. See the module docstring for what matches and how it is ranked."""
    if not query or not query.strip() or limit <= 0:
        return []
    index = index_for(station)
    exact = _exact_records(station, index, query.strip())
    if exact:
        return hits_for(station, list(dict.fromkeys(exact))[:limit])
    return hits_for(station, [index.ids[i] for i in rank(index, query, limit)])
