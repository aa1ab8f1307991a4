"""The places ledger with real case workflows on the time-skipping server."""

import uuid
from datetime import date

import pytest

from schemas.commands import (
    AcceptAllocation,
    AllocateToMunicipality,
    DeclineAllocation,
    PersonSettlement,
    RecordSettlementInterview,
    RegisterSettlement,
)
from schemas.enums import CaseStage, DeclineReason
from schemas.errors import INVALID_COMMAND, CommandRejected
from schemas.places import RecordPlacesDecision, places_stream_id
from schemas.ports import NO_PLACES_LEFT
from tests.factories import household
from tests.waiting import eventually
from tests.workflows.conftest import own_ledger
from workers.services.cases import CaseService
from workers.services.places import PlacesService

ALLOCATED_ON = date(2021, 3, 1)
ADULTS = (date(1980, 1, 1), date(1982, 1, 1))


async def small_municipality(places: PlacesService, decided: int, minors: int = 0) -> str:
    """A municipality of this test's own with a small ledger for 2021."""
    return await own_ledger(places, ALLOCATED_ON.year, decided, minors)


async def ready_case(cases: CaseService, births=ADULTS) -> str:
    case_id = f"case-{uuid.uuid4().hex[:10]}"
    await cases.grant_permit(household(case_id, permit=date(2021, 1, 4), births=births))
    await cases.execute(
        case_id, RecordSettlementInterview(command_id="i", held_on=date(2021, 1, 20))
    )
    return case_id


async def recorded(places: PlacesService, number: str) -> None:
    """The ledger writes what its updates took behind them: wait until it has."""

    async def none_left() -> bool:
        return not (await places.ledger(number, 2021)).unrecorded

    await eventually(none_left, within_s=10, what="the ledger's places events")


def allocate(number: str, command_id: str = "a") -> AllocateToMunicipality:
    return AllocateToMunicipality(
        command_id=command_id, municipality_number=number, allocated_on=ALLOCATED_ON
    )


async def test_allocation_beyond_the_decided_places_is_refused_and_changes_nothing(
    cases, places, event_log
):
    number = await small_municipality(places, decided=3)
    first = await ready_case(cases)
    await cases.execute(first, allocate(number))  # 2 of 3
    second = await ready_case(cases)
    with pytest.raises(CommandRejected) as caught:
        await cases.execute(second, allocate(number))
    assert caught.value.reason == NO_PLACES_LEFT
    assert f"exceeds the places left in {number} for 2021" in str(caught.value)
    state = await cases.state(second)
    assert (state.stage, state.municipality_number, state.reservation_id) == (
        CaseStage.SETTLEMENT_READY,
        None,
        None,
    )
    assert "MunicipalityAllocated" not in [e.type for e in event_log.of(second)]


async def test_a_decline_releases_the_places_for_the_next_household(cases, places):
    number = await small_municipality(places, decided=2)
    first = await ready_case(cases)
    await cases.execute(first, allocate(number))
    assert (await places.ledger(number, 2021)).left(False) == 0
    await cases.execute(
        first,
        DeclineAllocation(
            command_id="d", declined_on=date(2021, 3, 5), reason=DeclineReason.NO_CAPACITY
        ),
    )
    assert (await places.ledger(number, 2021)).left(False) == 2
    second = await ready_case(cases)
    result = await cases.execute(second, allocate(number))
    assert result.stage is CaseStage.ALLOCATED


async def test_settlement_turns_held_places_into_used_ones(cases, places):
    number = await small_municipality(places, decided=2)
    case_id = await ready_case(cases)
    await cases.execute(case_id, allocate(number))
    await cases.execute(case_id, AcceptAllocation(command_id="ok", accepted_on=date(2021, 3, 3)))
    before = await places.ledger(number, 2021)
    await cases.execute(
        case_id,
        RegisterSettlement(
            command_id="s",
            settlements=[PersonSettlement(person_id=f"{case_id}-p0", settled_on=date(2021, 4, 1))],
        ),
    )
    middle = await places.ledger(number, 2021)
    assert (middle.used - before.used, middle.reserved - before.reserved) == (1, -1)
    await cases.execute(
        case_id,
        RegisterSettlement(
            command_id="s2",
            settlements=[PersonSettlement(person_id=f"{case_id}-p1", settled_on=date(2021, 4, 2))],
        ),
    )
    after = await places.ledger(number, 2021)
    assert (after.used - before.used, after.reserved - before.reserved) == (2, -2)
    assert after.left(False) == 0


async def test_unaccompanied_minors_draw_on_their_own_places(cases, places):
    number = await small_municipality(places, decided=0, minors=1)
    minor = await ready_case(cases, births=(date(2004, 6, 1),))
    result = await cases.execute(minor, allocate(number))
    assert result.stage is CaseStage.ALLOCATED
    adult = await ready_case(cases, births=(date(1990, 1, 1),))
    with pytest.raises(CommandRejected, match="exceeds the places left"):
        await cases.execute(adult, allocate(number))


async def test_a_decision_below_the_places_already_taken_is_refused(cases, places):
    number = await small_municipality(places, decided=2)
    case_id = await ready_case(cases)
    await cases.execute(case_id, allocate(number))
    ledger = await places.ledger(number, 2021)
    with pytest.raises(CommandRejected) as caught:
        await places.record_decision(
            number,
            2021,
            RecordPlacesDecision(
                command_id="too-low",
                decided_on=date(2021, 3, 2),
                requested=0,
                decided=ledger.used + ledger.held(False) - 1,
            ),
        )
    assert caught.value.reason == INVALID_COMMAND
    assert "decided:" in str(caught.value)


async def test_a_municipality_with_no_decision_has_no_places(cases, places):
    case_id = await ready_case(cases)
    with pytest.raises(CommandRejected, match="has decided no places") as caught:
        await cases.execute(case_id, allocate("5401"))  # Tromsø, no ledger
    assert caught.value.reason == NO_PLACES_LEFT


async def test_a_number_that_is_no_municipality_that_year_is_refused_by_name(places):
    with pytest.raises(CommandRejected, match="municipality_number: 1201 is not a municipality"):
        await places.record_decision(
            "1201",  # Bergen's number before the 2020 reform
            2020,
            RecordPlacesDecision(
                command_id="x", decided_on=date(2019, 12, 1), requested=1, decided=1
            ),
        )


async def test_settlement_is_recorded_in_the_ledger_even_without_a_reservation(
    places, time_skipping_env
):
    from schemas.places import UsePlaces, places_workflow_id
    from workflows.municipality_places import MunicipalityPlacesWorkflow

    number = await small_municipality(places, decided=0)
    before = await places.ledger(number, 2021)
    handle = time_skipping_env.client.get_workflow_handle_for(
        MunicipalityPlacesWorkflow.run, places_workflow_id(number, 2021)
    )
    orphan = f"case-{uuid.uuid4().hex[:8]}/a"
    after = await handle.execute_update(
        MunicipalityPlacesWorkflow.use, UsePlaces(reservation_id=orphan, settled_persons=3)
    )
    again = await handle.execute_update(
        MunicipalityPlacesWorkflow.use, UsePlaces(reservation_id=orphan, settled_persons=3)
    )
    assert after.used - before.used == 3
    assert again.used == after.used  # the same count twice uses nothing more
    assert after.left(False) == before.left(False) - 3 < 0  # over the decision: reality wins


async def test_a_decision_is_recorded_as_events_on_the_places_stream_once(cases, places, event_log):
    number = await small_municipality(places, decided=4)
    stream = places_stream_id(number, 2021)
    first = event_log.of(stream)
    assert [e.type for e in first] == ["PlacesRequested", "PlacesDecided"]
    assert [e.sequence for e in first] == [1, 2]
    assert first[1].data.model_dump() == {
        "type": "PlacesDecided",
        "municipality_number": number,
        "year": 2021,
        "decided": 4,
        "decided_unaccompanied_minors": 0,
    }
    assert first[1].business_date == date(2020, 11, 1)  # the decision's date

    # The same decision again (a retry): no event. An adjusted request: that event alone.
    again = RecordPlacesDecision(
        command_id=f"decide-{number}-2021", decided_on=date(2020, 11, 1), requested=4, decided=4
    )
    await places.record_decision(number, 2021, again)
    assert len(event_log.of(stream)) == 2
    adjusted = again.model_copy(update={"command_id": "adjust", "adjusted": 3})
    await places.record_decision(number, 2021, adjusted)
    later = event_log.of(stream)
    assert [e.type for e in later] == ["PlacesRequested", "PlacesDecided", "PlacesRequestAdjusted"]
    assert later[2].sequence == 3

    # An allocation holds places: what is taken is an event too.
    await cases.execute(await ready_case(cases), allocate(number))
    await recorded(places, number)
    taken = event_log.of(stream)[3]
    assert (taken.type, taken.sequence) == ("PlacesTaken", 4)
    assert (taken.data.used, taken.data.held) == (0, 2)

    # A refused decision (below the places a household holds) records nothing.
    with pytest.raises(CommandRejected):
        await places.record_decision(
            number, 2021, adjusted.model_copy(update={"command_id": "bad", "decided": 1})
        )
    assert len(event_log.of(stream)) == 4


async def test_what_the_places_are_taken_by_is_an_event_a_protected_household_stays_out_of(
    cases, places, event_log
):
    number = await small_municipality(places, decided=6)
    stream = places_stream_id(number, 2021)

    async def taken() -> list[tuple[int, int]]:
        await recorded(places, number)
        return [(e.data.used, e.data.held) for e in event_log.of(stream) if e.type == "PlacesTaken"]

    first = await ready_case(cases)
    await cases.execute(first, allocate(number))
    assert await taken() == [(0, 2)]
    await cases.execute(first, AcceptAllocation(command_id="ok", accepted_on=date(2021, 3, 5)))
    settled = [
        PersonSettlement(person_id=f"{first}-p{i}", settled_on=date(2021, 4, 1)) for i in (0, 1)
    ]
    await cases.execute(first, RegisterSettlement(command_id="s", settlements=settled))
    assert await taken() == [(0, 2), (2, -2)]  # changes: held, then used instead of held

    # A household with a protected member: its places are in the ledger, not in the events.
    protected_case = f"case-{uuid.uuid4().hex[:10]}"
    await cases.grant_permit(
        household(protected_case, permit=date(2021, 1, 4), births=ADULTS, protected=(True, False))
    )
    await cases.execute(
        protected_case, RecordSettlementInterview(command_id="i", held_on=date(2021, 1, 20))
    )
    await cases.execute(protected_case, allocate(number))
    assert (await places.ledger(number, 2021)).reserved == 2
    assert await taken() == [(0, 2), (2, -2)]

    # A decline gives the places back.
    second = await ready_case(cases)
    await cases.execute(second, allocate(number))
    await cases.execute(
        second,
        DeclineAllocation(
            command_id="no", declined_on=date(2021, 3, 3), reason=DeclineReason.NO_CAPACITY
        ),
    )
    assert await taken() == [(0, 2), (2, -2), (0, 2), (0, -2)]
