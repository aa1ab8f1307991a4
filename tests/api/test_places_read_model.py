"""The places of a year from the read model: council decisions are events (PlacesRequested,
PlacesDecided, PlacesRequestAdjusted on the places stream of a municipality and year), so
``GET /figures/places`` answers decided against settled as of any moment, per municipality
and per county."""

from datetime import UTC, date, datetime
from pathlib import Path
from uuid import NAMESPACE_URL, uuid5

from schemas.envelope import to_kafka
from schemas.events import (
    CaseEvent,
    EventData,
    EventPerson,
    PlacesDecided,
    PlacesRequestAdjusted,
    PlacesRequested,
    PlacesTaken,
)
from schemas.places import places_stream_id
from tests.api.conftest import FakePlaces, open_api
from tests.api.test_protected_identity import household
from workers.projection.apply import apply_batch
from workers.projection.batch import Record
from workers.projection.feed import apply_feed_events

DECIDED_AT = datetime(2019, 12, 2, 9, tzinfo=UTC)
REVISED_AT = datetime(2020, 3, 2, 9, tzinfo=UTC)
HELD_AT = datetime(2020, 3, 3, 9, tzinfo=UTC)
USED_AT = datetime(2020, 7, 1, 12, tzinfo=UTC)
# The household settles in Oslo on 2020-05-04, recorded 2020-07-01 12:00 (RECORDED).


def places_events(number: str, *changes: tuple[datetime, EventData]) -> list[CaseEvent]:
    stream = places_stream_id(number, 2020)
    return [
        CaseEvent(
            event_id=uuid5(NAMESPACE_URL, f"{stream}/{i}"),
            case_id=stream,
            sequence=i,
            business_date=at.date(),
            recorded_at=at,
            data=data,
        )
        for i, (at, data) in enumerate(changes, 1)
    ]


def world() -> list[CaseEvent]:
    oslo, bergen = (
        {"municipality_number": "0301", "year": 2020},
        {
            "municipality_number": "4601",
            "year": 2020,
        },
    )
    return [
        *places_events(
            "0301",
            (DECIDED_AT, PlacesRequested(**oslo, requested=12)),
            (DECIDED_AT, PlacesDecided(**oslo, decided=10)),
            (REVISED_AT, PlacesRequestAdjusted(**oslo, adjusted=9)),
            (REVISED_AT, PlacesDecided(**oslo, decided=8)),
            (HELD_AT, PlacesTaken(**oslo, used=0, held=2)),
            (USED_AT, PlacesTaken(**oslo, used=2, held=-2)),
        ),
        *places_events("4601", (DECIDED_AT, PlacesDecided(**bergen, decided=5))),
        *household(
            "case-x",
            "0301",
            "centre-a",
            date(2020, 5, 4),
            [EventPerson(person_id=f"case-x-p{i}", protected_identity=False) for i in (0, 1)],
        ),
    ]


async def test_decided_against_settled_as_of_any_moment(tmp_path: Path, migrated: Path) -> None:
    async with open_api(tmp_path, migrated, FakePlaces()) as api:
        records = [Record(0, i, k.headers, k.value) for i, k in enumerate(map(to_kafka, world()))]
        async with api.context.projection.begin() as session:
            await apply_batch(session, "figures", "t", records, {})

        async def read(**query: str) -> list[dict[str, object]]:
            answer = await api.client.get(
                "/figures/places", params={"year": "2020", **query}, headers=api.auth("operations")
            )
            assert answer.status_code == 200, answer.text
            rows: list[dict[str, object]] = answer.json()
            return rows

        def oslo(rows: list[dict[str, object]]) -> tuple[object, ...]:
            [row] = [r for r in rows if r["municipality_number"] == "0301"]
            keys = ("requested", "adjusted", "decided", "used", "reserved", "left", "settled")
            return tuple(row[k] for k in keys)

        assert await read(as_of="2019-12-01") == []  # nothing decided yet
        assert oslo(await read(as_of="2020-01-15")) == (12, None, 10, 0, 0, 10, 0)
        assert oslo(await read(as_of="2020-03-02")) == (12, 9, 8, 0, 0, 8, 0)
        assert oslo(await read(as_of="2020-06-30")) == (12, 9, 8, 0, 2, 6, 0)
        assert oslo(await read(as_of="2020-07-02")) == (12, 9, 8, 2, 0, 6, 2)
        counties = await read(by="county")
        assert [(r["county"], r["decided"], r["used"], r["settled"]) for r in counties] == [
            ("Oslo", 8, 2, 2),
            ("Vestland", 5, 0, 0),
        ]
        refused = await api.client.get(
            "/figures/places",
            params={"year": "2020", "by": "street"},
            headers=api.auth("operations"),
        )
        assert refused.status_code == 422
        assert "by" in refused.text
        assert "street" not in refused.text  # the value is not echoed


async def test_a_municipality_finds_its_own_places_events_in_its_feed(
    tmp_path: Path, migrated: Path
) -> None:
    async with open_api(tmp_path, migrated, FakePlaces()) as api:
        records = [Record(0, i, k.headers, k.value) for i, k in enumerate(map(to_kafka, world()))]
        async with api.context.projection.begin() as session:
            await apply_batch(session, "feed", "t", records, {}, apply_feed_events)
        answer = await api.client.get(
            "/municipalities/0301/events", params={"after": "0"}, headers=api.auth("oslo")
        )
        assert answer.status_code == 200, answer.text
        places = [e for e in answer.json()["events"] if e["streamkind"] == "places"]
        assert [e["type"].split(".")[-2] for e in places] == [
            "PlacesRequested",
            "PlacesDecided",
            "PlacesRequestAdjusted",
            "PlacesDecided",
            "PlacesTaken",
            "PlacesTaken",
        ]
        assert places[3]["data"]["decided"] == 8
        bergen = await api.client.get(
            "/municipalities/4601/events", params={"after": "0"}, headers=api.auth("bergen")
        )
        assert [e["data"]["decided"] for e in bergen.json()["events"]] == [5]
