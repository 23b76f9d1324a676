"""Settings from the environment (``HUB_...``), built once at start-up and passed down."""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.resilience import Policy
from adapters.transports import TransportKind
from adapters.vocabulary import Source

SANDBOX_CONTROL_PORT = 8100
SANDBOX_BASE_PORT = 8101
SANDBOX_PORTS: dict[Source, int] = {s: SANDBOX_BASE_PORT + i for i, s in enumerate(Source)}


class SourceSettings(BaseModel):
    """How to reach one department system (``HUB_<SOURCE>__<FIELD>``)."""

    base_url: str
    credentials_header: str | None = Field(
        default=None, description="header that carries the credential, e.g. X-Api-Key"
    )
    credentials: SecretStr | None = None
    timeout: float = Field(default=3.0, gt=0, description="seconds per call, body included")
    retries: int = Field(default=2, ge=0, le=5, description="extra attempts for reads")
    backoff: float = Field(default=0.05, ge=0, description="jittered backoff base, seconds")
    breaker_failures: int = Field(default=5, ge=1, description="failures that open the breaker")
    breaker_reset: float = Field(default=30.0, gt=0, description="seconds before a trial call")
    max_concurrency: int = Field(default=32, ge=1, description="calls in flight per worker")
    cache_ttl: float = Field(
        default=0.0, ge=0, description="seconds a record is reused without asking (0: off)"
    )
    stale_ttl: float = Field(
        default=0.0, ge=0, description="how old a record may stand in for a failed source (0: off)"
    )

    def headers(self) -> dict[str, str]:
        if self.credentials_header and self.credentials:
            return {self.credentials_header: self.credentials.get_secret_value()}
        return {}

    def policy(self) -> Policy:
        return Policy(
            timeout=self.timeout,
            retries=self.retries,
            backoff=self.backoff,
            breaker_failures=self.breaker_failures,
            breaker_reset=self.breaker_reset,
            max_concurrency=self.max_concurrency,
            cache_ttl=self.cache_ttl,
            stale_ttl=self.stale_ttl,
        )


def _sandbox(source: Source) -> SourceSettings:
    return SourceSettings(base_url=f"http://127.0.0.1:{SANDBOX_PORTS[source]}")


class Settings(BaseSettings):
    """Everything the hub can be told. Defaults are the embedded development setup."""

    model_config = SettingsConfigDict(env_prefix="HUB_", env_nested_delimiter="__", extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str = "sqlite+aiosqlite:///./hub.db"
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "info"

    sandbox_seed: int = 2026
    sandbox_size: int = 2000

    sync_page_size: int = Field(default=500, ge=1, le=1000)
    max_page_size: int = Field(default=100, ge=1)

    redis_url: str | None = Field(
        default=None, description="shared rate-limit counters for several workers"
    )
    rate_limit_per_minute: int = Field(default=600, ge=1, description="requests per token")
    rate_limit_burst: int = Field(default=60, ge=1, description="requests at once per token")
    max_depth: int = Field(default=12, ge=1)
    max_aliases: int = Field(default=15, ge=0)
    max_tokens: int = Field(default=2000, ge=1)
    max_cost: int = Field(default=50_000, ge=1)

    http_transport: TransportKind = "aiohttp"
    request_deadline: float = Field(default=8.0, gt=0, description="seconds for one request")

    civil_affairs: SourceSettings = Field(default_factory=lambda: _sandbox(Source.CIVIL_AFFAIRS))
    health_insurance: SourceSettings = Field(
        default_factory=lambda: _sandbox(Source.HEALTH_INSURANCE)
    )
    education: SourceSettings = Field(default_factory=lambda: _sandbox(Source.EDUCATION))
    housing: SourceSettings = Field(default_factory=lambda: _sandbox(Source.HOUSING))
    human_resources: SourceSettings = Field(
        default_factory=lambda: _sandbox(Source.HUMAN_RESOURCES)
    )
    emergency_management: SourceSettings = Field(
        default_factory=lambda: _sandbox(Source.EMERGENCY_MANAGEMENT)
    )
    charity: SourceSettings = Field(default_factory=lambda: _sandbox(Source.CHARITY))

    @model_validator(mode="before")
    @classmethod
    def _sandbox_urls_by_default(cls, data: Any) -> Any:
        # Setting one field of a department (HUB_CHARITY__TIMEOUT=2) keeps the others'
        # defaults, the stand-in's URL included.
        if isinstance(data, dict):
            for source in Source:
                given = data.get(source.value)
                if isinstance(given, dict) and "base_url" not in given:
                    data[source.value] = {"base_url": _sandbox(source).base_url, **given}
        return data

    @model_validator(mode="after")
    def _development_on_loopback(self) -> Settings:
        # Development mode shows GraphiQL, the schema and unmasked errors: never to a network.
        host = "127.0.0.1" if self.host == "localhost" else self.host
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if self.development and not loopback:
            raise ValueError(
                f"HUB_HOST={self.host!r}: development mode serves loopback only; "
                "set HUB_ENV=production to listen beyond it"
            )
        return self

    @property
    def development(self) -> bool:
        return self.env == "development"

    def source(self, source: Source) -> SourceSettings:
        """The settings of one department; fields are named after the source's value."""
        found: SourceSettings = getattr(self, source.value)
        return found
