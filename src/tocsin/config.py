"""Settings from the environment (TOCSIN_*); the only module that reads it."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./var/tocsin.db"


class Settings(BaseSettings):
    """Every knob an operator can turn. Bad values stop Tocsin at start with a clear message."""

    model_config = SettingsConfigDict(env_prefix="TOCSIN_", extra="ignore")

    database_url: str = Field(
        DEFAULT_DATABASE_URL, description="SQLAlchemy URL: sqlite:///path or postgresql://…"
    )
    policy: Path | None = Field(None, description="Policy YAML file; the shipped default if unset")
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    base_url: str = Field("", description="Public URL of the web UI, used in links we send out")
    secure_cookies: bool = Field(False, description="Mark cookies Secure (serve over HTTPS)")
    live_poll_seconds: float | None = Field(
        None,
        gt=0,
        description="How often live views re-check; default 1s on SQLite, 10s on PostgreSQL",
    )
    log_level: str = "info"
    token: str | None = Field(None, description="API token the CLI sends with --url")
    hook_max_bytes: int = Field(
        5_000_000, ge=1024, description="Largest Alertmanager/Grafana/generic webhook body"
    )
    intake_wait_seconds: float = Field(
        2.0,
        ge=0,
        description="How long a webhook answer waits for its alerts to be applied (they are "
        "durable before that)",
    )
    heartbeat_check_seconds: float = Field(
        5.0,
        gt=0,
        description="How often missed heartbeats, and alerts whose silence is over, are looked for",
    )
    smtp_host: str = Field("127.0.0.1", description="Mail server that email pages go through")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_from: str = Field("tocsin@localhost", description="Sender address of email pages")
    paging_lease_seconds: float = Field(
        60.0,
        gt=0,
        description="How long a worker may take to send a claimed page before "
        "another worker may take it over",
    )
    paging_embedded: bool = Field(
        True, description="Run the paging worker inside `tocsin serve` (off: `tocsin worker`)"
    )
    intake_embedded: bool = Field(
        True,
        description="Apply the alert inbox inside `tocsin serve` (off: `tocsin worker` does, "
        "and webhook answers do not wait for it)",
    )
    pagerduty_events_per_minute: int = Field(
        600, ge=0, description="Events v2 requests per routing key per minute (0: no limit)"
    )
    feed_secret: SecretStr = Field(
        SecretStr(""),
        description="Signs the secret iCalendar feed URLs; unset: feeds are off; changed: every "
        "feed URL stops working",
    )

    @field_validator("feed_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if 0 < len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters, or unset to turn feeds off")
        return value

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def public_url(self) -> str:
        return self.base_url or f"http://{self.host}:{self.port}"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, with explicit overrides (CLI flags) on top."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    return Settings(**clean)  # type: ignore[arg-type]
