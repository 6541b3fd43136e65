"""Compact tables behind the desk's search index: many strings in one buffer, and sorted byte keys
looked up with numpy.

At 100,000 participants, ten text fields a participant as Python strings and tuples, and a dict per
lookup (id, code, number, typo variants), were most of the desk's memory and most of a start: each
of a million objects had to be made again from the saved index. Here each table is a few numpy
arrays, which the saved index reads back as they are; a string is made only for a hit shown on screen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

# Joins the strings of a column: a unit separator is a control character, which the import never lets
# into a field (and folded words and keys never contain).
SEP = "\x1f"
# Joins the records of a RecordTable (a record separator: also a control character).
RS = "\x1e"


@dataclass(frozen=True)
class TextColumn:
    """`count` strings in one UTF-8 buffer, separated by `separator`: string i is
    data[ends[i - 1] + 1 : ends[i]] (with ends[-1] taken as -1)."""

    data: bytes
    ends: np.ndarray  # where each string ends (its separator, or the end of the data)
    separator: str = SEP

    @classmethod
    def of(cls, values: Sequence[str], separator: str = SEP) -> TextColumn:
        return cls.from_bytes(separator.join(values).encode("utf-8"), len(values), separator)

    @classmethod
    def from_bytes(cls, data: bytes, count: int, separator: str = SEP) -> TextColumn:
        """The column of `count` strings joined by `separator`; ValueError when `data` holds another number."""
        if count == 0:
            if data:
                raise ValueError("text column: data for no strings")
            return cls(b"", np.zeros(0, dtype=np.int64), separator)
        separators = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord(separator))
        if len(separators) != count - 1:
            raise ValueError("text column of the wrong length")
        return cls(data, np.append(separators, len(data)).astype(_offset_type(len(data))), separator)

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, i: int) -> str:
        start = int(self.ends[i - 1]) + 1 if i else 0
        return self.data[start : int(self.ends[i])].decode("utf-8")

    def take(self, indexes: list[int]) -> list[str]:
        """The strings at these positions, in that order (one numpy gather for all)."""
        if not indexes:
            return []
        at = np.asarray(indexes, dtype=np.int64)
        ends = self.ends[at]
        starts = np.where(at > 0, self.ends[at - 1] + 1, 0)
        data = self.data
        return [data[a:b].decode("utf-8") for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]

    def all(self) -> list[str]:
        return self.data.decode("utf-8").split(self.separator) if len(self) else []

    @property
    def nbytes(self) -> int:
        return len(self.data) + self.ends.nbytes


@dataclass(frozen=True)
class RecordTable:
    """`count` records of `fields` strings each, in one buffer: a record's fields joined by SEP, the
    records by RS. A search's fifty hits are one gather, fifty slices and fifty splits."""

    records: TextColumn
    fields: int

    @classmethod
    def of(cls, rows: Sequence[Sequence[str]], fields: int) -> RecordTable:
        return cls.from_bytes(RS.join(SEP.join(row) for row in rows).encode("utf-8"), len(rows), fields)

    @classmethod
    def from_bytes(cls, data: bytes, count: int, fields: int) -> RecordTable:
        """ValueError unless `data` holds `count` records of exactly `fields` fields each."""
        if count == 0:
            return cls(TextColumn.from_bytes(data, 0, RS), fields)
        raw = np.frombuffer(data, dtype=np.uint8)
        at = np.flatnonzero((raw == ord(SEP)) | (raw == ord(RS)))  # both kinds, in order: one pass
        record_ends = np.flatnonzero(raw[at] == ord(RS))
        if len(record_ends) != count - 1:
            raise ValueError("text column of the wrong length")
        # Field separators before each record's end, record by record.
        seen = np.append(record_ends, len(at)) - np.arange(count)
        if bool(np.any(np.diff(seen, prepend=0) != fields - 1)):
            raise ValueError("a record with the wrong number of fields")
        ends = np.append(at[record_ends], len(data)).astype(_offset_type(len(data)))
        return cls(TextColumn(data, ends, RS), fields)

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, i: int) -> tuple[str, ...]:
        return tuple(self.records[i].split(SEP))

    def take(self, indexes: list[int]) -> list[tuple[str, ...]]:
        return [tuple(record.split(SEP)) for record in self.records.take(indexes)]

    @property
    def nbytes(self) -> int:
        return self.records.nbytes


def _offset_type(size: int) -> type[np.signedinteger[Any]]:
    return np.int32 if size < 2**31 else np.int64


def byte_keys(values: Iterable[str]) -> np.ndarray:
    """Strings as a numpy array of UTF-8 byte strings (a fixed width: the longest one's)."""
    encoded = [v.encode("utf-8") for v in values]
    return np.array(encoded, dtype=f"S{max(map(len, encoded), default=1) or 1}")


@dataclass(frozen=True)
class KeyTable:
    """Byte keys (sorted) and an int value for each; one key may have several values, in order."""

    keys: np.ndarray  # dtype S<n>, sorted
    values: np.ndarray  # int32 (int64 past 2**31)

    @classmethod
    def build(cls, keys: np.ndarray, values: np.ndarray, *, last_wins: bool = False) -> KeyTable:
        """From keys and values in any order. With `last_wins`, one value a key: the last one given
        (as a dict filled in that order would keep); otherwise every value, in the order given."""
        values = np.asarray(values).astype(_offset_type(int(values.max()) + 1 if len(values) else 0))
        if last_wins and len(keys):
            reversed_keys = keys[::-1]
            unique, first = np.unique(reversed_keys, return_index=True)
            return cls(unique, values[::-1][first])
        order = np.argsort(keys, kind="stable")
        return cls(keys[order], values[order])

    def __len__(self) -> int:
        return len(self.keys)

    def get(self, key: bytes) -> int | None:
        found = self.get_all(key)
        return int(found[0]) if len(found) else None

    def get_many(self, keys: Sequence[bytes]) -> list[int | None]:
        """The first value of each key, None for a key not in the table (one numpy pass for all)."""
        if not len(self.keys) or not keys:
            return [None] * len(keys)
        probe = np.array(keys, dtype=bytes)  # its own width: a longer key is never cut to match a shorter
        at = np.minimum(np.searchsorted(self.keys, probe), len(self.keys) - 1)
        found = (self.keys[at] == probe).tolist()
        return [int(v) if hit else None for v, hit in zip(self.values[at].tolist(), found, strict=True)]

    def get_all(self, key: bytes) -> np.ndarray:
        keys = self.keys
        if not len(keys) or len(key) > keys.dtype.itemsize:
            return self.values[:0]
        lo = int(np.searchsorted(keys, key, side="left"))
        hi = int(np.searchsorted(keys, key, side="right"))
        return self.values[lo:hi]

    def valid(self, value_limit: int) -> bool:
        """Sorted keys, a value for each, every value in range(value_limit): a table read from a file
        is used only when this holds."""
        keys, values = self.keys, self.values
        if keys.ndim != 1 or values.ndim != 1 or len(keys) != len(values) or keys.dtype.kind != "S":
            return False
        if values.dtype.kind != "i":
            return False
        if len(values) and (values.min() < 0 or values.max() >= value_limit):
            return False
        return not (len(keys) > 1 and bool(np.any(keys[1:] < keys[:-1])))

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.values.nbytes)


@dataclass(frozen=True)
class NumberTable:
    """Sorted int keys, each with its value (several values for a key are adjacent, in order)."""

    keys: np.ndarray  # int64, sorted
    values: np.ndarray  # int64

    @classmethod
    def build(cls, keys: np.ndarray, values: np.ndarray) -> NumberTable:
        order = np.argsort(keys, kind="stable")
        return cls(np.asarray(keys, dtype=np.int64)[order], np.asarray(values, dtype=np.int64)[order])

    def get_all(self, key: int) -> np.ndarray:
        lo = int(np.searchsorted(self.keys, key, side="left"))
        hi = int(np.searchsorted(self.keys, key, side="right"))
        return self.values[lo:hi]

    def valid(self, value_limit: int) -> bool:
        keys, values = self.keys, self.values
        if keys.ndim != 1 or values.ndim != 1 or len(keys) != len(values) or keys.dtype.kind != "i":
            return False
        if len(values) and (values.min() < 0 or values.max() >= value_limit):
            return False
        return not (len(keys) > 1 and bool(np.any(np.diff(keys) < 0)))

    @property
    def nbytes(self) -> int:
        return int(self.keys.nbytes + self.values.nbytes)
