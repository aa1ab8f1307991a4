"""Kafka and Temporal over mutual TLS, and Kafka with SASL/SCRAM over TLS, end to end.

Neither embedded part speaks TLS, so each sits behind a TLS front (``tests/tls.py``) that
demands a client certificate of the test CA; the embedded broker cannot be given SCRAM users,
so for SASL a SCRAM front (``tests/sasl.py``) stands between the TLS front and the broker. The
relay's sink and the projection's consumer reach the real broker, and a case worker and the
case service reach the real Temporal dev server, only through them, with the settings an
operator sets. A client without a certificate, with another CA's, trusting another CA,
speaking plaintext, with a wrong password, an unknown user or another mechanism is refused."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest
from aiokafka.errors import KafkaConnectionError
from sqlalchemy import func, select
from temporalio.service import RPCError

from activities.event_log import EventLogActivities
from schemas.envelope import to_kafka
from tests.factories import household
from tests.ports import free_port
from tests.sasl import SaslFront
from tests.stores.test_projection_apply import case_events
from tests.tls import TlsFront, make_pki
from tests.waiting import eventually
from workers.figures.queries import waiting_time
from workers.platform import db
from workers.platform.codec import new_key
from workers.platform.kafka import client_security, provision_topics, sink_connector
from workers.platform.register import EventLogRow
from workers.platform.settings import Settings
from workers.platform.temporal import connect
from workers.processes.case_worker import build_worker
from workers.processes.embedded import EmbeddedStack, broker_binary, port_open
from workers.projection.consumer import ProjectionConsumer
from workers.services.cases import CaseService

TOPIC = "bosetting.case-events.v1"


async def reach(settings: Settings) -> None:
    """Connect to Temporal and ask it something."""
    client = await connect(settings)
    await client.count_workflows()


def kafka_settings(tmp_path: Path, port: int, **tls: object) -> Settings:
    return Settings(
        state_dir=tmp_path,
        kafka_bootstrap_servers=f"127.0.0.1:{port}",
        kafka_partitions=2,
        topic_keys=f"k1={new_key()}",
        **tls,
    )


@contextlib.asynccontextmanager
async def broker_behind(outer: int) -> AsyncIterator[int]:
    """A broker that tells its clients to come back through a front on ``outer``; yields the
    port it listens on itself, for the front."""
    inner = free_port()
    broker = await asyncio.create_subprocess_exec(
        broker_binary(), "broker", "--listener-url", f"tcp://127.0.0.1:{inner}",
        "--advertised-listener-url", f"tcp://127.0.0.1:{outer}",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await eventually(lambda: port_open(f"127.0.0.1:{inner}"), within_s=30, what="broker")
        yield inner
    finally:
        broker.terminate()
        await asyncio.wait_for(broker.wait(), 30)


async def relay_and_project(tmp_path: Path, settings: Settings) -> None:
    """The relay's sink provisions the topic and sends a household's events; the projection's
    consumer group reads them back and the figures count them."""
    seal = settings.topic_seal()
    sink = await sink_connector(settings, TOPIC)()  # provisions, then produces
    events = case_events()
    try:
        await sink.send_all([to_kafka(e, seal=seal) for e in events])
    finally:
        await sink.close()

    url = f"sqlite+aiosqlite:///{tmp_path / 'projection.db'}"
    await db.upgrade(url, db.PROJECTION)
    engine = db.make_engine(url)
    consumer = ProjectionConsumer(
        db.sessionmaker(engine),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topic=TOPIC,
        group_id="projection-transport",
        security=client_security(settings),
        seal=seal,
    )
    stop = asyncio.Event()
    running = asyncio.create_task(consumer.run(stop))
    try:
        await eventually(
            lambda: consumer.applied == len(events) or running.done(),
            within_s=60,
            what="the projection to apply the events through the front",
        )
    finally:
        stop.set()
        await running
    report = await waiting_time(db.sessionmaker(engine), date(2020, 1, 1), date(2020, 12, 31))
    await engine.dispose()
    assert report.group("total").settled == 2


async def assert_refused(settings: Settings) -> None:
    with pytest.raises(KafkaConnectionError):
        await asyncio.wait_for(provision_topics(settings, "never-made"), 60)


async def test_the_relay_and_the_projection_reach_the_broker_over_mutual_tls(tmp_path: Path):
    pki = make_pki(tmp_path / "pki")
    outer = free_port()
    async with (
        broker_behind(outer) as inner,
        TlsFront(pki, outer, ("127.0.0.1", inner)).running() as front,
    ):
        mutual = {
            "kafka_security_protocol": "SSL",
            "kafka_ssl_cafile": pki.ca,
            "kafka_ssl_certfile": pki.client_cert,
            "kafka_ssl_keyfile": pki.client_key,
        }
        await relay_and_project(tmp_path, kafka_settings(tmp_path, outer, **mutual))
        assert front.relayed > 0

        for options in (
            {"kafka_security_protocol": "SSL", "kafka_ssl_cafile": pki.ca},  # no cert
            mutual | {"kafka_ssl_certfile": pki.stranger_cert,  # another CA's
                      "kafka_ssl_keyfile": pki.stranger_key},
            mutual | {"kafka_ssl_cafile": pki.stranger_cert},  # trusts another CA
            {},  # plaintext
        ):  # fmt: skip
            await assert_refused(kafka_settings(tmp_path, outer, **options))


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-512", "SCRAM-SHA-256"])
async def test_the_relay_and_the_projection_authenticate_to_the_broker_with_scram_over_tls(
    tmp_path: Path, mechanism: str
):
    """SASL_SSL as production runs it: TLS (server certificate checked against the CA), then
    SCRAM with the configured user, before any request but the version lookup reaches the
    broker."""
    pki = make_pki(tmp_path / "pki")
    outer, middle = free_port(), free_port()
    users = {"bosetting-relay": "correct horse battery staple"}
    async with (
        broker_behind(outer) as inner,
        SaslFront(middle, ("127.0.0.1", inner), users, mechanism).running() as sasl,
        TlsFront(pki, outer, ("127.0.0.1", middle)).running(),
    ):
        scram = {
            "kafka_security_protocol": "SASL_SSL",
            "kafka_ssl_cafile": pki.ca,
            "kafka_ssl_certfile": pki.client_cert,  # the front wants one; SCRAM is the point
            "kafka_ssl_keyfile": pki.client_key,
            "kafka_sasl_mechanism": mechanism,
            "kafka_sasl_username": "bosetting-relay",
            "kafka_sasl_password": "correct horse battery staple",
        }
        await relay_and_project(tmp_path, kafka_settings(tmp_path, outer, **scram))
        assert sasl.authenticated
        assert set(sasl.authenticated) == {"bosetting-relay"}
        assert sasl.refused == 0

        other = "SCRAM-SHA-256" if mechanism == "SCRAM-SHA-512" else "SCRAM-SHA-512"
        for options in (
            {"kafka_sasl_password": "wrong"},
            {"kafka_sasl_username": "someone-else"},
            {"kafka_sasl_mechanism": other},
            {"kafka_security_protocol": "SSL"},  # TLS without SASL
        ):
            before = sasl.refused
            await assert_refused(kafka_settings(tmp_path, outer, **(scram | options)))
            assert sasl.refused > before, options  # turned away by SCRAM, not by TLS


async def test_a_case_worker_and_the_case_service_reach_temporal_over_mutual_tls(
    tmp_path: Path,
):
    pki = make_pki(tmp_path / "pki")
    inner, outer = free_port(), free_port()
    plain = Settings(
        state_dir=tmp_path / "stack",
        temporal_address=f"127.0.0.1:{inner}",
        temporal_ui_port=free_port(),
    )
    stack = EmbeddedStack(plain)
    await stack.start(parts=("temporal",))
    try:
        async with TlsFront(pki, outer, ("127.0.0.1", inner), alpn=("h2",)).running() as front:
            settings = Settings(
                state_dir=tmp_path / "stack",
                temporal_address=f"127.0.0.1:{outer}",
                temporal_tls=True,
                temporal_tls_ca_file=pki.ca,
                temporal_tls_cert_file=pki.client_cert,
                temporal_tls_key_file=pki.client_key,
            )
            register = f"sqlite+aiosqlite:///{tmp_path / 'register.db'}"
            await db.upgrade(register, db.REGISTER)
            engine = db.make_engine(register)
            sessions = db.sessionmaker(engine)
            client = await connect(settings)
            worker = build_worker(
                client, settings.task_queue, EventLogActivities(sessions).record_case_events
            )
            async with worker:
                await CaseService(client, settings.task_queue).grant_permit(household("case-tls"))

                async def recorded() -> bool:
                    async with sessions() as session:
                        count = await session.scalar(
                            select(func.count()).where(EventLogRow.case_id == "case-tls")
                        )
                    return bool(count)

                await eventually(recorded, within_s=60, what="the permit recorded over TLS")
            await engine.dispose()
            assert front.relayed > 0

            for wrong in (
                {"temporal_tls_cert_file": None, "temporal_tls_key_file": None},  # no cert
                {"temporal_tls_cert_file": pki.stranger_cert,  # another CA's
                 "temporal_tls_key_file": pki.stranger_key},
                {"temporal_tls_ca_file": pki.stranger_cert},  # trusts another CA
                {"temporal_tls": False},  # plaintext
            ):  # fmt: skip
                with pytest.raises((RuntimeError, RPCError)):
                    await asyncio.wait_for(reach(settings.model_copy(update=wrong)), 60)
    finally:
        await stack.stop()
