"""Kafka and Temporal over mutual TLS, end to end. Neither embedded part speaks TLS, so each
sits behind a TLS front (``tests/tls.py``) that demands a client certificate of the test CA:
the relay's sink and the projection's consumer reach the real broker, and a case worker and
the case service reach the real Temporal dev server, only through it, with the settings an
operator sets. A client without a certificate, with another CA's, trusting another CA, or
speaking plaintext is refused."""

import asyncio
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


async def test_the_relay_and_the_projection_reach_the_broker_over_mutual_tls(tmp_path: Path):
    pki = make_pki(tmp_path / "pki")
    inner, outer = free_port(), free_port()
    # The broker listens on `inner` and tells clients to come back through the front.
    broker = await asyncio.create_subprocess_exec(
        broker_binary(), "broker", "--listener-url", f"tcp://127.0.0.1:{inner}",
        "--advertised-listener-url", f"tcp://127.0.0.1:{outer}",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await eventually(lambda: port_open(f"127.0.0.1:{inner}"), within_s=30, what="broker")
        async with TlsFront(pki, outer, ("127.0.0.1", inner)).running() as front:
            mutual = {
                "kafka_security_protocol": "SSL",
                "kafka_ssl_cafile": pki.ca,
                "kafka_ssl_certfile": pki.client_cert,
                "kafka_ssl_keyfile": pki.client_key,
            }
            settings = kafka_settings(tmp_path, outer, **mutual)
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
                group_id="projection-tls",
                security=client_security(settings),
                seal=seal,
            )
            stop = asyncio.Event()
            running = asyncio.create_task(consumer.run(stop))
            try:
                await eventually(
                    lambda: consumer.applied == len(events) or running.done(),
                    within_s=60,
                    what="the projection to apply the events over TLS",
                )
            finally:
                stop.set()
                await running
            report = await waiting_time(
                db.sessionmaker(engine), date(2020, 1, 1), date(2020, 12, 31)
            )
            await engine.dispose()
            assert report.group("total").settled == 2
            assert front.relayed > 0

            refused = [
                {"kafka_security_protocol": "SSL", "kafka_ssl_cafile": pki.ca},  # no cert
                mutual | {"kafka_ssl_certfile": pki.stranger_cert,  # another CA's
                          "kafka_ssl_keyfile": pki.stranger_key},
                mutual | {"kafka_ssl_cafile": pki.stranger_cert},  # trusts another CA
                {},  # plaintext
            ]  # fmt: skip
            for options in refused:
                wrong = kafka_settings(tmp_path, outer, **options)
                with pytest.raises(KafkaConnectionError):
                    await asyncio.wait_for(provision_topics(wrong, "never-made"), 60)
    finally:
        broker.terminate()
        await asyncio.wait_for(broker.wait(), 30)


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
