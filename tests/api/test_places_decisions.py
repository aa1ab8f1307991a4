"""A council's decision on places over the API: a municipality records its own, the
directorate any; the answer is the year's places."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.api.conftest import Api, FakePlaces, open_api

DECISION = {"decided_on": "2026-01-20", "requested": 20, "decided": 15}


@pytest.fixture
async def places(tmp_path: Path, migrated: Path) -> AsyncIterator[tuple[Api, FakePlaces]]:
    fake = FakePlaces()
    async with open_api(tmp_path, migrated, fake) as api:
        yield api, fake


def keyed(api: Api, who: str, key: str | None = None) -> dict[str, str]:
    return api.auth(who, **{"Idempotency-Key": key or str(uuid.uuid4())})


async def test_a_municipality_records_its_own_councils_decision(places) -> None:
    api, fake = places
    answer = await api.client.post(
        "/municipalities/0301/places/2026", json=DECISION, headers=keyed(api, "oslo")
    )
    assert answer.status_code == 200, answer.text
    assert (answer.json()["decided"], answer.json()["left"]) == (15, 15)
    assert [(n, y, d.decided) for n, y, d in fake.decided] == [("0301", 2026, 15)]


async def test_only_its_own_and_only_deciders(places) -> None:
    api, fake = places
    theirs = await api.client.post(
        "/municipalities/4601/places/2026", json=DECISION, headers=keyed(api, "oslo")
    )
    assert theirs.status_code == 403
    reception = await api.client.post(
        "/municipalities/0301/places/2026", json=DECISION, headers=keyed(api, "reception-a")
    )
    assert reception.status_code == 403
    assert fake.decided == []
    adjusted = {**DECISION, "adjusted": 18}
    directorate = await api.client.post(
        "/municipalities/4601/places/2026", json=adjusted, headers=keyed(api, "caseworker")
    )
    assert directorate.status_code == 200
    assert directorate.json()["adjusted"] == 18


async def test_a_bad_decision_names_its_field_and_changes_nothing(places) -> None:
    api, fake = places
    answer = await api.client.post(
        "/municipalities/0301/places/2026",
        json={**DECISION, "decided": -1},
        headers=keyed(api, "oslo"),
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "decided"]
    assert "-1" not in answer.text
    key = str(uuid.uuid4())
    first = await api.client.post(
        "/municipalities/0301/places/2026", json=DECISION, headers=keyed(api, "oslo", key)
    )
    assert first.status_code == 200
    other = await api.client.post(
        "/municipalities/0301/places/2026",
        json={**DECISION, "decided": 3},
        headers=keyed(api, "oslo", key),
    )
    assert other.status_code == 422  # the key was used for another decision
    assert [d.decided for _, _, d in fake.decided] == [15]


async def test_the_request_and_its_adjustment_are_the_directorates(places) -> None:
    api, fake = places
    adjusting = await api.client.post(
        "/municipalities/0301/places/2026",
        json={**DECISION, "adjusted": 12},
        headers=keyed(api, "oslo"),
    )
    assert adjusting.status_code == 403
    assert "adjusted" in adjusting.text
    assert fake.decided == []
    first = await api.client.post(
        "/municipalities/0301/places/2026", json=DECISION, headers=keyed(api, "oslo")
    )
    assert first.status_code == 200
    adjusted = await api.client.post(
        "/municipalities/0301/places/2026",
        json={**DECISION, "adjusted": 12},
        headers=keyed(api, "caseworker"),
    )
    assert adjusted.status_code == 200
    # The council revises its decision: the request as it stands, the adjustment kept.
    revised = await api.client.post(
        "/municipalities/0301/places/2026",
        json={**DECISION, "decided": 12},
        headers=keyed(api, "oslo"),
    )
    assert revised.status_code == 200, revised.text
    assert revised.json()["adjusted"] == 12
    lowered = await api.client.post(
        "/municipalities/0301/places/2026",
        json={**DECISION, "requested": 5, "adjusted": 12, "decided": 12},
        headers=keyed(api, "oslo"),
    )
    assert lowered.status_code == 403
    assert "requested" in lowered.text
    assert [d.decided for _, _, d in fake.decided] == [15, 15, 12]
