"""Builds a large mirror's search index in a child process, which saves it for the desk to read.

Building the index for 100,000 participants makes about a million short-lived Python objects and
holds the interpreter for about two seconds. In the desk's own process that froze the screen for as
long, and the freed memory stayed with the process (300 MB where a read index needs 150 MB). The
child uses the other core, and its memory goes when it ends. The desk then reads the saved index as
it would after a restart (search_cache.load checks it against the mirror as usual).

    python -m regdesk.services.index_build DB_PATH DATA_DIR
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

# Below this many participants the desk builds in its own process: tens of milliseconds, less than
# starting a child would take.
CHILD_BUILD_MIN_PARTICIPANTS = 20_000
CHILD_TIMEOUT_S = 600


def build_in_child(db_path: Path, data_dir: Path) -> bool:
    """Run the child to its end; True when it saved an index (the caller still checks it on reading)."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "regdesk.services.index_build", os.fspath(db_path), os.fspath(data_dir)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=CHILD_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def main(argv: list[str]) -> int:
    from regdesk.services import search_cache, search_index
    from regdesk.store.queries import lookup as lookup_queries

    if len(argv) != 2:
        print("usage: python -m regdesk.services.index_build DB_PATH DATA_DIR", file=sys.stderr)
        return 2
    db_path, data_dir = argv
    reader = lookup_queries.reader(db_path)
    with reader.lock:
        stamp = lookup_queries.content_stamp(reader.conn)
    index = search_index.build_index(db_path)
    with reader.lock:  # saved only for the mirror it was built from (an import may land meanwhile)
        if lookup_queries.fingerprint(reader.conn) != index.fingerprint:
            return 1
        if lookup_queries.content_stamp(reader.conn) != stamp:
            return 1
    return 0 if search_cache.save(Path(data_dir), index, stamp) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
