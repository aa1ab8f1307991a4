"""Every role against every endpoint, and every attempt to reach across a scope."""

import itertools
from uuid import uuid4

import pytest

from workers.platform.register import AuditRecord
from workflows.steps import CASE_STEPS, PERSON_STEPS, Step

from .conftest import CASES, PRINCIPALS

BODIES = {
    "settlement-application": {"applied_on": "2020-04-01"},
    "competence-mapping": {"mapped_on": "2020-04-01"},
    "settlement-interview": {"held_on": "2020-04-01"},
    "recommendation": {
        "municipality_number": "0301",
        "recommended_on": "2020-04-01",
        "reason": "competence",
    },
    "household-members": {
        "person": {"person_id": "case-new-p9", "birth_date": "2019-01-01"},
        "permit_date": "2020-04-01",
        "reason": "late_permit",
    },
    "allocation": {"municipality_number": "0301", "allocated_on": "2020-04-01"},
    "acceptance": {"accepted_on": "2020-05-10"},
    "decline": {"declined_on": "2020-05-10", "reason": "no_capacity"},
    "withdrawal": {"withdrawn_on": "2020-05-10", "reason": "better_match"},
    "settlement-plan": {"planned_on": "2020-06-01", "registered_on": "2020-05-11"},
    "travel": {"booked_on": "2020-05-01", "arrival_on": "2020-06-01"},
    "arrival": {"arrived_on": "2020-06-01"},
    "entry-permit-extension": {"decided_on": "2020-06-01", "valid_until": "2020-12-01"},
    "settlements": {
        "settlements": [{"person_id": "case-a-accepted-p0", "settled_on": "2020-06-01"}]
    },
    "exit": {"exited_on": "2020-06-01", "reason": "permit_revoked"},
    "permit-date-correction": {"permit_date": "2020-03-01", "reason": "registration_error"},
    "settlement-date-correction": {
        "person_id": "case-a-accepted-p0",
        "settled_on": "2020-06-02",
        "reason": "late_information",
    },
    "step-date-correction": {
        "step": "settlement_interview",
        "on": "2020-04-02",
        "reason": "registration_error",
    },
    "mapping": {"mapped_on": "2020-07-01"},
    "programme-decision": {"decided_on": "2020-07-01", "end_goal": "work", "planned_months": 24},
    "programme-start": {"started_on": "2020-08-01"},
    "leave": {"from_on": "2020-09-01", "until_on": "2020-09-20"},
    "programme-end": {"ended_on": "2021-08-01", "reason": "goal_reached", "main_activity": "work"},
    "norwegian-start": {"started_on": "2020-08-01"},
    "norwegian-completion": {"completed_on": "2021-08-01"},
    "norwegian-exemption": {"exempted_on": "2020-08-01"},
}
# The case (or person) each caller can reach, and one they cannot.
HOME = {
    "reception-a": "case-a-accepted",
    "reception-b": "case-b-accepted",
    "caseworker": "case-a-accepted",
    "caseworker-cleared": "case-a-accepted",
    "oslo": "case-a-accepted",
    "bergen": "case-b-accepted",
    "operations": "case-a-accepted",
    "administrator": "case-b-accepted",
}
AWAY = {"reception-a": "case-b-accepted", "reception-b": "case-a-accepted"} | {
    "oslo": "case-b-accepted",
    "bergen": "case-a-accepted",
}


def key() -> str:
    return str(uuid4())


def test_every_step_has_a_sample_body():
    assert {s.path for s in (*CASE_STEPS, *PERSON_STEPS)} == set(BODIES)


@pytest.mark.parametrize(
    ("who", "step"),
    list(itertools.product(PRINCIPALS, CASE_STEPS)),
    ids=lambda v: v.path if isinstance(v, Step) else v,
)
async def test_case_steps_by_role(api, who, step):
    home = HOME[who]
    r = await api.client.post(
        f"/cases/{home}/{step.path}",
        json=BODIES[step.path],
        headers=api.auth(who, **{"Idempotency-Key": key()}),
    )
    if PRINCIPALS[who].role not in step.roles:
        assert r.status_code == 403, r.text
        assert PRINCIPALS[who].role.value in r.json()["detail"]
        assert api.cases.sent == []
        return
    assert r.status_code == 200, r.text
    assert r.json()["case_id"] == home
    [(case_id, cmd)] = api.cases.sent
    assert (case_id, type(cmd)) == (home, step.command)
    if who in AWAY:  # the same step on a household outside the caller's scope
        away = await api.client.post(
            f"/cases/{AWAY[who]}/{step.path}",
            json=BODIES[step.path],
            headers=api.auth(who, **{"Idempotency-Key": key()}),
        )
        assert away.status_code == 404, away.text
        unknown = await api.client.post(
            f"/cases/case-nobody/{step.path}",
            json=BODIES[step.path],
            headers=api.auth(who, **{"Idempotency-Key": key()}),
        )
        assert (unknown.status_code, unknown.json()) == (404, away.json())
        assert len(api.cases.sent) == 1


@pytest.mark.parametrize(
    ("who", "step"),
    list(itertools.product(PRINCIPALS, PERSON_STEPS)),
    ids=lambda v: v.path if isinstance(v, Step) else v,
)
async def test_qualification_steps_by_role(api, who, step):
    person = "case-b-accepted-p0" if who == "bergen" else "case-a-accepted-p0"
    r = await api.client.post(
        f"/persons/{person}/{step.path}",
        json=BODIES[step.path],
        headers=api.auth(who, **{"Idempotency-Key": key()}),
    )
    if PRINCIPALS[who].role not in step.roles:
        assert r.status_code == 403, r.text
        return
    assert r.status_code == 200, r.text
    assert [p for p, _ in api.qualification.sent] == [person]
    if who in ("oslo", "bergen"):
        other = "case-a-accepted-p0" if who == "bergen" else "case-b-accepted-p0"
        away = await api.client.post(
            f"/persons/{other}/{step.path}",
            json=BODIES[step.path],
            headers=api.auth(who, **{"Idempotency-Key": key()}),
        )
        assert away.status_code == 404
        assert len(api.qualification.sent) == 1


@pytest.mark.parametrize("who", list(PRINCIPALS))
async def test_opening_a_case(api, who):
    body = {
        "case_id": "case-new",
        "case_type": "reception",
        "permit_date": "2020-03-02",
        "persons": [{"person_id": "case-new-p0", "birth_date": "1990-01-01"}],
        "reception_centre": "centre-a",
    }
    r = await api.client.post(
        "/cases", json=body, headers=api.auth(who, **{"Idempotency-Key": "permit-case-new"})
    )
    if who in ("caseworker", "caseworker-cleared", "administrator"):
        assert r.status_code == 201, r.text
        [cmd] = api.cases.opened
        assert cmd.case_id == "case-new"
        assert "permit-case-new" not in cmd.command_id  # hashed: a key never reaches Temporal
        assert cmd.command_id.startswith("api:")
    else:
        assert r.status_code == 403
        assert api.cases.opened == []


READS = ["/cases/{case}", "/cases/{case}/timeline"]


@pytest.mark.parametrize(("who", "path"), list(itertools.product(PRINCIPALS, READS)))
async def test_reading_a_case_by_role(api, who, path):
    home = HOME[who]
    r = await api.client.get(
        path.format(case=home), headers=api.auth(who, **{"X-Purpose": "follow-up"})
    )
    if who == "operations":
        assert r.status_code == 403
        return
    assert r.status_code == 200, r.text
    if who in AWAY:
        away = await api.client.get(
            path.format(case=AWAY[who]), headers=api.auth(who, **{"X-Purpose": "curious"})
        )
        assert away.status_code == 404
    async with api.context.register() as session:
        from sqlalchemy import select

        audit = (await session.scalars(select(AuditRecord).order_by(AuditRecord.id))).all()
    first = audit[0]
    assert (first.subject, first.resource, first.purpose, first.outcome) == (
        PRINCIPALS[who].subject,
        f"case/{home}",
        "follow-up",
        "granted",
    )
    if who in AWAY:
        assert (audit[1].resource, audit[1].outcome) == (f"case/{AWAY[who]}", "refused")


async def test_a_municipality_sees_only_the_profile_until_it_accepts(api):
    r = await api.client.get(
        "/cases/case-a-offered", headers=api.auth("oslo", **{"X-Purpose": "decide on offer"})
    )
    assert r.status_code == 200
    profile = r.json()
    assert profile["view"] == "profile"
    assert profile["household_size"] == 2
    assert profile["ages"] == [35, 7]  # on the allocation day, 2020-05-01
    assert "persons" not in profile
    assert "case-a-offered-p0" not in r.text
    assert "centre-a" not in r.text
    timeline = await api.client.get(
        "/cases/case-a-offered/timeline", headers=api.auth("oslo", **{"X-Purpose": "x-check"})
    )
    assert timeline.status_code == 403
    accepted = await api.client.get(
        "/cases/case-a-accepted", headers=api.auth("oslo", **{"X-Purpose": "plan settlement"})
    )
    assert accepted.json()["view"] == "full"
    assert "case-a-accepted-p0" in accepted.text


@pytest.mark.parametrize(
    ("who", "sees"),
    [("caseworker", False), ("oslo", False), ("caseworker-cleared", True), ("administrator", True)],
)
async def test_protected_identity_only_for_cleared_readers(api, who, sees):
    r = await api.client.get(
        "/cases/case-a-protected", headers=api.auth(who, **{"X-Purpose": "review"})
    )
    assert r.status_code == 200
    body = r.json()
    assert body["household_size"] == 2
    assert ("case-a-protected-p1" in r.text) is sees
    assert ("0301" in r.text) is sees
    assert ("centre-a" in r.text) is sees
    assert body["view"] == ("full" if sees else "redacted")
    assert [p["protected_identity"] for p in body["persons"]] == [False, True]


async def test_without_a_valid_token_nothing_is_answered(api):
    r = await api.client.get("/cases/case-a-ready", headers={"X-Purpose": "x-check"})
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    bad = await api.client.get(
        "/cases/case-a-ready",
        headers={"Authorization": "Bearer not.a.token", "X-Purpose": "x-check"},
    )
    assert bad.status_code == 401
    assert "token" in bad.json()["detail"]


async def test_a_token_is_checked_for_issuer_audience_expiry_and_signature(api, tmp_path):
    from schemas.enums import Role
    from workers.api.auth import Principal, dev_keys, mint

    from .conftest import AUDIENCE, ISSUER

    who = Principal(subject="imdi-9", role=Role.CASEWORKER)
    cases = {
        "issuer": mint(api.private_key, issuer="urn:other", audience=AUDIENCE, principal=who),
        "audience": mint(api.private_key, issuer=ISSUER, audience="other-api", principal=who),
        "expired": mint(
            api.private_key, issuer=ISSUER, audience=AUDIENCE, principal=who, ttl_s=-60
        ),
        "signature": mint(
            dev_keys(tmp_path / "stranger")[0], issuer=ISSUER, audience=AUDIENCE, principal=who
        ),
    }
    for rule, token in cases.items():
        r = await api.client.get(
            "/figures?period=2020",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 401, rule
        assert r.json()["detail"].startswith("token:"), rule


async def test_bad_input_names_the_field_and_changes_nothing(api):
    r = await api.client.post(
        "/cases/case-a-ready/settlement-interview",
        json={"held_on": "2020-13-01"},
        headers=api.auth("reception-a", **{"Idempotency-Key": key()}),
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "held_on"]
    travel = await api.client.post(
        "/cases/case-a-ready/travel",
        json={"booked_on": "2020-05-01", "arrival_on": "2020-05-03"},
        headers=api.auth("caseworker", **{"Idempotency-Key": key()}),
    )
    assert travel.status_code == 422
    assert "arrival_on" in travel.text
    missing_key = await api.client.post(
        "/cases/case-a-ready/settlement-interview",
        json={"held_on": "2020-04-01"},
        headers=api.auth("reception-a"),
    )
    assert missing_key.status_code == 422
    assert missing_key.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    # Only the import may date a step's registration in the past: no API body carries it.
    backdated = await api.client.post(
        "/cases/case-a-ready/settlement-interview",
        json={"held_on": "2020-04-01", "registered_at": "2020-04-01T09:00:00+02:00"},
        headers=api.auth("reception-a", **{"Idempotency-Key": key()}),
    )
    assert backdated.status_code == 422
    assert "registered_at" not in backdated.text  # an unknown field is not named back
    no_purpose = await api.client.get("/cases/case-a-ready", headers=api.auth("caseworker"))
    assert no_purpose.status_code == 422
    assert no_purpose.json()["detail"][0]["loc"] == ["header", "X-Purpose"]
    assert api.cases.sent == []


async def test_an_out_of_order_step_answers_409_with_the_stage(api):
    api.cases.out_of_order.add("case-a-ready")
    r = await api.client.post(
        "/cases/case-a-ready/settlement-interview",
        json={"held_on": "2020-04-01"},
        headers=api.auth("reception-a", **{"Idempotency-Key": key()}),
    )
    assert r.status_code == 409
    assert r.json()["stage"] == CASES["case-a-ready"].stage.value


async def test_the_same_key_from_two_callers_is_two_commands(api):
    for who in ("caseworker", "caseworker-cleared"):
        await api.client.post(
            "/cases/case-a-ready/exit",
            json=BODIES["exit"],
            headers=api.auth(who, **{"Idempotency-Key": "same-key-1"}),
        )
    ids = [cmd.command_id for _, cmd in api.cases.sent]
    assert len(set(ids)) == 2
    assert len({i.rsplit(":", 1)[1] for i in ids}) == 1  # the same key, two callers


@pytest.mark.parametrize("who", list(PRINCIPALS))
async def test_figures_are_for_every_role_and_audit_for_administrators(api, who):
    figures = await api.client.get("/figures?period=2020", headers=api.auth(who))
    assert figures.status_code == 200
    assert figures.json()["period_start"] == "2020-01-01"
    audit = await api.client.get(
        "/audit?resource=case/case-a-ready", headers=api.auth(who, **{"X-Purpose": "review"})
    )
    assert audit.status_code == (200 if who == "administrator" else 403)
    status = await api.client.get("/status/projection", headers=api.auth(who))
    assert status.status_code == (
        200 if who in ("operations", "caseworker", "caseworker-cleared", "administrator") else 403
    )
    if status.status_code == 200:
        assert set(status.json()) >= {"lag", "last_batch_at"}


async def test_bad_figure_queries_name_the_parameter(api):
    r = await api.client.get("/figures?period=2020-Q5", headers=api.auth("operations"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "period"]
    r = await api.client.get("/figures?period=2020&by=shoe_size", headers=api.auth("operations"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["query", "by"]


@pytest.mark.parametrize(
    ("who", "number", "expected"),
    [
        ("oslo", "0301", 200),
        ("bergen", "0301", 403),
        ("caseworker", "0301", 200),
        ("administrator", "4601", 200),
        ("reception-a", "0301", 403),
        ("operations", "0301", 403),
    ],
)
async def test_a_municipality_reads_its_own_feed(api, who, number, expected):
    r = await api.client.get(f"/municipalities/{number}/events?after=0", headers=api.auth(who))
    assert r.status_code == expected, r.text
    if expected == 200:
        assert r.json() == {"municipality_number": number, "events": [], "next_cursor": 0}


async def test_temporal_down_is_503_and_changes_nothing(api):
    from temporalio.service import RPCError, RPCStatusCode

    async def unavailable(case_id, cmd):
        raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")

    api.cases.execute = unavailable
    r = await api.client.post(
        "/cases/case-a-ready/settlement-interview",
        json={"held_on": "2020-04-01"},
        headers=api.auth("reception-a", **{"Idempotency-Key": key()}),
    )
    assert r.status_code == 503
    assert r.headers["retry-after"] == "5"


@pytest.mark.parametrize(("who", "sees"), [("oslo", False), ("administrator", True)])
async def test_the_timeline_hides_a_protected_person_from_readers_not_cleared(api, who, sees):
    from datetime import UTC, date, datetime

    from schemas.events import CaseEvent, EventPerson, PersonSettled, ResidencePermitGranted
    from workers.platform.register import append_events

    protected = "case-a-protected-p1"
    persons = [
        EventPerson(person_id="case-a-protected-p0", protected_identity=False),
        EventPerson(person_id=protected, protected_identity=True),
    ]
    events = [
        ResidencePermitGranted(case_type="reception", persons=persons),
        PersonSettled(
            person_id=protected,
            category="family_with_children",
            protected_identity=True,
            case_type="reception",
            permit_date=date(2020, 3, 2),
            municipality_number="0301",
            reception_centre="centre-a",
        ),
    ]
    async with api.context.register.begin() as session:
        await append_events(
            session,
            [
                CaseEvent(
                    event_id=uuid4(),
                    case_id="case-a-protected",
                    sequence=i,
                    business_date=date(2020, 3, 2),
                    recorded_at=datetime.now(UTC),
                    data=data,
                )
                for i, data in enumerate(events, 1)
            ],
        )
    r = await api.client.get(
        "/cases/case-a-protected/timeline", headers=api.auth(who, **{"X-Purpose": "review"})
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [e["type"] for e in body["events"]] == ["ResidencePermitGranted", "PersonSettled"]
    assert (protected in r.text) is sees
    assert ("centre-a" in r.text) is sees
    assert ("0301" in r.text) is sees
    assert body["view"] == ("full" if sees else "redacted")
    assert "case-a-protected-p0" in r.text  # the others stay readable
