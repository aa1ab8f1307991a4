"""The web app's sign-in, session, forms and scope, over our fakes of the case services (the
browser journey on the real stack is tests/integration/test_web_browser.py)."""

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.api.conftest import Api, open_api
from workers.platform.register import AuditRecord, WebSessionRow

LOOPBACK = "http://127.0.0.1"


@pytest.fixture
async def web(tmp_path: Path, migrated: Path) -> AsyncIterator[Api]:
    async with open_api(tmp_path, migrated, dev_sign_in=True, base_url=LOOPBACK) as opened:
        yield opened


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form token"
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, role: str, place: str = "", *, purpose: str | None = "casework"
) -> None:
    page = await client.get("/app/sign-in")
    answer = await client.post(
        "/app/sign-in/dev",
        data={"csrf": csrf_of(page.text), "role": role, "subject": f"{role}-1", "place": place},
    )
    assert answer.status_code == 303, answer.text
    if purpose:
        form = await client.get("/app/purpose")
        answer = await client.post(
            "/app/purpose", data={"csrf": csrf_of(form.text), "purpose": purpose}
        )
        assert answer.status_code == 303


async def test_a_reader_who_is_not_signed_in_is_sent_to_sign_in(web: Api) -> None:
    answer = await web.client.get("/app/cases/case-a-ready")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/app/sign-in?next=/app/cases/case-a-ready")
    page = await web.client.get("/app/sign-in")
    assert page.status_code == 200
    assert '<html lang="nb"' in page.text
    assert "Logg inn" in page.text  # Norwegian first
    assert 'action="/app/sign-in/dev"' in page.text


async def test_the_role_picker_exists_only_when_the_setting_enables_it(
    tmp_path: Path, migrated: Path
) -> None:
    async with open_api(tmp_path, migrated, base_url=LOOPBACK) as off:
        page = await off.client.get("/app/sign-in")
        assert "/app/sign-in/dev" not in page.text
        answer = await off.client.post(
            "/app/sign-in/dev",
            data={"csrf": "x" * 43, "role": "administrator", "subject": "x"},
        )
        assert answer.status_code == 404


async def test_the_session_cookie_is_httponly_lax_holds_nothing_personal_and_is_secure_off_loopback(
    web: Api, tmp_path: Path, migrated: Path
) -> None:
    await sign_in(web.client, "caseworker")
    cookie = web.client.cookies.get("bosetting_session")
    assert cookie is not None
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie)  # 32 random bytes, nothing else
    async with web.context.register() as session:
        (row,) = (await session.scalars(select(WebSessionRow))).all()
    assert row.id_hash != cookie
    assert cookie not in str(vars(row))
    assert row.token is not None
    assert not row.token.startswith("eyJ")  # the token is kept sealed, not as a JWT
    assert web.tokens["caseworker"].split(".")[0] not in row.token
    async with httpx.AsyncClient(transport=web.client._transport, base_url=LOOPBACK) as fresh:
        header = (await fresh.get("/app/sign-in")).headers["set-cookie"].lower()
    assert "httponly" in header
    assert "samesite=lax" in header
    assert "secure" not in header  # plain HTTP on loopback (a development stack)
    async with open_api(
        tmp_path / "remote", migrated, dev_sign_in=True, base_url="http://casework.example"
    ) as remote:
        answer = await remote.client.get("/app/sign-in")
        assert "secure" in answer.headers["set-cookie"].lower()


async def test_a_form_without_the_session_csrf_token_changes_nothing(web: Api) -> None:
    await sign_in(web.client, "caseworker")
    answer = await web.client.post(
        "/app/cases/case-a-allocated/acceptance", data={"accepted_on": "2020-05-11"}
    )
    assert answer.status_code == 403
    assert "Skjemaet er utløpt" in answer.text
    forged = await web.client.post(
        "/app/cases/case-a-ready/allocation",
        data={"csrf": "x" * 43, "municipality_number": "0301", "allocated_on": "2020-05-11"},
    )
    assert forged.status_code == 403
    assert web.cases.sent == []


async def test_the_purpose_is_asked_once_and_every_page_is_audited_with_it(web: Api) -> None:
    await sign_in(web.client, "caseworker", purpose=None)
    answer = await web.client.get("/app/cases/case-a-ready")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/app/purpose?next=")
    form = await web.client.get("/app/purpose")
    short = await web.client.post("/app/purpose", data={"csrf": csrf_of(form.text), "purpose": ""})
    assert short.status_code == 422
    assert 'aria-invalid="true"' in short.text
    await web.client.post(
        "/app/purpose", data={"csrf": csrf_of(form.text), "purpose": "allocation round"}
    )
    page = await web.client.get("/app/cases/case-a-ready")
    assert page.status_code == 200
    assert "case-a-ready-p0" in page.text
    page = await web.client.get("/app/queues/allocation")
    assert page.status_code == 200
    async with web.context.register() as session:
        rows = (await session.scalars(select(AuditRecord).order_by(AuditRecord.id))).all()
    reads = [(r.action, r.purpose) for r in rows if r.subject == "caseworker-1"]
    assert ("case", "allocation round") in reads
    assert ("queue.allocation", "allocation round") in reads


async def test_a_municipality_typing_another_municipalitys_case_sees_not_found(web: Api) -> None:
    await sign_in(web.client, "municipality", "0301")
    theirs = await web.client.get("/app/cases/case-b-accepted")
    missing = await web.client.get("/app/cases/case-does-not-exist")
    assert theirs.status_code == missing.status_code == 404
    assert "Fant ikke siden" in theirs.text
    assert theirs.text.replace("case-b-accepted", "") == missing.text.replace(
        "case-does-not-exist", ""
    )  # the same page, but for the address it was asked at
    ours = await web.client.get("/app/cases/case-a-accepted")
    assert ours.status_code == 200


async def test_actions_are_forms_made_from_the_command_models(web: Api) -> None:
    await sign_in(web.client, "municipality", "0301")
    page = await web.client.get("/app/cases/case-a-allocated")
    assert page.status_code == 200
    assert "anonymiserte profil" in page.text  # the inbox shows the profile only
    assert "case-a-allocated-p0" not in page.text
    assert 'type="date"' in page.text
    assert 'name="accepted_on"' in page.text
    decline = page.text[page.text.index('id="action-decline"') :]
    assert '<select class="ds-input" id="f-decline-reason" name="reason"' in decline
    assert ">Ingen egnet bolig<" in decline  # a code's Norwegian label
    # Caseworkers do not see the municipality's steps.
    await sign_in(web.client, "caseworker")
    page = await web.client.get("/app/cases/case-a-allocated")
    assert 'id="action-acceptance"' not in page.text
    assert 'id="action-withdrawal"' in page.text


async def test_a_refused_form_shows_the_message_at_the_field_and_sends_nothing(web: Api) -> None:
    await sign_in(web.client, "municipality", "0301")
    page = await web.client.get("/app/cases/case-a-allocated")
    key = re.search(r'name="key" value="([^"]+-acceptance)"', page.text)
    assert key
    answer = await web.client.post(
        "/app/cases/case-a-allocated/acceptance",
        data={"csrf": csrf_of(page.text), "key": key.group(1), "accepted_on": ""},
    )
    assert answer.status_code == 422
    field = re.search(r'<input class="ds-input" id="f-acceptance-accepted-on"[^>]*>', answer.text)
    assert field
    assert 'aria-invalid="true"' in field.group(0)
    assert 'aria-describedby="f-acceptance-accepted-on-error"' in field.group(0)
    assert re.search(r'id="f-acceptance-accepted-on-error">Fyll ut dette feltet\.<', answer.text)
    assert 'href="#f-acceptance-accepted-on"' in answer.text  # the error summary links to the field
    assert "<details" in answer.text
    assert 'id="action-acceptance" open' in answer.text
    assert web.cases.sent == []
    done = await web.client.post(
        "/app/cases/case-a-allocated/acceptance",
        data={"csrf": csrf_of(page.text), "key": key.group(1) + "x", "accepted_on": "2020-05-11"},
    )
    assert done.status_code == 303
    assert [c for c, _ in web.cases.sent] == ["case-a-allocated"]


async def test_signing_out_ends_the_session(web: Api) -> None:
    await sign_in(web.client, "caseworker")
    cookie = web.client.cookies["bosetting_session"]
    page = await web.client.get("/app/queues/allocation")
    answer = await web.client.post("/app/sign-out", data={"csrf": csrf_of(page.text)})
    assert answer.status_code == 303
    async with web.context.register() as session:
        assert (await session.scalars(select(WebSessionRow))).all() == []
    web.client.cookies.set("bosetting_session", cookie)
    again = await web.client.get("/app/queues/allocation")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/app/sign-in")


async def test_after_sign_in_the_reader_goes_only_to_a_page_of_this_app(web: Api) -> None:
    page = await web.client.get("/app/sign-in")
    for target, expected in (
        ("https://elsewhere.example/app", "/app"),
        ("//elsewhere.example/app", "/app"),
        ("/app/queues/targets", "/app/queues/targets"),
    ):
        answer = await web.client.post(
            "/app/sign-in/dev",
            data={
                "csrf": csrf_of(page.text),
                "role": "caseworker",
                "subject": "c",
                "next": target,
            },
        )
        assert answer.headers["location"] == expected
        page = await web.client.get("/app/sign-in")


async def test_english_is_a_click_away(web: Api) -> None:
    await sign_in(web.client, "caseworker")
    answer = await web.client.get("/app/language?to=en&next=/app/queues/allocation")
    assert answer.headers["location"] == "/app/queues/allocation"
    page = await web.client.get("/app/queues/allocation")
    assert '<html lang="en"' in page.text
    assert "Waiting for allocation" in page.text
    assert "Venter på tildeling" not in page.text


async def test_a_queue_pages_on_keeping_its_filters_and_sort(web: Api) -> None:
    from datetime import UTC, datetime, timedelta

    from schemas.events import SettlementInterviewHeld
    from tests.api.test_queues import granted, stream
    from workers.api.web.casework import PAGE_SIZE
    from workers.projection.read_model import apply_events

    today = datetime.now(UTC).date()
    events = []
    for n in range(PAGE_SIZE + 5):
        permit = today - timedelta(days=100 + n)
        case_id = f"case-page-{n:02d}"
        events += stream(
            case_id,
            granted(case_id, "centre-a", permit=permit),
            (permit + timedelta(days=3), SettlementInterviewHeld()),
        )
    async with web.context.projection.begin() as session:
        await apply_events(session, [(-1, i, e) for i, e in enumerate(events)])
    await sign_in(web.client, "caseworker")

    def listed(html: str) -> list[str]:
        return re.findall(r'<a class="ds-link" href="/app/cases/(case-page-\d+)"', html)

    first = await web.client.get("/app/queues/allocation?sort=target&stage=settlement_ready")
    assert first.status_code == 200
    assert len(listed(first.text)) == PAGE_SIZE
    assert listed(first.text)[0] == f"case-page-{PAGE_SIZE + 4:02d}"  # nearest target first
    assert '<option value="target" selected>' in first.text
    found = re.search(r'href="(/app/queues/allocation\?[^"]*cursor=[^"]+)">Neste side<', first.text)
    assert found, "no next page"
    following = found.group(1).replace("&amp;", "&")
    assert "sort=target" in following
    assert "stage=settlement_ready" in following
    second = await web.client.get(following)
    assert second.status_code == 200
    assert len(listed(second.text)) == 5
    assert set(listed(first.text)).isdisjoint(listed(second.text))
    assert "Neste side" not in second.text
    assert "Første side" in second.text


def test_each_roles_menu_lists_only_queues_it_may_read() -> None:
    from workers.api.access import QUEUE_READERS
    from workers.api.web.reader import HOME, QUEUE_TITLES, QUEUES_OF
    from workers.projection.queues import QUEUES

    assert set(QUEUE_TITLES) == set(QUEUES)
    for role, queues in QUEUES_OF.items():
        assert all(role in QUEUE_READERS[q] for q in queues), role
    assert set(HOME) == set(QUEUES_OF)


async def test_the_council_decision_is_registered_on_the_places_page(
    tmp_path: Path, migrated: Path
) -> None:
    from tests.api.conftest import FakePlaces

    places = FakePlaces()
    async with open_api(tmp_path, migrated, places, dev_sign_in=True, base_url=LOOPBACK) as web:
        await sign_in(web.client, "municipality", "0301", purpose=None)
        page = await web.client.get("/app/places?year=2026")
        assert page.status_code == 200
        assert 'name="decided"' in page.text
        assert 'name="municipality_number"' not in page.text  # its own, always
        assert 'name="adjusted"' not in page.text  # the adjustment is the directorate's
        form = {
            "csrf": csrf_of(page.text),
            "key": "k-places-1",
            "year": "2026",
            "decided_on": "2026-01-20",
            "requested": "20",
            "decided": "",
        }
        refused = await web.client.post("/app/places", data=form)
        assert refused.status_code == 422
        assert 'id="f-places-decided-error"' in refused.text
        assert places.decided == []
        done = await web.client.post(
            "/app/places", data={**form, "decided": "15", "key": "k-places-2"}
        )
        assert done.status_code == 303, re.findall(r"<li>.*?</li>", done.text)
        assert [(n, y, d.decided) for n, y, d in places.decided] == [("0301", 2026, 15)]
        shown = await web.client.get(done.headers["location"])
        assert re.search(r'data-municipality="0301">.*?<td>15</td>', shown.text, re.S)

        await sign_in(web.client, "caseworker", purpose=None)
        page = await web.client.get("/app/places?year=2026")
        assert 'id="f-places-municipality-number"' in page.text
        assert 'name="adjusted"' in page.text
        no_place = await web.client.post(
            "/app/places",
            data={**form, "decided": "3", "key": "k-places-3", "csrf": csrf_of(page.text)},
        )
        assert no_place.status_code == 422
        assert 'id="f-places-municipality-number-error"' in no_place.text


async def test_the_api_refuses_query_parameters_it_lacks_and_the_pages_ignore_them(
    web: Api,
) -> None:
    refused = await web.client.get(
        "/figures?period=2020&perid=2020", headers=web.auth("operations")
    )
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["query"]  # the name is not repeated
    assert "perid" not in refused.text
    await sign_in(web.client, "caseworker")
    page = await web.client.get("/app/queues/allocation?utm_source=mail")
    assert page.status_code == 200
