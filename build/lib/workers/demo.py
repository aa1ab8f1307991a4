"""The demo: synthetic households driven through the real workflows, the way staff would."""

import asyncio
from collections.abc import Callable
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.event_log import EventLogRow
from schemas.events import CaseEvent, PersonSettled

from .cases import CaseService
from .projection.metrics import SettledFact, WaitingTimeReport, waiting_time_report
from .synthetic import HouseholdPlan


async def drive_household(service: CaseService, plan: HouseholdPlan) -> None:
    case_id = plan.case_id
    await service.grant_permit(plan.grant)
    if plan.mapping is not None:
        await service.record_competence_mapping(case_id, plan.mapping)
    await service.record_settlement_interview(case_id, plan.interview)
    for allocation, decline in plan.declined:
        await service.allocate_to_municipality(case_id, allocation)
        await service.decline_allocation(case_id, decline)
    if plan.allocation is not None:
        await service.allocate_to_municipality(case_id, plan.allocation)
    if plan.acceptance is not None:
        await service.accept_allocation(case_id, plan.acceptance)
    if plan.settlement is not None:
        await service.register_settlement(case_id, plan.settlement)


async def drive(
    service: CaseService,
    plans: list[HouseholdPlan],
    on_done: Callable[[], None] = lambda: None,
    concurrency: int = 24,
) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(plan: HouseholdPlan) -> None:
        async with gate:
            await drive_household(service, plan)
        on_done()

    await asyncio.gather(*(one(p) for p in plans))


async def event_log_count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(EventLogRow)) or 0)


async def report_from_event_log(
    sessions: async_sessionmaker[AsyncSession], period_start: date, period_end: date
) -> WaitingTimeReport:
    """The same figures straight from the system of record, bypassing Kafka and the
    projection: the demo shows both agree."""
    async with sessions() as session:
        payloads = await session.scalars(
            select(EventLogRow.payload).where(EventLogRow.event_type == "PersonSettled")
        )
        facts = []
        for payload in payloads:
            event = CaseEvent.model_validate_json(payload)
            assert isinstance(event.data, PersonSettled)
            facts.append(
                SettledFact(
                    category=event.data.category,
                    protected_identity=event.data.protected_identity,
                    permit_date=event.data.permit_date,
                    settled_on=event.business_date,
                )
            )
    return waiting_time_report(facts, period_start, period_end)
