"""Finding a participant at the desk: by name, delegation, accreditation id, badge serial, confirmation code.

Contract used by the TUI and the CLI (keep it stable):
    search(station, query, limit=50) -> list[SearchHit]   best first
    SearchHit: accreditation_id, name, name_latin, delegation, category, status, delegation_role, badge_serial,
               badge_delivered
    status is one of STATUSES; badge_delivered says whether the current badge was printed (or handed
    over as a PDF), which is when the desk calls it "collected".

How it is fast: an in-memory index of folded name and delegation words (services/search_index.py) is
built once per station (2 s for 100,000 participants on the 2-core reference box, in a child process
from 20,000 on; 50 ms for the 900-row meeting), saved beside the database for the next start, and rebuilt
only when the mirror changes (a new `accreditation_imported` event or new participant rows). A query is
scored with numpy over posting lists laid out in vocabulary order, so a prefix is one contiguous slice. Badge status is
read fresh from the database for the returned hits only, so a badge issued a second ago shows.

Matching: every query word must match a word of the participant (order does not matter) as the
same word, as a prefix, or with one typo (words of 5+ letters); accents and case never matter.
Name matches outrank delegation matches, exact outranks prefix outranks typo, family name
outranks given names; ties go to the closest full name, then alphabetical order. An exact
accreditation id, confirmation code (scanned from the e-mail), badge serial (with or without its
dash) or badge QR code returns exactly that participant; so does the number of an accreditation id
alone ("361" or "000361" for GCM17-000361; every id with that number when prefixes differ).
"""

from __future__ import annotations

import re
import time
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from rapidfuzz.distance import OSA
from sqlalchemy.orm import Session

from regdesk.domain import names as name_rules
from regdesk.domain import token as tokens
from regdesk.domain.names import search_words
from regdesk.services import index_build, search_cache, search_index
from regdesk.services.search_index import SearchIndex
from regdesk.services.station import Station
from regdesk.store.models import BadgeDelivery, Participant
from regdesk.store.queries import badges as badge_queries
from regdesk.store.queries import lookup as lookup_queries

STATUSES = ("accredited", "badge_collected", "badge_replaced", "withdrawn")

# Quality of one query word's best match in a participant, ascending. Assigned in this order so
# a later (better) match overwrites an earlier one in the per-word score array.
Q_DELEG_TYPO, Q_DELEG_PREFIX, Q_DELEG_EXACT = 1, 2, 3
Q_GIVEN_TYPO, Q_FAMILY_TYPO = 4, 5
Q_GIVEN_PREFIX, Q_FAMILY_PREFIX = 6, 7
Q_GIVEN_EXACT, Q_FAMILY_EXACT = 9, 10
# Courtesy titles a clerk may type in front of a name ("Mr Lauber", "H.E. Lajčák"); never part of a name.
HONORIFICS = frozenset(
    {"mr", "mrs", "ms", "mme", "mlle", "dr", "prof", "sr", "sra", "srta", "dra", "excmo", "excma", "amb"}
)
_HE = re.compile(r"\bH\.\s*E\.", re.IGNORECASE)
# A typed number is an accreditation id's number only up to this many digits (longer ones are codes).
MAX_ID_DIGITS = 9
_TOP = "\U0010ffff"


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
    badge_delivered: bool = False  # the current badge was printed or handed over as a PDF

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def display_name(p: Participant) -> str:
    return name_rules.display_name(p.given_names, p.family_name)


def latin_name(p: Participant) -> str:
    return name_rules.latin_display_name(
        p.given_names_latin, p.family_name_latin, given=p.given_names, family=p.family_name
    )


def participant_status(session: Session, p: Participant) -> tuple[str, str]:
    """(status, current badge serial)."""
    return _status(p.status, badge_queries.badge_states(session, p.accreditation_id))


def _delivered(session: Session, serial: str) -> bool:
    return bool(serial) and session.get(BadgeDelivery, serial) is not None


def _status(accreditation_status: str, badges: Sequence[tuple[str, bool, int]]) -> tuple[str, str]:
    if accreditation_status == "withdrawn":
        return "withdrawn", ""
    valid = sorted((issue_no, serial) for serial, revoked, issue_no in badges if not revoked)
    if not valid:
        return "accredited", ""
    return ("badge_replaced" if len(badges) > 1 else "badge_collected"), valid[-1][1]


# --- one read connection and one index per station database -------------------------------------


def invalidate(station: Station) -> None:
    """Forget the station's index (it is rebuilt on the next search)."""
    reader = lookup_queries.known_reader(str(station.db_path))
    if reader is not None:
        reader.index = None


def index_for(station: Station) -> SearchIndex:
    """The station's current index, rebuilt when the mirror changed since it was built."""
    reader = lookup_queries.reader(str(station.db_path))
    with reader.lock:
        fingerprint = lookup_queries.fingerprint(reader.conn)
    # The store keeps the index as Any (it must not import services): this module is the only writer.
    index: SearchIndex | None = reader.index
    if index is not None and index.fingerprint == fingerprint:
        return index
    with reader.build_lock:  # one build at a time; a second caller waits and reuses it
        index = reader.index
        if index is None or index.fingerprint != fingerprint:
            with reader.lock:
                stamp = lookup_queries.content_stamp(reader.conn)
            # A start reads the index saved by the last build for this very mirror (a twentieth of
            # a second at 100,000 participants) instead of building it again (seconds).
            index = _saved_index(station, fingerprint, stamp) if index is None else None
            if index is None and stamp[0] >= index_build.CHILD_BUILD_MIN_PARTICIPANTS:
                started = time.perf_counter()
                if index_build.build_in_child(station.db_path, station.data_dir):
                    index = _saved_index(station, fingerprint, stamp)
                if index is not None:
                    index.stats["child_build_seconds"] = round(time.perf_counter() - started, 3)
            if index is None:
                index = search_index.build_index(str(station.db_path))
                if index.fingerprint == fingerprint:
                    search_cache.save(station.data_dir, index, stamp)
            reader.index = index
    return index


def _saved_index(station: Station, fingerprint: tuple[Any, Any], stamp: tuple[Any, ...]) -> SearchIndex | None:
    started = time.perf_counter()
    parts = search_cache.load(station.data_dir, fingerprint, stamp)
    if parts is None:
        return None
    parts["postings"] = {name: search_index.Postings(*arrays) for name, arrays in parts["postings"].items()}
    index = SearchIndex(fingerprint, **parts)
    index.built_seconds = time.perf_counter() - started
    index.stats = {**search_index.stats_of(index), "loaded_seconds": round(index.built_seconds, 3)}
    return index


# --- querying -----------------------------------------------------------------------------------


def _query_terms(query: str) -> list[str]:
    terms = list(dict.fromkeys(search_words(_HE.sub(" ", query))))
    meaningful = [t for t in terms if t not in HONORIFICS]
    return meaningful or terms


def _typo_words(index: SearchIndex, term: str) -> list[int]:
    if len(term) < search_index.TYPO_MIN_LENGTH:
        return []
    vocabulary = index.vocabulary
    candidates: set[int] = set(index.deletes.get_all(term.encode("utf-8")).tolist())
    for variant in search_index.deletions(term):
        candidates.update(index.deletes.get_all(variant.encode("utf-8")).tolist())
        # A letter too many in the query ("laubber") is the vocabulary word itself.
        w = bisect_left(vocabulary, variant)
        if w < len(vocabulary) and vocabulary[w] == variant:
            candidates.add(w)
    return [w for w in candidates if vocabulary[w] != term and OSA.distance(vocabulary[w], term, score_cutoff=1) <= 1]


@dataclass
class _Term:
    lo: int
    hi: int
    exact: bool
    typos: list[int]
    estimate: int


def _term(index: SearchIndex, term: str) -> _Term:
    vocabulary = index.vocabulary
    lo = bisect_left(vocabulary, term)
    hi = bisect_left(vocabulary, term + _TOP, lo)
    exact = lo < len(vocabulary) and vocabulary[lo] == term
    typos = _typo_words(index, term)
    estimate = sum(p.count(lo, hi) + sum(p.count(w, w + 1) for w in typos) for p in index.postings.values())
    return _Term(lo, hi, exact, typos, estimate)


def _mark(index: SearchIndex, t: _Term, scores: np.ndarray) -> list[np.ndarray]:
    """Write this word's match quality into `scores`; returns the record slices it touched."""
    family, given, deleg = index.postings["family"], index.postings["given"], index.postings["deleg"]
    touched: list[np.ndarray] = []

    def put(records: np.ndarray, quality: int) -> None:
        if len(records):
            scores[records] = quality
            touched.append(records)

    # Ascending quality: a later assignment may only raise what an earlier one set.
    for w in t.typos:
        put(deleg.slice(w, w + 1), Q_DELEG_TYPO)
    put(deleg.slice(t.lo, t.hi), Q_DELEG_PREFIX)
    if t.exact:
        put(deleg.slice(t.lo, t.lo + 1), Q_DELEG_EXACT)
    for w in t.typos:
        put(given.slice(w, w + 1), Q_GIVEN_TYPO)
    for w in t.typos:
        put(family.slice(w, w + 1), Q_FAMILY_TYPO)
    put(given.slice(t.lo, t.hi), Q_GIVEN_PREFIX)
    put(family.slice(t.lo, t.hi), Q_FAMILY_PREFIX)
    if t.exact:
        put(given.slice(t.lo, t.lo + 1), Q_GIVEN_EXACT)
        put(family.slice(t.lo, t.lo + 1), Q_FAMILY_EXACT)
    return touched


# Quality by field code (0 delegation, 1 given names, 2 family name).
_TYPO_Q = np.array([Q_DELEG_TYPO, Q_GIVEN_TYPO, Q_FAMILY_TYPO], dtype=np.int8)
_PREFIX_Q = np.array([Q_DELEG_PREFIX, Q_GIVEN_PREFIX, Q_FAMILY_PREFIX], dtype=np.int8)
_EXACT_Q = np.array([Q_DELEG_EXACT, Q_GIVEN_EXACT, Q_FAMILY_EXACT], dtype=np.int8)


def _quality_of(index: SearchIndex, t: _Term, candidates: np.ndarray) -> np.ndarray:
    """This word's match quality for a few candidates, read from their own words: for a common
    word ("of", "al", "maria") much cheaper than marking all of its many matches."""
    starts = index.record_start[candidates]
    counts = index.record_start[candidates + 1] - starts
    group_start = np.cumsum(counts) - counts
    total = int(group_start[-1] + counts[-1])
    at = np.arange(total) - np.repeat(group_start - starts, counts)
    word, field_ = index.record_words[at], index.record_fields[at]
    quality = np.zeros(total, dtype=np.int8)
    if t.typos:
        quality = np.where(np.isin(word, t.typos), _TYPO_Q[field_], quality)
    quality = np.where((word >= t.lo) & (word < t.hi), _PREFIX_Q[field_], quality)
    if t.exact:
        quality = np.where(word == t.lo, _EXACT_Q[field_], quality)
    return np.maximum.reduceat(quality, group_start)  # every participant has a family name: no empty group


def _clear(scores: np.ndarray, touched: list[np.ndarray]) -> None:
    for records in touched:
        scores[records] = 0


def rank(index: SearchIndex, query: str, limit: int = 50) -> list[int]:
    """Record numbers of the best `limit` name/delegation matches, best first."""
    words_ = _query_terms(query)
    if not words_ or index.size == 0 or limit <= 0:
        return []
    terms = [_term(index, w) for w in words_]
    if any(t.estimate == 0 for t in terms):
        return []  # every word must match something
    terms.sort(key=lambda t: t.estimate)  # most selective first: its matches are the candidates
    scores = index.scratch()
    touched = _mark(index, terms[0], scores)
    try:
        if terms[0].estimate > 2000:
            candidates = np.flatnonzero(scores)  # many matches: scanning the array beats sorting them
        else:
            touched_records = np.sort(np.concatenate(touched))
            candidates = touched_records[np.concatenate(([True], touched_records[1:] != touched_records[:-1]))]
        quality = scores[candidates]
    finally:
        _clear(scores, touched)
    total = quality.astype(np.int32)
    name_hit = quality >= Q_GIVEN_TYPO
    for t in terms[1:]:
        if len(candidates) * 16 < t.estimate:
            quality = _quality_of(index, t, candidates)
        else:
            touched = _mark(index, t, scores)
            try:
                quality = scores[candidates]
            finally:
                _clear(scores, touched)
        keep = quality > 0
        candidates, total, name_hit, quality = candidates[keep], total[keep], name_hit[keep], quality[keep]
        if not len(candidates):
            return []
        total += quality
        name_hit |= quality >= Q_GIVEN_TYPO
    # Ties: a name match prefers the participant whose full name has the fewest other words
    # ("Maria Garcia" before "Maria Garcia Lopez"); a delegation match lists the head first.
    closeness = np.where(name_hit, 64 - np.minimum(index.name_words[candidates], 63), index.is_head[candidates])
    key = (
        (total.astype(np.int64) << 40) | (closeness.astype(np.int64) << 32) | (0xFFFFFFFF - candidates.astype(np.int64))
    )
    if len(key) > limit:
        top = np.argpartition(-key, limit - 1)[:limit]
        candidates, key = candidates[top], key[top]
    order = np.argsort(-key, kind="stable")
    ranked: list[int] = candidates[order].tolist()  # numpy's tolist() is typed Any: an int array gives ints
    return ranked


def _exact_records(station: Station, index: SearchIndex, query: str) -> list[str]:
    """Accreditation ids for a query that IS an id, a confirmation code, a badge serial or a badge QR."""
    cleaned = tokens.clean_scan(query)
    if not cleaned or len(cleaned) != len(query.strip()):
        return []  # the query has spaces inside: a name, not a code
    record = index.by_key.get(search_index.fold_key(cleaned).encode("utf-8"))
    if record is not None:
        return [index.id_of(record)]
    if cleaned.isdigit() and len(cleaned) <= MAX_ID_DIGITS:
        return [index.id_of(r) for r in index.by_number.get_all(int(cleaned)).tolist()]
    if len(cleaned) > 64:  # long enough to be a badge's QR code (its signature alone is 103 characters)
        with station.sessions() as session:
            check = tokens.read_token(cleaned, event_code=station.config.code, public_keys=station.public_keys(session))
        return [check.claims.participant_id] if check.ok and check.claims is not None else []
    serial = tokens.normalise_serial(cleaned)
    if len(serial) == 8 and len(cleaned) <= 10:
        reader = lookup_queries.reader(str(station.db_path))
        with reader.lock:
            owner = lookup_queries.badge_owner(reader.conn, serial)
        if owner:
            return [owner[0]]
    return []


def hits_for(station: Station, accreditation_ids: list[str], index: SearchIndex | None = None) -> list[SearchHit]:
    """Search hits in the given order. Badge status is read fresh from the database; names and
    accreditation status come from the index, which is rebuilt whenever the mirror changes."""
    if not accreditation_ids:
        return []
    index = index or index_for(station)
    found = index.by_id.get_many([aid.encode("utf-8") for aid in accreditation_ids])
    # An id not in this mirror (a badge whose holder is not, or not yet) is no hit.
    return _hits(station, index, [record for record in found if record is not None])


def _hits(station: Station, index: SearchIndex, records: list[int]) -> list[SearchHit]:
    if not records:
        return []
    rows = index.rows(records)
    accreditation_ids = [row[0] for row in rows]
    reader = lookup_queries.reader(str(station.db_path))
    badges: dict[str, list[tuple[str, bool, int]]] = {}
    delivered: set[str] = set()
    with reader.lock:
        for pid, serial, revoked, issue_no, was_delivered in lookup_queries.badges_of(reader.conn, accreditation_ids):
            badges.setdefault(pid, []).append((serial, bool(revoked), issue_no))
            if was_delivered:
                delivered.add(serial)
    hits = []
    for row in rows:
        aid, family, given, family_latin, given_latin, delegation, role, _code, category, accreditation_status = row
        status, serial = _status(accreditation_status, badges.get(aid, ()))
        hits.append(
            SearchHit(
                aid,
                name_rules.display_name(given, family),
                name_rules.latin_display_name(given_latin, family_latin, given=given, family=family),
                delegation,
                category,
                status,
                role,
                serial,
                serial in delivered,
            )
        )
    return hits


def search(station: Station, query: str, limit: int = 50) -> list[SearchHit]:
    """Best matches first. See the module docstring for what matches and how it is ranked."""
    if not query or not query.strip() or limit <= 0:
        return []
    index = index_for(station)
    exact = _exact_records(station, index, query.strip())
    if exact:
        return hits_for(station, list(dict.fromkeys(exact))[:limit], index)
    return _hits(station, index, rank(index, query, limit))
