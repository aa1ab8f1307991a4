"""Work queues and find-by-person over HTTP, from the case register built by the projection's
own code (events applied as the projection applies them)."""

import asyncio
import itertools
import json
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from schemas.events import (
    AllocationAccepted,
    CaseEvent,
    EventPerson,
    MunicipalityAllocated,
    PersonSettled,
    ResidencePermitGranted,
    RightsAssessed,
    SettlementInterviewHeld,
)
from schemas.places import PlacesLedger, RecordPlacesDecision
from schemas.qualification import NorwegianRight, ProgrammeRight
from tests.api.conftest import PRINCIPALS, FakePlaces, open_api
from workers.cli.main import app
from workers.platform.register import AuditRecord
from workers.projection.queues import QUEUES
from workers.projection.read_model import apply_events

TODAY = datetime.now(UTC).date()
PURPOSE = {"X-Purpose": "daily casework"}


def stream(case_id: str, *steps: tuple[date, object]) -> list[CaseEvent]:
    return [
        CaseEvent(
            event_id=uuid4(),
            case_id=case_id,
            sequence=i,
            business_date=day,
            recorded_at=datetime.now(UTC),
            data=data,
        )
        for i, (day, data) in enumerate(steps, start=1)
    ]


def granted(case_id: str, centre: str, *, protected: bool = False, permit: date) -> tuple:
    persons = [
        EventPerson(person_id=f"{case_id}-p0", protected_identity=False),
        EventPerson(person_id=f"{case_id}-p1", protected_identity=protected),
    ]
    return (
        permit,
        ResidencePermitGranted(
            case_type="reception",
            persons=persons,
            reception_centre=centre,
            target_months=6,
            target_date=permit + timedelta(days=182),
        ),
    )


def scenario() -> list[CaseEvent]:
    long_ago = TODAY - timedelta(days=200)
    recently = TODAY - timedelta(days=40)
    return [
        # Ready at centre-a since long ago: past its target.
        *stream(
            "case-ready-old",
            granted("case-ready-old", "centre-a", permit=long_ago),
            (long_ago + timedelta(days=10), SettlementInterviewHeld()),
        ),
        # Ready at centre-a more recently.
        *stream(
            "case-ready-new",
            granted("case-ready-new", "centre-a", permit=recently),
            (recently + timedelta(days=5), SettlementInterviewHeld()),
        ),
        # A protected household, ready at centre-b.
        *stream(
            "case-protected",
            granted("case-protected", "centre-b", protected=True, permit=recently),
            (recently + timedelta(days=2), SettlementInterviewHeld()),
        ),
        # Allocated to Oslo, unanswered past its reply date.
        *stream(
            "case-allocated",
            granted("case-allocated", "centre-b", permit=recently),
            (recently + timedelta(days=3), SettlementInterviewHeld()),
            (
                TODAY - timedelta(days=10),
                MunicipalityAllocated(
                    municipality_number="0301", reply_due_on=TODAY - timedelta(days=3)
                ),
            ),
        ),
        # Accepted by Oslo, one member settled and with a qualification record due soon.
        *stream(
            "case-accepted",
            granted("case-accepted", "centre-a", permit=recently),
            (recently + timedelta(days=1), SettlementInterviewHeld()),
            (recently + timedelta(days=2), MunicipalityAllocated(municipality_number="0301")),
            (recently + timedelta(days=3), AllocationAccepted(municipality_number="0301")),
            (
                TODAY - timedelta(days=60),
                PersonSettled(
                    person_id="case-accepted-p0",
                    category="family_with_children",
                    protected_identity=False,
                    case_type="reception",
                    permit_date=recently,
                    municipality_number="0301",
                    reception_centre="centre-a",
                ),
            ),
        ),
        *stream(
            "case-accepted-p0",
            (
                TODAY - timedelta(days=60),
                RightsAssessed(
                    case_id="case-accepted",
                    municipality_number="0301",
                    case_type="reception",
                    rules="introduction-act-2021",
                    programme_right=ProgrammeRight.RIGHT_AND_OBLIGATION,
                    norwegian_right=NorwegianRight.RIGHT_AND_OBLIGATION,
                    programme_start_due=TODAY + timedelta(days=20),
                    norwegian_start_due=TODAY + timedelta(days=20),
                    norwegian_completion_due=TODAY + timedelta(days=500),
                    rights_start=TODAY - timedelta(days=60),
                ),
            ),
        ),
    ]


@pytest.fixture
async def queues(api):
    async with api.context.projection.begin() as session:
        await apply_events(session, [(-1, i, e) for i, e in enumerate(scenario())])
    return api


async def get(api, who: str, path: str, **params):
    return await api.client.get(path, params=params, headers=api.auth(who, **PURPOSE))


async def test_a_reception_centre_sees_its_own_open_households_nearest_target_first(queues):
    r = await get(queues, "reception-a", "/queues/reception")
    assert r.status_code == 200, r.text
    assert [row["case_id"] for row in r.json()["rows"]] == [
        "case-ready-old",
        "case-accepted",
        "case-ready-new",
    ]
    old = r.json()["rows"][0]
    assert (old["deadline_state"], old["stage"]) == ("breached", "settlement_ready")
    other = await get(queues, "reception-a", "/queues/reception", place="centre-b")
    assert other.status_code == 403


async def test_the_allocation_queue_puts_the_longest_wait_first_and_pages_stably(queues):
    first = await get(queues, "caseworker", "/queues/allocation", limit=1)
    assert first.status_code == 200, first.text
    seen = [row["case_id"] for row in first.json()["rows"]]
    cursor = first.json()["next_cursor"]
    while cursor:
        page = await get(queues, "caseworker", "/queues/allocation", limit=1, cursor=cursor)
        seen += [row["case_id"] for row in page.json()["rows"]]
        cursor = page.json()["next_cursor"]
    assert seen == ["case-ready-old", "case-protected", "case-ready-new"]
    by_target = await get(queues, "caseworker", "/queues/allocation", sort="target")
    assert by_target.json()["rows"][0]["case_id"] == "case-ready-old"


async def test_a_protected_household_shows_no_place_and_is_left_out_when_narrowed_to_one(queues):
    rows = (await get(queues, "caseworker", "/queues/allocation")).json()["rows"]
    protected = next(r for r in rows if r["case_id"] == "case-protected")
    assert protected["view"] == "redacted"
    assert (protected["reception_centre"], protected["municipality_number"]) == (None, None)
    cleared = (await get(queues, "caseworker-cleared", "/queues/allocation")).json()["rows"]
    assert next(r for r in cleared if r["case_id"] == "case-protected")["reception_centre"] == (
        "centre-b"
    )
    narrowed = await get(queues, "caseworker", "/queues/reception", place="centre-b")
    assert "case-protected" not in narrowed.text  # the place would tell where it lives
    cleared_narrowed = await get(
        queues, "caseworker-cleared", "/queues/reception", place="centre-b"
    )
    assert "case-protected" in cleared_narrowed.text


async def test_a_municipality_sees_its_inbox_as_profiles_and_its_accepted_households(queues):
    inbox = await get(queues, "oslo", "/queues/inbox")
    assert inbox.status_code == 200, inbox.text
    [row] = inbox.json()["rows"]
    assert (row["case_id"], row["view"]) == ("case-allocated", "profile")
    assert row["reception_centre"] is None
    assert row["permit_date"] is None
    accepted = (await get(queues, "oslo", "/queues/accepted")).json()["rows"]
    assert [r["case_id"] for r in accepted] == ["case-accepted"]
    assert (await get(queues, "bergen", "/queues/inbox")).json()["rows"] == []


async def test_overdue_replies_and_qualification_deadlines(queues):
    overdue = (await get(queues, "caseworker", "/queues/reply-overdue")).json()["rows"]
    assert [r["case_id"] for r in overdue] == ["case-allocated"]
    deadlines = (await get(queues, "oslo", "/queues/qualification")).json()["rows"]
    assert [(r["person_id"], r["overdue"]) for r in deadlines] == [("case-accepted-p0", False)]
    assert deadlines[0]["next_due_on"] == (TODAY + timedelta(days=20)).isoformat()


async def test_operations_see_breached_cases_without_places(queues):
    r = await get(queues, "operations", "/queues/breached")
    assert r.status_code == 200, r.text
    [row] = r.json()["rows"]
    assert (row["case_id"], row["view"], row["reception_centre"]) == (
        "case-ready-old",
        "operations",
        None,
    )
    assert (await get(queues, "operations", "/queues/allocation")).status_code == 403


async def test_every_listing_is_audited_naming_what_it_returned(queues):
    await get(queues, "caseworker", "/queues/reply-overdue")
    async with queues.context.register() as session:
        rows = (await session.scalars(select(AuditRecord))).all()
    [row] = [r for r in rows if r.action == "queue.reply-overdue"]
    assert row.returned.split() == ["case/case-allocated"]
    trail = await queues.client.get(
        "/audit",
        params={"resource": "case/case-allocated"},
        headers=queues.auth("administrator", **PURPOSE),
    )
    assert any(e["action"] == "queue.reply-overdue" for e in trail.json())


async def test_bad_queue_sort_place_and_cursor_are_named_not_echoed(queues):
    assert (await get(queues, "caseworker", "/queues/nonsense")).status_code == 422
    r = await get(queues, "caseworker", "/queues/allocation", sort="secret-sort")
    assert r.status_code == 422
    assert "secret-sort" not in r.text
    assert "sort" in r.text
    r = await get(queues, "caseworker", "/queues/allocation", place="centre-a")
    assert r.status_code == 422
    assert "place" in r.text
    r = await get(queues, "caseworker", "/queues/reception")
    assert r.status_code == 422
    assert "place" in r.text
    r = await get(queues, "caseworker", "/queues/allocation", cursor="not-a-cursor")
    assert r.status_code == 422
    assert "not-a-cursor" not in r.text


async def test_find_by_person_in_scope_audited_and_protected_for_cleared_only(queues):
    found = await get(queues, "reception-a", "/persons/case-ready-new-p1/case")
    assert found.status_code == 200, found.text
    assert found.json()["case_id"] == "case-ready-new"
    assert (await get(queues, "reception-b", "/persons/case-ready-new-p1/case")).status_code == 404
    assert (await get(queues, "caseworker", "/persons/case-protected-p0/case")).status_code == 404
    cleared = await get(queues, "caseworker-cleared", "/persons/case-protected-p0/case")
    assert cleared.json()["case_id"] == "case-protected"
    assert (await get(queues, "caseworker", "/persons/nobody-at-all/case")).status_code == 404
    assert (await get(queues, "operations", "/persons/case-ready-new-p1/case")).status_code == 403


# Who may read which queue, written out by hand: a change to access.QUEUE_READERS must be
# made here too, on purpose. (Place-scoped queues get a place from caseworkers and admins.)
MAY_READ = {
    "reception-a": {"reception"},
    "reception-b": {"reception"},
    "caseworker": set(QUEUES),
    "caseworker-cleared": set(QUEUES),
    "oslo": {"inbox", "accepted", "qualification"},
    "bergen": {"inbox", "accepted", "qualification"},
    "operations": {"breached", "stuck"},
    "administrator": set(QUEUES),
}


@pytest.mark.parametrize(("who", "queue"), list(itertools.product(PRINCIPALS, QUEUES)))
async def test_the_role_matrix_of_the_queues(api, who, queue):
    scoped = PRINCIPALS[who].role.value in ("reception", "municipality")
    params = {"place": "0301"} if QUEUES[queue].place and not scoped else {}
    r = await get(api, who, f"/queues/{queue}", **params)
    assert r.status_code == (200 if queue in MAY_READ[who] else 403), r.text


@pytest.mark.parametrize(
    ("command", "path"),
    [
        (["cases", "list", "allocation"], "/queues/allocation"),
        (["cases", "list", "inbox", "--place", "0301"], "/queues/inbox?place=0301"),
        (["cases", "list", "qualification", "--place", "0301"], "/queues/qualification?place=0301"),
    ],
)
async def test_the_cli_lists_a_queue_as_the_api_serves_it_and_audits_it(
    queues, tmp_path, command, path
):
    database = f"sqlite+aiosqlite:///{tmp_path / 'api.db'}"
    env = {
        "BOSETTING_PROJECTION_DATABASE_URL": database,
        "BOSETTING_REGISTER_DATABASE_URL": database,
        "USER": "operator-kari",
    }

    def run() -> Result:
        return CliRunner().invoke(app, [*command, "--json", "--purpose", "weekly review"], env=env)

    result = await asyncio.to_thread(run)
    assert result.exit_code == 0, result.output
    answer = await queues.client.get(path, headers=queues.auth("administrator", **PURPOSE))
    assert json.loads(result.output) == answer.json()
    async with queues.context.register() as session:
        rows = (await session.scalars(select(AuditRecord))).all()
    assert [r.subject for r in rows if r.purpose == "weekly review"] == ["cli:operator-kari"]


async def test_the_cli_refuses_a_queue_without_its_place_naming_the_option(queues, tmp_path):
    result = CliRunner().invoke(app, ["cases", "list", "inbox", "--purpose", "review"])
    assert result.exit_code == 2
    assert "--place" in result.output


async def test_the_stuck_queue_pages_by_the_moment_of_the_last_step(queues):
    queues.context.stuck_after = timedelta(days=-1)  # every open case counts as stuck now
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await get(queues, "operations", "/queues/stuck", **params)).json()
        seen += [row["case_id"] for row in page["rows"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(set(seen))  # no row twice
    assert set(seen) == {
        "case-ready-old",
        "case-ready-new",
        "case-protected",
        "case-allocated",
        "case-accepted",
    }


async def test_allocation_suggestions_are_one_call_from_the_queue(tmp_path, migrated):
    year = TODAY.year
    places = FakePlaces(
        by_year={
            year: [
                PlacesLedger(
                    municipality_number=number,
                    year=year,
                    decision=RecordPlacesDecision(
                        command_id="d", decided_on=date(year, 1, 1), requested=10, decided=10
                    ),
                )
                for number in ("0301", "4601")
            ]
        }
    )
    async with open_api(tmp_path, migrated, places) as api:
        r = await get(api, "caseworker", "/cases/case-a-ready/suggestions")
        assert r.status_code == 200, r.text
        assert {s["municipality_number"] for s in r.json()} == {"0301", "4601"}
        assert all(s["places_left"] == 10 for s in r.json())
        assert (await get(api, "reception-a", "/cases/case-a-ready/suggestions")).status_code == 403
        protected = await get(api, "caseworker", "/cases/case-a-protected/suggestions")
        assert protected.status_code == 403  # reasons may name where close family lives
        cleared = await get(api, "caseworker-cleared", "/cases/case-a-protected/suggestions")
        assert cleared.status_code == 200
        async with api.context.register() as session:
            rows = (await session.scalars(select(AuditRecord))).all()
        assert ("case.suggestions", "case/case-a-ready") in [(r.action, r.resource) for r in rows]
