"""Running the API: its context from the settings, served by uvicorn until told to stop."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import structlog
import uvicorn

from workers.allocation.municipalities import MunicipalityRegister
from workers.allocation.suggestions import load_profiles
from workers.api.app import create_app
from workers.api.auth import TokenVerifier, dev_keys
from workers.api.deps import ApiContext
from workers.api.limits import Limits
from workers.api.web.oidc import Oidc
from workers.api.web.reader import DevSignIn, WebConfig, municipality_options
from workers.operations.heartbeat import beat_until
from workers.platform import db
from workers.platform.settings import Settings

log = structlog.get_logger("api")


class NoTokenKeys(Exception):
    """The API was started with nothing to verify tokens against."""


def token_keys(settings: Settings) -> Path:
    """The keys tokens are verified against: the identity provider's; the development key
    only when asked for by name."""
    if settings.api_jwks_file is not None:
        return settings.api_jwks_file
    if not settings.api_dev_tokens:
        raise NoTokenKeys(
            "api_jwks_file: required (BOSETTING_API_JWKS_FILE, the identity provider's "
            "keys); BOSETTING_API_DEV_TOKENS=true accepts development tokens instead"
        )
    return dev_keys(settings.keys_dir)[1]


def verifier_for(settings: Settings) -> TokenVerifier:
    jwks = token_keys(settings)
    if settings.api_jwks_file is None:
        log.warning("accepting development tokens", jwks=str(jwks))
    return TokenVerifier.from_file(jwks, issuer=settings.api_issuer, audience=settings.api_audience)


class WebMisconfigured(Exception):
    """The web app's sign-in settings contradict each other."""


def web_config(settings: Settings, municipalities: MunicipalityRegister) -> WebConfig:
    """How the web app signs people in, from the settings: the development role picker
    (only beside development tokens), the identity provider, or both."""
    dev = None
    if settings.web_dev_sign_in:
        if settings.api_jwks_file is not None or not settings.api_dev_tokens:
            raise WebMisconfigured(
                "web_dev_sign_in: needs api_dev_tokens on and no api_jwks_file (its tokens "
                "are signed with the development key)"
            )
        private, _ = dev_keys(settings.keys_dir)
        dev = DevSignIn(private, settings.api_issuer, settings.api_audience)
    oidc = None
    if settings.web_oidc_issuer:
        if not settings.web_oidc_client_id:
            raise WebMisconfigured("web_oidc_client_id: required with web_oidc_issuer")
        secret = settings.web_oidc_client_secret
        oidc = Oidc(
            issuer=settings.web_oidc_issuer,
            client_id=settings.web_oidc_client_id,
            client_secret=secret.get_secret_value() if secret else None,
            scope=settings.web_oidc_scope,
            redirect_url=settings.web_oidc_redirect_url,
        )
    return WebConfig(
        session_ttl=settings.web_session_ttl,
        dev_sign_in=dev,
        oidc=oidc,
        municipalities=municipality_options(municipalities, datetime.now(UTC).date()),
    )


API_PATIENCE_S = 3.0
"""A caller waits this long for an unavailable Temporal before a 503 (retry, same key); the
command-line and import wait a minute (the services' default)."""


def limits_of(settings: Settings) -> Limits:
    return Limits(
        max_body_bytes=settings.api_max_body_bytes,
        reads_per_caller=settings.api_rate_limit,
        long_polls_per_caller=settings.api_long_polls_per_caller,
        not_found_floor_s=settings.api_not_found_floor_s,
        storage=settings.api_rate_limit_storage,
    )


async def build_context(settings: Settings) -> tuple[ApiContext, Callable[[], Awaitable[None]]]:
    from workers.allocation.municipalities import configured as municipality_register
    from workers.platform.temporal import connect
    from workers.services.cases import CaseService
    from workers.services.places import PlacesService
    from workers.services.qualification import QualificationService

    await db.require_current(settings.register_url, db.REGISTER)
    await db.require_current(settings.projection_url, db.PROJECTION)
    client = await connect(settings)
    register_engine = db.make_engine(settings.register_url)
    projection_engine = db.make_engine(settings.projection_url)
    municipalities = municipality_register(settings)

    context = ApiContext(
        cases=CaseService(client, settings.task_queue, patience_s=API_PATIENCE_S),
        qualification=QualificationService(client, patience_s=API_PATIENCE_S),
        register=db.sessionmaker(register_engine),
        projection=db.sessionmaker(projection_engine),
        verifier=verifier_for(settings),
        geography=municipalities,
        places_on=settings.figures_places_on,
        places=PlacesService(
            client, settings.task_queue, municipalities, patience_s=API_PATIENCE_S
        ),
        stuck_after=settings.monitor_stuck_after,
        profiles=(
            load_profiles(settings.municipality_profiles_file)
            if settings.municipality_profiles_file
            else None
        ),
    )

    async def close() -> None:
        await register_engine.dispose()
        await projection_engine.dispose()

    return context, close


async def run_api(
    settings: Settings, stop: asyncio.Event, on_ready: Callable[[], None] | None = None
) -> None:
    # Built before serving, so what the API cannot start without (current schemas, Temporal)
    # is said in one line, not as the traceback of a failed lifespan.
    context, close = await build_context(settings)
    try:
        await serve(settings, context, stop, on_ready)
    finally:
        await close()


async def serve(
    settings: Settings,
    context: ApiContext,
    stop: asyncio.Event,
    on_ready: Callable[[], None] | None,
) -> None:
    from workers.allocation.municipalities import configured as municipality_register

    app = create_app(
        context,
        limits=limits_of(settings),
        web=web_config(settings, municipality_register(settings)),
    )
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.api_host,
            port=settings.api_port,
            log_config=None,  # our structlog handler renders uvicorn's records too
            access_log=False,
        )
    )
    serving = asyncio.create_task(server.serve(), name="uvicorn")
    while not server.started:
        if serving.done():
            await serving  # it failed to start: raise why
            return
        await asyncio.sleep(0.05)
    log.info("api ready", url=f"http://{settings.api_host}:{settings.api_port}")
    if on_ready is not None:
        on_ready()
    done = asyncio.Event()
    beating = asyncio.create_task(beat_until(context.register, "api", done))
    # uvicorn handles SIGINT and SIGTERM itself while it serves; either way ends both.
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopping.cancel()
    await serving
    done.set()
    await beating
