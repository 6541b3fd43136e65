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
from typing import Any

import numpy as np

from regdesk.services.station import Station
from regdesk.store import files

CACHE_NAME = "search-index.npz"
FORMAT = 1
# Joins text fields: a unit separator is a control character, which the import never lets into a field.
SEP = "\x1f"
ROW_FIELDS = 10  # lookup_queries.participant_rows
POSTINGS = ("family", "given", "deleg")


def _text(values: list[str]) -> np.ndarray:
    return np.frombuffer(SEP.join(values).encode("utf-8"), dtype=np.uint8)


def _strings(array: np.ndarray, count: int, *, shared: bool = False) -> list[str]:
    """The `count` strings of one text field; `shared`: one string object per distinct value (a
    status, a role, a delegation repeated 100,000 times is one string, not 100,000)."""
    if count == 0:
        return []
    values = array.tobytes().decode("utf-8").split(SEP)
    if len(values) != count:
        raise ValueError("text field of the wrong length")
    if shared:
        distinct: dict[str, str] = {}
        values = [distinct.setdefault(v, v) for v in values]
    return values


def _key(fingerprint: tuple[Any, Any], stamp: tuple[Any, ...]) -> str:
    return repr((FORMAT, fingerprint, stamp))


def save(station: Station, index: Any, stamp: tuple[Any, ...]) -> None:
    """Write `index` (a lookup.SearchIndex built for `stamp`) for the next start. Best effort: a
    station that cannot write it (full disk) searches as before."""
    arrays: dict[str, np.ndarray] = {
        "key": _text([_key(index.fingerprint, stamp)]),
        "vocabulary": _text(index.vocabulary),
        "name_words": index.name_words,
        "is_head": index.is_head,
        "record_start": index.record_start,
        "record_words": index.record_words,
        "record_fields": index.record_fields,
        "counts": np.array([len(index.ids), len(index.vocabulary)], dtype=np.int64),
    }
    for n in range(ROW_FIELDS):
        arrays[f"row{n}"] = _text([r[n] for r in index.rows])
    for name in POSTINGS:
        arrays[f"{name}_start"] = index.postings[name].start
        arrays[f"{name}_ids"] = index.postings[name].ids
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)  # type: ignore[arg-type]
    try:
        # Not fsynced: a lost or torn cache is ignored and built again.
        files.write_private(station.data_dir / CACHE_NAME, buffer.getvalue(), durable=False)
    except OSError:
        pass


def load(station: Station, fingerprint: tuple[Any, Any], stamp: tuple[Any, ...]) -> dict[str, Any] | None:
    """The saved index's parts when the file was saved for this fingerprint and stamp and reads back
    whole and consistent; None otherwise (no file, another mirror, damage)."""
    path = station.data_dir / CACHE_NAME
    try:
        with np.load(path, allow_pickle=False) as data:
            if _strings(data["key"], 1)[0] != _key(fingerprint, stamp):
                return None
            size, words = (int(v) for v in data["counts"])
            parts: dict[str, Any] = {
                "vocabulary": _strings(data["vocabulary"], words),
                "rows": list(
                    zip(*(_strings(data[f"row{n}"], size, shared=True) for n in range(ROW_FIELDS)), strict=True)
                )
                if size
                else [],
            }
            parts["ids"] = [r[0] for r in parts["rows"]]  # the rows' own strings, not a second copy
            for name in ("name_words", "is_head", "record_start", "record_words", "record_fields"):
                parts[name] = data[name]
            for name in POSTINGS:
                start, ids = data[f"{name}_start"], data[f"{name}_ids"]
                if len(start) != words + 1 or (len(ids) and (ids.min() < 0 or ids.max() >= size)):
                    return None
                if len(start) and (start[0] != 0 or start[-1] != len(ids) or np.any(np.diff(start) < 0)):
                    return None
                parts[f"{name}_postings"] = (start, ids)
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
    ):
        return None
    return parts
