"""The register's tables, in one place: the SQL event log (the system of record for what
happened to every case), the audit of reads, worker heartbeats, failing activities and the
API's idempotency keys. Activities and workers both import them from here; the Alembic
migrations in ``migrations/versions/r*`` create them.

The event log is append-only and unique by event id. Rows are written by the
``record_case_events`` activity inside the case's workflow step and relayed to Kafka by the
outbox publisher (``published_at`` marks what has gone out)."""

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    Uuid,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schemas.events import CaseEvent
from schemas.ports import CaseDossier

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "pk": "pk_%(table_name)s",
}


class RegisterBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class EventLogRow(RegisterBase):
    __tablename__ = "event_log"

    position: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid(), unique=True)
    case_id: Mapped[str] = mapped_column(String(64))
    sequence: Mapped[int] = mapped_column(Integer())
    event_type: Mapped[str] = mapped_column(String(64))
    business_date: Mapped[date] = mapped_column(Date())
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    payload: Mapped[str] = mapped_column(Text())
    """The whole CaseEvent as JSON: enough to re-publish it after a broker is lost."""
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    traceparent: Mapped[str | None] = mapped_column(String(55))
    """The W3C trace context of the step that recorded it, carried on to Kafka (CloudEvents'
    distributed tracing extension) so a trace runs from the API call to the projection."""

    __table_args__ = (
        Index("ix_event_log_case", "case_id", "sequence"),
        Index(
            "ix_event_log_unpublished",
            "position",
            sqlite_where=published_at.is_(None),
            postgresql_where=published_at.is_(None),
        ),
    )


def row_for(event: CaseEvent, traceparent: str | None = None) -> dict[str, object]:
    return {
        "traceparent": traceparent,
        "event_id": event.event_id,
        "case_id": event.case_id,
        "sequence": event.sequence,
        "event_type": event.type,
        "business_date": event.business_date,
        "recorded_at": event.recorded_at,
        "payload": event.model_dump_json(),
    }


async def append_events(
    session: AsyncSession, events: list[CaseEvent], traceparent: str | None = None
) -> int:
    """Insert events, skipping ids already present (a retried activity repeats its events).
    Returns how many rows were new."""
    if not events:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    ids = [e.event_id for e in events]
    before = await session.scalar(
        select(func.count()).select_from(EventLogRow).where(EventLogRow.event_id.in_(ids))
    )
    stmt = insert(EventLogRow).on_conflict_do_nothing(index_elements=["event_id"])
    await session.execute(stmt, [row_for(e, traceparent) for e in events])
    return len(events) - int(before or 0)


class CaseDossierRow(RegisterBase):
    """A case's personal details (schemas.ports.CaseDossier as JSON), written with its events
    by the event log's activity: what a case read needs that no event carries."""

    __tablename__ = "case_dossier"

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    through: Mapped[int] = mapped_column(Integer())
    document: Mapped[str] = mapped_column(Text())


async def keep_dossier(session: AsyncSession, case_id: str, dossier: CaseDossier) -> None:
    """Store the dossier unless a newer one is there (a retried activity sends an older one)."""
    row = await session.get(CaseDossierRow, case_id)
    if row is None:
        session.add(
            CaseDossierRow(
                case_id=case_id, through=dossier.through, document=dossier.model_dump_json()
            )
        )
    elif row.through <= dossier.through:
        row.through, row.document = dossier.through, dossier.model_dump_json()


async def dossier_of(session: AsyncSession, case_id: str) -> CaseDossier | None:
    row = await session.get(CaseDossierRow, case_id)
    return CaseDossier.model_validate_json(row.document) if row else None


class AuditRecord(RegisterBase):
    __tablename__ = "audit_read"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    subject: Mapped[str] = mapped_column(String(200))
    """The token's subject: the staff member or system that read."""
    role: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str | None] = mapped_column(String(64))
    """Their reception centre or municipality number, for scoped roles."""
    action: Mapped[str] = mapped_column(String(64))
    """What was read: case, case.timeline, person.qualification."""
    resource: Mapped[str] = mapped_column(String(200))
    """The pseudonymous id of the case or person."""
    purpose: Mapped[str] = mapped_column(String(500))
    """Why, as the caller said (the X-Purpose header)."""
    outcome: Mapped[str] = mapped_column(String(16))
    """granted, profile, redacted, or refused."""
    returned: Mapped[str | None] = mapped_column(Text())
    """A listing's records, space-separated (``case/<id> person/<id>``); None for one record."""

    __table_args__ = (Index("ix_audit_read_resource", "resource", "at"),)


class Heartbeat(RegisterBase):
    __tablename__ = "worker_heartbeat"

    component: Mapped[str] = mapped_column(String(32), primary_key=True)
    instance: Mapped[str] = mapped_column(String(128), primary_key=True)
    """host:pid"""
    pid: Mapped[int] = mapped_column(Integer())
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class FailingActivity(RegisterBase):
    __tablename__ = "failing_activity"

    workflow_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    activity_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    activity_type: Mapped[str] = mapped_column(String(128))
    attempt: Mapped[int] = mapped_column(Integer())
    error_type: Mapped[str] = mapped_column(String(128))
    first_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdempotencyKeyUse(RegisterBase):
    __tablename__ = "idempotency_key"

    command_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    """The command id the key makes (``api:<caller hash>:<key hash>``)."""
    fingerprint: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the step and the body as first sent."""
    first_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebSessionRow(RegisterBase):
    """A signed-in browser (workers/api/web/sessions.py). The cookie holds only a random
    value; the row is found by its hash, so a copy of this table opens no session. The
    reader's bearer token (the one the API verifies on every call the pages make for them)
    is kept encrypted with a key derived from that value."""

    __tablename__ = "web_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str | None] = mapped_column(Text(), nullable=True)
    csrf: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(500), nullable=True)
    pending: Mapped[str | None] = mapped_column(Text(), nullable=True)
    """A sign-in under way (OpenID Connect state, nonce, PKCE verifier, where to return)."""
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
