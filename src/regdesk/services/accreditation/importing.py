"""The import use case: validate, diff against the mirror, record ONE accreditation_imported event."""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from regdesk.domain import event_payloads as ep
from regdesk.domain.events import EventKind, format_utc
from regdesk.domain.payloads import PARTICIPANT_FIELDS
from regdesk.services.accreditation.problems import (
    AccreditationImportError,
    FieldChange,
    FileRefused,
    ImportProblem,
    ImportReport,
)
from regdesk.services.accreditation.read import MAX_EXPORT_BYTES, open_table
from regdesk.services.accreditation.validate import (
    FIELD_INDEX,
    quota_notes,
    validate,
    zeros_lost_against,
    zeros_lost_message,
)
from regdesk.services.station import Station
from regdesk.store.queries import accreditation as queries

# Refuse an export that drops (without a "withdrawn" row) more than this share of the accredited.
MASS_WITHDRAWAL_SHARE = 0.2
MASS_WITHDRAWAL_MIN = 10

# --- the import ---------------------------------------------------------------------------------


def _category_names(station: Station) -> dict[str, str]:
    names: dict[str, str] = {}
    for category in station.config.categories:
        names[category.name.casefold()] = category.code
        names[category.code.casefold()] = category.code
    return names


def _next_revision(session: Session, now: datetime) -> str:
    """The station clock, but always after the mirror's newest revision.

    The projection keeps the row with the highest revision, so an import stamped earlier than the
    mirror (a rehearsal clock set to 2017, a clock that went back, two imports in one tick of a
    test clock) would report changes that never reach the mirror.
    """
    revision = format_utc(now)
    latest = queries.latest_revision(session)
    if latest and latest >= revision:
        try:
            moment = datetime.fromisoformat(latest.replace("Z", "+00:00"))
        except ValueError:
            return latest + "1"  # still sorts after it
        revision = format_utc(moment + timedelta(microseconds=1))
    return revision


def _refuse_zeros_lost(
    name: str,
    rows: list[tuple[str, ...]],
    added: list[str],
    missing: dict[str, tuple[Any, ...]],
    where: Callable[[int], tuple[int, bool]],
) -> None:
    """A new id that is a participant of the mirror with its zeros lost (361 for 000361, who is
    missing from this export) would add a stranger and withdraw the real person: refuse it."""
    lost = {aid: padded for aid in added if (padded := zeros_lost_against(aid, missing))}
    if not lost:
        return
    problems = []
    for i, row in enumerate(rows):
        if row[0] in lost:
            line, numeric = where(i)
            problems.append(
                ImportProblem(
                    name,
                    line,
                    "accreditation_id",
                    zeros_lost_message(
                        row[0], lost[row[0]], f"{lost[row[0]]} is in the mirror and missing from this export", numeric
                    ),
                )
            )
    raise AccreditationImportError(problems)


def _current_mirror(session: Session) -> dict[str, tuple[Any, ...]]:
    return queries.mirror_rows(session, PARTICIPANT_FIELDS)


def import_file(
    station: Station,
    path: Path,
    *,
    operator: str,
    dry_run: bool = False,
    allow_mass_withdrawal: bool = False,
    then: Callable[[Session], None] | None = None,
) -> ImportReport:
    """Validate the export, diff it against the mirror and record it as one event (all or nothing).

    Raises AccreditationImportError listing every problem; then neither the mirror nor the log changed.
    With dry_run=True the report is computed but nothing is recorded (event_id is None).
    `then` runs in the same transaction once the list is recorded (the photos that come with it):
    if it raises, the list is not imported either.
    """
    # A 100,000-row export allocates millions of small objects that all survive; the cyclic
    # garbage collector would rescan them again and again (a third of the import time).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _import(
            station,
            Path(path),
            operator=operator,
            dry_run=dry_run,
            allow_mass_withdrawal=allow_mass_withdrawal,
            then=then,
        )
    finally:
        if collecting:
            gc.enable()


def _import(
    station: Station,
    path: Path,
    *,
    operator: str,
    dry_run: bool,
    allow_mass_withdrawal: bool,
    then: Callable[[Session], None] | None = None,
) -> ImportReport:
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_EXPORT_BYTES:
            raise AccreditationImportError(
                [
                    ImportProblem(
                        name,
                        0,
                        "",
                        f"is {size / (1 << 20):,.0f} MB; an export of 100,000 participants is about 20 MB "
                        f"(at most {MAX_EXPORT_BYTES >> 20} MB are read): is this the right file?",
                    )
                ]
            )
        raw = path.read_bytes()
    except FileNotFoundError:
        raise AccreditationImportError([ImportProblem(name, 0, "", "no such file")]) from None
    except IsADirectoryError:
        raise AccreditationImportError([ImportProblem(name, 0, "", "is a folder, not an export file")]) from None
    except OSError as exc:
        raise AccreditationImportError([ImportProblem(name, 0, "", f"cannot be read: {exc.strerror}")]) from None
    try:
        table = open_table(path, raw)
        rows, problems, where = validate(name, table, _category_names(station))
    except FileRefused as refused:
        raise AccreditationImportError(refused.problems) from None
    if problems:
        raise AccreditationImportError(problems)
    notes = table.notes + quota_notes(rows, station)

    i_status = FIELD_INDEX["status"]
    added: list[str] = []
    changed: dict[str, list[FieldChange]] = {}
    withdrawn: list[str] = []
    reinstated: list[str] = []
    dropped: list[str] = []
    unchanged = 0
    payload_rows: list[tuple[Any, ...]] = []
    with station.transaction() as session:
        mirror = _current_mirror(session)
        accredited_before = sum(1 for r in mirror.values() if r[i_status] == "accredited")
        for row in rows:
            old = mirror.pop(row[0], None)
            if old is None:
                added.append(row[0])
                payload_rows.append(row)
                continue
            if old == row:
                unchanged += 1
                continue
            payload_rows.append(row)
            diffs = [
                FieldChange(f, old[i], row[i])
                for i, f in enumerate(PARTICIPANT_FIELDS)
                if old[i] != row[i] and i != i_status
            ]
            if diffs:
                changed[row[0]] = diffs
            if old[i_status] != row[i_status]:
                (withdrawn if row[i_status] == "withdrawn" else reinstated).append(row[0])
        if added and mirror:  # (mirror: the participants this export does not list)
            _refuse_zeros_lost(name, rows, added, mirror, where)
        # Whatever is left in the mirror is missing from this export: withdrawn.
        for aid, old in mirror.items():
            if old[i_status] == "withdrawn":
                continue
            dropped.append(aid)
            withdrawn.append(aid)
            payload_rows.append(old[:i_status] + ("withdrawn",) + old[i_status + 1 :])
        dropped_limit = max(MASS_WITHDRAWAL_MIN, MASS_WITHDRAWAL_SHARE * accredited_before)
        if dropped and len(dropped) > dropped_limit and not allow_mass_withdrawal:
            raise AccreditationImportError(
                [
                    ImportProblem(
                        name,
                        0,
                        "",
                        f"{len(dropped)} participants in the mirror are missing from this export and would be "
                        f"withdrawn (e.g. {', '.join(dropped[:5])}). Is the file cut off or for another list? "
                        "If this is really the newer export, import it with --allow-mass-withdrawal",
                    )
                ]
            )
        report = ImportReport(
            source=path.name,
            total_rows=len(rows),
            added=added,
            changed=changed,
            withdrawn=withdrawn,
            reinstated=reinstated,
            unchanged=unchanged,
            event_id=None,
            notes=notes,
            dropped=dropped,
            file_format=table.kind,
        )
        if dry_run:
            return report
        event = station.record(
            session,
            EventKind.ACCREDITATION_IMPORTED,
            ep.AccreditationImported(
                revision=_next_revision(session, station.clock.now()),
                rows=[list(r) for r in payload_rows],
                source=path.name,
                sha256=hashlib.sha256(raw).hexdigest(),
                format=table.kind,
                # Field names once, each row a list (AccreditationImported.records reads both shapes).
                columns=list(PARTICIPANT_FIELDS),
                counts=report.counts,
            ),
            operator,
        )
        report.event_id = event.id
        if then is not None:
            then(session)
    _forget_search_index(station)
    return report


def _forget_search_index(station: Station) -> None:
    # The index notices a new import by itself; dropping it now frees the memory of the old one early.
    from regdesk.services import lookup

    lookup.invalidate(station)
