"""Protected identity as a property of the data: nothing an uncleared reader can get says
where a protected person lives, alone or as the difference of two answers.

The strongest form of that promise is indistinguishability: two worlds that differ only in
where a protected household settled (municipality, county and reception centre) must give
every uncleared reader byte-identical answers on every route, period and breakdown. Any
differencing attack is then hopeless, whatever pair of answers it subtracts."""

from datetime import UTC, date, datetime
from pathlib import Path
from uuid import NAMESPACE_URL, uuid5

import pytest

from schemas.commands import PersonRecord
from schemas.envelope import to_kafka
from schemas.events import (
    AllocationAccepted,
    CaseEvent,
    EventData,
    EventPerson,
    MunicipalityAllocated,
    PersonSettled,
    ResidencePermitGranted,
    SettlementInterviewHeld,
)
from schemas.places import PlacesLedger, RecordPlacesDecision, Reservation
from schemas.ports import CaseDossier
from schemas.state import CaseState
from workers.api.access import hidden_member_named
from workers.figures.slices import BREAKDOWNS
from workers.platform.register import append_events, keep_dossier
from workers.projection.apply import apply_batch
from workers.projection.batch import Record
from workers.projection.feed import apply_feed_events
from workers.projection.queues import QUEUES
from workers.projection.read_model import apply_events
from workflows import rules

from .conftest import CASES, PRINCIPALS, FakePlaces, open_api

RECORDED = datetime(2020, 7, 1, 12, tzinfo=UTC)
UNCLEARED = sorted(name for name, p in PRINCIPALS.items() if not p.cleared)
CLEARED = sorted(name for name, p in PRINCIPALS.items() if p.cleared)


def household(
    case_id: str, municipality: str, centre: str, settled_on: date, persons: list[EventPerson]
) -> list[CaseEvent]:
    """A household's path to settlement, with ids and times fixed so two worlds can agree."""
    protected = any(p.protected_identity for p in persons)
    steps: list[tuple[date, EventData]] = [
        (date(2020, 1, 10), ResidencePermitGranted(case_type="reception", persons=persons)),
        (date(2020, 2, 1), SettlementInterviewHeld()),
        (date(2020, 3, 1), MunicipalityAllocated(municipality_number=municipality)),
        (date(2020, 3, 8), AllocationAccepted(municipality_number=municipality)),
        *(
            (
                settled_on,
                PersonSettled(
                    person_id=p.person_id,
                    category="family_with_children",
                    protected_identity=p.protected_identity,
                    household_protected=protected and not p.protected_identity,
                    case_type="reception",
                    permit_date=date(2020, 1, 10),
                    municipality_number=municipality,
                    reception_centre=centre,
                ),
            )
            for p in persons
        ),
    ]
    return [
        CaseEvent(
            event_id=uuid5(NAMESPACE_URL, f"{case_id}/{i}"),
            case_id=case_id,
            sequence=i,
            business_date=day,
            recorded_at=RECORDED,
            data=data,
        )
        for i, (day, data) in enumerate(steps, 1)
    ]


def ledger(number: str, *reservations: tuple[str, int, bool]) -> PlacesLedger:
    return PlacesLedger(
        municipality_number=number,
        year=2020,
        decision=RecordPlacesDecision(
            command_id="c", decided_on=date(2020, 1, 1), requested=12, decided=10
        ),
        reservations={
            f"{case}/a": Reservation(case_id=case, persons=n, used=n, protected_identity=p)
            for case, n, p in reservations
        },
        used=sum(n for _, n, _ in reservations),
    )


def world(protected_in: str) -> tuple[list[CaseEvent], FakePlaces]:
    """Two ordinary households, and a protected one settled in ``protected_in``."""
    centre = {"0301": "centre-a", "4601": "centre-b"}[protected_in]
    events = [
        *household(
            "case-x",
            "0301",
            "centre-a",
            date(2020, 5, 4),
            [EventPerson(person_id=f"case-x-p{i}", protected_identity=False) for i in (0, 1)],
        ),
        *household(
            "case-y",
            "4601",
            "centre-b",
            date(2020, 5, 4),
            [EventPerson(person_id="case-y-p0", protected_identity=False)],
        ),
        *household(
            "case-p",
            protected_in,
            centre,
            date(2020, 6, 15),
            [
                EventPerson(person_id="case-p-p0", protected_identity=False),
                EventPerson(person_id="case-p-p1", protected_identity=True),
            ],
        ),
    ]
    reservations = {
        "0301": [("case-x", 2, False)],
        "4601": [("case-y", 1, False)],
    }
    reservations[protected_in].append(("case-p", 2, True))
    places = FakePlaces({2020: [ledger(n, *r) for n, r in sorted(reservations.items())]})
    return events, places


def requests(who: str) -> list[str]:
    """Every read a caller might difference: each period and breakdown of the figures, as
    of before and after the protected settlement, the places, trend, stock and feeds."""
    periods = ["2020", "2020-Q2", "2020-Q3", "2020-05", "2020-06", "12m:2020-12"]
    urls = [f"/figures?period={p}&by={b}" for p in periods for b in BREAKDOWNS]
    urls += [f"/figures?period=2020&by=municipality&as_of={t}" for t in ("2020-06-30", "2021-01")]
    urls += [
        "/figures/places?year=2020",
        "/figures/places?year=2020&by=county",
        "/figures/places?year=2020&as_of=2020-06-30",
        "/figures/places?year=2020&as_of=2021-01-01&by=county",
        "/figures/trend?year=2020",
        "/figures/waiting?on=2020-06-01",
        "/figures/waiting?on=2020-07-01",
        "/status/projection",
    ]
    urls += [f"/municipalities/{n}/events?after=0" for n in ("0301", "4601")]
    return urls


async def answers(tmp: Path, migrated: Path, protected_in: str, who: list[str]) -> dict:
    events, places = world(protected_in)
    async with open_api(tmp / protected_in, migrated, places) as api:
        records = [
            Record(0, i, k.headers, k.value) for i, k in enumerate(to_kafka(e) for e in events)
        ]
        async with api.context.projection.begin() as session:
            await apply_batch(session, "figures", "t", records, {})
        async with api.context.projection.begin() as session:
            await apply_batch(session, "feed", "t", records, {}, apply_feed_events)
        out = {}
        for name in who:
            for url in requests(name):
                r = await api.client.get(url, headers=api.auth(name))
                body = r.json()
                if url == "/status/projection" and r.status_code == 200:
                    body.pop("last_batch_at")  # when this run's batches ran: no one's place
                out[name, url] = (r.status_code, body)
        return out


async def test_no_uncleared_answer_depends_on_where_a_protected_household_lives(tmp_path, migrated):
    in_oslo = await answers(tmp_path, migrated, "0301", UNCLEARED + CLEARED)
    in_bergen = await answers(tmp_path, migrated, "4601", UNCLEARED + CLEARED)
    differing = sorted(k for k in in_oslo if in_oslo[k] != in_bergen[k])
    assert [k for k in differing if k[0] in UNCLEARED] == []
    # The worlds do differ, and a cleared reader sees it: the test can tell them apart.
    assert {k[0] for k in differing} == set(CLEARED)
    served = [k for k, (code, _) in in_oslo.items() if code == 200]
    assert {url.split("?")[0] for _, url in served} >= {
        "/figures",
        "/figures/places",
        "/figures/trend",
        "/figures/waiting",
        "/municipalities/0301/events",
    }
    # The protected household is counted in the totals all the same.
    total = in_oslo["operations", "/figures?period=2020&by=municipality"][1]
    assert total["groups"][-1]["settled"] == 5


async def test_a_record_that_would_locate_a_protected_person_is_not_found_uncleared(api):
    person = "/persons/case-a-protected-p0/qualification"
    missing = "/persons/case-zz-nobody-p0/qualification"
    for who in ("oslo", "caseworker"):
        headers = api.auth(who, **{"X-Purpose": "follow-up"})
        hidden = await api.client.get(person, headers=headers)
        absent = await api.client.get(missing, headers=headers)
        assert (hidden.status_code, hidden.json()) == (absent.status_code, absent.json())
        assert hidden.status_code == 404
        step = await api.client.post(
            "/persons/case-a-protected-p0/programme-start",
            json={"started_on": "2020-08-01"},
            headers=api.auth(who, **{"Idempotency-Key": "key-00000001"}),
        )
        if who == "oslo":
            assert step.status_code == 404
    cleared = await api.client.get(
        person, headers=api.auth("administrator", **{"X-Purpose": "follow-up"})
    )
    assert cleared.status_code == 200
    assert api.qualification.sent == []


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "settlement-date-correction",
            {"settled_on": "2020-06-02", "reason": "late_information"},
        ),
        ("settlements", None),
    ],
)
async def test_naming_a_hidden_member_is_answered_as_naming_a_stranger(api, path, body):
    """An uncleared caller who guesses a protected member's id learns nothing: the answer is
    the one the case gives for an id that is not a member, word for word."""

    def request(person_id: str) -> dict:
        if body is None:
            return {"settlements": [{"person_id": person_id, "settled_on": "2020-06-01"}]}
        return {**body, "person_id": person_id}

    r = await api.client.post(
        f"/cases/case-a-protected/{path}",
        json=request("case-a-protected-p1"),
        headers=api.auth("oslo", **{"Idempotency-Key": "key-00000002"}),
    )
    assert r.status_code == 422, r.text
    message = r.json()["detail"][0]["msg"]
    assert api.cases.sent == []
    # The case's own rule, for a stranger's id, says exactly the same.
    state: CaseState = CASES["case-a-protected"]

    def stranger_named() -> None:
        if body is None:
            rules.check_settlements(state, ["case-zz-stranger"])
        else:
            rules.check_settlement_correction(state, "case-zz-stranger", date(2020, 6, 2), date.max)

    with pytest.raises(rules.RuleViolation) as stranger:
        stranger_named()
    assert message == str(stranger.value)
    assert "case-a-protected-p1" not in r.text
    # A cleared caller's command goes through to the case.
    r = await api.client.post(
        f"/cases/case-a-protected/{path}",
        json=request("case-a-protected-p1"),
        headers=api.auth("administrator", **{"Idempotency-Key": "key-00000003"}),
    )
    assert r.status_code == 200, r.text
    assert hidden_member_named(PRINCIPALS["administrator"], state, api.cases.sent[0][1]) is None


# -- the case register's routes (work queues, find-by-person, register reads) ---------------

NATIONAL_UNCLEARED = ["caseworker", "operations"]
"""Uncleared readers whose scope is the whole country: a protected household at a centre or in
a municipality is theirs to know of, never where. (Centre staff and municipalities know the
households they house or were allocated: their answers rightly differ, as the case view's.)"""


def waiting_household(protected_in: str) -> list[CaseEvent]:
    """A protected household still waiting: allocated to ``protected_in``, from its centre."""
    centre = {"0301": "centre-a", "4601": "centre-b"}[protected_in]
    persons = [
        EventPerson(person_id="case-w-p0", protected_identity=False),
        EventPerson(person_id="case-w-p1", protected_identity=True),
    ]
    steps: list[tuple[date, EventData]] = [
        (
            date(2020, 1, 10),
            ResidencePermitGranted(
                case_type="reception",
                persons=persons,
                reception_centre=centre,
                target_months=3,
                target_date=date(2020, 4, 10),
            ),
        ),
        (date(2020, 2, 1), SettlementInterviewHeld()),
        (date(2020, 3, 1), MunicipalityAllocated(municipality_number=protected_in)),
    ]
    return [
        CaseEvent(
            event_id=uuid5(NAMESPACE_URL, f"case-w/{i}"),
            case_id="case-w",
            sequence=i,
            business_date=day,
            recorded_at=RECORDED,
            data=data,
        )
        for i, (day, data) in enumerate(steps, 1)
    ]


def register_requests() -> list[str]:
    places = ["centre-a", "centre-b", "0301", "4601"]
    urls = []
    for name, queue in QUEUES.items():
        if queue.place is None:
            urls.append(f"/queues/{name}")
        else:
            urls += [f"/queues/{name}?place={p}" for p in places]
    urls += [f"/persons/case-w-p{i}/case" for i in (0, 1)]
    urls += ["/cases/case-w", "/cases/case-w/timeline", "/cases/case-w/suggestions"]
    return urls


async def register_answers(tmp: Path, migrated: Path, protected_in: str, who: list[str]) -> dict:
    events = waiting_household(protected_in)
    centre = {"0301": "centre-a", "4601": "centre-b"}[protected_in]
    async with open_api(tmp / protected_in, migrated) as api:
        async with api.context.projection.begin() as session:
            await apply_events(session, [(-1, i, e) for i, e in enumerate(events)])
        async with api.context.register.begin() as session:
            await append_events(session, events)
            await keep_dossier(
                session,
                "case-w",
                CaseDossier(
                    through=len(events),
                    persons=[
                        PersonRecord(person_id="case-w-p0", birth_date=date(1980, 1, 1)),
                        PersonRecord(
                            person_id="case-w-p1",
                            birth_date=date(2010, 1, 1),
                            protected_identity=True,
                        ),
                    ],
                    reception_centre=centre,
                    close_family_municipality=protected_in,
                ),
            )
        out = {}
        for name in who:
            for url in register_requests():
                r = await api.client.get(url, headers=api.auth(name, **{"X-Purpose": "review"}))
                out[name, url] = (r.status_code, r.json())
        return out


async def test_no_register_answer_tells_a_national_reader_where_a_protected_household_is(
    tmp_path, migrated
):
    in_oslo = await register_answers(tmp_path, migrated, "0301", [*NATIONAL_UNCLEARED, *CLEARED])
    in_bergen = await register_answers(tmp_path, migrated, "4601", [*NATIONAL_UNCLEARED, *CLEARED])
    differing = sorted(k for k in in_oslo if in_oslo[k] != in_bergen[k])
    assert [k for k in differing if k[0] in NATIONAL_UNCLEARED] == []
    assert {k[0] for k in differing} == set(CLEARED)  # the test can tell the worlds apart
    # And the household is there for them, redacted: listed and read, not merely absent.
    # Narrowed to a place, the uncleared list leaves it out (the cleared one does not).
    assert in_oslo["caseworker", "/queues/inbox?place=0301"][1]["rows"] == []
    assert [
        r["case_id"] for r in in_oslo["administrator", "/queues/inbox?place=0301"][1]["rows"]
    ] == ["case-w"]
    [row] = in_oslo["caseworker", "/queues/targets"][1]["rows"]
    assert (row["case_id"], row["view"], row["municipality_number"]) == ("case-w", "redacted", None)
    read = in_oslo["caseworker", "/cases/case-w"]
    assert read[0] == 200
    assert read[1]["view"] == "redacted"
    assert read[1]["close_family_municipality"] is None
