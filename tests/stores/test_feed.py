"""The municipality feed on real SQLite and PostgreSQL: routed, redacted, exactly once."""

import json
from datetime import date

from sqlalchemy import select

from schemas.events import (
    AllocationAccepted,
    AllocationWithdrawn,
    EventPerson,
    MunicipalityAllocated,
    MunicipalityRecommended,
    PersonSettled,
    ProgrammeStarted,
    ResidencePermitGranted,
    RightsAssessed,
    SettlementInterviewHeld,
)
from workers.projection.apply import apply_batch
from workers.projection.feed import (
    FeedEvent,
    apply_feed_events,
    feed_record,
    for_the_topic,
    read_feed,
)

from .test_projection_apply import TOPIC, event, records

FEED = "test-feed"


async def feed(sessions, recs):
    async with sessions.begin() as session:
        return await apply_batch(session, FEED, TOPIC, recs, {}, apply_feed_events)


def household() -> list:
    persons = [
        EventPerson(person_id="case-f-p0", protected_identity=False),
        EventPerson(person_id="case-f-p1", protected_identity=True),
    ]

    def settled(person: EventPerson, seq: int):
        return event(
            "case-f",
            seq,
            PersonSettled(
                person_id=person.person_id,
                category="family_with_children",
                protected_identity=person.protected_identity,
                case_type="reception",
                permit_date=date(2020, 1, 10),
                municipality_number="4601",
            ),
            business_date=date(2020, 6, 1),
        )

    return [
        event("case-f", 1, ResidencePermitGranted(case_type="reception", persons=persons)),
        event("case-f", 2, SettlementInterviewHeld()),
        event(
            "case-f", 3, MunicipalityRecommended(municipality_number="0301", reason="competence")
        ),
        event("case-f", 4, MunicipalityAllocated(municipality_number="0301")),
        event("case-f", 5, AllocationWithdrawn(municipality_number="0301", reason="better_match")),
        event("case-f", 6, MunicipalityAllocated(municipality_number="4601")),
        event("case-f", 7, AllocationAccepted(municipality_number="4601")),
        settled(persons[0], 8),
        settled(persons[1], 9),
    ]


async def test_each_municipality_gets_its_events_once_and_no_protected_id(projection_db):
    evts = household()
    result = await feed(projection_db, records(evts))
    assert result.applied == 9
    again = await feed(projection_db, records(evts, first_offset=50))  # re-published
    assert (again.applied, again.duplicate_events) == (0, 9)
    oslo = await read_feed(projection_db, "0301", 0, 100, cleared=True)
    bergen = await read_feed(projection_db, "4601", 0, 100, cleared=True)
    assert [r.event_type for r in oslo] == ["MunicipalityAllocated", "AllocationWithdrawn"]
    assert [r.event_type for r in bergen] == [
        "MunicipalityAllocated",
        "AllocationAccepted",
        "PersonSettled",
        "PersonSettled",
    ]
    entries = [json.loads(r.cloud_event) for r in bergen]
    assert {e["type"] for e in entries} >= {"no.bosetting.municipality.PersonSettled.v1"}
    assert all(e["subject"] == "case-f" and e["municipalitynumber"] == "4601" for e in entries)
    assert entries[2]["data"]["person_id"] == "case-f-p0"
    assert entries[3]["data"]["person_id"] is None
    assert entries[3]["data"]["protected_identity"] is True
    assert all("case-f-p1" not in r.cloud_event for r in (*oslo, *bergen))
    # Resuming from a cursor gives what came after it, and nothing twice.
    rest = await read_feed(projection_db, "4601", bergen[1].position, 100, cleared=True)
    assert [r.position for r in rest] == [r.position for r in bergen[2:]]


async def test_a_protected_household_is_in_no_uncleared_feed_and_never_on_the_topic(
    projection_db,
):
    """Where a protected household's entries appear tells where it lives: a reader without
    clearance gets none of them, in any municipality's feed, and the topic none at all."""
    await feed(projection_db, records(household()))
    for municipality in ("0301", "4601"):
        assert await read_feed(projection_db, municipality, 0, 100, cleared=False) == []
        assert await read_feed(projection_db, municipality, 0, 100, cleared=True) != []
    async with projection_db() as session:
        assert (await session.scalars(select(FeedEvent).where(for_the_topic()))).all() == []


def opened(person: str, protected: bool, household_protected: bool = False, case: str = "case-q"):
    """An adult's qualification record opened in Trondheim (5001)."""
    return event(
        person,
        1,
        RightsAssessed(
            case_id=case,
            municipality_number="5001",
            case_type="reception",
            rules="introduction_act",
            programme_right="right_and_obligation",
            norwegian_right="right_and_obligation",
            programme_start_due=date(2020, 9, 1),
            norwegian_start_due=date(2020, 9, 1),
            norwegian_completion_due=None,
            rights_start=date(2020, 1, 10),
            protected_identity=protected,
            household_protected=household_protected,
        ),
    )


async def test_a_qualification_record_goes_to_its_municipality_without_a_protected_subject(
    projection_db,
):

    evts = [
        opened("case-q-p0", False),
        event("case-q-p0", 2, ProgrammeStarted()),
        opened("case-q-p1", True),
        event("case-q-p1", 2, ProgrammeStarted()),
    ]
    await feed(projection_db, records(evts))
    rows = await read_feed(projection_db, "5001", 0, 100, cleared=True)
    subjects = [json.loads(r.cloud_event)["subject"] for r in rows]
    assert subjects == ["case-q-p0", "case-q-p0", "protected", "protected"]
    assert all("case-q-p1" not in r.cloud_event for r in rows)
    uncleared = await read_feed(projection_db, "5001", 0, 100, cleared=False)
    assert [json.loads(r.cloud_event)["subject"] for r in uncleared] == ["case-q-p0"] * 2
    # On the feed topic: keyed by municipality, the CloudEvent in binary mode.
    record = feed_record(rows[0])
    assert record.key == b"5001"
    headers = dict(record.headers)
    assert headers["ce_type"] == b"no.bosetting.municipality.RightsAssessed.v1"
    assert json.loads(record.value)["case_id"] == "case-q"


async def test_an_adults_record_in_a_household_with_a_protected_member_is_for_cleared_readers(
    projection_db,
):
    """The adult is not protected, but their record names the case and the municipality, and
    so would say where the protected child of the household lives."""
    evts = [
        opened("case-h-p0", False, household_protected=True, case="case-h"),
        event("case-h-p0", 2, ProgrammeStarted()),
    ]
    await feed(projection_db, records(evts))
    assert await read_feed(projection_db, "5001", 0, 100, cleared=False) == []
    cleared = await read_feed(projection_db, "5001", 0, 100, cleared=True)
    # A cleared reader sees the adult as they are: the adult has no protected identity.
    assert [json.loads(r.cloud_event)["subject"] for r in cleared] == ["case-h-p0"] * 2
