"""The API over our fake ports, served by uvicorn on loopback, for schemathesis to call over
real HTTP: ``python -m tests.api.fake_server <port> <state dir>``. Prints the token of a
cleared administrator on its first line once it serves."""

import asyncio
import sys
from pathlib import Path

import uvicorn

from schemas.enums import Role
from tests.factories import Counties
from tests.waiting import eventually
from workers.api.app import create_app
from workers.api.auth import Principal, TokenVerifier, dev_keys, mint
from workers.api.deps import ApiContext
from workers.api.limits import Limits
from workers.platform import db

from .conftest import AUDIENCE, ISSUER, FakeCases, FakePlaces, FakeQualification

# The fuzzer checks answers against the document, hundreds a second: the caller limits are
# tested on their own (test_abuse.py), and would only turn its calls into 429s here.
FUZZ_LIMITS = Limits(reads_per_caller="1000000/minute", not_found_floor_s=0)


async def main(port: int, state: Path) -> None:
    url = f"sqlite+aiosqlite:///{state / 'fake.db'}"
    await db.upgrade(url, db.REGISTER)
    await db.upgrade(url, db.PROJECTION)
    engine = db.make_engine(url)
    private, jwks = dev_keys(state / "keys")
    sessions = db.sessionmaker(engine)
    context = ApiContext(
        cases=FakeCases(),
        qualification=FakeQualification(),
        register=sessions,
        projection=sessions,
        verifier=TokenVerifier.from_file(jwks, issuer=ISSUER, audience=AUDIENCE),
        geography=Counties(lambda number: "Oslo"),
        places=FakePlaces(),
    )
    admin = Principal(subject="fuzz-admin", role=Role.ADMINISTRATOR, cleared=True)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(context, limits=FUZZ_LIMITS),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    serving = asyncio.create_task(server.serve())
    # uvicorn offers no event for it.
    await eventually(lambda: server.started, within_s=30, what="the API server to start")
    print(mint(private, issuer=ISSUER, audience=AUDIENCE, principal=admin), flush=True)
    await serving
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), Path(sys.argv[2])))
