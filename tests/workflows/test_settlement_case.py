"""SettlementCaseWorkflow on the time-skipping test server."""

import uuid
from datetime import date, timedelta

import pytest
from pydantic import ValidationError
from temporalio.client import WorkflowExecutionStatus

from schemas.commands import (
    AcceptAllocation,
    AllocateToMunicipality,
    DeclineAllocation,
    PersonSettlement,
    RecordCompetenceMapping,
    RecordSettlementInterview,
    RegisterSettlement,
)
from schemas.enums import CaseStage, Category, DeclineReason
from schemas.errors import INVALID_COMMAND, OUT_OF_ORDER, CaseNotFound, CommandRejected
from schemas.events import PersonSettled
from schemas.ids import workflow_id_for
from tests.factories import household
from workers.services.cases import CaseService
from workflows.settlement_case import CORRECTION_WINDOW_LENGTH, SettlementCaseWorkflow


def new_case_id() -> str:
    return f"case-{uuid.uuid4().hex[:10]}"


async def to_accepted(cases: CaseService, case_id: str, **kw) -> None:
    await cases.grant_permit(household(case_id, **kw))
    await to_accepted_after_grant(cases, case_id)


async def test_a_household_walks_from_permit_to_settlement(cases, event_log, time_skipping_env):
    case_id = new_case_id()
    births = (date(1985, 1, 1), date(2016, 1, 1))
    await cases.grant_permit(household(case_id, births=births))
    await cases.execute(
        case_id, RecordCompetenceMapping(command_id="m", mapped_on=date(2020, 3, 10))
    )
    await to_accepted_after_grant(cases, case_id)
    result = await cases.execute(
        case_id,
        RegisterSettlement(
            command_id="s",
            settlements=[
                PersonSettlement(person_id=f"{case_id}-p0", settled_on=date(2020, 5, 1)),
                PersonSettlement(person_id=f"{case_id}-p1", settled_on=date(2020, 5, 1)),
            ],
        ),
    )
    assert result.stage is CaseStage.SETTLED
    handle = time_skipping_env.client.get_workflow_handle_for(
        SettlementCaseWorkflow.run, workflow_id_for(case_id)
    )
    # Open for late corrections for the correction window, then closed.
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    await time_skipping_env.sleep(CORRECTION_WINDOW_LENGTH + timedelta(days=1))
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    types = [e.type for e in event_log.of(case_id)]
    assert types == [
        "ResidencePermitGranted",
        "CompetenceMappingRecorded",
        "SettlementInterviewHeld",
        "MunicipalityAllocated",
        "AllocationAccepted",
        "PersonSettled",
        "PersonSettled",
    ]
    assert [e.sequence for e in event_log.of(case_id)] == list(range(1, 8))
    settled = [e.data for e in event_log.of(case_id) if isinstance(e.data, PersonSettled)]
    assert {s.category for s in settled} == {Category.FAMILY_WITH_CHILDREN}
    assert all(s.permit_date == date(2020, 3, 2) for s in settled)
    assert [e.business_date for e in event_log.of(case_id)][-1] == date(2020, 5, 1)


async def to_accepted_after_grant(cases: CaseService, case_id: str, number: str = "0301") -> None:
    await cases.execute(
        case_id, RecordSettlementInterview(command_id="i", held_on=date(2020, 3, 20))
    )
    await cases.execute(
        case_id,
        AllocateToMunicipality(
            command_id="a", municipality_number=number, allocated_on=date(2020, 4, 1)
        ),
    )
    await cases.execute(case_id, AcceptAllocation(command_id="ok", accepted_on=date(2020, 4, 5)))


async def test_an_out_of_order_step_is_rejected_naming_the_stage_and_changes_nothing(
    cases, event_log
):
    case_id = new_case_id()
    await cases.grant_permit(household(case_id))
    await cases.execute(
        case_id, RecordCompetenceMapping(command_id="m", mapped_on=date(2020, 3, 10))
    )
    before = await cases.state(case_id)
    with pytest.raises(CommandRejected) as caught:
        await cases.execute(case_id, AcceptAllocation(command_id="x", accepted_on=date(2020, 4, 5)))
    assert caught.value.reason == OUT_OF_ORDER
    assert caught.value.stage is CaseStage.PERMIT_GRANTED
    assert "permit_granted" in str(caught.value)
    assert await cases.state(case_id) == before
    assert [e.type for e in event_log.of(case_id)] == [
        "ResidencePermitGranted",
        "CompetenceMappingRecorded",
    ]


async def test_a_decline_returns_the_household_to_allocation(cases, event_log):
    case_id = new_case_id()
    await cases.grant_permit(household(case_id))
    await cases.execute(
        case_id, RecordSettlementInterview(command_id="i", held_on=date(2020, 3, 20))
    )
    await cases.execute(
        case_id,
        AllocateToMunicipality(
            command_id="a1", municipality_number="4601", allocated_on=date(2020, 4, 1)
        ),
    )
    declined = await cases.execute(
        case_id,
        DeclineAllocation(
            command_id="d1", declined_on=date(2020, 4, 8), reason=DeclineReason.NO_SUITABLE_HOUSING
        ),
    )
    assert declined.stage is CaseStage.SETTLEMENT_READY
    state = await cases.state(case_id)
    assert (state.municipality_number, state.declines) == (None, 1)
    again = await cases.execute(
        case_id,
        AllocateToMunicipality(
            command_id="a2", municipality_number="5001", allocated_on=date(2020, 4, 9)
        ),
    )
    assert again.stage is CaseStage.ALLOCATED
    assert (await cases.state(case_id)).municipality_number == "5001"


async def test_the_same_command_twice_is_applied_once(cases, event_log):
    case_id = new_case_id()
    await cases.grant_permit(household(case_id))
    await cases.grant_permit(household(case_id))  # a repeated grant is a no-op
    cmd = RecordSettlementInterview(command_id="interview-1", held_on=date(2020, 3, 20))
    first = await cases.execute(case_id, cmd)
    second = await cases.execute(case_id, cmd)
    assert first == second
    assert [e.type for e in event_log.of(case_id)] == [
        "ResidencePermitGranted",
        "SettlementInterviewHeld",
    ]


async def test_settlement_may_not_be_dated_before_acceptance(cases, event_log):
    case_id = new_case_id()
    await to_accepted(cases, case_id)
    with pytest.raises(CommandRejected) as caught:
        await cases.execute(
            case_id,
            RegisterSettlement(
                command_id="s",
                settlements=[
                    PersonSettlement(person_id=f"{case_id}-p0", settled_on=date(2020, 4, 1))
                ],
            ),
        )
    assert caught.value.reason == INVALID_COMMAND
    assert "settled_on: may not be before acceptance (2020-04-05)" in str(caught.value)
    assert "2020-04-01" not in str(caught.value)  # the value sent is never echoed
    assert (await cases.state(case_id)).stage is CaseStage.ACCEPTED


async def test_a_business_date_in_the_future_is_refused(cases, time_skipping_env):
    case_id = new_case_id()
    await cases.grant_permit(household(case_id))
    # "Today" is the workflow's clock, which the time-skipping server moves.
    future = (await time_skipping_env.get_current_time()).date() + timedelta(days=30)
    with pytest.raises(CommandRejected, match=r"held_on: may not be in the future"):
        await cases.execute(case_id, RecordSettlementInterview(command_id="i", held_on=future))


async def test_a_permit_in_the_future_or_out_of_the_calendar_opens_no_case(
    cases, time_skipping_env
):
    """A permit dated next month is refused at the edge; one dated 9999 cannot even be
    written as a command, so no workflow can be wedged by a deadline in year 10000."""
    case_id = new_case_id()
    later = (await time_skipping_env.get_current_time()).date() + timedelta(days=30)
    with pytest.raises(CommandRejected, match=r"^permit_date: may not be in the future$"):
        await cases.grant_permit(household(case_id, permit=later))
    with pytest.raises(CaseNotFound):
        await cases.state(case_id)
    with pytest.raises(ValidationError, match="permit_date"):
        household(case_id, permit=date(9999, 12, 31))


def settle(command_id: str, case_id: str, person: int, on: date) -> RegisterSettlement:
    return RegisterSettlement(
        command_id=command_id,
        settlements=[PersonSettlement(person_id=f"{case_id}-p{person}", settled_on=on)],
    )


async def test_members_settle_on_their_own_dates_and_the_case_closes_with_the_last(
    cases, event_log
):
    case_id = new_case_id()
    await to_accepted(cases, case_id, births=(date(1980, 1, 1), date(1982, 1, 1)))
    partial = await cases.execute(case_id, settle("s0", case_id, 0, date(2020, 5, 1)))
    assert partial.stage is CaseStage.ACCEPTED
    done = await cases.execute(case_id, settle("s1", case_id, 1, date(2020, 6, 2)))
    assert done.stage is CaseStage.SETTLED
    settled = [e for e in event_log.of(case_id) if isinstance(e.data, PersonSettled)]
    assert [e.business_date for e in settled] == [date(2020, 5, 1), date(2020, 6, 2)]
    with pytest.raises(CommandRejected, match="at stage 'settled'") as caught:
        await cases.execute(case_id, settle("s2", case_id, 1, date(2020, 6, 3)))
    assert caught.value.stage is CaseStage.SETTLED


async def test_a_case_past_its_correction_window_says_it_is_closed(cases, time_skipping_env):
    case_id = new_case_id()
    await to_accepted(cases, case_id, births=(date(1980, 1, 1),))
    await cases.execute(case_id, settle("s0", case_id, 0, date(2020, 5, 1)))
    await time_skipping_env.sleep(CORRECTION_WINDOW_LENGTH + timedelta(days=1))
    with pytest.raises(CommandRejected, match="is closed") as caught:
        await cases.execute(case_id, settle("s1", case_id, 0, date(2020, 6, 3)))
    assert caught.value.stage is CaseStage.SETTLED


async def test_a_failing_event_log_delays_the_step_but_loses_nothing(cases, event_log):
    case_id = new_case_id()
    await cases.grant_permit(household(case_id))
    event_log.failures_left = 2
    result = await cases.execute(
        case_id, RecordSettlementInterview(command_id="i", held_on=date(2020, 3, 20))
    )
    assert result.stage is CaseStage.SETTLEMENT_READY
    assert [e.type for e in event_log.of(case_id)][-1] == "SettlementInterviewHeld"
    assert len(event_log.of(case_id)) == 2


async def test_search_attributes_follow_the_stage(cases, time_skipping_env):
    case_id = new_case_id()
    await to_accepted(cases, case_id)
    handle = time_skipping_env.client.get_workflow_handle(workflow_id_for(case_id))
    described = await handle.describe()
    attrs = {k.name: v for k, v in described.typed_search_attributes}
    assert attrs["CaseStage"] == "accepted"
    assert attrs["MunicipalityNumber"] == "0301"
    assert attrs["CaseType"] == "reception"


async def test_a_protected_household_is_in_no_municipality_of_the_visibility_store(
    cases, time_skipping_env
):
    """Search attributes are read without clearance (the Temporal UI, `workflow list`)."""
    case_id = new_case_id()
    await to_accepted(
        cases, case_id, births=(date(1985, 5, 1), date(2015, 1, 1)), protected=(False, True)
    )
    described = await time_skipping_env.client.get_workflow_handle(
        workflow_id_for(case_id)
    ).describe()
    attrs = {k.name: v for k, v in described.typed_search_attributes}
    assert attrs["CaseStage"] == "accepted"
    assert "MunicipalityNumber" not in attrs


async def test_an_unknown_case_is_not_found(cases):
    with pytest.raises(CaseNotFound):
        await cases.state("case-does-not-exist")
    with pytest.raises(CaseNotFound):
        await cases.execute(
            "case-does-not-exist",
            RecordSettlementInterview(command_id="i", held_on=date(2020, 3, 20)),
        )
