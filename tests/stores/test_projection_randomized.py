"""The projection against a plain oracle on randomized streams (hypothesis): households with
settlements, late registrations and corrections, delivered at least once in random batches
with re-published duplicates. Every figure must agree exactly, now and as of any moment."""

import asyncio
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from uuid import uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.envelope import to_kafka
from schemas.events import (
    CaseEvent,
    EventPerson,
    PermitDateCorrected,
    PersonSettled,
    ResidencePermitGranted,
    SettlementDateCorrected,
)
from tests.oracle import _plus_months
from workers.figures.queries import waiting_time
from workers.platform import db
from workers.projection.apply import apply_batch
from workers.projection.batch import Record

CATEGORIES = ("unaccompanied_minor", "family_with_children", "other_adult")
CASE_TYPES = ("reception", "private_address", "resettlement")
YEAR = (date(2020, 1, 1), date(2020, 12, 31))
START = datetime(2021, 1, 1, tzinfo=UTC)


@dataclass
class Person:
    person_id: str
    protected: bool
    settled: list[tuple[datetime, date]] = field(default_factory=list)
    """(recorded at, settlement date) in the order recorded: the first, then corrections."""


@dataclass
class Household:
    case_id: str
    case_type: str
    category: str
    permits: list[tuple[datetime, date]]
    persons: list[Person]
    events: list[CaseEvent] = field(default_factory=list)


@st.composite
def households(draw: st.DrawFn) -> list[Household]:
    out = []
    clock = START
    for h in range(draw(st.integers(1, 12))):
        case_id = f"case-{h:04d}"
        permit = date(2019, 6, 1) + timedelta(days=draw(st.integers(0, 500)))
        household = Household(
            case_id=case_id,
            case_type=draw(st.sampled_from(CASE_TYPES)),
            category=draw(st.sampled_from(CATEGORIES)),
            permits=[(clock, permit)],
            persons=[
                Person(f"{case_id}-p{i}", draw(st.booleans()) and draw(st.booleans()))
                for i in range(draw(st.integers(1, 4)))
            ],
        )
        for person in household.persons:
            if draw(st.booleans()) or draw(st.booleans()):
                clock += timedelta(minutes=draw(st.integers(1, 600)))
                person.settled.append((clock, permit + timedelta(days=draw(st.integers(0, 500)))))
        for _ in range(draw(st.integers(0, 2))):
            clock += timedelta(minutes=draw(st.integers(1, 600)))
            if draw(st.booleans()):
                household.permits.append((clock, permit - timedelta(days=draw(st.integers(0, 90)))))
            else:
                settled = [p for p in household.persons if p.settled]
                if settled:
                    person = draw(st.sampled_from(settled))
                    person.settled.append(
                        (clock, permit + timedelta(days=draw(st.integers(0, 500))))
                    )
        out.append(household)
    return out


def build_events(household: Household) -> list[CaseEvent]:
    """The household's stream: the permit, then every registration in the order recorded."""
    steps: list[tuple[datetime, date, object]] = []
    at, permit = household.permits[0]
    granted = ResidencePermitGranted(
        case_type=household.case_type,
        persons=[
            EventPerson(person_id=p.person_id, protected_identity=p.protected)
            for p in household.persons
        ],
    )
    steps.append((at, permit, granted))
    current_permit = permit
    changes: list[tuple[datetime, str, object]] = []
    for at, day in household.permits[1:]:
        changes.append((at, "permit", day))
    for person in household.persons:
        for i, (at, day) in enumerate(person.settled):
            changes.append((at, "settle" if i == 0 else "correct", (person, day)))
    settled_on: dict[str, date] = {}
    for at, kind, payload in sorted(changes, key=lambda c: c[0]):
        if kind == "permit":
            assert isinstance(payload, date)
            steps.append(
                (
                    at,
                    payload,
                    PermitDateCorrected(previous_date=current_permit, reason="registration_error"),
                )
            )
            current_permit = payload
        else:
            person, day = payload  # type: ignore[misc]
            if kind == "settle":
                steps.append(
                    (
                        at,
                        day,
                        PersonSettled(
                            person_id=person.person_id,
                            category=household.category,
                            protected_identity=person.protected,
                            case_type=household.case_type,
                            permit_date=current_permit,
                            municipality_number="0301",
                        ),
                    )
                )
            else:
                steps.append(
                    (
                        at,
                        day,
                        SettlementDateCorrected(
                            person_id=person.person_id,
                            previous_date=settled_on[person.person_id],
                            reason="late_information",
                        ),
                    )
                )
            settled_on[person.person_id] = day
    return [
        CaseEvent(
            event_id=uuid4(),
            case_id=household.case_id,
            sequence=i + 1,
            business_date=day,
            recorded_at=at,
            data=data,
        )
        for i, (at, day, data) in enumerate(steps)
    ]


def truth(households: list[Household], as_of: datetime | None) -> dict[str, object]:
    """The figures the plain way, from what was recorded by ``as_of``."""
    rows: dict[str, list[tuple[date, date]]] = {c: [] for c in (*CATEGORIES, "total")}
    for household in households:
        permits = [(at, d) for at, d in household.permits if as_of is None or at <= as_of]
        if not permits:
            continue
        t0 = permits[-1][1]
        for person in household.persons:
            known = [(at, d) for at, d in person.settled if as_of is None or at <= as_of]
            if not known:
                continue
            t1 = known[-1][1]
            if not (YEAR[0] <= t1 <= YEAR[1]):
                continue
            rows["total"].append((t0, t1))
            if not person.protected:
                rows[household.category].append((t0, t1))
    out: dict[str, object] = {"steering": steering_truth(households, as_of)}
    for group, pairs in rows.items():
        days = sorted((t1 - t0).days for t0, t1 in pairs)
        n = len(days)
        out[group] = (
            n,
            sum(t1 <= _plus_months(t0, 6) for t0, t1 in pairs),
            sum(t1 <= _plus_months(t0, 12) for t0, t1 in pairs),
            Fraction(sum(days), n) if n else None,
            (Fraction(days[n // 2]) if n % 2 else Fraction(days[n // 2 - 1] + days[n // 2], 2))
            if n
            else None,
        )
    return out


STEERING = ("K1", "K2", "SP13.1", "SP13.2", "SP13.3", "SP13.4", "SP13.4-persons")


def steering_truth(households: list[Household], as_of: datetime | None) -> dict[str, tuple]:
    """Numerator and denominator of each steering parameter, the plain way."""
    tally: dict[str, list[int]] = {}

    def count(metric: str, hit: bool) -> None:
        t = tally.setdefault(metric, [0, 0])
        t[0] += hit
        t[1] += 1

    for household in households:
        permits = [(at, d) for at, d in household.permits if as_of is None or at <= as_of]
        if not permits:
            continue
        t0 = permits[-1][1]
        family: list[date] = []
        for person in household.persons:
            known = [(at, d) for at, d in person.settled if as_of is None or at <= as_of]
            if not known or not (YEAR[0] <= known[-1][1] <= YEAR[1]):
                continue
            t1 = known[-1][1]
            count("K1", t1 <= _plus_months(t0, 6))
            count("K2", t1 <= _plus_months(t0, 12))
            if household.case_type == "resettlement":
                count("SP13.1", t1 <= _plus_months(t0, 6))
            if person.protected:
                continue
            reception = household.case_type == "reception"
            if household.category == "other_adult" and reception:
                count("SP13.2", t1 <= _plus_months(t0, 6))
            if household.category == "unaccompanied_minor":
                count("SP13.3", t1 <= _plus_months(t0, 3))
            if household.category == "family_with_children" and reception:
                count("SP13.4-persons", t1 <= _plus_months(t0, 3))
                family.append(t1)
        if family:
            count("SP13.4", min(family) <= _plus_months(t0, 3))
    return {metric: (hit, total) for metric, (hit, total) in tally.items()}


def figures(report) -> dict[str, object]:
    steering = {
        m.id: (m.numerator, m.denominator)
        for m in report.steering
        if m.id in STEERING and m.denominator
    }
    return {"steering": steering} | {
        g.group: (
            g.settled,
            g.within_6_months,
            g.within_12_months,
            g.mean_wait_days,
            g.median_wait_days,
        )
        for g in report.groups
    }


async def project(
    households: list[Household], batch_sizes: list[int], duplicates: list[int]
) -> list:
    """Deliver the streams at least once, in batches, as two partitions would, and return the
    projection's reports now and as of a moment after each recorded event."""
    root = Path(tempfile.mkdtemp(prefix="bosetting-hyp-"))
    url = f"sqlite+aiosqlite:///{root / 'p.db'}"
    await db.upgrade(url, db.PROJECTION)
    engine = db.make_engine(url)
    sessions = db.sessionmaker(engine)
    logs: dict[int, list[CaseEvent]] = {0: [], 1: []}
    for i, household in enumerate(households):
        logs[i % 2].extend(household.events)
    # Re-published duplicates: the same events again, later in their partition.
    for k in duplicates:
        log = logs[k % 2]
        if log:
            log.append(log[k % len(log)])
    records = {
        p: [
            Record(p, offset, to_kafka(e).headers, to_kafka(e).value)
            for offset, e in enumerate(log)
        ]
        for p, log in logs.items()
    }
    cursor = {0: 0, 1: 0}
    sizes = iter(batch_sizes or [1000])
    while any(cursor[p] < len(records[p]) for p in records):
        size = next(sizes, 1000)
        batch: list[Record] = []
        for p in records:
            batch.extend(records[p][cursor[p] : cursor[p] + size])
            cursor[p] = min(cursor[p] + size, len(records[p]))
        async with sessions.begin() as session:
            await apply_batch(session, "hyp", "topic", batch, {})
    moments = sorted({e.recorded_at for h in households for e in h.events})
    reports = [(None, await waiting_time(sessions, *YEAR))]
    for moment in moments:
        reports.append((moment, await waiting_time(sessions, *YEAR, as_of=moment)))
    await engine.dispose()
    return reports


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    cohort=households(),
    batch_sizes=st.lists(st.integers(1, 7), max_size=6),
    duplicates=st.lists(st.integers(0, 50), max_size=5),
)
def test_the_projection_equals_the_oracle_now_and_as_of_every_moment(
    cohort, batch_sizes, duplicates
):
    for household in cohort:
        household.events = build_events(household)
    for moment, report in asyncio.run(project(cohort, batch_sizes, duplicates)):
        assert figures(report) == truth(cohort, moment), f"as of {moment}"
