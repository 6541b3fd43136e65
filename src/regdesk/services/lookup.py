"""Finding a participant at the desk: by name, delegation, accreditation id, badge serial, confirmation code.

Contract used by the TUI and the CLI (keep it stable):
    search(station, query, limit=50) -> list[SearchHit]   best first
    SearchHit: accreditation_id, name, name_latin, delegation, category, status, delegation_role, badge_serial,
               badge_delivered
    status is one of STATUSES; badge_delivered says whether the current badge was printed (or handed
    over as a PDF), which is when the desk calls it "collected".

How it is fast: an in-memory index of folded name and delegation words is built once per station
(2 s for 100,000 participants on the 2-core reference box; 50 ms for the 900-row meeting) and rebuilt
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
import threading
import time
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from rapidfuzz.distance import OSA
from sqlalchemy.orm import Session

from regdesk.domain import names as name_rules
from regdesk.domain import token as tokens
from regdesk.domain.names import alternate_words, fold, search_words, word_tuple
from regdesk.services import search_cache
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
TYPO_MIN_LENGTH = 5
# Courtesy titles a clerk may type in front of a name ("Mr Lauber", "H.E. Lajčák"); never part of a name.
HONORIFICS = frozenset(
    {"mr", "mrs", "ms", "mme", "mlle", "dr", "prof", "sr", "sra", "srta", "dra", "excmo", "excma", "amb"}
)
_HE = re.compile(r"\bH\.\s*E\.", re.IGNORECASE)
_KEY_CHARS = re.compile(r"[^0-9a-z]")
_TRAILING_NUMBER = re.compile(r"[0-9]+$")
# A typed number is an accreditation id's number only up to this many digits (longer ones are codes).
MAX_ID_DIGITS = 9
_TOP = "\U0010ffff"
FIELDS = ("deleg", "given", "family")  # record_fields codes 0, 1, 2


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


# --- the index ----------------------------------------------------------------------------------


@dataclass
class _Postings:
    """Record numbers per vocabulary word, concatenated in vocabulary order: word w owns
    ids[start[w]:start[w + 1]], so all words with a given prefix own one contiguous slice."""

    start: np.ndarray
    ids: np.ndarray

    def slice(self, lo: int, hi: int) -> np.ndarray:
        return self.ids[self.start[lo] : self.start[hi]]

    def count(self, lo: int, hi: int) -> int:
        return int(self.start[hi] - self.start[lo])


@dataclass
class SearchIndex:
    fingerprint: tuple[Any, Any]  # lookup_queries.fingerprint(): changes when the mirror does
    ids: list[str]  # accreditation ids, alphabetical by Latin family then given name
    vocabulary: list[str]
    postings: dict[str, _Postings]  # "family", "given", "deleg"
    name_words: np.ndarray  # words in the Latin name (closeness tie-break)
    is_head: np.ndarray
    by_key: dict[str, int]  # folded accreditation id / confirmation code -> record
    by_number: dict[int, list[int]]  # the number ending an accreditation id (361 for GCM17-000361) -> records
    position: dict[str, int]  # accreditation id -> record
    # (id, family, given, family_latin, given_latin, delegation, role, code, category, status) per record
    rows: list[tuple[str, ...]]
    deletes: dict[str, list[int]]  # one-letter deletions -> vocabulary words (typo matching)
    # The other direction, record -> words: record r has word ids record_words[record_start[r]:record_start[r + 1]],
    # each with its field in record_fields (0 delegation, 1 given names, 2 family name).
    record_start: np.ndarray
    record_words: np.ndarray
    record_fields: np.ndarray
    built_seconds: float = 0.0
    stats: dict[str, int | float] = field(default_factory=dict)
    _scratch: threading.local = field(default_factory=threading.local, repr=False)

    @property
    def size(self) -> int:
        return len(self.ids)

    def scratch(self) -> np.ndarray:
        """A zeroed per-thread score array; users must zero what they wrote before returning."""
        array = getattr(self._scratch, "array", None)
        if array is None:
            array = self._scratch.array = np.zeros(self.size, dtype=np.int8)
        return array


_PUNCTUATION = str.maketrans("", "", "".join(chr(c) for c in range(128) if not chr(c).isalnum()))
_PUNCTUATION_BUT_NEWLINE = str.maketrans(
    "", "", "".join(chr(c) for c in range(128) if not chr(c).isalnum() and chr(c) != "\n")
)


def _key(text_: str) -> str:
    """Accreditation ids and codes compare without case or punctuation ("gcm17'000123" from a
    scanner on a Latin-American keyboard layout is GCM17-000123)."""
    if text_.isascii():
        return text_.lower().translate(_PUNCTUATION)
    return _KEY_CHARS.sub("", text_.casefold())


def _keys(values: list[str]) -> list[str]:
    """`_key` of many ids or codes at once (they never contain a line break: the import refuses it)."""
    joined = "\n".join(values)
    if joined.isascii():
        return joined.lower().translate(_PUNCTUATION_BUT_NEWLINE).split("\n") if values else []
    return [_key(v) for v in values]


def _deletions(word: str) -> list[str]:
    return [word[:i] + word[i + 1 :] for i in range(len(word))]


def _words_of(parts: tuple[str, ...]) -> tuple[str, ...]:
    """Search words of a name field in all its forms (passport, Latin, usual transcriptions)."""
    out: dict[str, None] = {}
    for part in parts:
        if part:
            out.update(dict.fromkeys(search_words(part)))
            out.update(dict.fromkeys(alternate_words(part)))
    return tuple(out)


class _Field:
    """Groups records by the value of one field, so each distinct value is tokenised once."""

    def __init__(self, values: list[tuple[str, ...]]) -> None:
        self.key_ids: dict[tuple[str, ...], int] = {key: i for i, key in enumerate(dict.fromkeys(values))}
        self.record_keys = np.fromiter(map(self.key_ids.__getitem__, values), dtype=np.int64, count=len(values))


def _pairs(field_: _Field, words_per_key: list[tuple[int, ...]]) -> tuple[np.ndarray, np.ndarray]:
    """(record, word id) pairs of one field, by record, built with numpy from each distinct value's words."""
    record_keys = field_.record_keys
    counts_per_key = np.fromiter((len(w) for w in words_per_key), dtype=np.int64, count=len(words_per_key))
    flat = np.fromiter((w for ws in words_per_key for w in ws), dtype=np.int64, count=int(counts_per_key.sum()))
    key_start = np.cumsum(counts_per_key) - counts_per_key
    counts = counts_per_key[record_keys]
    total = int(counts.sum())
    records = np.repeat(np.arange(len(record_keys), dtype=np.int32), counts)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    word_ids = flat[np.repeat(key_start[record_keys], counts) + offsets]
    return records, word_ids


def _postings(records: np.ndarray, word_ids: np.ndarray, vocabulary_size: int) -> _Postings:
    order = np.argsort(word_ids, kind="stable")  # records stay in alphabetical order within a word
    start = np.zeros(vocabulary_size + 1, dtype=np.int64)
    np.cumsum(np.bincount(word_ids, minlength=vocabulary_size), out=start[1:])
    return _Postings(start, records[order])


def build_index(station: Station) -> SearchIndex:
    started = time.perf_counter()
    reader = lookup_queries.reader(str(station.db_path))
    with reader.lock:
        fingerprint = lookup_queries.fingerprint(reader.conn)
        rows = lookup_queries.participant_rows(reader.conn)
    # One string object per distinct value (statuses, roles, delegations repeat 100,000 times):
    # tens of MB of the desk's memory at conference scale.
    distinct: list[dict[str, str]] = [{} for _ in range(len(rows[0]) if rows else 0)]
    rows = [tuple(seen.setdefault(v, v) for seen, v in zip(distinct, r, strict=True)) for r in rows]
    folded = {v: fold(v) for v in {r[3] for r in rows} | {r[4] for r in rows}}
    rows.sort(key=lambda r: (folded[r[3]], folded[r[4]], r[0]))
    family = _Field([(r[1], r[3]) for r in rows])
    given = _Field([(r[2], r[4]) for r in rows])
    deleg = _Field([(r[5],) for r in rows])
    fields = {"family": family, "given": given, "deleg": deleg}
    words_per_key = {name: [_words_of(key) for key in f.key_ids] for name, f in fields.items()}
    vocabulary = sorted({w for per_key in words_per_key.values() for ws in per_key for w in ws})
    word_id = {w: i for i, w in enumerate(vocabulary)}
    pairs = {
        name: _pairs(fields[name], [tuple(word_id[w] for w in ws) for ws in per_key])
        for name, per_key in words_per_key.items()
    }
    postings = {name: _postings(records, word_ids, len(vocabulary)) for name, (records, word_ids) in pairs.items()}
    all_records = np.concatenate([pairs[name][0] for name in FIELDS])
    by_record = np.argsort(all_records, kind="stable")
    record_words = np.concatenate([pairs[name][1] for name in FIELDS]).astype(np.int32)[by_record]
    record_fields = np.concatenate(
        [np.full(len(pairs[name][0]), FIELDS.index(name), dtype=np.int8) for name in FIELDS]
    )[by_record]
    record_start = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(np.bincount(all_records, minlength=len(rows)), out=record_start[1:])
    # Closeness: how many words the Latin full name has (fewer = closer to what was typed).
    latin_count = {
        name: np.fromiter(
            (len(word_tuple(key[-1])) for key in fields[name].key_ids), dtype=np.int16, count=len(fields[name].key_ids)
        )
        for name in ("family", "given")
    }
    name_words = latin_count["family"][family.record_keys] + latin_count["given"][given.record_keys]
    is_head = np.fromiter((r[6] == "head" for r in rows), dtype=bool, count=len(rows))
    ids = [r[0] for r in rows]
    index = _assemble(
        fingerprint, ids, vocabulary, postings, name_words, is_head, rows, record_start, record_words, record_fields
    )
    index.built_seconds = time.perf_counter() - started
    index.stats["build_seconds"] = round(index.built_seconds, 3)
    return index


def _assemble(
    fingerprint: tuple[Any, Any],
    ids: list[str],
    vocabulary: list[str],
    postings: dict[str, _Postings],
    name_words: np.ndarray,
    is_head: np.ndarray,
    rows: list[tuple[str, ...]],
    record_start: np.ndarray,
    record_words: np.ndarray,
    record_fields: np.ndarray,
) -> SearchIndex:
    """The index from its word and posting arrays, with the lookups derived from them (cheap)."""
    codes = [r[7] for r in rows]
    by_key = {code: i for i, code in enumerate(_keys(codes)) if code}
    by_key.update(zip(_keys(ids), range(len(ids)), strict=False))
    by_number: dict[int, list[int]] = {}
    for i, aid in enumerate(ids):
        number = _TRAILING_NUMBER.search(aid)
        if number:
            by_number.setdefault(int(number.group()), []).append(i)
    deletes: dict[str, list[int]] = {}
    for w, word in enumerate(vocabulary):
        if len(word) >= TYPO_MIN_LENGTH - 1:
            for variant in _deletions(word):
                deletes.setdefault(variant, []).append(w)
    position = dict(zip(ids, range(len(ids)), strict=False))
    index = SearchIndex(
        fingerprint,
        ids,
        vocabulary,
        postings,
        name_words,
        is_head,
        by_key,
        by_number,
        position,
        rows,
        deletes,
        record_start,
        record_words,
        record_fields,
    )
    index.stats = {"participants": len(ids), "words": len(vocabulary), "typo_keys": len(deletes)}
    return index


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
            # A start reads the index saved by the last build for this very mirror (well under a
            # second at 100,000 participants) instead of building it again (seconds).
            index = _saved_index(station, fingerprint, stamp) if index is None else None
            if index is None:
                index = build_index(station)
                if index.fingerprint == fingerprint:
                    search_cache.save(station, index, stamp)
            reader.index = index
    return index


def _saved_index(station: Station, fingerprint: tuple[Any, Any], stamp: tuple[Any, ...]) -> SearchIndex | None:
    started = time.perf_counter()
    parts = search_cache.load(station, fingerprint, stamp)
    if parts is None:
        return None
    index = _assemble(
        fingerprint,
        parts["ids"],
        parts["vocabulary"],
        {name: _Postings(*parts[f"{name}_postings"]) for name in FIELDS},
        parts["name_words"],
        parts["is_head"],
        parts["rows"],
        parts["record_start"],
        parts["record_words"],
        parts["record_fields"],
    )
    index.built_seconds = time.perf_counter() - started
    index.stats = {**index.stats, "loaded_seconds": round(index.built_seconds, 3)}
    return index


# --- querying -----------------------------------------------------------------------------------


def _query_terms(query: str) -> list[str]:
    terms = list(dict.fromkeys(search_words(_HE.sub(" ", query))))
    meaningful = [t for t in terms if t not in HONORIFICS]
    return meaningful or terms


def _typo_words(index: SearchIndex, term: str) -> list[int]:
    if len(term) < TYPO_MIN_LENGTH:
        return []
    vocabulary = index.vocabulary
    candidates: set[int] = set(index.deletes.get(term, ()))
    for variant in _deletions(term):
        candidates.update(index.deletes.get(variant, ()))
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
    record = index.by_key.get(_key(cleaned))
    if record is not None:
        return [index.ids[record]]
    if cleaned.isdigit() and len(cleaned) <= MAX_ID_DIGITS:
        return [index.ids[r] for r in index.by_number.get(int(cleaned), ())]
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
    reader = lookup_queries.reader(str(station.db_path))
    badges: dict[str, list[tuple[str, bool, int]]] = {}
    delivered: set[str] = set()
    with reader.lock:
        for pid, serial, revoked, issue_no, was_delivered in lookup_queries.badges_of(reader.conn, accreditation_ids):
            badges.setdefault(pid, []).append((serial, bool(revoked), issue_no))
            if was_delivered:
                delivered.add(serial)
    hits = []
    for aid in accreditation_ids:
        record = index.position.get(aid)
        if record is None:
            continue  # e.g. a badge whose holder is not (yet) in this mirror
        _id, family, given, family_latin, given_latin, delegation, role, _code, category, accreditation_status = (
            index.rows[record]
        )
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
    return hits_for(station, [index.ids[i] for i in rank(index, query, limit)], index)
