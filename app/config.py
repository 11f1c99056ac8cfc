"""One typed settings object, read from WATCHFLOOR_* environment variables (and .env)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, IPvAnyNetwork, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service; invalid values stop start-up with a message naming the variable."""

    model_config = SettingsConfigDict(env_prefix="WATCHFLOOR_", env_file=".env", extra="ignore")

    database_url: str = Field("sqlite:///var/watchfloor.db", description="SQLAlchemy URL; SQLite file or PostgreSQL")
    indicators_path: Path = Field(Path("indicators"), description="folder of the indicator library (YAML)")
    feeds_path: Path = Field(Path("feeds"), description="folder of the feed catalog (catalog.yaml, samples/)")
    var_path: Path = Field(Path("var"), description="folder for local state: SQLite file, generated secret")
    secret_key: SecretStr | None = Field(None, description="signs sessions and links; generated into var/ if unset")
    base_url: str = Field("", description="public URL, used in emails and links (default http://HOST:PORT)")
    host: str = Field("127.0.0.1", description="address the web server binds")
    port: int = Field(8000, ge=1, le=65535, description="port the web server binds")

    poll_interval: int = Field(900, ge=30, description="default seconds between polls of a feed")
    poll_timeout: float = Field(20.0, gt=0, description="seconds before a feed request is abandoned")
    poll_max_bytes: int = Field(5_000_000, ge=1024, description="largest feed body accepted")
    poll_max_redirects: int = Field(5, ge=0, le=20, description="redirects followed before a poll fails")
    poll_per_host: int = Field(2, ge=1, description="concurrent requests to one host")
    poll_batch: int = Field(20, ge=1, description="feeds claimed per poll tick")
    user_agent: str = Field("Watchfloor/0.1 (+https://github.com/watchfloor/watchfloor)",
                            description="User-Agent sent when polling feeds")

    tick_seconds: int = Field(10, ge=1, description="how often the scheduler looks for due work")
    match_batch: int = Field(200, ge=1, description="items matched per tick")
    lease_seconds: int = Field(300, ge=10, description="how long a claimed unit of work stays claimed")

    # Delivery (app/notify): SMTP, webhooks, immediate notifications and digests.
    smtp_host: str = Field("localhost", description="SMTP server that relays Watchfloor's email")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port: 587 for STARTTLS, 465 for implicit TLS")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="STARTTLS upgrade (required), implicit TLS, or none (a loopback relay only)")
    smtp_user: str | None = Field(None, description="SMTP AUTH user; no AUTH when unset")
    smtp_password: SecretStr | None = Field(None, description="SMTP AUTH password")
    smtp_timeout: float = Field(30.0, gt=0, description="seconds before an SMTP exchange is abandoned")
    mail_from: str = Field("Watchfloor <watchfloor@localhost>", description="From: of every email Watchfloor sends")
    webhook_timeout: float = Field(10.0, gt=0, le=60, description="seconds before a webhook request counts as failed")
    webhook_batch: int = Field(200, ge=1, description="webhook deliveries claimed per round")
    webhook_concurrency: int = Field(64, ge=1, description="webhook requests in flight per worker")
    webhook_allow_networks: Annotated[list[IPvAnyNetwork], NoDecode] = Field(
        [], description="comma-separated CIDR networks endpoints may resolve to although "
        "private, loopback or link-local (the SSRF guard's admin allow-list), e.g. 10.20.0.0/16")
    webhook_rotation_hours: int = Field(
        24, ge=0, le=720, description="hours the previous endpoint secret keeps signing after a rotation")
    notify_tick: float = Field(1.0, gt=0, description="seconds between immediate-notification ticks (and checks that "
                               "the collector and webhook sender loops run)")
    immediate_group_wait: float = Field(
        10.0, ge=0, description="seconds an immediate notification waits so a burst becomes one message")
    digest_time: str = Field("07:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$",
                             description="default local time (HH:MM) of a new daily digest subscription")
    digest_timezone: str = Field("UTC", description="default IANA time zone of a new digest subscription")
    digest_send_empty: bool = Field(True, description="new digest subscriptions get a 'nothing new' digest too")

    @field_validator("webhook_allow_networks", mode="before")
    @classmethod
    def _split_networks(cls, v: object) -> object:
        return [n.strip() for n in v.split(",") if n.strip()] if isinstance(v, str) else v

    @field_validator("digest_timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {v!r}") from None
        return v

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, v: str) -> str:
        if not v.startswith(("sqlite", "postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        if v.startswith("postgresql://"):
            v = "postgresql+psycopg://" + v[len("postgresql://"):]
        return v

    @model_validator(mode="after")
    def _default_base_url(self) -> Settings:
        if not self.base_url:
            self.base_url = f"http://{self.host}:{self.port}"
        self.base_url = self.base_url.rstrip("/")
        return self

    def secret(self) -> str:
        """The signing secret: configured, or generated once and kept in var/secret_key."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value()
        path = self.var_path / "secret_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


class SettingsError(RuntimeError):
    """Raised with a readable message when the environment holds invalid settings."""


def load_settings(**overrides) -> Settings:
    """Build Settings, turning pydantic's error into one line per bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as e:
        lines = [
            f"  WATCHFLOOR_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in e.errors()
        ]
        raise SettingsError("invalid settings:\n" + "\n".join(lines)) from None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (tests build their own with load_settings)."""
    return load_settings()
