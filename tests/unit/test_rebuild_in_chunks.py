"""`regdesk check` (and any rebuild of the projections) replays a log of any length. The drill at
100,000 participants found the replay failing on every station ("database table is locked") once
the log outgrew one fetch: a read left open while the projections were written. Chunks are made
tiny here so that a few dozen events span many of them, with revocations among them."""

from __future__ import annotations

from regdesk.services import desk, integrity
from regdesk.store import projections


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
    report = integrity.check_station(station.data_dir)
    assert report.problems == [] and report.ok, report.problems
    assert report.events > 4 * 5  # the replay really spanned many chunks
