"""SQLAlchemy schema of a station database.

`events` is the source of truth. Every other table except `meta` and `sync_state` is a
projection that `store.projections.rebuild()` can recreate from the log.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Meta(Base):
    """Station identity and settings: station_id, station_name, role, event_code, event_toml..."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class EventRow(Base):
    __tablename__ = "events"
    # Local arrival order: the cursor for "what have I not sent yet" in sync.
    local_order: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    station_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[str] = mapped_column(String(27))  # ISO UTC, sortable
    operator: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)  # JSON
    # The chain of trust (domain/chain.py): the role the recording station checked, the hash of the
    # same station's previous event, this event's own hash (derived, never sent: every receiver
    # computes it) and, on the events a station signed before letting them go, its seal.
    operator_role: Mapped[str] = mapped_column(String(16), default="")
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")
    seal: Mapped[str | None] = mapped_column(String(128), nullable=True, default=None)

    __table_args__ = (
        UniqueConstraint("station_id", "seq", name="uq_events_station_seq"),
        Index("ix_events_kind_time", "kind", "recorded_at"),
    )


class HeldEvent(Base):
    """Events from another station that cannot be verified yet (their seal has not arrived).

    Local state, not a projection: they are tried again at every merge, and enter the log only
    once a seal of their station vouches for them.
    """

    __tablename__ = "held_events"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(36), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[str] = mapped_column(String(27))
    operator: Mapped[str] = mapped_column(String(120))
    operator_role: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    seal: Mapped[str | None] = mapped_column(String(128), nullable=True)
    held_since: Mapped[str] = mapped_column(String(27))


class SigninThrottle(Base):
    """Failed sign-ins per operator name on this station, shared by every process (TUI, CLI)."""

    __tablename__ = "signin_throttle"
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[float] = mapped_column(default=0.0)  # wall-clock seconds (time.time())


# --- projections -------------------------------------------------------------------------------


class Participant(Base):
    __tablename__ = "participants"
    accreditation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    family_name: Mapped[str] = mapped_column(String(200))
    given_names: Mapped[str] = mapped_column(String(200))
    # Latin rendering when the passport name is in another script (else equal to the name).
    family_name_latin: Mapped[str] = mapped_column(String(200))
    given_names_latin: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(16))
    delegation: Mapped[str] = mapped_column(String(200))
    delegation_role: Mapped[str] = mapped_column(String(16))  # head | member
    status: Mapped[str] = mapped_column(String(16))  # accredited | withdrawn
    confirmation_code: Mapped[str] = mapped_column(String(64), default="")
    title: Mapped[str] = mapped_column(String(64), default="")
    # Export generation this row came from; a refresh only overwrites with a newer revision.
    revision: Mapped[str] = mapped_column(String(40))

    __table_args__ = (
        Index("ix_participants_delegation", "delegation"),
        Index("ix_participants_confirmation", "confirmation_code"),
    )


class Photo(Base):
    """The newest photo of each participant: which event holds it (the JPEG itself stays in that
    event's payload, stored once) and the hashes a re-import compares."""

    __tablename__ = "photos"
    participant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    # "recorded_at station_id seq": the newest photo wins, the same on every station whatever order
    # the events arrived in (two photos of one import share their recorded_at under a test clock).
    order_key: Mapped[str] = mapped_column(String(80))
    sha256: Mapped[str] = mapped_column(String(64))
    source_sha256: Mapped[str] = mapped_column(String(64))


class Badge(Base):
    __tablename__ = "badges"
    serial: Mapped[str] = mapped_column(String(16), primary_key=True)
    participant_id: Mapped[str] = mapped_column(String(64), index=True)
    issue_no: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(8))
    token: Mapped[str] = mapped_column(Text)
    issued_event_id: Mapped[str] = mapped_column(String(36))
    issued_at: Mapped[str] = mapped_column(String(27))
    station_id: Mapped[str] = mapped_column(String(36))
    operator: Mapped[str] = mapped_column(String(120))
    override_event_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Collected for the holder by a focal point (their accreditation id; "" = in person), and on
    # whose authority (the reference of the note verbale or letter).
    collected_by: Mapped[str] = mapped_column(String(64), default="", server_default="")
    authorisation: Mapped[str] = mapped_column(Text, default="", server_default="")


class Revocation(Base):
    """The revocation set. Keyed by serial so it can arrive before the badge it revokes."""

    __tablename__ = "revocations"
    serial: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(String(40))
    revoked_at: Mapped[str] = mapped_column(String(27))


class IdentityCheck(Base):
    __tablename__ = "identity_checks"
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    participant_id: Mapped[str] = mapped_column(String(64), index=True)
    document_type: Mapped[str] = mapped_column(String(32))
    document_last4: Mapped[str] = mapped_column(String(4))  # never the whole number
    checked_at: Mapped[str] = mapped_column(String(27))
    operator: Mapped[str] = mapped_column(String(120))
    # The participant's current badge when the check was made (None: they had none). The check
    # counts for the next issuance only while that badge is still their current one.
    for_badge: Mapped[str | None] = mapped_column(String(16), nullable=True, default=None)


class BadgeDelivery(Base):
    """Badges that reached the participant's hands: a printer accepted the job, or a PDF-only
    station (no printer configured) saved the PDF. Keyed by serial so it may arrive before the badge."""

    __tablename__ = "badge_deliveries"
    serial: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    delivered_at: Mapped[str] = mapped_column(String(27))
    printer: Mapped[str] = mapped_column(String(200), default="")  # "" = PDF only


class PublicKey(Base):
    __tablename__ = "public_keys"
    key_id: Mapped[str] = mapped_column(String(8), primary_key=True)
    public_key: Mapped[str] = mapped_column(String(64))  # hex of the raw 32 bytes
    station_id: Mapped[str] = mapped_column(String(36))
    event_code: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[str] = mapped_column(String(27))


class Scan(Base):
    __tablename__ = "scans"
    # A surrogate key, not the event id: sync inserts every scan of every station (a million at a
    # large meeting), and a unique index on random UUIDs costs about as much as the row itself.
    # Uniqueness comes from the event log: a scan row is written only for an event just inserted.
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36))
    scanned_at: Mapped[str] = mapped_column(String(27))
    local_day: Mapped[str] = mapped_column(String(10))
    station_id: Mapped[str] = mapped_column(String(36))
    point_kind: Mapped[str] = mapped_column(String(16))  # security | bus
    point: Mapped[str] = mapped_column(String(64))  # checkpoint code or bus stop code
    direction: Mapped[str] = mapped_column(String(16), default="")  # to_venue | to_hotel (rows from before: to_icc)
    departure: Mapped[str] = mapped_column(String(64), default="")
    verdict: Mapped[str] = mapped_column(String(16))  # valid | denied | repeat
    reason: Mapped[str] = mapped_column(String(32))
    serial: Mapped[str] = mapped_column(String(16), default="")
    participant_id: Mapped[str] = mapped_column(String(64), default="")
    counted: Mapped[bool] = mapped_column(Boolean, default=True)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index("ix_scans_serial_point", "serial", "point", "scanned_at"),
        Index("ix_scans_day", "local_day", "point_kind"),
    )


class Override(Base):
    __tablename__ = "overrides"
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    participant_id: Mapped[str] = mapped_column(String(64), index=True)
    rule: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    supervisor: Mapped[str] = mapped_column(String(120))
    granted_at: Mapped[str] = mapped_column(String(27))
    station_id: Mapped[str] = mapped_column(String(36))
    operator: Mapped[str] = mapped_column(String(120))


class EnrolledStation(Base):
    """Stations of this meeting, from their root-certified `station_created` events."""

    __tablename__ = "stations"
    station_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(String(64), index=True)
    certificate: Mapped[str] = mapped_column(Text)  # JSON, as carried by the station_created event
    continues: Mapped[str] = mapped_column(String(36), default="")  # station id a restore continues
    created_at: Mapped[str] = mapped_column(String(27))


class StationRevocation(Base):
    """Root-signed cut-offs: every station id certified with `station_key` is trusted only up to
    its head in `heads` (JSON {station_id: seq})."""

    __tablename__ = "station_revocations"
    station_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    heads: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    revoked_at: Mapped[str] = mapped_column(String(27))
    event_id: Mapped[str] = mapped_column(String(36))


class Operator(Base):
    __tablename__ = "operators"
    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))  # clerk | security | marshal | supervisor
    pin_hash: Mapped[str] = mapped_column(String(200))
    added_at: Mapped[str] = mapped_column(String(27))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TemporaryPass(Base):
    """The contingency stock (domain/passes.py): one row per printed pass, filled in as it is
    assigned or voided. Keyed by serial so an assignment or a void may arrive before the print run."""

    __tablename__ = "temporary_passes"
    serial: Mapped[str] = mapped_column(String(8), primary_key=True)  # TP0012
    number: Mapped[int] = mapped_column(Integer)
    day: Mapped[str] = mapped_column(String(10), default="")  # "" until the print run arrives
    key_id: Mapped[str] = mapped_column(String(8), default="")
    printed_event_id: Mapped[str] = mapped_column(String(36), default="")
    printed_at: Mapped[str] = mapped_column(String(27), default="")
    station_id: Mapped[str] = mapped_column(String(36), default="")
    participant_id: Mapped[str] = mapped_column(String(64), default="", index=True)  # "" = not assigned
    assigned_event_id: Mapped[str] = mapped_column(String(36), default="")
    assigned_at: Mapped[str] = mapped_column(String(27), default="")
    assigned_by: Mapped[str] = mapped_column(String(120), default="")
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    void_reason: Mapped[str] = mapped_column(Text, default="")
