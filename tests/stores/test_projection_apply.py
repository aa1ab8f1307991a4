"""Applying Kafka records to the read model on real SQLite and PostgreSQL."""

import json
from datetime import UTC, date, datetime, timedelta, timezone
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from schemas.envelope import to_kafka
from schemas.events import (
    CaseEvent,
    EventPerson,
    PermitDateCorrected,
    PersonSettled,
    ProgrammeStarted,
    QualificationDeadlinesMoved,
    ResidencePermitGranted,
    RightsAssessed,
    SettlementDateCorrected,
    SettlementInterviewHeld,
)
from tests.factories import Counties
from tests.waiting import holds
from workers.figures.queries import projection_status, waiting_on, waiting_time
from workers.platform.codec import TopicSeal, new_key, parse_keys
from workers.projection.apply import apply_batch
from workers.projection.batch import Record
from workers.projection.store import ConsumerPosition, DeadLetter, StreamProgress

TOPIC = "case-events"
CONSUMER = "test-projection"


def event(case_id: str, seq: int, data, business_date=date(2020, 1, 10)) -> CaseEvent:
    return CaseEvent(
        event_id=uuid4(),
        case_id=case_id,
        sequence=seq,
        business_date=business_date,
        recorded_at=datetime.now(UTC),
        data=data,
    )


def moved_settlement(sequence: int, previous: date, new: date) -> CaseEvent:
    """A correction of the second person's settlement date in case-0001."""
    return event(
        "case-0001",
        sequence,
        SettlementDateCorrected(
            person_id="case-0001-p1", previous_date=previous, reason="late_information"
        ),
        business_date=new,
    )


def case_events(case_id: str = "case-0001") -> list[CaseEvent]:
    persons = [EventPerson(person_id=f"{case_id}-p{i}", protected_identity=False) for i in (0, 1)]
    settled = [
        event(
            case_id,
            3 + i,
            PersonSettled(
                person_id=p.person_id,
                category="other_adult",
                protected_identity=False,
                case_type="reception",
                permit_date=date(2020, 1, 10),
                municipality_number="0301",
            ),
            business_date=date(2020, 5, 1),
        )
        for i, p in enumerate(persons)
    ]
    return [
        event(case_id, 1, ResidencePermitGranted(case_type="reception", persons=persons)),
        event(case_id, 2, SettlementInterviewHeld(), business_date=date(2020, 2, 1)),
        *settled,
    ]


def records(evts: list[CaseEvent], partition: int = 0, first_offset: int = 0) -> list[Record]:
    out = []
    for i, e in enumerate(evts):
        k = to_kafka(e)
        out.append(Record(partition, first_offset + i, k.headers, k.value))
    return out


async def apply(sessions, recs, high_water=None):
    async with sessions.begin() as session:
        return await apply_batch(session, CONSUMER, TOPIC, recs, high_water or {})


async def test_settled_persons_become_facts_and_the_position_is_stored(projection_db):
    result = await apply(projection_db, records(case_events()), {0: 4})
    assert result.applied == 4
    report = await waiting_time(projection_db, date(2020, 1, 1), date(2020, 12, 31))
    assert report.group("total").settled == 2
    assert report.group("total").within_6_months == 2
    async with projection_db() as session:
        position = await session.get(ConsumerPosition, (CONSUMER, TOPIC, 0))
    assert position is not None
    assert position.next_offset == 4


async def test_redelivered_offsets_are_skipped(projection_db):
    recs = records(case_events())
    await apply(projection_db, recs)
    again = await apply(projection_db, recs)
    assert (again.applied, again.skipped_offsets) == (0, 4)
    assert (await projection_status(projection_db)).settled_persons == 2


async def test_an_event_republished_at_a_new_offset_is_counted_once(projection_db):
    evts = case_events()
    await apply(projection_db, records(evts))
    again = await apply(projection_db, records(evts, first_offset=100))
    assert (again.applied, again.duplicate_events) == (0, 4)
    status = await projection_status(projection_db)
    assert (status.applied_events, status.settled_persons) == (4, 2)


async def test_an_unreadable_record_goes_to_dead_letters_and_does_not_block(projection_db):
    good = records(case_events(), first_offset=1)
    bad = Record(0, 0, [("ce_type", b"nonsense")], b"\x00\x01")
    result = await apply(projection_db, [bad, *good])
    assert (result.dead_letters, result.applied) == (1, 4)
    async with projection_db() as session:
        letters = (await session.scalars(select(DeadLetter))).all()
        position = await session.get(ConsumerPosition, (CONSUMER, TOPIC, 0))
    assert [(d.partition, d.offset) for d in letters] == [(0, 0)]
    assert position is not None
    assert position.next_offset == 5


async def test_sealed_records_are_opened_and_those_that_do_not_open_are_dead_lettered(
    projection_db,
):
    seal = TopicSeal(parse_keys(f"k1={new_key()}", "topic_keys"))
    events = case_events()
    sealed = [to_kafka(e, seal=seal) for e in events]
    stranger = to_kafka(case_events("case-0002")[0], seal=TopicSeal(parse_keys(f"k9={new_key()}")))
    recs = [Record(0, i, k.headers, k.value) for i, k in enumerate([*sealed, stranger])]
    async with projection_db.begin() as session:
        result = await apply_batch(session, CONSUMER, TOPIC, recs, {}, seal=seal)
    assert (result.applied, result.dead_letters) == (4, 1)
    report = await waiting_time(projection_db, date(2020, 1, 1), date(2020, 12, 31))
    assert report.group("total").settled == 2
    async with projection_db() as session:
        [letter] = (await session.scalars(select(DeadLetter))).all()
    assert letter.offset == 4
    assert "'k9', which is not configured" in letter.error


async def test_events_after_a_gap_are_applied_once_and_the_gap_closes(projection_db):
    evts = case_events()
    await apply(projection_db, records(evts[2:], first_offset=0))
    async with projection_db() as session:
        case = await session.get(StreamProgress, "case-0001")
        assert case is not None
        assert (case.applied_through, case.ahead) == (0, "3,4")
    again = await apply(projection_db, records([evts[3], *evts[:2]], first_offset=2))
    assert (again.applied, again.duplicate_events) == (2, 1)
    async with projection_db() as session:
        case = await session.get(StreamProgress, "case-0001")
        streams = await session.scalar(select(func.count()).select_from(StreamProgress))
    assert case is not None
    assert (case.applied_through, case.ahead) == (4, "")
    assert streams == 1
    status = await projection_status(projection_db)
    assert (status.applied_events, status.settled_persons) == (4, 2)


async def test_lag_is_the_distance_to_the_high_water_mark(projection_db):
    await apply(projection_db, records(case_events()), {0: 10})
    async with projection_db.begin() as session:  # another consumer group of the same topic
        await apply_batch(session, "test-feed", TOPIC, records(case_events())[:1], {0: 10})
    status = await projection_status(projection_db)
    assert status.lag == {CONSUMER: 6, "test-feed": 9}  # each group its own, not their sum
    assert set(status.last_batch_at) == {CONSUMER, "test-feed"}
    assert all(at.utcoffset() == timedelta(0) for at in status.last_batch_at.values())


async def test_a_corrected_permit_date_moves_the_figures_of_the_past(projection_db):
    evts = case_events()  # permit 2020-01-10, both settled 2020-05-01: within 6 months
    await apply(projection_db, records(evts))
    correction = event(
        "case-0001",
        5,
        PermitDateCorrected(previous_date=date(2020, 1, 10), reason="registration_error"),
        business_date=date(2019, 9, 1),
    )
    await apply(projection_db, records([correction], first_offset=4))
    total = (await waiting_time(projection_db, date(2020, 1, 1), date(2020, 12, 31))).group("total")
    assert (total.settled, total.within_6_months, total.within_12_months) == (2, 0, 2)
    assert total.mean_wait_days == (date(2020, 5, 1) - date(2019, 9, 1)).days


async def test_a_corrected_settlement_date_can_move_a_person_to_another_period(projection_db):
    await apply(projection_db, records(case_events()))
    correction = moved_settlement(5, date(2020, 5, 1), date(2021, 1, 15))
    await apply(projection_db, records([correction], first_offset=4))
    in_2020 = await waiting_time(projection_db, date(2020, 1, 1), date(2020, 12, 31))
    in_2021 = await waiting_time(projection_db, date(2021, 1, 1), date(2021, 12, 31))
    assert (in_2020.group("total").settled, in_2021.group("total").settled) == (1, 1)
    assert in_2021.group("total").within_12_months == 0


async def test_as_of_before_a_correction_shows_the_old_truth_and_after_it_the_new(projection_db):
    await apply(projection_db, records(case_events()))
    learned = datetime.now(UTC)
    correction = moved_settlement(5, date(2020, 5, 1), date(2021, 1, 15))
    await apply(projection_db, records([correction], first_offset=4))
    year = (date(2020, 1, 1), date(2020, 12, 31))
    before = await waiting_time(projection_db, *year, as_of=learned)
    after = await waiting_time(projection_db, *year, as_of=correction.recorded_at)
    now = await waiting_time(projection_db, *year)
    assert before.group("total").settled == 2
    assert after.group("total").settled == now.group("total").settled == 1
    # Before the first settlement was recorded, nothing was known.
    nothing = await waiting_time(projection_db, *year, as_of=datetime(2020, 1, 1, tzinfo=UTC))
    assert nothing.group("total").settled == 0
    # A second correction of the same person keeps one open version.
    again = moved_settlement(6, date(2021, 1, 15), date(2020, 6, 1))
    await apply(projection_db, records([again], first_offset=5))
    final = await waiting_time(projection_db, *year)
    assert final.group("total").settled == 2
    assert (await projection_status(projection_db)).settled_persons == 2
    assert (await waiting_time(projection_db, *year, as_of=after.as_of)).group("total").settled == 1


async def test_figures_break_down_by_municipality_and_reception_centre(projection_db):
    await apply(projection_db, records(case_events()))
    year = (date(2020, 1, 1), date(2020, 12, 31))
    report = await waiting_time(projection_db, *year, by="municipality")
    assert [(g.group, g.settled) for g in report.groups] == [("0301", 2), ("total", 2)]
    [sp132] = [m for m in report.steering if m.id == "SP13.2"]
    assert (sp132.numerator, sp132.denominator) == (2, 2)


async def test_the_stock_counts_who_was_ready_and_waiting_on_a_day_as_known_then(projection_db):
    await apply(projection_db, records(case_events()))  # ready 2020-02-01, settled 2020-05-01
    ready_before = await waiting_on(projection_db, date(2020, 1, 31))
    waiting = await waiting_on(projection_db, date(2020, 3, 1))
    after = await waiting_on(projection_db, date(2020, 5, 1))
    assert (ready_before.waiting_in_reception, after.waiting_in_reception) == (0, 0)
    assert waiting.waiting_in_reception == 2
    assert waiting.median_wait_days == (date(2020, 3, 1) - date(2020, 1, 10)).days
    learned = datetime.now(UTC)
    correction = moved_settlement(5, date(2020, 5, 1), date(2020, 8, 1))
    await apply(projection_db, records([correction], first_offset=4))
    assert (await waiting_on(projection_db, date(2020, 6, 1))).waiting_in_reception == 1
    as_known = await waiting_on(projection_db, date(2020, 6, 1), as_of=learned)
    assert as_known.waiting_in_reception == 0


async def test_a_corrected_permit_date_moves_a_resettlement_refugee_abroad(projection_db):
    persons = [EventPerson(person_id="rs-0001-p0", protected_identity=False)]
    granted = event(
        "rs-0001",
        1,
        ResidencePermitGranted(case_type="resettlement", persons=persons),
        business_date=date(2020, 6, 1),
    )
    await apply(projection_db, records([granted]))
    assert (await waiting_on(projection_db, date(2020, 5, 15))).waiting_abroad == 0
    correction = event(
        "rs-0001",
        2,
        PermitDateCorrected(previous_date=date(2020, 6, 1), reason="registration_error"),
        business_date=date(2020, 5, 1),
    )
    await apply(projection_db, records([correction], first_offset=1))
    assert (await waiting_on(projection_db, date(2020, 5, 15))).waiting_abroad == 1


async def test_qualification_records_feed_the_programme_figures(projection_db):
    person = "case-0001-p0"
    opened = event(
        person,
        1,
        RightsAssessed(
            case_id="case-0001",
            municipality_number="0301",
            case_type="reception",
            rules="integration_act_2021",
            programme_right="right_and_obligation",
            norwegian_right="right_and_obligation",
            programme_start_due=date(2021, 6, 1),
            norwegian_start_due=date(2021, 6, 1),
            norwegian_completion_due=date(2024, 1, 10),
            rights_start=date(2021, 1, 10),
        ),
        business_date=date(2021, 3, 1),
    )
    started = event(person, 2, ProgrammeStarted(), business_date=date(2021, 6, 15))
    await apply(projection_db, records([opened, started]))
    year = (date(2021, 1, 1), date(2021, 12, 31))
    k13 = next(m for m in (await waiting_time(projection_db, *year)).steering if m.id == "K13")
    assert (k13.numerator, k13.denominator) == (0, 1)  # started after June 1
    # The settlement date was corrected to later: the start is now in time.
    moved = event(
        person,
        3,
        QualificationDeadlinesMoved(
            previous_settled_on=date(2021, 3, 1),
            programme_start_due=date(2021, 6, 20),
            norwegian_start_due=date(2021, 6, 20),
            norwegian_completion_due=date(2024, 1, 10),
            rights_start=date(2021, 1, 10),
        ),
        business_date=date(2021, 3, 20),
    )
    await apply(projection_db, records([moved], first_offset=2))
    k13 = next(m for m in (await waiting_time(projection_db, *year)).steering if m.id == "K13")
    assert (k13.numerator, k13.denominator) == (1, 1)
    # As known before the correction, the start was late; before the start, not started.
    before = await waiting_time(projection_db, *year, as_of=started.recorded_at)
    assert [(m.numerator, m.denominator) for m in before.steering if m.id == "K13"] == [(0, 1)]
    opened_only = await waiting_time(projection_db, *year, as_of=opened.recorded_at)
    assert [(m.numerator, m.denominator) for m in opened_only.steering if m.id == "K13"] == [(0, 1)]
    # A qualification stream is a stream of its own, not a case.
    async with projection_db() as session:
        stream = await session.get(StreamProgress, person)
    assert stream is not None
    assert (stream.applied_through, stream.ahead, stream.mapped_on) == (3, "", None)


async def test_a_snapshot_reproduces_after_a_correction_and_its_name_is_never_reused(
    projection_db,
):
    from workers.figures.documents import report_json
    from workers.figures.snapshots import SnapshotError, take, verify
    from workers.projection.feed import apply_feed_events
    from workers.projection.store import ReportSnapshot

    await apply(projection_db, records(case_events()))
    async with projection_db.begin() as session:  # the feed's group, further along
        await apply_batch(
            session, "feed", TOPIC, records(case_events("case-0002"), 0, 7), {}, apply_feed_events
        )

    county = Counties(lambda number: "Oslo")

    stored = await take(
        projection_db,
        "2020-annual",
        date(2020, 1, 1),
        date(2020, 12, 31),
        "category",
        report_json,
        county,
        CONSUMER,
    )
    async with projection_db() as session:
        snapshot = await session.get(ReportSnapshot, "2020-annual")
    assert json.loads(snapshot.positions) == {TOPIC: {"0": 4}}  # this group's, not the feed's
    assert stored.group("total").settled == 2
    correction = moved_settlement(5, date(2020, 5, 1), date(2021, 1, 15))
    await apply(projection_db, records([correction], first_offset=4))
    result = await verify(projection_db, "2020-annual", report_json, county)
    assert (result.same, result.differences) == (True, [])
    with pytest.raises(SnapshotError, match="exists already"):
        await take(
            projection_db,
            "2020-annual",
            date(2020, 1, 1),
            date(2020, 12, 31),
            "category",
            report_json,
            county,
            CONSUMER,
        )


async def case_register(sessions) -> tuple[list, list]:
    """The case register's rows, every column."""
    from workers.projection.store import RegisteredCase, RegisteredPerson

    async with sessions() as session:
        cases = (await session.execute(select(RegisteredCase.__table__))).all()
        persons = (
            await session.execute(
                select(RegisteredPerson.__table__).order_by(RegisteredPerson.person_id)
            )
        ).all()
    return [tuple(r) for r in cases], [tuple(r) for r in persons]


async def test_a_rebuild_from_the_event_log_gives_the_same_figures_and_a_reread_changes_nothing(
    register, projection_db
):
    from workers.operations.rebuild import rebuild_from_event_log
    from workers.platform.register import append_events

    correction = moved_settlement(5, date(2020, 5, 1), date(2020, 9, 1))
    evts = [*case_events(), correction]
    async with register.begin() as session:
        await append_events(session, evts)
    await apply(projection_db, records(evts))
    year = (date(2020, 1, 1), date(2020, 12, 31))
    before = await waiting_time(projection_db, *year)
    stock_before = await waiting_on(projection_db, date(2020, 6, 1))
    register_before = await case_register(projection_db)
    assert register_before[0]  # the case is in the register
    applied = await rebuild_from_event_log(register, projection_db)
    assert applied == len(evts)
    assert await waiting_time(projection_db, *year) == before
    assert await waiting_on(projection_db, date(2020, 6, 1)) == stock_before
    assert await case_register(projection_db) == register_before
    async with projection_db() as session:
        assert (await session.scalars(select(ConsumerPosition))).all() == []
    # The projection then reads the topic from its start: every event is skipped by id.
    result = await apply(projection_db, records(evts))
    assert (result.applied, result.duplicate_events) == (0, len(evts))
    assert await waiting_time(projection_db, *year) == before


async def test_two_consumers_applying_one_partition_cannot_both_commit(postgres):
    """During a rebalance the old owner of a partition may still be applying a batch when the
    new owner reads the same records. The position's version lets only one of them commit."""
    import asyncio

    from sqlalchemy.exc import IntegrityError
    from sqlalchemy.orm.exc import StaleDataError

    from workers.platform import db

    url = await postgres.new_database()
    await db.upgrade(url, db.PROJECTION)
    engine = db.make_engine(url)
    sessions = db.sessionmaker(engine)
    try:
        evts = case_events()
        await apply(sessions, records(evts[:1]))  # the partition's position exists
        recs = records(evts[1:], first_offset=1)
        old_owner = sessions()
        await old_owner.begin()
        await apply_batch(old_owner, CONSUMER, TOPIC, recs, {})
        await old_owner.flush()  # holds the position row's lock, not committed yet
        new_owner = asyncio.create_task(apply(sessions, recs))
        # The new owner reads the old position and then waits on the lock.
        await holds(lambda: not new_owner.done(), for_s=0.5, what="the new owner waiting")
        await old_owner.commit()
        await old_owner.close()
        with pytest.raises((StaleDataError, IntegrityError)):
            await new_owner
        again = await apply(sessions, recs)  # the consumer's retry: skipped by position
        assert (again.applied, again.skipped_offsets) == (0, 3)
        status = await projection_status(sessions)
        assert (status.applied_events, status.settled_persons) == (4, 2)
    finally:
        await engine.dispose()


async def test_as_of_is_the_same_moment_whatever_its_offset(projection_db):
    """Times are compared as instants: an `--as-of` in Norwegian winter time (+01:00), or an
    event recorded by a producer outside UTC, means the same moment as its UTC twin."""
    settled_at = datetime(2021, 3, 1, 9, 0, tzinfo=UTC)
    oslo = timezone(timedelta(hours=1))
    evts = [e.model_copy(update={"recorded_at": settled_at}) for e in case_events()]
    evts[-1] = evts[-1].model_copy(update={"recorded_at": settled_at.astimezone(oslo)})
    await apply(projection_db, records(evts))
    year = (date(2020, 1, 1), date(2020, 12, 31))
    just_before = settled_at - timedelta(minutes=30)
    for moment in (just_before, just_before.astimezone(oslo)):  # 08:30Z is 09:30+01:00
        report = await waiting_time(projection_db, *year, as_of=moment)
        assert report.group("total").settled == 0, moment
    for moment in (settled_at, settled_at.astimezone(oslo)):
        report = await waiting_time(projection_db, *year, as_of=moment)
        assert report.group("total").settled == 2, moment
