"""Applying a batch of Kafka records to the read model, exactly once.

The batch's rows, its consumer positions and the ids of the events it applied are written in
one transaction. A redelivered offset is skipped by position, a re-published event (same id,
new offset) by id, and an unreadable record goes to the dead-letter table; all three still
advance the position, so nothing blocks the partition and nothing is counted twice.
"""

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.enums import CaseType, Category, CorrectableStep, SettlingAuthority
from schemas.envelope import EnvelopeError, from_kafka
from schemas.events import (
    QUALIFICATION_EVENTS,
    CaseEvent,
    CaseExited,
    HouseholdMemberAdded,
    PermitDateCorrected,
    PersonSettled,
    ResettlementArrived,
    ResidencePermitGranted,
    SettlementDateCorrected,
    SettlementInterviewHeld,
    StepDateCorrected,
)

from .metrics import SettledFact
from .store import (
    AppliedEvent,
    CaseProgress,
    ConsumerPosition,
    DeadLetter,
    PersonWaitVersion,
    SettledPersonVersion,
)


@dataclass(frozen=True)
class Record:
    partition: int
    offset: int
    headers: Sequence[tuple[str, bytes]]
    value: bytes


@dataclass
class BatchResult:
    applied: int = 0
    skipped_offsets: int = 0
    duplicate_events: int = 0
    dead_letters: int = 0


async def apply_batch(
    session: AsyncSession,
    consumer: str,
    topic: str,
    records: Sequence[Record],
    high_water: dict[int, int],
) -> BatchResult:
    result = BatchResult()
    now = datetime.now(UTC)
    positions = {
        p.partition: p
        for p in (
            await session.scalars(
                select(ConsumerPosition).where(
                    ConsumerPosition.consumer == consumer, ConsumerPosition.topic == topic
                )
            )
        ).all()
    }
    fresh: list[tuple[Record, CaseEvent]] = []
    for record in records:
        position = positions.get(record.partition)
        if position is not None and record.offset < position.next_offset:
            result.skipped_offsets += 1
            continue
        if position is None:
            position = ConsumerPosition(
                consumer=consumer,
                topic=topic,
                partition=record.partition,
                next_offset=0,
                high_water=0,
                updated_at=now,
            )
            session.add(position)
            positions[record.partition] = position
        position.next_offset = record.offset + 1
        position.updated_at = now
        try:
            fresh.append((record, from_kafka(list(record.headers), record.value)))
        except EnvelopeError as exc:
            result.dead_letters += 1
            session.add(
                DeadLetter(
                    topic=topic,
                    partition=record.partition,
                    offset=record.offset,
                    error=str(exc)[:2000],
                    headers=json.dumps({k: v.hex() for k, v in record.headers}),
                    value=record.value,
                    received_at=now,
                )
            )
    for partition, mark in high_water.items():
        if partition in positions:
            positions[partition].high_water = max(mark, positions[partition].next_offset)

    ids = [event.event_id for _, event in fresh]
    seen: set[uuid.UUID] = (
        set(
            (
                await session.scalars(
                    select(AppliedEvent.event_id).where(AppliedEvent.event_id.in_(ids))
                )
            ).all()
        )
        if ids
        else set()
    )
    for record, event in fresh:
        if event.event_id in seen:
            result.duplicate_events += 1
            continue
        seen.add(event.event_id)
        await _apply(session, event)
        session.add(
            AppliedEvent(event_id=event.event_id, partition=record.partition, offset=record.offset)
        )
        result.applied += 1
    return result


async def _apply(session: AsyncSession, event: CaseEvent) -> None:
    if isinstance(event.data, QUALIFICATION_EVENTS):
        return  # a person's qualification record, not a case: no waiting-time figure yet
    case = await session.get(CaseProgress, event.case_id)
    if case is None:
        case = CaseProgress(
            case_id=event.case_id,
            last_event_type=event.type,
            last_sequence=0,
            persons=0,
            settled_persons=0,
        )
        session.add(case)
    # Redelivery can bring an older event after a newer one; the stage follows the newest.
    if event.sequence > case.last_sequence:
        case.last_sequence = event.sequence
        case.last_event_type = event.type
    await _waiting(session, event)
    data = event.data
    if isinstance(data, ResidencePermitGranted):
        case.case_type = data.case_type.value
        case.permit_date = event.business_date
        case.persons = len(data.persons)
    elif isinstance(data, HouseholdMemberAdded):
        case.persons += 1
    elif isinstance(data, PersonSettled):
        case.settled_persons += 1
        session.add(
            SettledPersonVersion(
                case_id=event.case_id,
                person_id=data.person_id,
                event_id=event.event_id,
                category=data.category.value,
                protected_identity=data.protected_identity,
                case_type=data.case_type.value,
                settled_by=data.settled_by.value,
                municipality_number=data.municipality_number,
                reception_centre=data.reception_centre,
                permit_date=data.permit_date,
                settled_on=event.business_date,
                recorded_at=event.recorded_at,
            )
        )
    elif isinstance(data, PermitDateCorrected):
        # A correction changes the past: every figure the case's persons are in moves. Members
        # who joined later keep their own permit dates.
        case.permit_date = event.business_date
        await _supersede(
            session,
            SettledPersonVersion,
            event,
            SettledPersonVersion.case_id == event.case_id,
            SettledPersonVersion.permit_date == data.previous_date,
            changes={"permit_date": event.business_date},
        )
    elif isinstance(data, SettlementDateCorrected):
        await _supersede(
            session,
            SettledPersonVersion,
            event,
            SettledPersonVersion.case_id == event.case_id,
            SettledPersonVersion.person_id == data.person_id,
            changes={"settled_on": event.business_date},
        )


Versioned = type[SettledPersonVersion] | type[PersonWaitVersion]
_BOOKKEEPING = {"id", "event_id", "recorded_at", "superseded_at"}


async def _supersede(
    session: AsyncSession,
    model: Versioned,
    event: CaseEvent,
    *where: ColumnElement[bool],
    changes: dict[str, object],
) -> None:
    """Close the open versions an event changes and open their successors, so that what was
    known before stays readable as of then."""
    current = (
        await session.scalars(select(model).where(model.superseded_at.is_(None), *where))
    ).all()
    copied = [c.key for c in model.__table__.columns if c.key not in _BOOKKEEPING]
    for version in current:
        version.superseded_at = event.recorded_at
        fields = {name: getattr(version, name) for name in copied} | changes
        session.add(model(event_id=event.event_id, recorded_at=event.recorded_at, **fields))


async def _waiting(session: AsyncSession, event: CaseEvent) -> None:
    """The persons-on-the-way table (stock figures): each event that moves a person."""
    w = PersonWaitVersion
    data, day, case = event.data, event.business_date, w.case_id == event.case_id
    unsettled = w.settled_on.is_(None)
    if isinstance(data, ResidencePermitGranted):
        resettlement = data.case_type is CaseType.RESETTLEMENT
        for person in data.persons:
            session.add(
                w(
                    case_id=event.case_id,
                    person_id=person.person_id,
                    event_id=event.event_id,
                    case_type=data.case_type.value,
                    protected_identity=person.protected_identity,
                    permit_date=day,
                    ready_on=day if resettlement else None,
                    recorded_at=event.recorded_at,
                )
            )
    elif isinstance(data, HouseholdMemberAdded):
        household = await session.scalar(select(w).where(case, w.superseded_at.is_(None)).limit(1))
        if household is None:
            return
        ready = household.ready_on
        session.add(
            w(
                case_id=event.case_id,
                person_id=data.person_id,
                event_id=event.event_id,
                case_type=household.case_type,
                protected_identity=data.protected_identity,
                permit_date=day,
                ready_on=None if ready is None else max(ready, day),
                recorded_at=event.recorded_at,
            )
        )
    elif isinstance(data, SettlementInterviewHeld):
        await _supersede(
            session, w, event, case, unsettled, w.ready_on.is_(None), changes={"ready_on": day}
        )
    elif isinstance(data, StepDateCorrected) and data.step is CorrectableStep.SETTLEMENT_INTERVIEW:
        await _supersede(
            session, w, event, case, w.ready_on == data.previous_date, changes={"ready_on": day}
        )
    elif isinstance(data, PermitDateCorrected):
        await _supersede(
            session,
            w,
            event,
            case,
            w.permit_date == data.previous_date,
            w.case_type != CaseType.RESETTLEMENT.value,
            changes={"permit_date": day},
        )
        await _supersede(
            session,
            w,
            event,
            case,
            w.permit_date == data.previous_date,
            w.case_type == CaseType.RESETTLEMENT.value,
            changes={"permit_date": day, "ready_on": day},
        )
    elif isinstance(data, ResettlementArrived):
        await _supersede(session, w, event, case, unsettled, changes={"arrived_on": day})
    elif isinstance(data, PersonSettled | SettlementDateCorrected):
        await _supersede(
            session, w, event, case, w.person_id == data.person_id, changes={"settled_on": day}
        )
    elif isinstance(data, CaseExited):
        await _supersede(session, w, event, case, unsettled, changes={"left_on": day})


async def load_settled_facts(
    session: AsyncSession,
    period_start: date,
    period_end: date,
    as_of: datetime | None = None,
) -> list[SettledFact]:
    """The persons settled in the period, as known now or, with ``as_of``, as known then."""
    v = SettledPersonVersion
    known = (
        v.superseded_at.is_(None)
        if as_of is None
        else (v.recorded_at <= as_of) & (v.superseded_at.is_(None) | (v.superseded_at > as_of))
    )
    rows = await session.scalars(
        select(v).where(v.settled_on.between(period_start, period_end), known)
    )
    return [
        SettledFact(
            category=Category(row.category),
            protected_identity=row.protected_identity,
            permit_date=row.permit_date,
            settled_on=row.settled_on,
            case_id=row.case_id,
            case_type=CaseType(row.case_type),
            settled_by=SettlingAuthority(row.settled_by),
            municipality_number=row.municipality_number,
            reception_centre=row.reception_centre,
        )
        for row in rows
    ]
