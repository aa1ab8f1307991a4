"""All configuration, from environment variables prefixed ``BOSETTING_`` (or a ``.env`` file).

Every address and path can point at external infrastructure instead of the embedded stack:
a Temporal cluster, Apache Kafka, PostgreSQL."""

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from workers.platform.codec import TopicSeal


class CannotStart(RuntimeError):
    """What a process needs before it runs and the operator must give it (a setting, a
    schema upgrade): said in one line, without a traceback."""


def port_taken(host: str, port: int, setting: str) -> str:
    """What to say when a port a setting names cannot be listened on."""
    return (
        f"port {port} on {host} is already in use, so {setting} cannot be served there; "
        f"stop whatever holds it or set BOSETTING_{setting.upper()} to another port"
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOSETTING_",
        env_file=".env",
        extra="ignore",
        hide_input_in_errors=True,  # database URLs and keys hold secrets
    )

    state_dir: Path = Field(Path(".bosetting"), description="Files of the embedded stack.")

    temporal_address: str = Field("127.0.0.1:7233", description="Temporal frontend host:port.")
    temporal_namespace: str = "default"
    task_queue: str = Field("settlement-cases", description="Task queue of the case worker.")
    temporal_tls: bool = Field(False, description="Connect to Temporal over TLS.")
    temporal_tls_ca_file: Path | None = Field(
        None, description="CA that signed Temporal's server certificate (default: system CAs)."
    )
    temporal_tls_cert_file: Path | None = Field(
        None, description="Client certificate for mutual TLS to Temporal."
    )
    temporal_tls_key_file: Path | None = Field(None, description="Its private key.")
    payload_keys: SecretStr | None = Field(
        None,
        description="Encrypt Temporal payloads: id=<base64 of 32 bytes>,… (the first "
        "encrypts, all decrypt; see workers/platform/codec.py). Every process that talks to "
        "Temporal needs the same keys.",
    )

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_topic: str = "bosetting.case-events.v1"
    topic_keys: SecretStr | None = Field(
        None,
        description="Seal the data of every case event on the case-events topic: "
        "id=<base64 of 32 bytes>,… (the first seals, all open). Required by the case worker "
        "and the projection; the embedded stack makes its own (state_dir/keys).",
    )
    kafka_partitions: int = Field(6, ge=1, description="Partitions when the topic is created.")
    kafka_replication_factor: int = Field(1, ge=1)
    kafka_idempotent_producer: bool = Field(
        False, description="Turn on for Apache Kafka; the embedded broker refuses it."
    )
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT",
        description="How every Kafka client connects: SSL or SASL_SSL in production (the "
        "case-events topic carries where households are allocated).",
    )
    kafka_ssl_cafile: Path | None = Field(None, description="CA bundle that signed the brokers.")
    kafka_ssl_certfile: Path | None = Field(None, description="Client certificate (mutual TLS).")
    kafka_ssl_keyfile: Path | None = Field(None, description="Its private key.")
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None

    register_database_url: str | None = Field(
        None,
        description="Event log (system of record). Default: SQLite file in state_dir. "
        "PostgreSQL: postgresql+asyncpg://user:pw@host/db",
    )
    projection_database_url: str | None = Field(
        None, description="Read model of the projection. Default: SQLite file in state_dir."
    )
    projection_group_id: str = "bosetting-projection"
    feed_group_id: str = Field(
        "bosetting-municipality-feed", description="Consumer group of the municipality feed."
    )
    kafka_feed_topic: str = Field(
        "bosetting.municipality-events.v1",
        description="The municipality feed's topic, keyed by municipality number.",
    )
    kafka_alerts_topic: str = Field(
        "bosetting.alerts.v1",
        description="The monitor's alert events (CloudEvents), keyed by check.",
    )
    projection_metrics_port: int = Field(
        9464,
        ge=0,
        description="Prometheus /metrics of each projection process (its own work: events "
        "applied, batch time); 0 turns it off.",
    )
    projection_metrics_interval_s: float = Field(
        15.0, gt=0, description="How often the monitor recomputes the figures' gauges."
    )

    municipality_classification_file: Path | None = Field(
        None, description="JSON Lines of a newer municipality structure (see municipalities.py)."
    )
    municipality_classification_valid_from: date | None = None
    figures_places_on: Literal["period_end", "settlement_date"] = Field(
        "period_end",
        description="A breakdown by municipality or county names each settlement's place in "
        "the structure in force at the end of the period (a reform inside the period is "
        "reported in the new structure), or on its settlement date.",
    )
    municipality_profiles_file: Path | None = Field(
        None,
        description="JSON Lines of municipality profiles for allocation suggestions "
        "(see workers/allocation/suggestions.py).",
    )

    metrics_host: str = Field(
        "127.0.0.1",
        description="Address the Prometheus endpoints (projection, case worker, monitor) bind "
        "to; 0.0.0.0 in a container, where the scraper is another host.",
    )
    worker_metrics_port: int = Field(
        9466,
        ge=0,
        le=65535,
        description="The Temporal SDK's metrics of the case worker on 127.0.0.1; 0 turns it off.",
    )
    monitor_port: int = Field(
        9465, ge=1, le=65535, description="The monitor's /metrics and /health on 127.0.0.1."
    )
    monitor_interval_s: float = Field(5.0, gt=0, description="How often the monitor looks.")
    monitor_stuck_after: timedelta = Field(
        timedelta(days=30),
        description="An open case that took no step for this long is stuck (wall-clock; "
        "ISO 8601 like P30D, or seconds).",
    )
    api_host: str = Field("127.0.0.1", description="Address the HTTP API binds to.")
    api_port: int = Field(8000, ge=1, le=65535, description="Port of the HTTP API.")
    api_issuer: str = Field(
        "urn:bosetting:dev", description="Accepted token issuer (iss): the identity provider."
    )
    api_audience: str = Field("bosetting-api", description="Accepted token audience (aud).")
    api_jwks_file: Path | None = Field(
        None,
        description="The identity provider's public keys (JWKS JSON). Required unless "
        "api_dev_tokens is on.",
    )
    api_dev_tokens: bool = Field(
        False,
        description="Accept tokens signed with the embedded stack's development key "
        "(state_dir/keys, made on first use) when no JWKS file is set. The embedded stack "
        "turns it on; never in production.",
    )
    api_max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body; refused with 413 before parsing."
    )
    api_rate_limit: str = Field(
        "600/minute",
        description="Requests per caller (token subject), e.g. 600/minute; over it, 429.",
    )
    api_rate_limit_storage: str = Field(
        "memory://",
        description="Where the rate limit counts (the limits library's URI): memory:// per "
        "process, or a shared redis:// for several replicas.",
    )
    api_long_polls_per_caller: int = Field(
        4, ge=1, description="Feed requests with wait that one caller may hold open at once."
    )
    api_not_found_floor_s: float = Field(
        0.2,
        ge=0,
        description="Least time a 'not found' of a case or record takes, so that timing tells "
        "nothing of objects outside one's scope.",
    )

    web_dev_sign_in: bool = Field(
        False,
        description="The web app's development role picker: mints a development token for a "
        "chosen role and scope. Needs api_dev_tokens; `bosetting dev up` turns both on; never "
        "in production.",
    )
    web_oidc_issuer: str | None = Field(
        None,
        description="The identity provider's issuer URL; its discovery document "
        "(/.well-known/openid-configuration) gives the endpoints for signing in "
        "(authorization code with PKCE).",
    )
    web_oidc_client_id: str | None = Field(
        None, description="The web app's client id at the identity provider."
    )
    web_oidc_client_secret: SecretStr | None = Field(
        None, description="The client secret, for a confidential client (none: a public one)."
    )
    web_oidc_scope: str = Field(
        "openid", description="Scopes asked for at sign-in (space-separated)."
    )
    web_oidc_redirect_url: str | None = Field(
        None,
        description="The callback URL registered at the provider, if the app is reached "
        "through a proxy (default: the app's own /app/sign-in/callback).",
    )
    web_session_ttl: timedelta = Field(
        timedelta(hours=8),
        description="How long a web session lasts (ISO 8601 like PT8H, or seconds).",
    )

    tracing_exporter: Literal["none", "otlp", "file"] = Field(
        "none",
        description="Where OpenTelemetry spans go: nowhere (logs still carry trace ids), OTLP "
        "over HTTP (OTEL_EXPORTER_OTLP_ENDPOINT), or JSON lines in state_dir/traces/.",
    )
    log_format: Literal["auto", "console", "json"] = "auto"
    log_level: str = "INFO"

    # Embedded stack only.
    temporal_ui_port: int = 8233
    temporal_db_file: Path | None = Field(
        None, description="Dev server's SQLite file; default state_dir/temporal.db"
    )

    @model_validator(mode="after")
    def _transport_security_whole(self) -> "Settings":
        if self.kafka_security_protocol.startswith("SASL") and not (
            self.kafka_sasl_mechanism and self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(
                "kafka_security_protocol: SASL needs kafka_sasl_mechanism, kafka_sasl_username "
                "and kafka_sasl_password"
            )
        if (self.kafka_ssl_certfile is None) != (self.kafka_ssl_keyfile is None):
            raise ValueError("kafka_ssl_certfile and kafka_ssl_keyfile: set both, or neither")
        if (self.temporal_tls_cert_file is None) != (self.temporal_tls_key_file is None):
            raise ValueError(
                "temporal_tls_cert_file and temporal_tls_key_file: set both, or neither"
            )
        return self

    @field_validator("payload_keys", "topic_keys")
    @classmethod
    def _keys_parse(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None:
            from workers.platform.codec import parse_keys

            # names the rule; never echoes a key
            parse_keys(value.get_secret_value(), str(info.field_name))
        return value

    def topic_seal(self) -> "TopicSeal":
        """The seal of the case-events topic: a process that writes or reads it does not run
        without one (the topic says where households live, protected ones too)."""
        from workers.platform.codec import TopicSeal, parse_keys

        if self.topic_keys is None:
            raise CannotStart(
                "topic_keys is not set: case events are sealed on the topic; make a key with "
                "`bosetting payload-key` and set BOSETTING_TOPIC_KEYS=k1=<key> in every case "
                "worker and projection"
            )
        return TopicSeal(parse_keys(self.topic_keys.get_secret_value(), "topic_keys"))

    @property
    def register_url(self) -> str:
        return self.register_database_url or _sqlite(self.state_dir / "register.db")

    @property
    def projection_url(self) -> str:
        return self.projection_database_url or _sqlite(self.state_dir / "projection.db")

    @property
    def keys_dir(self) -> Path:
        return self.state_dir / "keys"

    @property
    def temporal_db_path(self) -> Path:
        return self.temporal_db_file or self.state_dir / "temporal.db"


def _sqlite(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path.resolve()}"
