"""Every track through its own steps and deadlines, on the time-skipping server: private
address, resettlement (dossier, travel, arrival, entry permit, via a reception centre),
unaccompanied minors for IMDi and Bufetat, members who join late, recommendations and the
planned settlement date."""

import uuid
from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from schemas.calendar import add_months
from schemas.commands import (
    AcceptAllocation,
    AddHouseholdMember,
    AllocateToMunicipality,
    BookTravel,
    ExtendEntryPermit,
    PersonRecord,
    PersonSettlement,
    PlanSettlement,
    RecordArrival,
    RecordRecommendation,
    RecordSettlementApplication,
    RecordSettlementInterview,
    RegisterSettlement,
)
from schemas.enums import (
    CaseStage,
    CaseType,
    Category,
    ExitReason,
    MemberJoinReason,
    RecommendationReason,
    SettlingAuthority,
)
from schemas.errors import INVALID_COMMAND, OUT_OF_ORDER, CommandRejected
from schemas.events import (
    CaseExited,
    EntryPermitLapsed,
    HouseholdMemberAdded,
    MunicipalityAllocated,
    PersonSettled,
    PlannedSettlementDatePassed,
    ResettlementArrived,
    SettlementApplicationLapsed,
)
from tests.factories import household
from tests.workflows.conftest import own_ledger
from tests.workflows.test_places import small_municipality
from workers.services.cases import CaseService

ADULT = (date(1985, 5, 1),)


def new_id() -> str:
    return f"case-{uuid.uuid4().hex[:10]}"


async def today(env) -> date:
    return (await env.get_current_time()).date()


def of_type(event_log, case_id, kind):
    return [e for e in event_log.of(case_id) if isinstance(e.data, kind)]


def allocate(on: date, number: str = "0301", command_id: str = "a", **kw) -> AllocateToMunicipality:
    return AllocateToMunicipality(
        command_id=command_id, municipality_number=number, allocated_on=on, **kw
    )


# -- private address ------------------------------------------------------------------


async def test_a_private_address_case_applies_before_its_interview(cases: CaseService):
    case_id = new_id()
    permit = date(2020, 3, 2)
    await cases.grant_permit(household(case_id, permit=permit, case_type=CaseType.PRIVATE_ADDRESS))
    assert (await cases.state(case_id)).application_due_on == date(2020, 9, 2)
    interview = RecordSettlementInterview(command_id="i", held_on=date(2020, 4, 1))
    with pytest.raises(CommandRejected) as caught:
        await cases.execute(case_id, interview)
    assert caught.value.reason == OUT_OF_ORDER
    assert "record_settlement_application" in str(caught.value)
    late = RecordSettlementApplication(command_id="late", applied_on=date(2020, 9, 3))
    with pytest.raises(CommandRejected, match="applied_on: may not be after the application"):
        await cases.execute(case_id, late)
    await cases.execute(
        case_id, RecordSettlementApplication(command_id="apply", applied_on=date(2020, 3, 20))
    )
    result = await cases.execute(case_id, interview)
    assert result.stage is CaseStage.SETTLEMENT_READY


async def test_no_application_within_six_months_takes_the_case_out_of_scope(
    cases: CaseService, event_log, time_skipping_env
):
    case_id = new_id()
    permit = await today(time_skipping_env)
    await cases.grant_permit(household(case_id, permit=permit, case_type=CaseType.PRIVATE_ADDRESS))
    await time_skipping_env.sleep(timedelta(days=150))
    assert of_type(event_log, case_id, SettlementApplicationLapsed) == []
    await time_skipping_env.sleep(timedelta(days=40))
    [lapsed] = of_type(event_log, case_id, SettlementApplicationLapsed)
    [exited] = of_type(event_log, case_id, CaseExited)
    assert lapsed.business_date == exited.business_date == add_months(permit, 6) + timedelta(1)
    assert exited.data.reason is ExitReason.NO_APPLICATION
    state = await cases.state(case_id)
    assert (state.stage, state.exit_reason) == (CaseStage.EXITED, ExitReason.NO_APPLICATION)


async def test_an_application_stops_the_lapse(cases: CaseService, event_log, time_skipping_env):
    case_id = new_id()
    permit = await today(time_skipping_env)
    await cases.grant_permit(household(case_id, permit=permit, case_type=CaseType.PRIVATE_ADDRESS))
    await time_skipping_env.sleep(timedelta(days=30))
    await cases.execute(
        case_id,
        RecordSettlementApplication(command_id="apply", applied_on=permit + timedelta(days=30)),
    )
    await time_skipping_env.sleep(timedelta(days=200))
    assert of_type(event_log, case_id, SettlementApplicationLapsed) == []
    assert (await cases.state(case_id)).stage is CaseStage.PERMIT_GRANTED


async def test_only_a_private_address_case_applies(cases: CaseService):
    case_id = new_id()
    await cases.grant_permit(household(case_id))
    with pytest.raises(CommandRejected, match="applies to private_address cases only"):
        await cases.execute(
            case_id, RecordSettlementApplication(command_id="x", applied_on=date(2020, 3, 20))
        )


# -- resettlement ---------------------------------------------------------------------


async def test_a_dossier_case_is_allocated_at_once_and_settled_on_arrival(
    cases: CaseService, event_log, places
):
    case_id = new_id()
    permit = date(2020, 8, 3)
    grant = household(
        case_id,
        permit=permit,
        births=(date(1980, 1, 1), date(2012, 1, 1)),
        case_type=CaseType.RESETTLEMENT,
    ).model_copy(update={"dossier": True})
    await cases.grant_permit(grant)
    state = await cases.state(case_id)
    assert state.entry_permit_valid_until == date(2021, 2, 3)
    with pytest.raises(CommandRejected, match="dossier case has no pre-arrival interview"):
        await cases.execute(
            case_id, RecordSettlementInterview(command_id="i", held_on=date(2020, 8, 4))
        )
    number = await own_ledger(places, 2020)
    await cases.execute(case_id, allocate(date(2020, 8, 5), number))
    await cases.execute(case_id, AcceptAllocation(command_id="ok", accepted_on=date(2020, 8, 10)))
    arrival = RecordArrival(command_id="arrive", arrived_on=date(2020, 9, 1))
    with pytest.raises(CommandRejected, match="travel must be booked first"):
        await cases.execute(case_id, arrival)
    with pytest.raises(ValidationError, match="at least 14 days after booked_on"):
        BookTravel(command_id="t", booked_on=date(2020, 8, 20), arrival_on=date(2020, 8, 30))
    too_late = BookTravel(command_id="t", booked_on=date(2020, 8, 20), arrival_on=date(2021, 3, 1))
    with pytest.raises(
        CommandRejected,
        match=r"arrival_on: may not be after the entry permit runs out \(2021-02-03",
    ):
        await cases.execute(case_id, too_late)
    await cases.execute(
        case_id,
        BookTravel(command_id="t", booked_on=date(2020, 8, 12), arrival_on=date(2020, 9, 1)),
    )
    result = await cases.execute(case_id, arrival)
    assert result.stage is CaseStage.SETTLED
    events = [e.data for e in event_log.of(case_id)][-3:]
    assert isinstance(events[0], ResettlementArrived)
    settled = [e for e in events[1:] if isinstance(e, PersonSettled)]
    assert len(settled) == 2
    assert {e.category for e in settled} == {Category.FAMILY_WITH_CHILDREN}
    ledger = await places.ledger(number, 2020)
    assert ledger.reservations[(await cases.state(case_id)).reservation_id].used == 2


async def test_an_entry_permit_lapses_unless_extended(
    cases: CaseService, event_log, time_skipping_env, places
):
    env = time_skipping_env
    case_id = new_id()
    permit = await today(env)
    await cases.grant_permit(household(case_id, permit=permit, case_type=CaseType.RESETTLEMENT))
    await cases.execute(case_id, allocate(permit))
    await cases.execute(case_id, AcceptAllocation(command_id="ok", accepted_on=permit))
    valid_until = add_months(permit, 6)
    await env.sleep(datetime_gap(permit, valid_until + timedelta(days=2)))
    [lapsed] = of_type(event_log, case_id, EntryPermitLapsed)
    assert lapsed.business_date == valid_until + timedelta(days=1)
    assert (await cases.state(case_id)).entry_permit_lapsed
    now = await today(env)
    await cases.execute(
        case_id,
        ExtendEntryPermit(command_id="x", decided_on=now, valid_until=now + timedelta(days=60)),
    )
    state = await cases.state(case_id)
    assert (state.entry_permit_lapsed, state.entry_permit_valid_until) == (
        False,
        now + timedelta(days=60),
    )
    await cases.execute(
        case_id, BookTravel(command_id="t", booked_on=now, arrival_on=now + timedelta(days=20))
    )
    await env.sleep(timedelta(days=20))
    result = await cases.execute(
        case_id, RecordArrival(command_id="arrive", arrived_on=now + timedelta(days=20))
    )
    assert result.stage is CaseStage.SETTLED
    assert len(of_type(event_log, case_id, EntryPermitLapsed)) == 1


def datetime_gap(start: date, end: date) -> timedelta:
    return timedelta(days=(end - start).days)


async def test_placed_in_reception_on_arrival_the_household_is_allocated_again(
    cases: CaseService, places
):
    case_id = new_id()
    await cases.grant_permit(
        household(case_id, permit=date(2020, 8, 3), case_type=CaseType.RESETTLEMENT)
    )
    number = await own_ledger(places, 2020)
    await cases.execute(case_id, allocate(date(2020, 8, 5), number))
    await cases.execute(case_id, AcceptAllocation(command_id="ok", accepted_on=date(2020, 8, 10)))
    await cases.execute(
        case_id,
        BookTravel(command_id="t", booked_on=date(2020, 8, 12), arrival_on=date(2020, 9, 1)),
    )
    first_reservation = (await cases.state(case_id)).reservation_id
    result = await cases.execute(
        case_id,
        RecordArrival(command_id="arrive", arrived_on=date(2020, 9, 1), placed_in_reception=True),
    )
    assert result.stage is CaseStage.SETTLEMENT_READY
    ledger = await places.ledger(number, 2020)
    assert ledger.reservations[first_reservation].held == 0
    await cases.execute(case_id, allocate(date(2020, 10, 1), "4601", command_id="a2"))
    await cases.execute(case_id, AcceptAllocation(command_id="ok2", accepted_on=date(2020, 10, 5)))
    with pytest.raises(
        CommandRejected, match="record_arrival: the household arrived on 2020-09-01"
    ):
        await cases.execute(
            case_id, RecordArrival(command_id="again", arrived_on=date(2020, 10, 6))
        )
    settle = RegisterSettlement(
        command_id="s",
        settlements=[PersonSettlement(person_id=f"{case_id}-p0", settled_on=date(2020, 11, 2))],
    )
    assert (await cases.execute(case_id, settle)).stage is CaseStage.SETTLED
    state = await cases.state(case_id)
    assert (state.placed_in_reception, state.arrived_on) == (True, date(2020, 9, 1))


# -- unaccompanied minors -------------------------------------------------------------


@pytest.mark.parametrize(
    ("born", "authority"),
    [(date(2008, 1, 1), SettlingAuthority.BUFETAT), (date(2004, 1, 1), SettlingAuthority.IMDI)],
)
async def test_unaccompanied_minors_under_15_are_settled_by_bufetat(
    cases: CaseService, event_log, born, authority
):
    case_id = new_id()
    await cases.grant_permit(household(case_id, permit=date(2020, 3, 2), births=(born,)))
    assert (await cases.state(case_id)).settled_by is authority
    await cases.execute(
        case_id, RecordSettlementInterview(command_id="i", held_on=date(2020, 3, 9))
    )
    await cases.execute(case_id, allocate(date(2020, 4, 1)))
    await cases.execute(case_id, AcceptAllocation(command_id="ok", accepted_on=date(2020, 4, 2)))
    await cases.execute(
        case_id,
        RegisterSettlement(
            command_id="s",
            settlements=[PersonSettlement(person_id=f"{case_id}-p0", settled_on=date(2020, 5, 4))],
        ),
    )
    [settled] = of_type(event_log, case_id, PersonSettled)
    assert (settled.data.category, settled.data.settled_by) == (
        Category.UNACCOMPANIED_MINOR,
        authority,
    )


# -- households -----------------------------------------------------------------------


async def test_a_child_born_after_allocation_grows_the_reservation_and_counts_from_its_permit(
    cases: CaseService, event_log, places
):
    number = await small_municipality(places, decided=2)
    case_id = new_id()
    await cases.grant_permit(household(case_id, permit=date(2021, 1, 4), births=ADULT))
    await cases.execute(
        case_id, RecordSettlementInterview(command_id="i", held_on=date(2021, 1, 9))
    )
    await cases.execute(case_id, allocate(date(2021, 3, 1), number))
    reservation = (await cases.state(case_id)).reservation_id
    assert (await places.ledger(number, 2021)).reservations[reservation].persons == 1
    baby = PersonRecord(person_id=f"{case_id}-p1", birth_date=date(2021, 3, 10))
    await cases.execute(
        case_id,
        AddHouseholdMember(
            command_id="born",
            person=baby,
            permit_date=date(2021, 3, 20),
            reason=MemberJoinReason.BORN_WHILE_WAITING,
        ),
    )
    assert (await places.ledger(number, 2021)).reservations[reservation].persons == 2
    # The ledger had two places left: a third member is refused and nothing is recorded.
    events_before = len(event_log.of(case_id))
    with pytest.raises(CommandRejected) as caught:
        await cases.execute(
            case_id,
            AddHouseholdMember(
                command_id="late",
                person=PersonRecord(person_id=f"{case_id}-p2", birth_date=date(1990, 1, 1)),
                permit_date=date(2021, 3, 22),
                reason=MemberJoinReason.LATE_PERMIT,
            ),
        )
    assert "exceeds the places left" in str(caught.value)
    assert len(event_log.of(case_id)) == events_before
    await cases.execute(case_id, AcceptAllocation(command_id="ok", accepted_on=date(2021, 3, 25)))
    await cases.execute(
        case_id,
        RegisterSettlement(
            command_id="s",
            settlements=[
                PersonSettlement(person_id=f"{case_id}-p{i}", settled_on=date(2021, 4, 6))
                for i in range(2)
            ],
        ),
    )
    [added] = of_type(event_log, case_id, HouseholdMemberAdded)
    assert (added.business_date, added.data.reason) == (
        date(2021, 3, 20),
        MemberJoinReason.BORN_WHILE_WAITING,
    )
    settled = {e.data.person_id: e.data for e in of_type(event_log, case_id, PersonSettled)}
    assert settled[f"{case_id}-p0"].permit_date == date(2021, 1, 4)
    assert settled[f"{case_id}-p1"].permit_date == date(2021, 3, 20)
    # A single adult became a family with children.
    assert {s.category for s in settled.values()} == {Category.FAMILY_WITH_CHILDREN}
    assert (await places.ledger(number, 2021)).reservations[reservation].used == 2


async def test_a_member_cannot_join_a_settled_household(cases: CaseService):
    case_id = new_id()
    await cases.grant_permit(household(case_id, permit=date(2020, 3, 2)))
    await cases.execute(
        case_id, RecordSettlementInterview(command_id="i", held_on=date(2020, 3, 9))
    )
    await cases.execute(case_id, allocate(date(2020, 4, 1)))
    await cases.execute(case_id, AcceptAllocation(command_id="ok", accepted_on=date(2020, 4, 2)))
    await cases.execute(
        case_id,
        RegisterSettlement(
            command_id="s",
            settlements=[PersonSettlement(person_id=f"{case_id}-p0", settled_on=date(2020, 5, 4))],
        ),
    )
    with pytest.raises(CommandRejected) as caught:
        await cases.execute(
            case_id,
            AddHouseholdMember(
                command_id="fr",
                person=PersonRecord(person_id=f"{case_id}-p1", birth_date=date(1990, 1, 1)),
                permit_date=date(2020, 6, 1),
                reason=MemberJoinReason.FAMILY_REUNIFICATION,
            ),
        )
    assert (caught.value.reason, caught.value.stage) == (OUT_OF_ORDER, CaseStage.SETTLED)


async def test_a_member_id_is_unique_and_joins_no_earlier_than_the_household(cases: CaseService):
    case_id = new_id()
    await cases.grant_permit(household(case_id, permit=date(2020, 3, 2)))
    for person_id, permit_date, message in [
        (f"{case_id}-p0", date(2020, 4, 1), "already a member"),
        (f"{case_id}-p9", date(2020, 3, 1), "before the household's permit date"),
    ]:
        with pytest.raises(CommandRejected, match=message) as caught:
            await cases.execute(
                case_id,
                AddHouseholdMember(
                    command_id=f"m-{person_id}",
                    person=PersonRecord(person_id=person_id, birth_date=date(1990, 1, 1)),
                    permit_date=permit_date,
                    reason=MemberJoinReason.LATE_PERMIT,
                ),
            )
        assert caught.value.reason == INVALID_COMMAND


# -- allocation -----------------------------------------------------------------------


async def test_a_recommendation_is_kept_and_an_allocation_carries_its_reasons(
    cases: CaseService, event_log
):
    case_id = new_id()
    await cases.grant_permit(household(case_id, permit=date(2020, 3, 2)))
    await cases.execute(
        case_id, RecordSettlementInterview(command_id="i", held_on=date(2020, 3, 9))
    )
    await cases.execute(
        case_id,
        RecordRecommendation(
            command_id="r",
            municipality_number="4601",
            recommended_on=date(2020, 3, 20),
            reason=RecommendationReason.COMPETENCE,
        ),
    )
    recommendation = (await cases.state(case_id)).recommendation
    assert recommendation is not None
    assert (recommendation.municipality_number, recommendation.reason) == (
        "4601",
        RecommendationReason.COMPETENCE,
    )
    await cases.execute(
        case_id, allocate(date(2020, 4, 1), "4601", reasons=[RecommendationReason.RECOMMENDED])
    )
    [allocated] = of_type(event_log, case_id, MunicipalityAllocated)
    assert allocated.data.reasons == [RecommendationReason.RECOMMENDED]


async def test_a_planned_date_that_passes_reminds_and_a_new_plan_moves_it(
    cases: CaseService, event_log, time_skipping_env, places
):
    env = time_skipping_env
    case_id = new_id()
    now = await today(env)
    await cases.grant_permit(household(case_id, permit=now))
    await cases.execute(case_id, RecordSettlementInterview(command_id="i", held_on=now))
    await cases.execute(case_id, allocate(now))
    await cases.execute(case_id, AcceptAllocation(command_id="ok", accepted_on=now))
    await cases.execute(
        case_id,
        PlanSettlement(command_id="p1", planned_on=now + timedelta(days=10), registered_on=now),
    )
    await env.sleep(timedelta(days=12))
    [passed] = of_type(event_log, case_id, PlannedSettlementDatePassed)
    assert passed.business_date == now + timedelta(days=11)
    assert (await cases.state(case_id)).planned_date_passed
    later = now + timedelta(days=12)
    await cases.execute(
        case_id,
        PlanSettlement(command_id="p2", planned_on=later + timedelta(days=7), registered_on=later),
    )
    assert not (await cases.state(case_id)).planned_date_passed
    await env.sleep(timedelta(days=3))
    settle_on = later + timedelta(days=3)
    await cases.execute(
        case_id,
        RegisterSettlement(
            command_id="s",
            settlements=[PersonSettlement(person_id=f"{case_id}-p0", settled_on=settle_on)],
        ),
    )
    await env.sleep(timedelta(days=10))
    assert len(of_type(event_log, case_id, PlannedSettlementDatePassed)) == 1
