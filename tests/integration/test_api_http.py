"""The HTTP API on the real embedded stack: tokens minted by the CLI, a household taken
from permit to settlement by the roles whose steps they are, over real HTTP, with the
figures and the audit log answering afterwards."""

import shlex
import uuid

import httpx

from .conftest import RunningStack, cli, eventually

PERMIT = {
    "case_id": "case-http-1",
    "case_type": "reception",
    "permit_date": "2020-02-03",
    "persons": [
        {"person_id": "case-http-1-p0", "birth_date": "1988-04-02"},
        {"person_id": "case-http-1-p1", "birth_date": "2015-10-20"},
    ],
    "reception_centre": "centre-a",
}


async def test_a_household_from_permit_to_figures_over_http(sqlite_stack: RunningStack):
    s = sqlite_stack

    async def run(line: str) -> str:
        return (await cli(s, *shlex.split(line))).strip()

    await run(
        "places decide --municipality 0301 --year 2020 --requested 10 --decided 10 --on 2020-01-15"
    )
    tokens = {
        "caseworker": await run("tokens mint caseworker --subject imdi-1"),
        "reception": await run(
            "tokens mint reception --subject staff-1 --reception-centre centre-a"
        ),
        "oslo": await run("tokens mint municipality --subject oslo-1 --municipality 0301"),
        "operations": await run("tokens mint operations --subject ops-1"),
        "admin": await run("tokens mint administrator --subject admin-1"),
    }

    def auth(who: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[who]}", **headers}

    def step(who: str) -> dict[str, str]:
        return auth(who, **{"Idempotency-Key": str(uuid.uuid4())})

    base = f"http://{s.settings.api_host}:{s.settings.api_port}"
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        assert (await http.get("/health")).json() == {"status": "ok"}
        opened = await http.post("/cases", json=PERMIT, headers=step("caseworker"))
        assert opened.status_code == 201, opened.text
        case = "/cases/case-http-1"

        async def post(who: str, path: str, body: dict, **headers: str) -> httpx.Response:
            return await http.post(f"{case}/{path}", json=body, headers=step(who) | headers)

        r = await post("reception", "competence-mapping", {"mapped_on": "2020-02-20"})
        assert r.status_code == 200, r.text
        interview = {"held_on": "2020-03-01"}
        same_key = {"Idempotency-Key": "interview-case-http-1"}
        first = await post("reception", "settlement-interview", interview, **same_key)
        again = await post("reception", "settlement-interview", interview, **same_key)
        assert first.status_code == again.status_code == 200, first.text
        assert first.json() == again.json()  # the same command, answered once
        assert first.json()["stage"] == "settlement_ready"
        too_early = await post("oslo", "acceptance", {"accepted_on": "2020-03-02"})
        assert too_early.status_code == 404  # not allocated to Oslo: Oslo cannot see it
        r = await post("caseworker", "allocation", {"municipality_number": "0301",
                                                    "allocated_on": "2020-03-10"})  # fmt: skip
        assert r.status_code == 200, r.text

        profile = await http.get(case, headers=auth("oslo", **{"X-Purpose": "decide offer"}))
        assert profile.json()["view"] == "profile"
        assert "case-http-1-p0" not in profile.text
        r = await post("oslo", "acceptance", {"accepted_on": "2020-03-20"})
        assert r.status_code == 200, r.text
        settled = {
            "settlements": [
                {"person_id": p["person_id"], "settled_on": "2020-04-15"} for p in PERMIT["persons"]
            ]
        }
        r = await post("oslo", "settlements", settled)
        assert r.status_code == 200, r.text
        late = await post("oslo", "acceptance", {"accepted_on": "2020-04-20"})
        assert late.status_code == 409
        assert late.json()["stage"] == "settled"

        timeline = await http.get(
            f"{case}/timeline", headers=auth("oslo", **{"X-Purpose": "settlement follow-up"})
        )
        assert timeline.status_code == 200, timeline.text
        types = [e["type"] for e in timeline.json()["events"]]
        assert types[0] == "ResidencePermitGranted"
        assert types.count("PersonSettled") == 2

        async def counted() -> bool:
            figures = await http.get("/figures?period=2020", headers=auth("operations"))
            total = next(g for g in figures.json()["groups"] if g["group"] == "total")
            return bool(total["settled"] == 2)

        await eventually(counted, within_s=60, what="the settlement in the figures")
        audit = await http.get("/audit?resource=case/case-http-1", headers=auth("admin"))
        reads = [(a["subject"], a["action"], a["outcome"]) for a in audit.json()]
        assert ("oslo-1", "case", "profile") in reads
        assert ("oslo-1", "case.timeline", "granted") in reads
        forbidden = await http.get(case, headers=auth("operations", **{"X-Purpose": "look"}))
        assert forbidden.status_code == 403

        # Oslo's feed, over HTTP from a cursor and on the feed topic keyed by municipality.
        async def fed() -> bool:
            feed = await http.get("/municipalities/0301/events?wait=5", headers=auth("oslo"))
            types = [e["type"].split(".")[-2] for e in feed.json()["events"]]
            return types.count("PersonSettled") == 2

        await eventually(fed, within_s=60, what="the settlements in Oslo's feed")
        feed = (await http.get("/municipalities/0301/events", headers=auth("oslo"))).json()
        types = [e["type"].split(".")[-2] for e in feed["events"]]
        assert types[:2] == ["MunicipalityAllocated", "AllocationAccepted"]
        assert all(e["subject"] == "case-http-1" for e in feed["events"])
        resumed = await http.get(
            f"/municipalities/0301/events?after={feed['next_cursor']}", headers=auth("oslo")
        )
        assert resumed.json()["events"] == []
    on_topic = await read_topic(s.settings.kafka_bootstrap_servers, s.settings.kafka_feed_topic)
    ids = {e["id"] for e in feed["events"]}
    assert {(key, event_id) for key, event_id in on_topic if event_id in ids} == {
        (b"0301", i) for i in ids
    }


async def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes, str]]:
    """Every (key, CloudEvent id) on the topic, read from the start (the feed relay has sent
    them once the HTTP feed shows them: it relays within a second)."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: list[tuple[bytes, str]] = []
    try:
        await consumer.topics()  # fetches the metadata
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        for _ in range(20):
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                for m in messages:
                    found.append((m.key, dict(m.headers)["ce_id"].decode()))
            if not batch and found:
                break
    finally:
        await consumer.stop()
    return found
