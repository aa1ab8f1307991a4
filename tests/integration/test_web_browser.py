"""The web app in a real headless Chromium on the real embedded stack: one household from the
permit to settlement and the first step of an adult's qualification record, driven only
through the pages — by reception staff, a directorate caseworker and the municipality, each
signed in as themselves. axe-core checks every page for WCAG 2.1 A/AA violations; a
screenshot of each page is written to build/test-artifacts/web/ (not committed)."""

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from babel.dates import format_date

from tests.browser import CHROMIUM_FLAGS, chromium
from tests.integration.conftest import RunningStack, stack_settings, start_stack
from tests.waiting import eventually

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).parents[2] / "build" / "test-artifacts" / "web"
AXE = Path(os.environ.get("BOSETTING_TEST_AXE", "web/node_modules/axe-core/axe.min.js"))
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")) }));
}"""


TODAY = datetime.now(UTC).date()


def ago(days: int) -> str:
    """A business date ``days`` before today: the household's path is recent, so the adult's
    qualification record is live (a settlement long past opens none)."""
    return (TODAY - timedelta(days=days)).isoformat()


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RunningStack]:
    # As installed: today's municipalities are built in, no file to load.
    async for running in start_stack(stack_settings(tmp_path_factory.mktemp("web"))):
        yield running


class Browser:
    """One signed-in person's browser: their own context (cookies), pages checked by axe and
    photographed as they go."""

    def __init__(self, context: Any, base: str, who: str) -> None:
        self.context = context
        self.base = base
        self.who = who
        self.page: Any = None
        self.checked: list[str] = []
        self.refused_by_policy: list[str] = []

    async def open(self) -> None:
        self.page = await self.context.new_page()
        self.page.on(
            "console",
            lambda m: (
                self.refused_by_policy.append(m.text)
                if "Content Security Policy" in m.text
                else None
            ),
        )

    async def check(self, name: str) -> None:
        """No serious or critical WCAG 2.1 A/AA violation on the page as it is now, and a
        screenshot of it."""
        title = await self.page.title()
        assert title.endswith("– Bosetting"), title
        assert len(title) < 80, title  # a title, not a page
        violations = await self.page.evaluate(RUN_AXE, WCAG)
        assert violations == [], f"{self.who} on {name}: {violations}"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        # and the part a reader sees first, small: the README's pictures are copies of these
        await self.page.screenshot(path=str(ARTIFACTS / f"{name}-view.png"))
        self.checked.append(name)

    async def goto(self, path: str) -> None:
        await self.page.goto(self.base + path)

    async def sign_in(self, role: str, subject: str, place: str = "") -> None:
        await self.goto("/app")
        assert "/app/sign-in" in self.page.url
        await self.page.select_option("#f-role", role)
        await self.page.fill("#f-subject", subject)
        await self.page.fill("#f-place", place)
        async with self.page.expect_navigation():
            await self.page.click("form[action='/app/sign-in/dev'] button[type=submit]")
        if "/app/purpose" in self.page.url:
            await self.page.fill("#f-purpose", "settling the household in the journey test")
            async with self.page.expect_navigation():
                await self.page.click("main button[type=submit]")

    async def act(
        self,
        step: str,
        fields: dict[str, str],
        *,
        select: dict[str, str] | None = None,
        refused: bool = False,
    ) -> None:
        """Open an action on the page, fill its form by the labels' ids, send it; unless
        ``refused``, the page after it must say it was registered."""
        details = self.page.locator(f"#action-{step}")
        if await details.get_attribute("open") is None:
            await details.locator("summary").click()
        for name, value in fields.items():
            await self.page.fill(f"#f-{step}-{name.replace('_', '-')}", value)
        for name, value in (select or {}).items():
            await self.page.select_option(f"#f-{step}-{name.replace('_', '-')}", value)
        async with self.page.expect_navigation():
            await details.locator("button[type=submit]").click()
        if not refused:
            summary = self.page.locator("#error-summary")
            assert not await summary.count(), await summary.inner_text()
            assert "done=" in self.page.url, await self.page.locator("main").inner_text()


async def test_a_household_is_settled_through_the_pages_alone(stack: RunningStack) -> None:
    from playwright.async_api import async_playwright, expect

    browser_path = chromium()
    assert AXE.exists(), f"{AXE} is missing: make test installs it (web/package.json)"  # noqa: ASYNC240
    base = f"http://{stack.settings.api_host}:{stack.settings.api_port}"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=browser_path, args=CHROMIUM_FLAGS
        )
        people: list[Browser] = []

        async def person(who: str) -> Browser:
            context = await browser.new_context(
                locale="nb-NO", viewport={"width": 960, "height": 720}
            )
            await context.add_init_script(path=str(AXE))
            found = Browser(context, base, who)
            await found.open()
            people.append(found)
            return found

        try:
            # -- Oslo registers its council's decision on places --------------------------
            oslo = await person("oslo")
            await oslo.sign_in("municipality", "oslo-1", "0301")
            allocation_year = ago(40)[:4]
            await oslo.goto(f"/app/places?year={allocation_year}")
            await oslo.check("places-before")
            await oslo.act(
                "places",
                {
                    "decided_on": f"{allocation_year}-01-02",
                    "requested": "20",
                    "decided": "20",
                },
            )
            await expect(oslo.page.locator("#places tr[data-municipality='0301']")).to_contain_text(
                "20"
            )

            # -- the caseworker registers the permit: a new case ----------------------------
            caseworker = await person("caseworker")
            await caseworker.goto("/app")
            await caseworker.check("sign-in")
            # Keyboard first: the first Tab reaches the skip link.
            await caseworker.page.keyboard.press("Tab")
            focused = await caseworker.page.evaluate("() => document.activeElement.className")
            assert "ds-skip-link" in focused
            await caseworker.sign_in("caseworker", "imdi-saksbehandler-1")
            await expect(caseworker.page.locator("h1")).to_have_text("Venter på tildeling")
            await caseworker.goto("/app/cases/new")
            await caseworker.check("new-case")
            page = caseworker.page
            await page.fill("#f-case-id", "case-web-1")
            await page.select_option("#f-case-type", "reception")
            await page.fill("#f-permit-date", ago(70))
            await page.fill("#f-reception-centre", "mottak-1")
            await page.fill("#f-persons-0-person-id", "case-web-1-p0")
            await page.fill("#f-persons-0-birth-date", "1990-03-04")
            await page.fill("#f-persons-1-person-id", "case-web-1-p1")
            await page.fill("#f-persons-1-birth-date", "2016-07-08")
            async with page.expect_navigation():
                await page.click("main form button[type=submit]")
            assert page.url.endswith("/app/cases/case-web-1?done=permit"), await page.locator(
                "main"
            ).inner_text()
            await expect(page.locator("#stage")).to_have_text("Oppholdstillatelse gitt")
            await caseworker.check("case-permit")

            # -- reception staff find it in their queue and hold the interview --------------
            reception = await person("reception")
            await reception.sign_in("reception", "mottak-ansatt-1", "mottak-1")
            await expect(reception.page.locator("h1")).to_have_text("Mottakets husstander")
            await expect(reception.page.locator("#queue")).to_contain_text("case-web-1")
            await reception.check("queue-reception")
            async with reception.page.expect_navigation():
                await reception.page.click("#queue a:text('case-web-1')")
            await reception.act("settlement-interview", {"held_on": ago(60)})
            await expect(reception.page.locator("#stage")).to_have_text("Klar for bosetting")
            await expect(reception.page.locator("#timeline")).to_contain_text(
                "Bosettingssamtale holdt"
            )
            await reception.check("case-ready")

            # -- the caseworker allocates it to Oslo ------------------------------------
            await caseworker.goto("/app/queues/allocation")
            await expect(caseworker.page.locator("#queue")).to_contain_text("case-web-1")
            await caseworker.check("queue-allocation")
            async with caseworker.page.expect_navigation():
                await caseworker.page.click("#queue a:text('case-web-1')")
            await caseworker.act(
                "allocation", {"allocated_on": ago(40)}, select={"municipality-number": "0301"}
            )
            await expect(caseworker.page.locator("#stage")).to_have_text("Tildelt en kommune")

            # -- another municipality typing the case's address sees "not found" ---------
            bergen = await person("bergen")
            await bergen.sign_in("municipality", "bergen-1", "4601")
            await bergen.goto("/app/cases/case-web-1")
            await expect(bergen.page.locator("h1")).to_have_text("Fant ikke siden")
            await bergen.check("not-found")

            # -- Oslo answers from its inbox, then settles the household -----------------
            await oslo.goto("/app/queues/inbox")
            await expect(oslo.page.locator("#queue")).to_contain_text("case-web-1")
            await oslo.check("queue-inbox")
            async with oslo.page.expect_navigation():
                await oslo.page.click("#queue a:text('case-web-1')")
            assert "case-web-1-p0" not in await oslo.page.content()  # the profile only
            await oslo.check("case-profile")
            await oslo.act("acceptance", {"accepted_on": ago(35)})
            await expect(oslo.page.locator("#stage")).to_have_text("Kommunen har takket ja")
            await expect(oslo.page.locator("#household")).to_contain_text("case-web-1-p0")
            await oslo.act("settlement-plan", {"planned-on": ago(20), "registered-on": ago(34)})
            # A date in the future is refused by the case's rule, at its field.
            await oslo.act(
                "settlements",
                {
                    "settlements-0-settled-on": "2099-03-01",
                    "settlements-1-settled-on": ago(20),
                },
                refused=True,
            )
            error = oslo.page.locator("#f-settlements-settlements-0-settled-on-error")
            await expect(error).to_have_text("kan ikke være fram i tid")
            field = oslo.page.locator("#f-settlements-settlements-0-settled-on")
            assert await field.get_attribute("aria-invalid") == "true"
            assert await field.get_attribute("aria-describedby") == (
                "f-settlements-settlements-0-settled-on-error"
            )
            await expect(oslo.page.locator("#error-summary")).to_be_visible()
            await expect(oslo.page.locator("#stage")).to_have_text("Kommunen har takket ja")
            await oslo.check("case-refused")
            await oslo.act(
                "settlements",
                {
                    "settlements-0-settled-on": ago(20),
                    "settlements-1-settled-on": ago(20),
                },
            )
            await expect(oslo.page.locator("#stage")).to_have_text("Bosatt")
            await oslo.check("case-settled")

            # -- the adult's qualification record and its first step ---------------------
            await oslo.page.click("#household a[href='/app/persons/case-web-1-p0']")

            async def record_opened() -> bool:
                # The record starts when the person is settled; until the register has it, the
                # page says "not found", as the API does.
                if await oslo.page.locator("#record").count():
                    return True
                await oslo.page.reload()
                return False

            await eventually(record_opened, within_s=30, what="the qualification record")
            await expect(oslo.page.locator("h1")).to_contain_text("case-web-1-p0")
            await oslo.check("qualification")
            await oslo.act("mapping", {"mapped_on": ago(10)})
            mapped = format_date(TODAY - timedelta(days=10), format="d. MMMM y", locale="nb")
            await expect(oslo.page.locator("#record")).to_contain_text(mapped)
            await oslo.check("qualification-mapped")

            # -- places and figures, in the same look ------------------------------------
            await oslo.goto(f"/app/places?year={allocation_year}")
            await expect(oslo.page.locator("#places tr[data-municipality='0301']")).to_be_visible()
            await oslo.check("places")
            await caseworker.goto(f"/app/figures?period={ago(20)[:4]}")
            await expect(caseworker.page.locator("#figures")).to_be_visible()
            await caseworker.check("figures")

            # -- zoom to 200 %: the queue reflows, nothing scrolls sideways --------------
            await caseworker.page.set_viewport_size({"width": 640, "height": 800})
            await caseworker.goto("/app/queues/allocation")
            overflow = await caseworker.page.evaluate(
                "() => document.documentElement.scrollWidth - window.innerWidth"
            )
            assert overflow <= 0
            await caseworker.check("queue-at-200-percent")

            # -- signing out ends the session ---------------------------------------------
            async with oslo.page.expect_navigation():
                await oslo.page.click("header form[action='/app/sign-out'] button")
            await oslo.goto("/app/queues/inbox")
            assert "/app/sign-in" in oslo.page.url

            for someone in people:
                assert someone.refused_by_policy == [], someone.refused_by_policy
        finally:
            await browser.close()
