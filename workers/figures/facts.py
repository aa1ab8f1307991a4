"""The figures' input, read from the projection's versioned tables: the persons settled in a
period and the qualification records, as known now or as known at a past moment."""

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.enums import CaseType, Category, SettlingAuthority
from workers.figures.metrics import QualificationFact, SettledFact
from workers.projection.store import QualificationRecordVersion, SettledPersonVersion, known_at


async def load_settled_facts(
    session: AsyncSession,
    period_start: date,
    period_end: date,
    as_of: datetime | None = None,
) -> list[SettledFact]:
    """The persons settled in the period, as known now or, with ``as_of``, as known then."""
    v = SettledPersonVersion
    known = known_at(v, as_of)
    rows = await session.scalars(
        select(v).where(v.settled_on.between(period_start, period_end), known)
    )
    return [
        SettledFact(
            category=Category(row.category),
            protected_identity=row.protected_identity,
            household_protected=row.household_protected,
            permit_date=row.permit_date,
            settled_on=row.settled_on,
            case_id=row.case_id,
            case_type=CaseType(row.case_type),
            settled_by=SettlingAuthority(row.settled_by),
            municipality_number=row.municipality_number,
            reception_centre=row.reception_centre,
            competence_mapped=row.competence_mapped,
        )
        for row in rows
    ]


async def load_qualification_facts(
    session: AsyncSession, as_of: datetime | None = None
) -> list[QualificationFact]:
    """Every qualification record, as known now or, with ``as_of``, as known then."""
    v = QualificationRecordVersion
    known = known_at(v, as_of)
    rows = await session.scalars(select(v).where(known))
    return [
        QualificationFact(
            person_id=r.person_id,
            case_type=CaseType(r.case_type),
            programme_right=r.programme_right,
            norwegian_right=r.norwegian_right,
            settled_on=r.settled_on,
            rights_start=r.rights_start,
            programme_started_on=r.programme_started_on,
            programme_ended_on=r.programme_ended_on,
            main_activity=r.main_activity,
            norwegian_started_on=r.norwegian_started_on,
        )
        for r in rows
    ]
