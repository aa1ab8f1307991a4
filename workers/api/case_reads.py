"""A case, and an adult's qualification record, as the register knows them, for reads: the
case register's rows (the projection's, from the events; a record is folded from its own
stream) and the household's dossier (the register database's, written with the events). A
read answered this way asks no workflow, so a case stays readable after its workflow has
closed and its history is gone.

The register follows the events within the projection's lag. So that a read never shows (or
scopes by) a state older than the last recorded step, each read first compares how far the
register has applied the case's stream with the event log (``behind``): while it lags, the
read asks the workflow, and only if the workflow is gone serves what the register has. A
case whose dossier was never written (its last step predates the dossier) is read from its
workflow too."""

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schemas.deadlines import open_target_state, settled_verdict
from schemas.enums import CaseStage, CaseType, ExitReason
from schemas.qualification import QualificationState
from schemas.state import CaseState, SettledPerson
from workers.platform.register import EventLogRow, dossier_of
from workers.projection.store import RegisteredCase, RegisteredPerson, StreamProgress
from workflows.rules import settlement_target


async def behind(
    projection: async_sessionmaker[AsyncSession],
    register: async_sessionmaker[AsyncSession],
    stream_id: str,
) -> bool:
    """Whether the event log holds events of the stream the register has not applied yet."""
    async with register() as session:
        logged = await session.scalar(
            select(func.max(EventLogRow.sequence)).where(EventLogRow.case_id == stream_id)
        )
    async with projection() as session:
        applied = await session.scalar(
            select(StreamProgress.applied_through).where(StreamProgress.stream_id == stream_id)
        )
    return (logged or 0) > (applied or 0)


async def registered_state(
    projection: async_sessionmaker[AsyncSession],
    register: async_sessionmaker[AsyncSession],
    case_id: str,
) -> CaseState | None:
    """The case as a CaseState (what the views are made from), or None if the register
    cannot tell it whole."""
    async with projection() as session:
        row = await session.get(RegisteredCase, case_id)
        persons = (
            await session.scalars(
                select(RegisteredPerson).where(RegisteredPerson.case_id == case_id)
            )
        ).all()
    if row is None:
        return None
    async with register() as session:
        dossier = await dossier_of(session, case_id)
    if dossier is None:
        return None
    by_id = {p.person_id: p for p in persons}
    case_type = CaseType(row.case_type)
    later = {
        p.person_id: p.permit_date
        for p in persons
        if p.permit_date is not None and p.permit_date != row.permit_date
    }
    if row.target_date is not None and row.target_months is not None:
        target_months, target_date = row.target_months, row.target_date
    else:  # opened before the events carried it: the rule, from the household at its permit
        original = [p for p in dossier.persons if p.person_id not in later]
        target_months, target_date = settlement_target(case_type, original, row.permit_date)
    if row.stage == CaseStage.SETTLED.value and row.last_settled_on is not None:
        state = settled_verdict(target_date, row.last_settled_on)
    else:  # open, or exited (where the target stands as it was left: judged as if open)
        state = open_target_state(target_date, datetime.now(UTC).date())
    category = row.category
    return CaseState(
        case_id=case_id,
        case_type=case_type,
        stage=CaseStage(row.stage),
        permit_date=row.permit_date,
        persons=dossier.persons,
        reception_centre=row.reception_centre or dossier.reception_centre,
        dossier=dossier.dossier,
        member_permit_dates=later,
        education_level=dossier.education_level,
        close_family_municipality=dossier.close_family_municipality,
        service_needs=dossier.service_needs,
        planned_settlement_on=row.planned_on,
        competence_mapped_on=row.competence_mapped_on,
        interview_held_on=row.ready_on,
        municipality_number=row.municipality_number,
        allocated_on=row.allocated_on,
        accepted_on=row.accepted_on,
        exit_reason=ExitReason(row.exit_reason) if row.exit_reason else None,
        reply_due_on=row.reply_due_on,
        reply_overdue=row.reply_overdue,
        target_months=target_months,
        target_date=target_date,
        deadline_state=state,
        category=category,
        settled={
            person_id: SettledPerson(settled_on=p.settled_on, category=category)
            for person_id, p in by_id.items()
            if p.settled_on is not None and category is not None
        },
    )


async def registered_record(
    projection: async_sessionmaker[AsyncSession], person_id: str
) -> QualificationState | None:
    """An adult's qualification record as the register folded it from its events
    (projection/records.py), or None if the register has none."""
    async with projection() as session:
        person = await session.get(RegisteredPerson, person_id)
    if person is None or person.record is None:
        return None
    return QualificationState.model_validate_json(person.record)
