"""A case read from the register — the case register's row (from events) and the household's
dossier (written with them) — when its workflow no longer answers: the same views, the same
redaction, the same audit, and the timeline from the event log."""

from datetime import date

import pytest

from schemas.commands import PersonRecord
from schemas.enums import ServiceNeed
from schemas.events import MunicipalityAllocated, SettlementInterviewHeld
from schemas.ports import CaseDossier
from tests.api.test_queues import scenario
from workers.platform.register import append_events, keep_dossier
from workers.projection.read_model import apply_events

PURPOSE = {"X-Purpose": "follow-up after closing"}


def dossier(case_id: str, *, protected: bool = False) -> CaseDossier:
    return CaseDossier(
        through=99,
        persons=[
            PersonRecord(person_id=f"{case_id}-p0", birth_date=date(1985, 3, 1)),
            PersonRecord(
                person_id=f"{case_id}-p1", birth_date=date(2014, 6, 1), protected_identity=protected
            ),
        ],
        reception_centre="centre-b" if protected else "centre-a",
        service_needs=[ServiceNeed.SPECIALIST_HEALTH],
    )


@pytest.fixture
async def registered(api):
    """The scenario's cases in the register, their events in the event log, and dossiers; the
    fake case service knows none of them (as after the workflows' histories are gone)."""
    events = scenario()
    async with api.context.projection.begin() as session:
        await apply_events(session, [(-1, i, e) for i, e in enumerate(events)])
    async with api.context.register.begin() as session:
        await append_events(session, events)
        for case_id in ("case-ready-new", "case-allocated", "case-accepted"):
            await keep_dossier(session, case_id, dossier(case_id))
        await keep_dossier(session, "case-protected", dossier("case-protected", protected=True))
    return api


async def test_a_case_no_workflow_knows_is_read_from_the_register(registered):
    r = await registered.client.get(
        "/cases/case-ready-new", headers=registered.auth("reception-a", **PURPOSE)
    )
    assert r.status_code == 200, r.text
    view = r.json()
    assert (view["view"], view["stage"], view["reception_centre"]) == (
        "full",
        "settlement_ready",
        "centre-a",
    )
    assert [p["birth_date"] for p in view["persons"]] == ["1985-03-01", "2014-06-01"]
    assert view["service_needs"] == ["specialist_health"]
    assert view["target_date"] is not None
    timeline = await registered.client.get(
        "/cases/case-ready-new/timeline", headers=registered.auth("reception-a", **PURPOSE)
    )
    assert [e["type"] for e in timeline.json()["events"]] == [
        "ResidencePermitGranted",
        "SettlementInterviewHeld",
    ]


async def test_register_reads_keep_scope_redaction_and_the_profile(registered):
    other_centre = await registered.client.get(
        "/cases/case-ready-new", headers=registered.auth("reception-b", **PURPOSE)
    )
    assert other_centre.status_code == 404
    redacted = (
        await registered.client.get(
            "/cases/case-protected", headers=registered.auth("caseworker", **PURPOSE)
        )
    ).json()
    assert redacted["view"] == "redacted"
    assert redacted["reception_centre"] is None
    assert "case-protected-p1" not in str(redacted)
    profile = (
        await registered.client.get(
            "/cases/case-allocated", headers=registered.auth("oslo", **PURPOSE)
        )
    ).json()
    assert profile["view"] == "profile"
    assert profile["ages"][0] >= 40


async def test_a_case_without_a_dossier_is_asked_of_its_workflow(registered):
    r = await registered.client.get(
        "/cases/case-ready-old", headers=registered.auth("caseworker", **PURPOSE)
    )
    assert r.status_code == 404  # neither the register (no dossier) nor a workflow can tell it


async def test_a_register_behind_the_event_log_yields_to_the_workflow(api):
    """The register has applied the interview but not yet the allocation the event log
    already holds: the read must not scope by the older state (Oslo would be told the case
    does not exist), so it asks the workflow."""
    from tests.api.test_queues import granted, stream

    permit = date(2026, 1, 5)
    events = stream(
        "case-a-offered",
        granted("case-a-offered", "centre-a", permit=permit),
        (date(2026, 1, 10), SettlementInterviewHeld()),
        (date(2026, 2, 1), MunicipalityAllocated(municipality_number="0301")),
    )
    async with api.context.projection.begin() as session:
        await apply_events(session, [(-1, i, e) for i, e in enumerate(events[:2])])
    async with api.context.register.begin() as session:
        await append_events(session, events)
        await keep_dossier(session, "case-a-offered", dossier("case-a-offered"))
    r = await api.client.get("/cases/case-a-offered", headers=api.auth("oslo", **PURPOSE))
    assert r.status_code == 200, r.text
    assert r.json()["view"] == "profile"


async def test_a_batch_committed_between_two_reads_never_makes_an_old_read_look_current():
    """The projection commits a batch right after the register is read: the read must not
    then be judged current by the log compared after it (a step just taken would not show)."""
    from workers.api.deps import fresh

    logged = 4
    register = {"applied": 1, "state": "before the step"}

    async def is_behind() -> bool:
        return logged > register["applied"]

    async def read_register() -> str:
        state = register["state"]
        register.update(applied=4, state="after the step")  # the batch lands just now
        return state

    async def ask_workflow() -> str:
        return "the workflow's state"

    assert await fresh(is_behind, read_register, ask_workflow) != "before the step"
