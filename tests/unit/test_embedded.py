import socket

import pytest

from workers.platform.codec import new_key
from workers.platform.settings import Settings
from workers.processes.embedded import StackError, check_port_free, settings_env


def test_a_taken_port_is_a_clear_error_naming_the_setting():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(StackError) as caught:
            check_port_free(f"127.0.0.1:{port}", "temporal_address")
    message = str(caught.value)
    assert f"port {port}" in message
    assert "BOSETTING_TEMPORAL_ADDRESS" in message


def test_children_see_the_same_settings(tmp_path):
    settings = Settings(state_dir=tmp_path, kafka_partitions=9, kafka_idempotent_producer=True)
    env = settings_env(settings)
    assert env["BOSETTING_KAFKA_PARTITIONS"] == "9"
    assert env["BOSETTING_KAFKA_IDEMPOTENT_PRODUCER"] == "true"
    assert env["BOSETTING_STATE_DIR"] == str(tmp_path.resolve())
    assert Settings(
        _env_file=None, **{k.removeprefix("BOSETTING_").lower(): v for k, v in env.items()}
    ) == Settings(_env_file=None, **settings.model_dump() | {"state_dir": tmp_path.resolve()})


def test_children_get_the_secrets_themselves_not_their_masks(tmp_path):
    keys = f"k1={new_key()}"
    settings = Settings(
        state_dir=tmp_path,
        topic_keys=keys,
        payload_keys=keys,
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="bosetting",
        kafka_sasl_password="s3cret",
    )
    env = settings_env(settings)
    assert env["BOSETTING_TOPIC_KEYS"] == keys
    assert env["BOSETTING_PAYLOAD_KEYS"] == keys
    assert env["BOSETTING_KAFKA_SASL_PASSWORD"] == "s3cret"


def test_dev_up_on_a_taken_port_prints_the_error_without_a_traceback(tmp_path):
    import os
    import subprocess
    import sys

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        env = {
            **os.environ,
            "BOSETTING_STATE_DIR": str(tmp_path),
            "BOSETTING_TEMPORAL_ADDRESS": f"127.0.0.1:{port}",
        }
        out = subprocess.run(
            [sys.executable, "-m", "workers.cli.main", "dev", "up"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert out.returncode == 1
    assert f"port {port}" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
