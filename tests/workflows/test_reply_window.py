"""The one-week reply window for resettlement allocations, on the time-skipping server."""

import uuid
from datetime import date, timedelta

from schemas.commands import AcceptAllocation, AllocateToMunicipality, RecordSettlementInterview
from schemas.enums import CaseType
from schemas.events import MunicipalityReplyOverdue
from tests.factories import household
from workers.cases import CaseService

ADULT = (date(1990, 1, 1),)


async def allocated_today(cases: CaseService, env, case_type: CaseType) -> tuple[str, date]:
    case_id = f"case-{uuid.uuid4().hex[:10]}"
    today = (await env.get_current_time()).date()
    await cases.grant_permit(household(case_id, permit=today, births=ADULT, case_type=case_type))
    await cases.record_settlement_interview(
        case_id, RecordSettlementInterview(command_id="i", held_on=today)
    )
    await cases.allocate_to_municipality(
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
    await cases.accept_allocation(
        case_id, AcceptAllocation(command_id="ok", accepted_on=today + timedelta(days=3))
    )
    await time_skipping_env.sleep(timedelta(days=10))
    assert overdue(event_log, case_id) == []


async def test_other_tracks_have_no_reply_window(cases, event_log, time_skipping_env):
    case_id, _ = await allocated_today(cases, time_skipping_env, CaseType.RECEPTION)
    assert (await cases.state(case_id)).reply_due_on is None
    await time_skipping_env.sleep(timedelta(days=10))
    assert overdue(event_log, case_id) == []
