"""Tables of the read model: the waiting-time figures, the case register (work queues) and
the municipality feed. Rebuildable: drop them and replay the topic or the event log."""

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    Uuid,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class Moment(TypeDecorator[datetime]):
    """A point in time, written in UTC whatever offset it came with and read back aware.

    PostgreSQL's timestamptz compares instants by itself; SQLite keeps a time's fields and
    drops its offset, so 10:00+01:00 would be stored, and compared with an ``--as-of``, as if
    it were 10:00 UTC. A time without an offset is taken as UTC, as the CLI and API take it."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class ProjectionBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class ConsumerPosition(ProjectionBase):
    """The next offset to read, per partition, committed with the rows it produced."""

    __tablename__ = "projection_position"

    consumer: Mapped[str] = mapped_column(String(100), primary_key=True)
    topic: Mapped[str] = mapped_column(String(200), primary_key=True)
    partition: Mapped[int] = mapped_column(Integer(), primary_key=True)
    next_offset: Mapped[int] = mapped_column(BigInteger())
    high_water: Mapped[int] = mapped_column(BigInteger(), default=0)
    """The partition's high-water mark seen in the last fetch: lag = high_water - next_offset."""
    updated_at: Mapped[datetime] = mapped_column(Moment())
    version: Mapped[int] = mapped_column(Integer())
    """Bumped by every batch: two consumers applying the same partition during a rebalance
    cannot both commit (the second one's update finds the version changed)."""

    __mapper_args__ = {"version_id_col": version}


class StreamProgress(ProjectionBase):
    """One event stream (a household case, or a person's qualification record): which of its
    events are applied, and what the projection remembers about a case between batches.

    Events carry their position in their stream (``sequence``, from 1, without gaps), so
    "already applied?" needs no row per event: everything up to ``applied_through`` is
    applied, and so are the positions in ``ahead`` (events that came before an earlier one:
    several publishers, or a resend after a partial failure). A re-published event, at a new
    offset, has its old position and is skipped."""

    __tablename__ = "projection_stream"

    stream_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    applied_through: Mapped[int] = mapped_column(Integer())
    ahead: Mapped[str] = mapped_column(Text())
    """Applied positions after a gap, comma-separated; usually empty."""
    seen: Mapped[str] = mapped_column(Text(), default="")
    """``sequence:event-id-prefix`` of the latest positions and those ahead (apply.RECENT):
    how a forged event at a taken position is told from a redelivery."""
    mapped_on: Mapped[date | None] = mapped_column(Date())
    """Competence mapping (Kompass) of the household, for SP6."""


VersionId = BigInteger().with_variant(Integer(), "sqlite")
"""Version ids come from the database: ascending, so inserts append to the index."""


class SettledPersonVersion(ProjectionBase):
    """One settled person, the unit of the waiting-time statistics, bitemporally: each
    version holds what was known from ``recorded_at`` until ``superseded_at`` (a correction
    closes a version and opens the next). The figures now read the open versions; the
    figures as of a past moment read the versions open then."""

    __tablename__ = "projection_settled_person_version"

    id: Mapped[int] = mapped_column(VersionId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(64))
    person_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    """The event that made this version: the settlement, or the correction."""
    category: Mapped[str] = mapped_column(String(32))
    protected_identity: Mapped[bool] = mapped_column(Boolean())
    household_protected: Mapped[bool] = mapped_column(Boolean(), default=False)
    """Another member has a protected identity: in no breakdown by place."""
    case_type: Mapped[str] = mapped_column(String(32))
    settled_by: Mapped[str] = mapped_column(String(16))
    municipality_number: Mapped[str] = mapped_column(String(4))
    reception_centre: Mapped[str | None] = mapped_column(String(32))
    permit_date: Mapped[date] = mapped_column(Date())
    settled_on: Mapped[date] = mapped_column(Date(), index=True)
    competence_mapped: Mapped[bool] = mapped_column(Boolean(), default=False)
    """The household's competence mapping was done by the settlement date (SP6)."""
    recorded_at: Mapped[datetime] = mapped_column(Moment())
    superseded_at: Mapped[datetime | None] = mapped_column(Moment())

    __table_args__ = (Index("ix_projection_settled_person_version_person", "case_id", "person_id"),)


class PersonWaitVersion(ProjectionBase):
    """One person of a case on the way to settlement, bitemporally like the settled persons:
    the dates that say whether they are waiting on any reference day (K8, K9, those abroad)."""

    __tablename__ = "projection_person_wait_version"

    id: Mapped[int] = mapped_column(VersionId, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    person_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    case_type: Mapped[str] = mapped_column(String(32))
    protected_identity: Mapped[bool] = mapped_column(Boolean())
    permit_date: Mapped[date] = mapped_column(Date())
    ready_on: Mapped[date | None] = mapped_column(Date())
    """Settlement-ready: the interview (the permit, for resettlement refugees)."""
    arrived_on: Mapped[date | None] = mapped_column(Date())
    settled_on: Mapped[date | None] = mapped_column(Date())
    left_on: Mapped[date | None] = mapped_column(Date())
    """The case exited before this person settled."""
    recorded_at: Mapped[datetime] = mapped_column(Moment())
    superseded_at: Mapped[datetime | None] = mapped_column(Moment())


class QualificationRecordVersion(ProjectionBase):
    """A settled adult's introduction programme and Norwegian training, as their record's
    events tell it (K13, SP4, K15), bitemporally like the settled persons: each step closes
    a version and opens the next."""

    __tablename__ = "projection_qualification_version"

    id: Mapped[int] = mapped_column(VersionId, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    case_id: Mapped[str] = mapped_column(String(64))
    municipality_number: Mapped[str] = mapped_column(String(4))
    case_type: Mapped[str] = mapped_column(String(32))
    rules: Mapped[str] = mapped_column(String(32))
    programme_right: Mapped[str] = mapped_column(String(32))
    norwegian_right: Mapped[str] = mapped_column(String(32))
    settled_on: Mapped[date] = mapped_column(Date())
    rights_start: Mapped[date] = mapped_column(Date())
    programme_started_on: Mapped[date | None] = mapped_column(Date())
    programme_ended_on: Mapped[date | None] = mapped_column(Date())
    main_activity: Mapped[str | None] = mapped_column(String(32))
    norwegian_started_on: Mapped[date | None] = mapped_column(Date())
    norwegian_completed_on: Mapped[date | None] = mapped_column(Date())
    norwegian_exempted_on: Mapped[date | None] = mapped_column(Date())
    recorded_at: Mapped[datetime] = mapped_column(Moment())
    superseded_at: Mapped[datetime | None] = mapped_column(Moment())


class PlacesVersion(ProjectionBase):
    """A municipality's places in a year as its places stream's events tell them: what IMDi
    requested and adjusted and what the council decided, bitemporally like the settled
    persons, so the places can be read as of any moment (what they are taken by:
    PlacesTakenChange)."""

    __tablename__ = "projection_places_version"

    id: Mapped[int] = mapped_column(VersionId, primary_key=True, autoincrement=True)
    stream_id: Mapped[str] = mapped_column(String(64), index=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    municipality_number: Mapped[str] = mapped_column(String(4))
    year: Mapped[int] = mapped_column(Integer(), index=True)
    requested: Mapped[int | None] = mapped_column(Integer())
    requested_unaccompanied_minors: Mapped[int | None] = mapped_column(Integer())
    adjusted: Mapped[int | None] = mapped_column(Integer())
    decided: Mapped[int | None] = mapped_column(Integer())
    decided_unaccompanied_minors: Mapped[int | None] = mapped_column(Integer())
    decided_on: Mapped[date | None] = mapped_column(Date())
    recorded_at: Mapped[datetime] = mapped_column(Moment())
    superseded_at: Mapped[datetime | None] = mapped_column(Moment())


class PlacesTakenChange(ProjectionBase):
    """A change in the places a municipality's year has used and holds (PlacesTaken), as a
    reader without clearance sees them. Changes add up: the places taken as of a moment are
    the sum of those recorded by then, whatever order they were recorded in."""

    __tablename__ = "projection_places_taken"

    id: Mapped[int] = mapped_column(VersionId, primary_key=True, autoincrement=True)
    stream_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid())
    municipality_number: Mapped[str] = mapped_column(String(4))
    year: Mapped[int] = mapped_column(Integer(), index=True)
    used: Mapped[int] = mapped_column(Integer())
    held: Mapped[int] = mapped_column(Integer())
    used_unaccompanied_minors: Mapped[int] = mapped_column(Integer())
    held_unaccompanied_minors: Mapped[int] = mapped_column(Integer())
    recorded_at: Mapped[datetime] = mapped_column(Moment())


class RegisteredCase(ProjectionBase):
    """The case register: one row per case as it stands now, from its event stream
    (projection/case_register.py). The work queues read it; it outlives the case's workflow.
    No personal data: ids, codes, dates, counts and places only."""

    __tablename__ = "case_register_case"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_type: Mapped[str] = mapped_column(String(32))
    stage: Mapped[str] = mapped_column(String(32))
    open: Mapped[bool] = mapped_column(Boolean())
    """Not yet settled or exited: what most queues are about, first in their indexes."""
    category: Mapped[str | None] = mapped_column(String(32))
    """From the first settlement (the household's category for the statistics)."""
    reception_centre: Mapped[str | None] = mapped_column(String(32))
    municipality_number: Mapped[str | None] = mapped_column(String(4))
    """Allocated to, or settled in."""
    permit_date: Mapped[date] = mapped_column(Date())
    ready_on: Mapped[date | None] = mapped_column(Date())
    """Settlement-ready: the day of the settlement interview."""
    competence_mapped_on: Mapped[date | None] = mapped_column(Date())
    exit_reason: Mapped[str | None] = mapped_column(String(32))
    target_months: Mapped[int | None] = mapped_column(Integer())
    target_date: Mapped[date | None] = mapped_column(Date())
    allocated_on: Mapped[date | None] = mapped_column(Date())
    reply_due_on: Mapped[date | None] = mapped_column(Date())
    reply_overdue: Mapped[bool] = mapped_column(Boolean(), default=False)
    accepted_on: Mapped[date | None] = mapped_column(Date())
    planned_on: Mapped[date | None] = mapped_column(Date())
    first_settled_on: Mapped[date | None] = mapped_column(Date())
    last_settled_on: Mapped[date | None] = mapped_column(Date())
    members: Mapped[int] = mapped_column(Integer())
    settled: Mapped[int] = mapped_column(Integer(), default=0)
    protected: Mapped[bool] = mapped_column(Boolean(), default=False)
    """A member has a protected identity: the household's whereabouts for cleared readers only."""
    last_event: Mapped[str] = mapped_column(String(64))
    last_step_at: Mapped[datetime] = mapped_column(Moment())
    """When the last event of the case was recorded."""

    __table_args__ = (
        # One per work queue: its filter's columns, then its sort and the cursor's tie-break.
        Index("ix_case_register_reception", "open", "reception_centre", "target_date", "case_id"),
        Index("ix_case_register_open_target", "open", "target_date", "case_id"),
        Index("ix_case_register_open_last_step", "open", "last_step_at", "case_id"),
        Index("ix_case_register_ready", "stage", "ready_on", "case_id"),
        Index("ix_case_register_stage_target", "stage", "target_date", "case_id"),
        Index("ix_case_register_reply", "stage", "reply_due_on", "case_id"),
        Index(
            "ix_case_register_municipality",
            "stage",
            "municipality_number",
            "allocated_on",
            "case_id",
        ),
        Index(
            "ix_case_register_accepted",
            "stage",
            "municipality_number",
            "accepted_on",
            "case_id",
        ),
    )


class RegisteredPerson(ProjectionBase):
    """The case register's persons: one row per person, with their settlement and their
    qualification record's deadlines (from the record's own stream)."""

    __tablename__ = "case_register_person"

    person_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    permit_date: Mapped[date | None] = mapped_column(Date())
    protected: Mapped[bool] = mapped_column(Boolean(), default=False)
    """The person, or a member of their household, has a protected identity."""
    settled_on: Mapped[date | None] = mapped_column(Date())
    municipality_number: Mapped[str | None] = mapped_column(String(4))
    programme_right: Mapped[str | None] = mapped_column(String(32))
    norwegian_right: Mapped[str | None] = mapped_column(String(32))
    programme_start_due: Mapped[date | None] = mapped_column(Date())
    programme_started_on: Mapped[date | None] = mapped_column(Date())
    programme_ended_on: Mapped[date | None] = mapped_column(Date())
    norwegian_start_due: Mapped[date | None] = mapped_column(Date())
    norwegian_started_on: Mapped[date | None] = mapped_column(Date())
    norwegian_completion_due: Mapped[date | None] = mapped_column(Date())
    norwegian_concluded_on: Mapped[date | None] = mapped_column(Date())
    next_due_on: Mapped[date | None] = mapped_column(Date())
    """The nearest deadline of the record still open (start, training, completion)."""
    record: Mapped[str | None] = mapped_column(Text())
    """The qualification record folded from its events (QualificationState as JSON)."""

    __table_args__ = (
        Index("ix_case_register_person_due", "municipality_number", "next_due_on", "person_id"),
    )


class ReportSnapshot(ProjectionBase):
    """An official report as published: the figures, the versions of their definitions, and
    how far the projection had read when it made them, so that it can be reproduced."""

    __tablename__ = "projection_report_snapshot"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(Moment())
    period_start: Mapped[date] = mapped_column(Date())
    period_end: Mapped[date] = mapped_column(Date())
    by: Mapped[str] = mapped_column(String(32))
    versions: Mapped[str] = mapped_column(Text())
    """JSON: the metric versions of the figures."""
    positions: Mapped[str] = mapped_column(Text())
    """JSON: partition to next offset, as stored with the rows the report was made from."""
    report: Mapped[str] = mapped_column(Text())
    """JSON: the report exactly as it was printed with --json."""


Versioned = SettledPersonVersion | PersonWaitVersion | QualificationRecordVersion | PlacesVersion


def known_at(model: type[Versioned], as_of: datetime | None) -> ColumnElement[bool]:
    """The versions that were the truth at ``as_of``: recorded by then and not yet superseded
    then. Without ``as_of``, the versions that are the truth now."""
    if as_of is None:
        return model.superseded_at.is_(None)
    return (model.recorded_at <= as_of) & (
        model.superseded_at.is_(None) | (model.superseded_at > as_of)
    )


class DeadLetter(ProjectionBase):
    """A record the projection could not read, with its coordinates, for a human to look at."""

    __tablename__ = "projection_dead_letter"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    topic: Mapped[str] = mapped_column(String(200))
    partition: Mapped[int] = mapped_column(Integer())
    offset: Mapped[int] = mapped_column(BigInteger())
    error: Mapped[str] = mapped_column(Text())
    headers: Mapped[str] = mapped_column(Text())
    """JSON object of header name to hex-encoded value."""
    value: Mapped[bytes] = mapped_column(LargeBinary())
    """The record's value exactly as received."""
    received_at: Mapped[datetime] = mapped_column(Moment())


class FeedStream(ProjectionBase):
    """What the feed remembers of a case or a person's qualification record."""

    __tablename__ = "feed_stream"

    stream_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    applied_through: Mapped[int] = mapped_column(Integer())
    ahead: Mapped[str] = mapped_column(Text())
    seen: Mapped[str] = mapped_column(Text(), default="")
    """Event ids (in part) at the stream's latest positions: see apply.RECENT."""
    municipality_number: Mapped[str | None] = mapped_column(String(4))
    """Where the stream's events go now: the allocated municipality, or the record's."""
    protected: Mapped[str] = mapped_column(Text())
    """Comma-separated ids of the stream's protected-identity persons; empty if none."""
    household_protected: Mapped[bool] = mapped_column(Boolean(), default=False)
    """A qualification record whose household has a protected member (the person is not)."""


class FeedEvent(ProjectionBase):
    """One entry of a municipality's feed; ``position`` is the cursor."""

    __tablename__ = "feed_event"

    position: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    municipality_number: Mapped[str] = mapped_column(String(4))
    event_id: Mapped[Any] = mapped_column(Uuid())
    event_type: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(Moment())
    cloud_event: Mapped[str] = mapped_column(Text())
    """The CloudEvent in structured JSON, exactly as served."""
    published_at: Mapped[datetime | None] = mapped_column(Moment())
    """When the relay put it on the feed topic."""
    protected: Mapped[bool] = mapped_column(Boolean(), default=False)
    """Of a household or record with a protected-identity person: HTTP, cleared readers only."""

    __table_args__ = (
        Index("ix_feed_event_municipality", "municipality_number", "position"),
        Index(
            "ix_feed_event_unpublished",
            "position",
            sqlite_where=published_at.is_(None),
            postgresql_where=published_at.is_(None),
        ),
    )
