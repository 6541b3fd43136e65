"""Run one real `regdesk` command on a station whose disk is read-only or full (tests/test_no_traceback.py).

Started by the test as `unshare --mount --propagation private python fault_fs.py FAULT SOURCE WORK ARGS...`:
the mounts below live in a mount namespace of this process only and vanish with it, so a failed
test never leaves a mount behind. FAULT is
  readonly  the station folder is bind-mounted onto itself read-only (what a read-only USB stick
            or a mount gone read-only after an error looks like; root ignores chmod, not this);
  full      the station is copied onto a small tmpfs that is then filled to the last byte.
Prints one JSON object: the command's exit code, stdout and stderr, and a fingerprint of the
station before and after (every file's bytes, the database as a logical dump).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

SQLITE_FILES = ("station.db", "station.db-wal", "station.db-shm")


def fingerprint(station: Path) -> dict:
    files = {}
    for path in sorted(station.rglob("*")):
        if path.is_file() and path.name not in SQLITE_FILES:
            files[str(path.relative_to(station))] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_dir():
            files[str(path.relative_to(station)) + "/"] = "folder"
    conn = sqlite3.connect(f"file:{station / 'station.db'}?mode=ro", uri=True)
    try:
        dump = hashlib.sha256("\n".join(conn.iterdump()).encode()).hexdigest()
    finally:
        conn.close()
    return {"files": files, "database": dump}


def run(*command: str) -> None:
    subprocess.run(command, check=True)


def fill(folder: Path) -> None:
    """Write zeros until the file system has no byte left."""
    with open(folder / "filler", "wb", buffering=0) as fh:
        for chunk in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
            block = bytes(chunk)
            try:
                while True:
                    fh.write(block)
            except OSError:
                pass


def main() -> None:
    fault, source, work, *args = sys.argv[1:]
    source, work = Path(source), Path(work)
    if fault == "readonly":
        station = work / "station"
        shutil.copytree(source, station)
        before = fingerprint(station)
        run("mount", "--bind", str(station), str(station))
        run("mount", "-o", "remount,ro,bind", str(station))
    elif fault == "full":
        disk = work / "disk"
        disk.mkdir()
        size = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
        run("mount", "-t", "tmpfs", "-o", f"size={size + (1 << 20)}", "tmpfs", str(disk))
        station = disk / "station"
        shutil.copytree(source, station)
        before = fingerprint(station)
        fill(disk)
    else:
        raise SystemExit(f"unknown fault {fault}")
    done = subprocess.run(
        [sys.executable, "-m", "regdesk", "--data-dir", str(station), *args],
        capture_output=True,
        text=True,
        input=os.environ.get("FAULT_STDIN", ""),
        timeout=120,
    )
    if fault == "full":
        (disk / "filler").unlink()
        free = shutil.disk_usage(disk).free
    else:
        run("umount", str(station))
        free = None
    print(
        json.dumps(
            {
                "returncode": done.returncode,
                "stdout": done.stdout,
                "stderr": done.stderr,
                "before": before,
                "after": fingerprint(station),
                "free_after_unfill": free,
            }
        )
    )


if __name__ == "__main__":
    main()
