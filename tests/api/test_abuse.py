"""The API under abuse: bodies too large, too many requests, too many held polls, timing,
loose token claims, missing headers, and an audit trail that can be changed."""

import asyncio
import re
import time
from base64 import b64encode
from datetime import date
from hashlib import sha256

import jwt
import pytest
import structlog.testing
from sqlalchemy import delete, func, select, text, update

from schemas.enums import Role
from schemas.envelope import to_kafka
from schemas.events import EventPerson
from tests.waiting import eventually, pause
from workers.api.audit import record_read
from workers.api.auth import Principal
from workers.api.headers import page_policy
from workers.api.limits import Limits
from workers.api.server import NoTokenKeys, token_keys, verifier_for
from workers.platform.register import AuditRecord
from workers.platform.settings import Settings
from workers.projection.apply import apply_batch
from workers.projection.batch import Record
from workers.projection.feed import apply_feed_events

from .conftest import AUDIENCE, ISSUER, open_api
from .test_protected_identity import household


def claims(**extra: object) -> dict[str, object]:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "someone", "iat": now, "exp": now + 60} | extra


def signed(api, **extra: object) -> str:
    return jwt.encode(
        claims(**extra),
        api.private_key.read_bytes(),
        algorithm="ES256",
        headers={"kid": "bosetting-dev"},
    )


async def audit_rows(api) -> list[AuditRecord]:
    async with api.context.register() as session:
        return list((await session.scalars(select(AuditRecord).order_by(AuditRecord.id))).all())


# -- bodies -------------------------------------------------------------------------------


async def test_a_body_over_the_limit_is_refused_before_it_is_read(tmp_path, migrated):
    async with open_api(tmp_path, migrated, limits=Limits(max_body_bytes=4096)) as api:
        big = b'{"persons": [' + b'{"person_id": "x"},' * 2000 + b"]}"
        announced = await api.client.post("/cases", content=big)  # no token at all
        assert announced.status_code == 413
        assert announced.json() == {"detail": "body: larger than the limit of 4096 bytes"}

        async def chunks():
            for _ in range(100):
                yield b" " * 1024

        streamed = await api.client.post("/cases", content=chunks())  # no Content-Length
        assert streamed.status_code == 413
        small = await api.client.post("/cases", content=b"{}")
        assert small.status_code == 401  # under the limit: on to the token check
        assert api.cases.opened == []


# -- rate and polls -----------------------------------------------------------------------


async def test_a_caller_over_the_rate_gets_429_and_one_audit_row(tmp_path, migrated):
    async with open_api(tmp_path, migrated, limits=Limits(reads_per_caller="3/minute")) as api:
        answers = [
            (await api.client.get("/figures?period=2020", headers=api.auth("oslo"))).status_code
            for _ in range(5)
        ]
        assert answers == [200, 200, 200, 429, 429]
        refused = await api.client.get("/figures?period=2020", headers=api.auth("oslo"))
        assert int(refused.headers["retry-after"]) >= 1
        other = await api.client.get("/figures?period=2020", headers=api.auth("bergen"))
        assert other.status_code == 200  # per caller, not for everyone
        rows = [r for r in await audit_rows(api) if r.outcome == "rate-limited"]
        assert [(r.subject, r.action) for r in rows] == [("oslo-1", "GET /figures")]


async def test_a_caller_holds_only_so_many_long_polls(tmp_path, migrated):
    limits = Limits(long_polls_per_caller=2)
    async with open_api(tmp_path, migrated, limits=limits) as api:
        url = "/municipalities/0301/events?after=0&wait=1"
        held = [api.client.get(url, headers=api.auth("oslo")) for _ in range(2)]
        tasks = [asyncio.ensure_future(h) for h in held]
        await eventually(lambda: api.guard.waiting("oslo-1") == 2, within_s=5, what="both polls")
        third = await api.client.get(url, headers=api.auth("oslo"))
        assert third.status_code == 429
        other = await api.client.get(url, headers=api.auth("caseworker"))
        assert other.status_code == 200
        assert [t.status_code for t in await asyncio.gather(*tasks)] == [200, 200]
        again = await api.client.get(url.replace("wait=1", "wait=0"), headers=api.auth("oslo"))
        assert again.status_code == 200


async def test_missing_and_out_of_scope_answer_alike_and_alike_slowly(tmp_path, migrated):
    """A case outside the caller's scope exists, so looking it up costs a query that a
    missing one does not; both answers wait out the same floor."""
    async with open_api(tmp_path, migrated, limits=Limits(not_found_floor_s=0.3)) as api:
        found_state = api.cases.state

        async def slow_state(case_id):
            await pause(0.05, "a real query of an existing workflow takes time")
            return await found_state(case_id)

        api.cases.state = slow_state
        headers = api.auth("reception-a", **{"X-Purpose": "check"})
        answers = []
        for case_id in ("case-b-accepted", "case-zz-missing"):
            started = time.monotonic()
            r = await api.client.get(f"/cases/{case_id}", headers=headers)
            answers.append((r.status_code, r.json(), time.monotonic() - started >= 0.3))
        assert answers[0] == answers[1] == (404, {"detail": "not found"}, True)


# -- tokens -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "rule"),
    [
        ({"role": "caseworker", "cleared": "yes"}, "cleared"),
        ({"role": "caseworker", "cleared": 1}, "cleared"),
        ({"role": "caseworker", "cleared": "1"}, "cleared"),
        ({"role": "caseworker", "sub": ""}, "subject"),
        (
            {"role": "municipality", "municipality_number": "0301", "reception_centre": "c-a"},
            "reception_centre belongs to role 'reception' only",
        ),
        (
            {"role": "caseworker", "municipality_number": "0301"},
            "municipality_number belongs to role 'municipality' only",
        ),
    ],
)
async def test_loose_claims_are_refused_naming_the_claim(api, extra, rule):
    r = await api.client.get(
        "/figures?period=2020", headers={"Authorization": f"Bearer {signed(api, **extra)}"}
    )
    assert r.status_code == 401, r.text
    assert rule in r.json()["detail"]


async def test_a_subject_claim_beside_sub_is_ignored_not_a_crash(api):
    token = signed(api, role="caseworker", subject="someone-else")
    r = await api.client.get(
        "/cases/case-a-ready", headers={"Authorization": f"Bearer {token}", "X-Purpose": "check"}
    )
    assert r.status_code == 200
    [row] = await audit_rows(api)
    assert row.subject == "someone"  # the signed sub, never the other claim


async def test_cleared_is_granted_by_json_true_only(api):
    token = signed(api, role="caseworker", cleared=True)
    assert api.context.verifier.verify(token) == Principal(
        subject="someone", role=Role.CASEWORKER, cleared=True
    )


def test_the_api_will_not_start_without_keys_unless_told_to_accept_dev_tokens(tmp_path):
    with pytest.raises(NoTokenKeys, match="api_jwks_file: required"):
        verifier_for(Settings(state_dir=tmp_path))
    assert verifier_for(Settings(state_dir=tmp_path, api_dev_tokens=True)) is not None


def test_development_tokens_are_announced_once_in_the_parts_log(tmp_path):
    """`bosetting api` checks for keys before its logging starts: the check says nothing, so
    the warning is written once, by the running part, in its log's format."""
    settings = Settings(state_dir=tmp_path, api_dev_tokens=True)
    with structlog.testing.capture_logs() as checked:
        token_keys(settings)
    with structlog.testing.capture_logs() as started:
        verifier_for(settings)
    assert checked == []
    assert [entry["event"] for entry in started] == ["accepting development tokens"]


# -- headers ------------------------------------------------------------------------------


async def test_personal_data_is_never_cached_sniffed_or_framed(api):
    r = await api.client.get(
        "/cases/case-a-ready", headers=api.auth("caseworker", **{"X-Purpose": "check"})
    )
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    refused = await api.client.get("/cases/case-a-ready")
    assert refused.headers["cache-control"] == "no-store"


async def test_pages_run_only_their_own_scripts_and_need_no_cdn(api):
    page = await api.client.get("/dashboard")
    [script] = re.findall(rb"<script>(.*?)</script>", page.content, re.S)
    digest = b64encode(sha256(script).digest()).decode()
    policy = page.headers["content-security-policy"]
    assert f"'sha256-{digest}'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    docs = await api.client.get("/docs")
    assert docs.status_code == 200
    assert not re.search(rb"""(src|href)=["']?(https?:)?//""", docs.content)
    assets = re.findall(rb"""(?:src|href)=["']?([^"' >]+)""", docs.content)
    assert len(assets) >= 2
    for asset in assets:
        served = await api.client.get(asset.decode())
        assert served.status_code == 200, asset
    assert page_policy(docs.content) == docs.headers["content-security-policy"].encode()


# -- the audit trail ----------------------------------------------------------------------


async def test_refusals_feed_reads_and_audit_reads_are_audited(api):
    headers = api.auth("operations", **{"X-Purpose": "curious"})
    assert (await api.client.get("/cases/case-a-ready", headers=headers)).status_code == 403
    admin = api.auth("administrator", **{"X-Purpose": "oversight"})
    assert (
        await api.client.get("/audit?resource=case/case-a-ready", headers=admin)
    ).status_code == 200
    rows = [(r.subject, r.action, r.resource, r.purpose, r.outcome) for r in await audit_rows(api)]
    assert rows == [
        ("ops-1", "case", "case/case-a-ready", "curious", "refused"),
        ("admin-1", "audit", "case/case-a-ready", "oversight", "granted"),
    ]


async def test_the_audit_log_cannot_be_changed_or_emptied(register):
    principal = Principal(subject="admin-1", role=Role.ADMINISTRATOR)
    await record_read(
        register, principal, action="case", resource="case/x", purpose="p", outcome="granted"
    )
    for change in (
        update(AuditRecord).values(purpose="nothing to see"),
        delete(AuditRecord),
    ):
        with pytest.raises(Exception, match="append-only"):
            async with register.begin() as session:
                await session.execute(change)
    async with register() as session:
        assert await session.scalar(select(func.count()).select_from(AuditRecord)) == 1
        assert await session.scalar(select(AuditRecord.purpose)) == "p"
        if session.bind.dialect.name == "postgresql":
            with pytest.raises(Exception, match="append-only"):
                await session.execute(text("TRUNCATE audit_read"))


async def test_the_feed_read_is_audited_when_it_returns_entries(api):
    """An empty poll reads nobody's data; one that returns entries is a read like any."""
    url = "/municipalities/0301/events?after=0"
    assert (await api.client.get(url, headers=api.auth("oslo"))).json()["events"] == []
    assert await audit_rows(api) == []
    events = household(
        "case-x",
        "0301",
        "centre-a",
        date(2020, 5, 4),
        [EventPerson(person_id="case-x-p0", protected_identity=False)],
    )
    records = [Record(0, i, k.headers, k.value) for i, k in enumerate(map(to_kafka, events))]
    async with api.context.projection.begin() as session:
        await apply_batch(session, "feed", "t", records, {}, apply_feed_events)
    assert len((await api.client.get(url, headers=api.auth("oslo"))).json()["events"]) == 3
    rows = [(r.subject, r.action, r.resource, r.outcome) for r in await audit_rows(api)]
    assert rows == [("oslo-1", "municipality.feed", "municipality/0301", "redacted")]


# -- idempotency keys ---------------------------------------------------------------------


async def test_a_key_reused_for_another_request_is_refused_naming_the_key(api):
    headers = api.auth("reception-a", **{"Idempotency-Key": "key-for-the-interview"})
    url = "/cases/case-a-ready/settlement-interview"
    first = await api.client.post(url, json={"held_on": "2020-04-01"}, headers=headers)
    again = await api.client.post(url, json={"held_on": "2020-04-01"}, headers=headers)
    assert first.status_code == again.status_code == 200
    other_body = await api.client.post(url, json={"held_on": "2020-04-02"}, headers=headers)
    other_step = await api.client.post(
        "/cases/case-a-ready/competence-mapping", json={"mapped_on": "2020-04-01"}, headers=headers
    )
    other_case = await api.client.post(
        "/cases/case-a-offered/settlement-interview",
        json={"held_on": "2020-04-01"},
        headers=headers,
    )
    for refused in (other_body, other_step, other_case):
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]
    # Only the first request (twice, the same command) reached the case.
    assert [c.command_id for _, c in api.cases.sent] == [api.cases.sent[0][1].command_id] * 2
    # Another caller's same key is another command altogether.
    theirs = api.auth("caseworker", **{"Idempotency-Key": "key-for-the-interview"})
    assert (
        await api.client.post(url, json={"held_on": "2020-04-02"}, headers=theirs)
    ).status_code == 200


async def test_no_error_repeats_what_was_sent(api):
    """Unknown field and parameter names, the period text and dates are the caller's text:
    an identity number typed anywhere must not come back in an answer (nor reach a log)."""
    canary = "12345678901"
    headers = api.auth("caseworker", **{"Idempotency-Key": "key-canary-0001"})
    answers = [
        await api.client.post(
            "/cases/case-a-ready/settlement-interview",
            json={"held_on": "2020-04-01", f"n{canary}": 1},
            headers=headers,
        ),
        await api.client.get(f"/figures?period=2020&x{canary}=1", headers=api.auth("operations")),
        await api.client.get(f"/figures?period=p{canary}", headers=api.auth("operations")),
        await api.client.get(f"/figures?period={canary[:4]}-13", headers=api.auth("operations")),
        await api.client.post(
            "/cases/case-a-ready/settlement-interview",
            json={"held_on": f"{canary}"},
            headers=headers,
        ),
    ]
    for r in answers:
        assert r.status_code == 422, r.text
        assert canary not in r.text
        assert canary[:4] + "-13" not in r.text
