"""A case continues as new with its state, its event sequence and its deadlines intact."""

import uuid
from datetime import date, timedelta

from schemas.calendar import add_months
from schemas.commands import (
    AcceptAllocation,
    AllocateToMunicipality,
    PersonSettlement,
    RecordSettlementInterview,
    RegisterSettlement,
)
from schemas.enums import CaseStage, CaseType, DeadlineState
from schemas.events import MunicipalityReplyOverdue, SettlementTargetBreached
from tests.factories import household
from tests.waiting import eventually
from workers.services.cases import CaseService


async def continued(env, cases: CaseService, case_id: str) -> str:
    """Ask the case to compact and wait until a new run has taken over; returns its run id."""
    first = await cases.run_id(case_id)
    await cases.compact(case_id)

    async def moved_on() -> bool:
        return await cases.run_id(case_id) != first

    await eventually(moved_on, within_s=5, what="the case to continue as new")
    return await cases.run_id(case_id)


async def test_a_continued_case_keeps_its_state_sequence_and_timers(
    cases: CaseService, event_log, time_skipping_env, places
):
    env = time_skipping_env
    case_id = f"case-{uuid.uuid4().hex[:10]}"
    today = (await env.get_current_time()).date()
    births = (date(1985, 1, 1), date(2016, 1, 1))  # a family: 3-month target
    await cases.grant_permit(
        household(case_id, permit=today, births=births, case_type=CaseType.RESETTLEMENT)
    )
    await cases.execute(case_id, RecordSettlementInterview(command_id="i", held_on=today))
    await cases.execute(
        case_id,
        AllocateToMunicipality(command_id="a", municipality_number="0301", allocated_on=today),
    )
    before = await cases.state(case_id)
    await continued(env, cases, case_id)
    after = await cases.state(case_id)
    assert after == before
    # The reply window (one week) and the settlement target (6 months) still run.
    await env.sleep(timedelta(days=9))
    assert (
        len([e for e in event_log.of(case_id) if isinstance(e.data, MunicipalityReplyOverdue)]) == 1
    )
    await cases.execute(
        case_id, AcceptAllocation(command_id="ok", accepted_on=today + timedelta(days=9))
    )
    await continued(env, cases, case_id)
    await env.sleep(timedelta(days=190))
    [breach] = [e for e in event_log.of(case_id) if isinstance(e.data, SettlementTargetBreached)]
    assert breach.business_date == add_months(today, 6) + timedelta(days=1)
    settled_on = today + timedelta(days=199)
    result = await cases.execute(
        case_id,
        RegisterSettlement(
            command_id="s",
            settlements=[
                PersonSettlement(person_id=f"{case_id}-p{i}", settled_on=settled_on)
                for i in range(2)
            ],
        ),
    )
    assert result.stage is CaseStage.SETTLED
    assert (await cases.state(case_id)).deadline_state is DeadlineState.BREACHED
    # One unbroken event sequence across three runs.
    sequences = [e.sequence for e in event_log.of(case_id)]
    assert sequences == list(range(1, len(sequences) + 1))
