"""The CLI's ``--json`` and the API serve one document per report, parsed one way: the same
question asked of both, over the same read model, gets the same answer — including an
``as_of`` given as a date alone, which means the end of that day, UTC, in both."""

import asyncio
import json
from datetime import UTC, date, datetime
from uuid import uuid4

import pytest
from typer.testing import CliRunner

from schemas.envelope import to_kafka
from schemas.events import (
    CaseEvent,
    EventPerson,
    PersonSettled,
    ResidencePermitGranted,
    SettlementDateCorrected,
    SettlementInterviewHeld,
)
from workers.cli.main import app
from workers.projection.apply import apply_batch
from workers.projection.batch import Record

TOPIC = "bosetting.case-events.v1"


def _event(sequence: int, data, business: date, recorded: datetime) -> CaseEvent:
    return CaseEvent(
        event_id=uuid4(),
        case_id="case-agree",
        sequence=sequence,
        business_date=business,
        recorded_at=recorded,
        data=data,
    )


def _history() -> list[CaseEvent]:
    """Two persons settled in 2020, recorded on 15 January 2021 (late registration); one of
    them corrected into 2021 on 16 January."""
    persons = [EventPerson(person_id=f"case-agree-p{i}", protected_identity=False) for i in (0, 1)]
    permit, on_15th = datetime(2020, 1, 10, 9, tzinfo=UTC), datetime(2021, 1, 15, 14, tzinfo=UTC)
    settled = [
        _event(
            3 + i,
            PersonSettled(
                person_id=p.person_id,
                category="other_adult",
                protected_identity=False,
                case_type="reception",
                permit_date=date(2020, 1, 10),
                municipality_number="0301",
            ),
            date(2020, 5, 1),
            on_15th,
        )
        for i, p in enumerate(persons)
    ]
    return [
        _event(
            1, ResidencePermitGranted(case_type="reception", persons=persons), permit.date(), permit
        ),
        _event(2, SettlementInterviewHeld(), date(2020, 2, 1), permit),
        *settled,
        _event(
            5,
            SettlementDateCorrected(
                person_id="case-agree-p1", previous_date=date(2020, 5, 1), reason="late_information"
            ),
            date(2021, 1, 4),
            datetime(2021, 1, 16, 8, tzinfo=UTC),
        ),
    ]


def _cli(database: str, *args: str) -> dict:
    result = CliRunner().invoke(
        app, [*args, "--json"], env={"BOSETTING_PROJECTION_DATABASE_URL": database}
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


QUESTIONS = [
    (
        ["metrics", "--period", "2020", "--as-of", "2021-01-15"],
        "/figures?period=2020&as_of=2021-01-15",
    ),
    (
        ["metrics", "--period", "2020", "--as-of", "2021-01-14"],
        "/figures?period=2020&as_of=2021-01-14",
    ),
    (
        ["metrics", "--period", "2020-Q2", "--by", "municipality"],
        "/figures?period=2020-Q2&by=municipality",
    ),
    (
        ["metrics", "--period", "2020", "--as-of", "2021-01-15T15:00:00+01:00"],
        "/figures?period=2020&as_of=2021-01-15T15:00:00%2B01:00",
    ),
    (["waiting", "--on", "2020-03-01"], "/figures/waiting?on=2020-03-01"),
    (
        ["waiting", "--on", "2020-03-01", "--as-of", "2021-01-15"],
        "/figures/waiting?on=2020-03-01&as_of=2021-01-15",
    ),
]


@pytest.fixture
async def figures_api(api):
    records = []
    for offset, event in enumerate(_history()):
        k = to_kafka(event)
        records.append(Record(0, offset, k.headers, k.value))
    async with api.context.projection.begin() as session:
        await apply_batch(session, "test-projection", TOPIC, records, {})
    return api


@pytest.mark.parametrize(("command", "path"), QUESTIONS)
async def test_the_cli_and_the_api_give_the_same_document(figures_api, tmp_path, command, path):
    database = f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"
    # The CLI runs its own event loop: off this one, over the very database the API reads.
    from_cli = await asyncio.to_thread(_cli, database, *command)
    answer = await figures_api.client.get(path, headers=figures_api.auth("caseworker"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == from_cli


async def test_a_date_alone_means_the_end_of_that_day(figures_api):
    """Recorded at 14:00 on the 15th: known "as of" the 15th, not as of the 14th."""
    reader = figures_api.auth("caseworker")
    known = (
        await figures_api.client.get("/figures?period=2020&as_of=2021-01-15", headers=reader)
    ).json()
    before = (
        await figures_api.client.get("/figures?period=2020&as_of=2021-01-14", headers=reader)
    ).json()
    now = (await figures_api.client.get("/figures?period=2020", headers=reader)).json()
    total = {d["as_of"] and d["as_of"][:10]: d["groups"][-1]["settled"] for d in (known, before)}
    assert total == {"2021-01-15": 2, "2021-01-14": 0}
    assert known["as_of"] == "2021-01-15T23:59:59.999999+00:00"
    assert now["groups"][-1]["settled"] == 1  # the correction of the 16th moved one into 2021


@pytest.mark.parametrize("bad", ["15.01.2021", "2021-02-30", "1610668800", "2021-01-15Tnoon"])
async def test_a_moment_that_breaks_the_rule_is_named_not_echoed(figures_api, tmp_path, bad):
    answer = await figures_api.client.get(
        f"/figures?period=2020&as_of={bad}", headers=figures_api.auth("caseworker")
    )
    assert answer.status_code == 422
    assert "as_of" in answer.text
    assert bad not in answer.text
    database = f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"
    result = await asyncio.to_thread(
        CliRunner().invoke,
        app,
        ["metrics", "--period", "2020", "--as-of", bad],
        env={"BOSETTING_PROJECTION_DATABASE_URL": database},
    )
    assert result.exit_code == 2
    assert "--as-of" in result.output
    assert bad not in result.output


@pytest.mark.parametrize(
    "options",
    [["--by", "bydel-secret"], ["--definitions", "bydel-secret"], ["--compare", "bydel-secret"]],
)
def test_a_cli_choice_that_breaks_the_rule_is_named_not_echoed(options):
    result = CliRunner().invoke(app, ["metrics", "--period", "2020", *options])
    assert result.exit_code == 2
    assert options[0] in result.output
    assert "must be one of" in result.output
    assert "bydel-secret" not in result.output
