"""The audit log of reads of personal records: who read what, when, why, and what they got.

Kept in the register database beside the event log (the system of record), append-only. A
read whose audit record cannot be written is not served."""

from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from activities.event_log import RegisterBase

from .auth import Principal


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

    __table_args__ = (Index("ix_audit_read_resource", "resource", "at"),)


async def record_read(
    register: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    action: str,
    resource: str,
    purpose: str,
    outcome: str,
) -> None:
    async with register.begin() as session:
        session.add(
            AuditRecord(
                at=datetime.now(UTC),
                subject=principal.subject,
                role=principal.role.value,
                scope=principal.reception_centre or principal.municipality_number,
                action=action,
                resource=resource,
                purpose=purpose,
                outcome=outcome,
            )
        )


async def reads_of(
    register: async_sessionmaker[AsyncSession], resource: str, limit: int = 200
) -> list[AuditRecord]:
    async with register() as session:
        rows = await session.scalars(
            select(AuditRecord)
            .where(AuditRecord.resource == resource)
            .order_by(AuditRecord.id.desc())
            .limit(limit)
        )
        return list(rows)
