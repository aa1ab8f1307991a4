"""The one-week reply window for resettlement allocations, on the time-skipping server."""

import uuid
from datetime import date, timedelta

from schemas.commands import (
    AcceptAllocation,
    AllocateToMunicipality,
    CorrectStepDate,
    RecordSettlementInterview,
)
from schemas.enums import CaseType, CorrectableStep, CorrectionReason
from schemas.events import MunicipalityReplyOverdue
from tests.factories import household
from workers.services.cases import CaseService

ADULT = (date(1990, 1, 1),)


async def allocated_today(cases: CaseService, env, case_type: CaseType) -> tuple[str, date]:
    case_id = f"case-{uuid.uuid4().hex[:10]}"
    today = (await env.get_current_time()).date()
    await cases.grant_permit(household(case_id, permit=today, births=ADULT, case_type=case_type))
    await cases.execute(case_id, RecordSettlementInterview(command_id="i", held_on=today))
    await cases.execute(
        case_id,
        AllocateToMunicipality(command_id="a", municipality_number="0301", allocated_on=today),
    )
    return case_id, today


def overdue(event_log, case_id):
    return [e for e in event_log.of(case_id) if isinstance(e.data, MunicipalityReplyOverdue)]


async def test_an_unanswered_resettlement_allocation_is_overdue_after_a_week(
    cases, event_log, time_skipping_env
):
    case_id, today = await allocated_today(cases, time_skipping_env, CaseType.RESETTLEMENT)
    assert (await cases.state(case_id)).reply_due_on == today + timedelta(days=7)
    await time_skipping_env.sleep(timedelta(days=6))
    assert overdue(event_log, case_id) == []
    await time_skipping_env.sleep(timedelta(days=3))
    [event] = overdue(event_log, case_id)
    assert event.business_date == today + timedelta(days=8)
    assert event.data.municipality_number == "0301"
    assert (await cases.state(case_id)).reply_overdue


async def test_an_answer_within_the_week_stops_the_reminder(cases, event_log, time_skipping_env):
    case_id, today = await allocated_today(cases, time_skipping_env, CaseType.RESETTLEMENT)
    await time_skipping_env.sleep(timedelta(days=3))
    await cases.execute(
        case_id, AcceptAllocation(command_id="ok", accepted_on=today + timedelta(days=3))
    )
    await time_skipping_env.sleep(timedelta(days=10))
    assert overdue(event_log, case_id) == []


async def test_other_tracks_have_no_reply_window(cases, event_log, time_skipping_env):
    case_id, _ = await allocated_today(cases, time_skipping_env, CaseType.RECEPTION)
    assert (await cases.state(case_id)).reply_due_on is None
    await time_skipping_env.sleep(timedelta(days=10))
    assert overdue(event_log, case_id) == []


async def test_a_corrected_allocation_date_moves_the_reply_window(
    cases, event_log, time_skipping_env
):
    env = time_skipping_env
    now = (await env.get_current_time()).date()
    if (now + timedelta(days=4)).year != now.year:
        # An allocation may not be corrected into another places year: start in January.
        await env.sleep(timedelta(days=10))
    case_id, today = await allocated_today(cases, env, CaseType.RESETTLEMENT)
    await env.sleep(timedelta(days=4))
    later = today + timedelta(days=4)
    await cases.execute(
        case_id,
        CorrectStepDate(
            command_id="c",
            step=CorrectableStep.ALLOCATION,
            on=later,
            reason=CorrectionReason.REGISTRATION_ERROR,
        ),
    )
    assert (await cases.state(case_id)).reply_due_on == later + timedelta(days=7)
    await env.sleep(timedelta(days=5))  # past the old window, inside the new one
    assert overdue(event_log, case_id) == []
    await env.sleep(timedelta(days=4))
    [event] = overdue(event_log, case_id)
    assert event.data.reply_due_on == later + timedelta(days=7)
