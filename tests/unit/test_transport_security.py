"""TLS and SASL settings reach every Kafka client and the Temporal client, as the options the
clients are built with; a wrong file or a half-set pair is refused at start. (Mutual TLS end
to end, through a TLS front before the real parts: tests/integration/test_transport_tls.py.)"""

import ssl

import pytest
from pydantic import ValidationError
from temporalio.service import TLSConfig

from tests.tls import make_pki
from workers.platform.kafka import client_security
from workers.platform.settings import Settings
from workers.platform.temporal import tls_config
from workers.projection.consumer import ProjectionConsumer


async def test_sasl_over_tls_verifies_the_brokers_and_sends_the_credentials(tmp_path):
    pki = make_pki(tmp_path)
    settings = Settings(
        kafka_security_protocol="SASL_SSL",
        kafka_ssl_cafile=pki.ca,
        kafka_ssl_certfile=pki.client_cert,
        kafka_ssl_keyfile=pki.client_key,
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="bosetting",
        kafka_sasl_password="s3cret",
    )
    options = client_security(settings)
    context = options.pop("ssl_context")
    assert (context.verify_mode, context.check_hostname) == (ssl.CERT_REQUIRED, True)
    assert options == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "bosetting",
        "sasl_plain_password": "s3cret",
    }
    consumer = ProjectionConsumer(
        None,  # type: ignore[arg-type]  # not started: only how it would connect
        bootstrap_servers="127.0.0.1:1",
        topic="t",
        group_id="g",
        security=client_security(settings),
    )
    assert consumer._consumer._client._security_protocol == "SASL_SSL"


def test_plaintext_is_the_default_and_adds_nothing():
    assert client_security(Settings()) == {"security_protocol": "PLAINTEXT"}


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": "u"}, "kafka_sasl_"),
        ({"kafka_ssl_certfile": "/x/cert.pem"}, "kafka_ssl_certfile and kafka_ssl_keyfile"),
        ({"temporal_tls_key_file": "/x/key.pem"}, "temporal_tls_cert_file and"),
    ],
)
def test_half_set_security_is_refused_naming_the_settings(given, named):
    with pytest.raises(ValidationError, match=named) as refused:
        Settings(**given)
    assert "/x/" not in str(refused.value)  # the rule, never the value


def test_a_missing_certificate_file_fails_at_start(tmp_path):
    settings = Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=tmp_path / "none.pem")
    with pytest.raises(FileNotFoundError):
        client_security(settings)


def test_temporal_gets_mutual_tls_when_asked(tmp_path):
    assert tls_config(Settings()) is False
    pki = make_pki(tmp_path)
    config = tls_config(
        Settings(
            temporal_tls=True,
            temporal_tls_ca_file=pki.ca,
            temporal_tls_cert_file=pki.client_cert,
            temporal_tls_key_file=pki.client_key,
        )
    )
    assert isinstance(config, TLSConfig)
    assert config.server_root_ca_cert == pki.ca.read_bytes()
    assert config.client_cert == pki.client_cert.read_bytes()
    assert config.client_private_key == pki.client_key.read_bytes()
