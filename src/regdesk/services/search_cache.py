"""The desk's search index kept on disk beside station.db, so the first search after a start does
not wait for it to be built (seconds of Python string work at 100,000 participants).

The file is a cache, never a source: it is used only when it was saved for exactly the mirror in
the database (the fingerprint `lookup` already uses, plus a checksum of the participants' text
read in SQL, which notices a rebuilt or restored mirror with the same row count), and when every
part of it reads back with consistent sizes. Otherwise it is ignored, the index is built from the
database as before, and the file is written again. Arrays and text only (numpy's .npz without
pickle): reading it runs no code from it.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from regdesk.services.search_tables import KeyTable, NumberTable, RecordTable, TextColumn
from regdesk.store import files

CACHE_NAME = "search-index.npz"
FORMAT = 3
ROW_FIELDS = 10  # lookup.ROW_FIELDS
POSTINGS = ("family", "given", "deleg")
TABLES = ("by_id", "by_key", "deletes")  # KeyTables; by_number is a NumberTable
ARRAYS = ("name_words", "is_head", "record_start", "record_words", "record_fields")


def _text(values: list[str]) -> np.ndarray:
    return np.frombuffer(TextColumn.of(values).data, dtype=np.uint8)


def _key(fingerprint: tuple[Any, Any], stamp: tuple[Any, ...]) -> str:
    return repr((FORMAT, fingerprint, stamp))


def save(data_dir: Path, index: Any, stamp: tuple[Any, ...]) -> bool:
    """Write `index` (a search_index.SearchIndex built for `stamp`) for the next start; False when
    it could not be written. Best effort: a station that cannot write it (full disk) searches as
    before."""
    arrays: dict[str, np.ndarray] = {
        "key": _text([_key(index.fingerprint, stamp)]),
        "vocabulary": _text(index.vocabulary),
        "counts": np.array([index.size, len(index.vocabulary)], dtype=np.int64),
        "by_number_keys": index.by_number.keys,
        "by_number_values": index.by_number.values,
    }
    arrays.update({name: getattr(index, name) for name in ARRAYS})
    arrays["records"] = np.frombuffer(index.records.records.data, dtype=np.uint8)
    for name in TABLES:
        table = getattr(index, name)
        arrays[f"{name}_keys"], arrays[f"{name}_values"] = table.keys, table.values
    for name in POSTINGS:
        arrays[f"{name}_start"] = index.postings[name].start
        arrays[f"{name}_ids"] = index.postings[name].ids
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    try:
        # Not fsynced: a lost or torn cache is ignored and built again.
        files.write_private(data_dir / CACHE_NAME, buffer.getvalue(), durable=False)
    except OSError:
        return False
    return True


def load(data_dir: Path, fingerprint: tuple[Any, Any], stamp: tuple[Any, ...]) -> dict[str, Any] | None:
    """The saved index's parts (lookup.SearchIndex's fields but its fingerprint) when the file was
    saved for this fingerprint and stamp and reads back whole and consistent; None otherwise (no
    file, another mirror, damage)."""
    try:
        with np.load(data_dir / CACHE_NAME, allow_pickle=False) as data:
            if TextColumn.from_bytes(data["key"].tobytes(), 1)[0] != _key(fingerprint, stamp):
                return None
            size, words = (int(v) for v in data["counts"])
            parts: dict[str, Any] = {
                "vocabulary": TextColumn.from_bytes(data["vocabulary"].tobytes(), words).all(),
                "records": RecordTable.from_bytes(data["records"].tobytes(), size, ROW_FIELDS),
                "by_number": NumberTable(data["by_number_keys"], data["by_number_values"]),
                "postings": {},
            }
            parts.update({name: data[name] for name in ARRAYS})
            parts.update({name: KeyTable(data[f"{name}_keys"], data[f"{name}_values"]) for name in TABLES})
            for name in POSTINGS:
                start, ids = data[f"{name}_start"], data[f"{name}_ids"]
                if len(start) != words + 1 or (len(ids) and (ids.min() < 0 or ids.max() >= size)):
                    return None
                if len(start) and (start[0] != 0 or start[-1] != len(ids) or np.any(np.diff(start) < 0)):
                    return None
                parts["postings"][name] = (start, ids)
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
        return None
    record_start, record_words = parts["record_start"], parts["record_words"]
    if (
        len(parts["name_words"]) != size
        or len(parts["is_head"]) != size
        or len(record_start) != size + 1
        or len(parts["record_fields"]) != len(record_words)
        or (size and (record_start[0] != 0 or record_start[-1] != len(record_words)))
        or np.any(np.diff(record_start) < 0)
        or (len(record_words) and (record_words.min() < 0 or record_words.max() >= words))
        or not all(parts[name].valid(size) for name in ("by_id", "by_key", "by_number"))
        or not parts["deletes"].valid(words)
    ):
        return None
    return parts
