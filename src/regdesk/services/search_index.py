"""The desk's search index: the participants' words, postings and fields as numpy arrays, built
from the station's mirror (services/lookup.py queries it; services/search_cache.py saves it).

Nothing here opens a Station or imports SQLAlchemy: a large mirror's index is built in a child
process (services/index_build.py), which then starts in a fraction of the time.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from regdesk.domain.names import alternate_words, fold, search_words, word_tuple
from regdesk.services.search_tables import KeyTable, NumberTable, RecordTable, byte_keys
from regdesk.store.queries import lookup as lookup_queries

TYPO_MIN_LENGTH = 5
_KEY_CHARS = re.compile(r"[^0-9a-z]")
_TRAILING_NUMBER = re.compile(r"[0-9]+$")
FIELDS = ("deleg", "given", "family")  # record_fields codes 0, 1, 2


# --- the index -----------------------------------------------------------------------------------


@dataclass
class Postings:
    """Record numbers per vocabulary word, concatenated in vocabulary order: word w owns
    ids[start[w]:start[w + 1]], so all words with a given prefix own one contiguous slice."""

    start: np.ndarray
    ids: np.ndarray

    def slice(self, lo: int, hi: int) -> np.ndarray:
        return self.ids[self.start[lo] : self.start[hi]]

    def count(self, lo: int, hi: int) -> int:
        return int(self.start[hi] - self.start[lo])


ROW_FIELDS = 10  # lookup_queries.participant_rows: the fields of each of SearchIndex.records


@dataclass
class SearchIndex:
    fingerprint: tuple[Any, Any]  # lookup_queries.fingerprint(): changes when the mirror does
    vocabulary: list[str]
    postings: dict[str, Postings]  # "family", "given", "deleg"
    name_words: np.ndarray  # words in the Latin name (closeness tie-break)
    is_head: np.ndarray
    # Records are alphabetical by Latin family then given name. Their fields, ROW_FIELDS a record:
    # (id, family, given, family_latin, given_latin, delegation, role, code, category, status).
    records: RecordTable
    by_id: KeyTable  # accreditation id -> record
    by_key: KeyTable  # folded accreditation id / confirmation code -> record
    by_number: NumberTable  # the number ending an accreditation id (361 for GCM17-000361) -> records
    deletes: KeyTable  # one-letter deletions -> vocabulary words (typo matching)
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
        return len(self.records)

    def id_of(self, record: int) -> str:
        return self.records[record][0]

    def rows(self, records: list[int]) -> list[tuple[str, ...]]:
        """The fields of these records, in that order."""
        return self.records.take(records)

    def scratch(self) -> np.ndarray:
        """A zeroed per-thread score array; users must zero what they wrote before returning."""
        array = getattr(self._scratch, "array", None)
        if array is None:
            array = self._scratch.array = np.zeros(self.size, dtype=np.int8)
        return array

    @property
    def nbytes(self) -> int:
        """Bytes held in arrays and buffers (the vocabulary's strings aside)."""
        arrays = (self.name_words, self.is_head, self.record_start, self.record_words, self.record_fields)
        return (
            self.records.nbytes
            + sum(a.nbytes for a in arrays)
            + sum(p.start.nbytes + p.ids.nbytes for p in self.postings.values())
            + sum(t.nbytes for t in (self.by_id, self.by_key, self.by_number, self.deletes))
        )


_PUNCTUATION = str.maketrans("", "", "".join(chr(c) for c in range(128) if not chr(c).isalnum()))
_PUNCTUATION_BUT_NEWLINE = str.maketrans(
    "", "", "".join(chr(c) for c in range(128) if not chr(c).isalnum() and chr(c) != "\n")
)


def fold_key(text_: str) -> str:
    """Accreditation ids and codes compare without case or punctuation ("gcm17'000123" from a
    scanner on a Latin-American keyboard layout is GCM17-000123)."""
    if text_.isascii():
        return text_.lower().translate(_PUNCTUATION)
    return _KEY_CHARS.sub("", text_.casefold())


def _keys(values: list[str]) -> list[str]:
    """`fold_key` of many ids or codes at once (they never contain a line break: the import refuses it)."""
    joined = "\n".join(values)
    if joined.isascii():
        return joined.lower().translate(_PUNCTUATION_BUT_NEWLINE).split("\n") if values else []
    return [fold_key(v) for v in values]


def deletions(word: str) -> list[str]:
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


def _postings(records: np.ndarray, word_ids: np.ndarray, vocabulary_size: int) -> Postings:
    order = np.argsort(word_ids, kind="stable")  # records stay in alphabetical order within a word
    start = np.zeros(vocabulary_size + 1, dtype=np.int64)
    np.cumsum(np.bincount(word_ids, minlength=vocabulary_size), out=start[1:])
    return Postings(start, records[order])


def build_index(db_path: str) -> SearchIndex:
    started = time.perf_counter()
    reader = lookup_queries.reader(db_path)
    with reader.lock:
        fingerprint = lookup_queries.fingerprint(reader.conn)
        rows = lookup_queries.participant_rows(reader.conn)
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
    by_id, by_key, by_number, deletes = lookup_tables(ids, [r[7] for r in rows], vocabulary)
    index = SearchIndex(
        fingerprint,
        vocabulary,
        postings,
        name_words,
        is_head,
        RecordTable.of(rows, ROW_FIELDS),
        by_id,
        by_key,
        by_number,
        deletes,
        record_start,
        record_words,
        record_fields,
    )
    index.built_seconds = time.perf_counter() - started
    index.stats = {**stats_of(index), "build_seconds": round(index.built_seconds, 3)}
    return index


def lookup_tables(
    ids: list[str], codes: list[str], vocabulary: list[str]
) -> tuple[KeyTable, KeyTable, NumberTable, KeyTable]:
    """(by id, by folded id or code, by id number, typo deletions) for records with these ids and
    confirmation codes, in record order, and this vocabulary."""
    records = np.arange(len(ids), dtype=np.int64)
    by_id = KeyTable.build(byte_keys(ids), records)
    code_keys = [(key, i) for i, key in enumerate(_keys(codes)) if key]
    # An accreditation id outranks a confirmation code that folds to the same key.
    by_key = KeyTable.build(
        byte_keys([key for key, _ in code_keys] + _keys(ids)),
        np.array([i for _, i in code_keys] + list(range(len(ids))), dtype=np.int64),
        last_wins=True,
    )
    numbered = [(int(m.group()), i) for i, aid in enumerate(ids) if (m := _TRAILING_NUMBER.search(aid))]
    by_number = NumberTable.build(
        np.array([n for n, _ in numbered], dtype=np.int64), np.array([i for _, i in numbered], dtype=np.int64)
    )
    variants: list[str] = []
    words: list[int] = []
    for w, word in enumerate(vocabulary):
        if len(word) >= TYPO_MIN_LENGTH - 1:
            variants.extend(deletions(word))
            words.extend([w] * len(word))
    deletes = KeyTable.build(byte_keys(variants), np.array(words, dtype=np.int64))
    return by_id, by_key, by_number, deletes


def stats_of(index: SearchIndex) -> dict[str, int | float]:
    return {
        "participants": index.size,
        "words": len(index.vocabulary),
        "typo_keys": len(index.deletes),
        "table_mb": round(index.nbytes / 1e6, 1),
    }
