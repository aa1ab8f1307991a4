"""The API over fakes of our own ports (the case and qualification services), with real
SQLite stores, real signed tokens and real HTTP handling (httpx over ASGI)."""

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from uuid import uuid4

import httpx
import pytest

from schemas.commands import Command, GrantPermit, PersonRecord
from schemas.enums import CaseStage, CaseType, Role
from schemas.errors import OUT_OF_ORDER, CaseNotFound, CommandRejected
from schemas.places import PlacesLedger, RecordPlacesDecision
from schemas.qualification import (
    NorwegianRight,
    ProgrammeRight,
    QualificationResult,
    QualificationState,
)
from schemas.state import CaseState, CommandResult
from tests.factories import Counties
from workers.api.app import create_app
from workers.api.auth import Principal, TokenVerifier, dev_keys, mint
from workers.api.deps import ApiContext
from workers.api.limits import CallerLimits, Limits
from workers.api.web.reader import DevSignIn, WebConfig
from workers.platform import db

ISSUER, AUDIENCE = "urn:bosetting:test", "bosetting-api"
TEST_LIMITS = Limits(reads_per_caller="100000/minute", not_found_floor_s=0.01)
"""Roomy limits for the tests of everything else; test_abuse.py tests the limits."""


def case(
    case_id: str,
    *,
    centre: str | None,
    municipality: str | None = None,
    accepted: bool = False,
    protected: bool = False,
    stage: CaseStage = CaseStage.SETTLEMENT_READY,
) -> CaseState:
    return CaseState(
        case_id=case_id,
        case_type=CaseType.RECEPTION,
        stage=stage,
        permit_date=date(2020, 3, 2),
        persons=[
            PersonRecord(person_id=f"{case_id}-p0", birth_date=date(1985, 5, 1)),
            PersonRecord(
                person_id=f"{case_id}-p1", birth_date=date(2012, 9, 1), protected_identity=protected
            ),
        ],
        reception_centre=centre,
        municipality_number=municipality,
        allocated_on=date(2020, 5, 1) if municipality else None,
        accepted_on=date(2020, 5, 10) if accepted else None,
        target_months=6,
        target_date=date(2020, 9, 2),
    )


CASES = {
    c.case_id: c
    for c in (
        case("case-a-ready", centre="centre-a"),
        case("case-a-offered", centre="centre-a", municipality="0301"),
        case("case-a-allocated", centre="centre-a", municipality="0301", stage=CaseStage.ALLOCATED),
        case("case-a-accepted", centre="centre-a", municipality="0301", accepted=True),
        case(
            "case-a-protected",
            centre="centre-a",
            municipality="0301",
            accepted=True,
            protected=True,
        ),
        case("case-b-accepted", centre="centre-b", municipality="4601", accepted=True),
    )
}
RECORDS = {
    "case-a-accepted-p0": "0301",
    "case-b-accepted-p0": "4601",
    "case-a-protected-p0": "0301",
}
PROTECTED_RECORDS = {"case-a-protected-p0"}
"""An adult whose household has a protected member: their record says where it lives."""


@dataclass
class FakeCases:
    """Our case-service port: answers from a table, remembers what it was sent."""

    sent: list[tuple[str, Command]] = field(default_factory=list)
    opened: list[GrantPermit] = field(default_factory=list)
    out_of_order: set[str] = field(default_factory=set)

    async def grant_permit(self, cmd: GrantPermit) -> None:
        self.opened.append(cmd)

    async def execute(self, case_id: str, cmd: Command) -> CommandResult:
        if case_id in self.out_of_order:
            raise CommandRejected("not now", reason=OUT_OF_ORDER, stage=CASES[case_id].stage)
        self.sent.append((case_id, cmd))
        return CommandResult(case_id=case_id, stage=CASES[case_id].stage, event_ids=[uuid4()])

    async def state(self, case_id: str) -> CaseState:
        if case_id not in CASES:
            raise CaseNotFound(case_id)
        return CASES[case_id]


@dataclass
class FakeQualification:
    sent: list[tuple[str, Command]] = field(default_factory=list)

    async def execute(self, person_id: str, cmd: Command) -> QualificationResult:
        self.sent.append((person_id, cmd))
        return QualificationResult(person_id=person_id, event_ids=[uuid4()])

    async def state(self, person_id: str) -> QualificationState:
        if person_id not in RECORDS:
            raise CaseNotFound(person_id)
        return QualificationState(
            case_id=person_id.rsplit("-", 1)[0],
            person_id=person_id,
            municipality_number=RECORDS[person_id],
            case_type=CaseType.RECEPTION,
            rules="introduction_act",
            programme_right=ProgrammeRight.RIGHT_AND_OBLIGATION,
            norwegian_right=NorwegianRight.RIGHT_AND_OBLIGATION,
            permit_date=date(2020, 3, 2),
            settled_on=date(2020, 6, 1),
            programme_start_due=date(2020, 9, 1),
            norwegian_start_due=date(2020, 9, 1),
            norwegian_completion_due=None,
            protected=person_id in PROTECTED_RECORDS,
        )


@dataclass
class FakePlaces:
    """Our places port: the ledgers of a year, as given."""

    by_year: dict[int, list[PlacesLedger]] = field(default_factory=dict)
    decided: list[tuple[str, int, RecordPlacesDecision]] = field(default_factory=list)

    async def ledgers(self, year: int) -> list[PlacesLedger]:
        return self.by_year.get(year, [])

    async def ledger(self, municipality_number: str, year: int) -> PlacesLedger:
        found = [
            x for x in self.by_year.get(year, []) if x.municipality_number == municipality_number
        ]
        return (
            found[0] if found else PlacesLedger(municipality_number=municipality_number, year=year)
        )

    async def record_decision(
        self, municipality_number: str, year: int, decision: RecordPlacesDecision
    ) -> PlacesLedger:
        self.decided.append((municipality_number, year, decision))
        ledger = PlacesLedger(municipality_number=municipality_number, year=year, decision=decision)
        year_ledgers = self.by_year.setdefault(year, [])
        year_ledgers[:] = [x for x in year_ledgers if x.municipality_number != municipality_number]
        year_ledgers.append(ledger)
        return ledger


PRINCIPALS = {
    "reception-a": Principal(subject="staff-a", role=Role.RECEPTION, reception_centre="centre-a"),
    "reception-b": Principal(subject="staff-b", role=Role.RECEPTION, reception_centre="centre-b"),
    "caseworker": Principal(subject="imdi-1", role=Role.CASEWORKER),
    "caseworker-cleared": Principal(subject="imdi-2", role=Role.CASEWORKER, cleared=True),
    "oslo": Principal(subject="oslo-1", role=Role.MUNICIPALITY, municipality_number="0301"),
    "bergen": Principal(subject="bergen-1", role=Role.MUNICIPALITY, municipality_number="4601"),
    "operations": Principal(subject="ops-1", role=Role.OPERATIONS),
    "administrator": Principal(subject="admin-1", role=Role.ADMINISTRATOR, cleared=True),
}


@dataclass
class Api:
    client: httpx.AsyncClient
    cases: FakeCases
    qualification: FakeQualification
    context: ApiContext
    tokens: dict[str, str]
    private_key: Path
    guard: CallerLimits

    def auth(self, who: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}", **headers}


@pytest.fixture(scope="session")
async def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both stores migrated once; each test gets a copy."""
    path = tmp_path_factory.mktemp("api") / "migrated.db"
    url = f"sqlite+aiosqlite:///{path}"
    await db.upgrade(url, db.REGISTER)
    await db.upgrade(url, db.PROJECTION)
    return path


def _copy_stores(migrated: Path, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(migrated, folder / "api.db")


@asynccontextmanager
async def open_api(
    folder: Path,
    migrated: Path,
    places: FakePlaces | None = None,
    limits: Limits | None = None,
    *,
    dev_sign_in: bool = False,
    base_url: str = "http://api",
) -> AsyncIterator[Api]:
    """The API over a copy of the migrated stores in ``folder``."""
    _copy_stores(migrated, folder)
    engine = db.make_engine(f"sqlite+aiosqlite:///{folder / 'api.db'}")
    private, jwks = dev_keys(folder / "keys")
    cases, qualification = FakeCases(), FakeQualification()
    sessions = db.sessionmaker(engine)
    context = ApiContext(
        cases=cases,
        qualification=qualification,
        register=sessions,
        projection=sessions,
        verifier=TokenVerifier.from_file(jwks, issuer=ISSUER, audience=AUDIENCE),
        geography=Counties(lambda number: "Oslo" if number == "0301" else "Vestland"),
        places=places,
    )
    tokens = {
        name: mint(private, issuer=ISSUER, audience=AUDIENCE, principal=p)
        for name, p in PRINCIPALS.items()
    }
    web = WebConfig(
        dev_sign_in=DevSignIn(private, ISSUER, AUDIENCE) if dev_sign_in else None,
        municipalities=[("0301", "0301 Oslo"), ("4601", "4601 Bergen")],
    )
    app = create_app(context, limits=limits or TEST_LIMITS, web=web)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url=base_url) as client:
            yield Api(client, cases, qualification, context, tokens, private, app.state.guard)
    finally:
        await engine.dispose()


@pytest.fixture
async def api(tmp_path: Path, migrated: Path) -> AsyncIterator[Api]:
    async with open_api(tmp_path, migrated) as opened:
        yield opened
