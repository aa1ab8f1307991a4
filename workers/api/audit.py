"""The audit log of reads of personal records: who read what, when, why, and what they got.

Kept in the register database beside the event log (the system of record), append-only. A
read whose audit record cannot be written is not served."""

from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from workers.api.auth import Principal
from workers.platform.register import AuditRecord


async def record_read(
    register: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    action: str,
    resource: str,
    purpose: str,
    outcome: str,
    returned: list[str] | None = None,
) -> None:
    """Write the audit row, before the read is served. ``returned``: a listing's records."""
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
                returned=f" {' '.join(returned)} " if returned is not None else None,
            )
        )


async def reads_of(
    register: async_sessionmaker[AsyncSession], resource: str, limit: int = 200
) -> list[AuditRecord]:
    async with register() as session:
        rows = await session.scalars(
            select(AuditRecord)
            .where(
                or_(
                    AuditRecord.resource == resource,
                    AuditRecord.returned.contains(f" {resource} ", autoescape=True),
                )
            )
            .order_by(AuditRecord.id.desc())
            .limit(limit)
        )
        return list(rows)
