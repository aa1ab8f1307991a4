"""Withdrawals, exits and corrections on the time-skipping server."""

import uuid
from datetime import date, timedelta

import pytest

from schemas.calendar import add_months
from schemas.commands import (
    AllocateToMunicipality,
    CorrectPermitDate,
    CorrectSettlementDate,
    CorrectStepDate,
    PersonSettlement,
    RecordExit,
    RegisterSettlement,
    WithdrawAllocation,
)
from schemas.enums import (
    CaseStage,
    CorrectableStep,
    CorrectionReason,
    DeadlineState,
    ExitReason,
    WithdrawalReason,
)
from schemas.errors import INVALID_COMMAND, OUT_OF_ORDER, CommandRejected
from schemas.events import (
    SettlementTargetApproaching,
    SettlementTargetBreached,
    StepDateCorrected,
)
from tests.factories import household
from tests.workflows.conftest import own_ledger
from tests.workflows.test_settlement_case import to_accepted_after_grant
from workers.services.cases import CaseService
from workers.services.places import PlacesService

ADULTS = (date(1980, 1, 1), date(1982, 1, 1))


def new_case_id() -> str:
    return f"case-{uuid.uuid4().hex[:10]}"


async def accepted_case(cases: CaseService, number: str = "0301") -> str:
    case_id = new_case_id()
    await cases.grant_permit(household(case_id, births=ADULTS))
    await to_accepted_after_grant(cases, case_id, number)
    return case_id


async def test_a_withdrawn_allocation_returns_the_household_and_its_places(
    cases: CaseService, places: PlacesService, event_log
):
    number = await own_ledger(places, 2020)
    case_id = await accepted_case(cases, number)
    assert (await places.ledger(number, 2020)).held(False) == 2
    result = await cases.execute(
        case_id,
        WithdrawAllocation(
            command_id="w", withdrawn_on=date(2020, 4, 6), reason=WithdrawalReason.BETTER_MATCH
        ),
    )
    assert result.stage is CaseStage.SETTLEMENT_READY
    state = await cases.state(case_id)
    assert (state.municipality_number, state.accepted_on, state.withdrawals) == (None, None, 1)
    assert (await places.ledger(number, 2020)).held(False) == 0
    assert event_log.of(case_id)[-1].type == "AllocationWithdrawn"


async def test_a_household_can_only_be_withdrawn_while_allocated(cases: CaseService):
    case_id = new_case_id()
    await cases.grant_permit(household(case_id, births=ADULTS))
    with pytest.raises(CommandRejected) as caught:
        await cases.execute(
            case_id,
            WithdrawAllocation(
                command_id="w", withdrawn_on=date(2020, 4, 6), reason=WithdrawalReason.OTHER
            ),
        )
    assert caught.value.reason == OUT_OF_ORDER


async def test_bulk_withdrawal_withdraws_each_case_once_and_reports_refusals(
    cases: CaseService,
):
    accepted = [await accepted_case(cases) for _ in range(3)]
    not_allocated = new_case_id()
    await cases.grant_permit(household(not_allocated, births=ADULTS))
    refused = await cases.withdraw_many(
        [*accepted, not_allocated], date(2020, 4, 6), WithdrawalReason.TRAVEL_RESTRICTIONS
    )
    assert list(refused) == [not_allocated]
    again = await cases.withdraw_many(
        accepted, date(2020, 4, 6), WithdrawalReason.TRAVEL_RESTRICTIONS
    )
    assert again == {}  # the same batch re-run is answered, not re-applied
    for case_id in accepted:
        assert (await cases.state(case_id)).withdrawals == 1
    # Allocated again, a case is caught by a later batch with the same date and reason.
    await cases.execute(
        accepted[0],
        AllocateToMunicipality(
            command_id="again", municipality_number="4601", allocated_on=date(2020, 4, 6)
        ),
    )
    assert (
        await cases.withdraw_many(
            accepted[:1], date(2020, 4, 6), WithdrawalReason.TRAVEL_RESTRICTIONS
        )
        == {}
    )
    assert (await cases.state(accepted[0])).withdrawals == 2


async def test_an_exit_closes_the_case_and_releases_its_places(
    cases: CaseService, places: PlacesService, event_log
):
    number = await own_ledger(places, 2020)
    case_id = await accepted_case(cases, number)
    assert (await places.ledger(number, 2020)).held(False) == 2
    result = await cases.execute(
        case_id,
        RecordExit(command_id="x", exited_on=date(2020, 4, 10), reason=ExitReason.MOVED_ABROAD),
    )
    assert result.stage is CaseStage.EXITED
    assert (await places.ledger(number, 2020)).held(False) == 0
    exited = event_log.of(case_id)[-1]
    assert (exited.type, exited.data.unsettled_persons) == ("CaseExited", 2)


async def test_a_corrected_permit_date_moves_the_open_deadline(
    cases: CaseService, event_log, time_skipping_env
):
    env = time_skipping_env
    case_id = new_case_id()
    today = (await env.get_current_time()).date()
    await cases.grant_permit(household(case_id, permit=today, births=(date(1990, 1, 1),)))
    assert (await cases.state(case_id)).target_date == add_months(today, 6)
    await env.sleep(timedelta(days=10))
    # The permit was really granted 5 months ago: the target is a month away, so the case is
    # inside the warning window at once (no alert for a warning day already past).
    earlier = add_months(today, -5)
    await cases.execute(
        case_id,
        CorrectPermitDate(
            command_id="c", permit_date=earlier, reason=CorrectionReason.REGISTRATION_ERROR
        ),
    )
    state = await cases.state(case_id)
    assert (state.permit_date, state.target_date) == (earlier, add_months(earlier, 6))
    await env.sleep(timedelta(days=1))
    assert (await cases.state(case_id)).deadline_state is DeadlineState.APPROACHING
    await env.sleep(add_months(earlier, 6) - today)
    assert (await cases.state(case_id)).deadline_state is DeadlineState.BREACHED
    alerts = [
        e
        for e in event_log.of(case_id)
        if isinstance(e.data, SettlementTargetApproaching | SettlementTargetBreached)
    ]
    assert [e.type for e in alerts] == ["SettlementTargetBreached"]
    assert alerts[0].business_date == add_months(earlier, 6) + timedelta(days=1)


async def test_a_permit_date_after_the_interview_is_refused_by_name(cases: CaseService):
    case_id = await accepted_case(cases)  # interview on 2020-03-20
    with pytest.raises(CommandRejected, match="permit_date: may not be after") as caught:
        await cases.execute(
            case_id,
            CorrectPermitDate(
                command_id="c", permit_date=date(2020, 3, 25), reason=CorrectionReason.OTHER
            ),
        )
    assert caught.value.reason == INVALID_COMMAND


async def test_a_settlement_date_is_corrected_after_settlement_and_rejudges_the_target(
    cases: CaseService, event_log
):
    case_id = await accepted_case(cases)  # permit 2020-03-02: target 2020-09-02 (adults, 6 mo)
    await cases.execute(
        case_id,
        RegisterSettlement(
            command_id="s",
            settlements=[
                PersonSettlement(person_id=f"{case_id}-p{i}", settled_on=date(2020, 5, 1))
                for i in range(2)
            ],
        ),
    )
    assert (await cases.state(case_id)).deadline_state is DeadlineState.MET
    result = await cases.execute(
        case_id,
        CorrectSettlementDate(
            command_id="cs",
            person_id=f"{case_id}-p1",
            settled_on=date(2020, 10, 1),
            reason=CorrectionReason.LATE_INFORMATION,
        ),
    )
    assert result.stage is CaseStage.SETTLED
    state = await cases.state(case_id)
    assert state.settled[f"{case_id}-p1"].settled_on == date(2020, 10, 1)
    assert state.deadline_state is DeadlineState.BREACHED
    corrected = event_log.of(case_id)[-1]
    assert (corrected.type, corrected.business_date) == (
        "SettlementDateCorrected",
        date(2020, 10, 1),
    )
    assert corrected.data.previous_date == date(2020, 5, 1)


async def test_correcting_someone_not_yet_settled_is_refused(cases: CaseService):
    case_id = await accepted_case(cases)
    with pytest.raises(CommandRejected, match="has no settlement date to correct"):
        await cases.execute(
            case_id,
            CorrectSettlementDate(
                command_id="cs",
                person_id=f"{case_id}-p0",
                settled_on=date(2020, 5, 1),
                reason=CorrectionReason.OTHER,
            ),
        )


async def test_any_step_date_is_corrected_within_the_order_of_steps(cases: CaseService, event_log):
    # accepted_case: permit 2020-03-02, interview 03-20, allocation 04-01, acceptance 04-05.
    case_id = await accepted_case(cases)
    result = await cases.execute(
        case_id,
        CorrectStepDate(
            command_id="c1",
            step=CorrectableStep.SETTLEMENT_INTERVIEW,
            on=date(2020, 3, 18),
            reason=CorrectionReason.REGISTRATION_ERROR,
        ),
    )
    assert (await cases.state(case_id)).interview_held_on == date(2020, 3, 18)
    [event] = [e for e in event_log.of(case_id) if e.event_id in result.event_ids]
    assert isinstance(event.data, StepDateCorrected)
    assert (event.business_date, event.data.previous_date) == (date(2020, 3, 18), date(2020, 3, 20))
    for step, on, message in [
        (CorrectableStep.ALLOCATION, date(2020, 4, 6), r"after acceptance \(2020-04-05\)"),
        (CorrectableStep.ACCEPTANCE, date(2020, 3, 31), r"before the allocation \(2020-04-01\)"),
        (CorrectableStep.SETTLEMENT_APPLICATION, date(2020, 3, 5), "no settlement_application"),
        (CorrectableStep.ALLOCATION, date(2019, 12, 31), "2020 ledger"),
    ]:
        with pytest.raises(CommandRejected, match=message) as caught:
            await cases.execute(
                case_id,
                CorrectStepDate(
                    command_id=f"bad-{step}-{on}",
                    step=step,
                    on=on,
                    reason=CorrectionReason.REGISTRATION_ERROR,
                ),
            )
        assert caught.value.reason == INVALID_COMMAND
