"""`regdesk check` (and any rebuild of the projections) replays a log of any length. The drill at
100,000 participants found the replay failing on every station ("database table is locked"): the
log was streamed, a read left open on the connection, and replaying the first import of a large
list into the emptied participants table drops and re-creates its indexes, which SQLite refuses
while a statement is pending. Here the list counts as large (the 900-row demo import takes that
path) and chunks are tiny, so a few dozen events span many of them, with revocations among them."""

from __future__ import annotations

from regdesk.services import desk, integrity
from regdesk.store import projections
from regdesk.store.projections import core


def test_a_log_longer_than_many_chunks_is_replayed_and_checks_out(station, monkeypatch):
    with station.sessions() as session:
        ids = [
            row[0]
            for row in session.connection().exec_driver_sql(
                "SELECT accreditation_id FROM participants WHERE status = 'accredited' "
                "AND delegation_role = 'head' ORDER BY accreditation_id LIMIT 6"
            )
        ]
    assert len(ids) == 6
    for pid in ids:
        desk.record_identity_check(station, pid, "passport", "X1234567", "ana")
        desk.issue_badge(station, pid, operator="ana")
    for pid in ids[:3]:  # lost badges: each replacement revokes the first
        desk.record_identity_check(station, pid, "passport", "X1234567", "ana")
        desk.issue_badge(station, pid, operator="ana", replace=True)
    monkeypatch.setattr(projections, "REBUILD_CHUNK", 4)
    monkeypatch.setattr(core, "_LARGE_IMPORT", 10)  # the demo's import replays as a large one
    report = integrity.check_station(station.data_dir)
    assert report.problems == [] and report.ok, report.problems
    assert report.events > 4 * 5  # the replay really spanned many chunks
