"""Durable settlement-target timers, months of business time on the time-skipping server."""

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
from schemas.events import SettlementTargetApproaching, SettlementTargetBreached
from schemas.ids import workflow_id_for
from tests.factories import household
from tests.workflows.test_settlement_case import to_accepted_after_grant
from workers.services.cases import CaseService

FAMILY = (date(1985, 1, 1), date(2016, 1, 1))


async def today(env) -> date:
    return (await env.get_current_time()).date()


async def deadline_attribute(env, case_id: str) -> str:
    described = await env.client.get_workflow_handle(workflow_id_for(case_id)).describe()
    return dict((k.name, v) for k, v in described.typed_search_attributes)["DeadlineState"]


def deadline_events(event_log, case_id):
    return [
        e
        for e in event_log.of(case_id)
        if isinstance(e.data, SettlementTargetApproaching | SettlementTargetBreached)
    ]


def settle_all(case_id: str, on: date) -> RegisterSettlement:
    return RegisterSettlement(
        command_id="settle",
        settlements=[
            PersonSettlement(person_id=f"{case_id}-p{i}", settled_on=on) for i in range(2)
        ],
    )


async def test_a_family_is_warned_then_breached_three_months_after_the_permit(
    cases: CaseService, event_log, time_skipping_env
):
    env = time_skipping_env
    case_id = f"case-{uuid.uuid4().hex[:10]}"
    permit = await today(env)
    await cases.grant_permit(household(case_id, permit=permit, births=FAMILY))
    state = await cases.state(case_id)
    target = add_months(permit, 3)
    assert (state.target_months, state.target_date) == (3, target)
    assert state.deadline_state is DeadlineState.ON_TRACK

    await env.sleep(target - timedelta(days=29) - permit)  # into the 30-day warning window
    assert (await cases.state(case_id)).deadline_state is DeadlineState.APPROACHING
    assert await deadline_attribute(env, case_id) == "approaching"
    [warning] = deadline_events(event_log, case_id)
    assert warning.business_date == target - timedelta(days=30)

    await env.sleep(timedelta(days=31))
    assert (await cases.state(case_id)).deadline_state is DeadlineState.BREACHED
    assert await deadline_attribute(env, case_id) == "breached"
    _, breach = deadline_events(event_log, case_id)
    assert isinstance(breach.data, SettlementTargetBreached)
    assert (breach.business_date, breach.data.unsettled_persons) == (
        target + timedelta(days=1),
        2,
    )


async def test_settling_in_time_cancels_the_timers_and_meets_the_target(
    cases: CaseService, event_log, time_skipping_env
):
    env = time_skipping_env
    case_id = f"case-{uuid.uuid4().hex[:10]}"
    permit = await today(env) - timedelta(days=20)
    await cases.grant_permit(household(case_id, permit=permit, births=FAMILY))
    await to_accepted_after_grant_on(cases, case_id, permit)
    result = await cases.execute(case_id, settle_all(case_id, permit + timedelta(days=15)))
    assert result.stage is CaseStage.SETTLED
    assert (await cases.state(case_id)).deadline_state is DeadlineState.MET
    await env.sleep(timedelta(days=200))
    assert deadline_events(event_log, case_id) == []


async def to_accepted_after_grant_on(cases: CaseService, case_id: str, permit: date) -> None:
    """Interview, allocation and acceptance in the days after the permit."""
    await cases.execute(
        case_id, RecordSettlementInterview(command_id="i", held_on=permit + timedelta(days=1))
    )
    await cases.execute(
        case_id,
        AllocateToMunicipality(
            command_id="a", municipality_number="0301", allocated_on=permit + timedelta(days=2)
        ),
    )
    await cases.execute(
        case_id, AcceptAllocation(command_id="ok", accepted_on=permit + timedelta(days=3))
    )


async def test_a_historical_case_raises_no_alerts_for_deadlines_long_past(
    cases: CaseService, event_log, time_skipping_env
):
    case_id = f"case-{uuid.uuid4().hex[:10]}"
    await cases.grant_permit(household(case_id, permit=date(2020, 3, 2), births=FAMILY))
    await to_accepted_after_grant(cases, case_id)
    state = await cases.state(case_id)
    assert state.deadline_state is DeadlineState.BREACHED
    assert deadline_events(event_log, case_id) == []
    # Settled, on business dates, within its target: the imported case met it after all.
    await cases.execute(case_id, settle_all(case_id, date(2020, 5, 1)))
    assert (await cases.state(case_id)).deadline_state is DeadlineState.MET


async def test_resettlement_refugees_have_six_months(cases: CaseService, time_skipping_env):
    case_id = f"case-{uuid.uuid4().hex[:10]}"
    permit = await today(time_skipping_env)
    await cases.grant_permit(
        household(case_id, permit=permit, births=FAMILY, case_type=CaseType.RESETTLEMENT)
    )
    state = await cases.state(case_id)
    assert (state.target_months, state.target_date) == (6, add_months(permit, 6))
