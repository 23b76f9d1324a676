"""Settings from the environment (``HUB_...``), built once at start-up and passed down."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
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


# Each bound of the query limits is written once, here; Settings gives the defaults.
MaxDepth = Annotated[int, Field(ge=1, description="deepest selection nesting (production)")]
MaxAliases = Annotated[int, Field(ge=0, description="aliases per operation (production)")]
MaxTokens = Annotated[int, Field(ge=1, description="tokens per document (production)")]
MaxCost = Annotated[int, Field(ge=1, description="estimated cost per operation (production)")]
MaxPageSize = Annotated[int, Field(ge=1, le=1000, description="largest page of a list")]
MaxIdLookups = Annotated[int, Field(ge=1, description="lookups by ID number per request")]


class QueryLimits(BaseModel):
    """What one GraphQL request may ask for, as ``Settings.query_limits()`` gives it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_depth: MaxDepth
    max_aliases: MaxAliases
    max_tokens: MaxTokens
    max_cost: MaxCost
    max_page_size: MaxPageSize
    max_id_lookups: MaxIdLookups


class PartnerCallSettings(BaseModel):
    """How this hub asks partner hubs (``HUB_PARTNER_CALLS__<FIELD>``): one policy for all."""

    timeout: float = Field(default=5.0, gt=0, description="seconds per call, body included")
    retries: int = Field(default=1, ge=0, le=5, description="extra attempts on failure")
    backoff: float = Field(default=0.2, ge=0, description="jittered backoff base, seconds")
    breaker_failures: int = Field(default=5, ge=1, description="failures that open the breaker")
    breaker_reset: float = Field(default=30.0, gt=0, description="seconds before a trial call")
    stale_ttl: float = Field(
        default=0.0, ge=0, description="how old an answer may stand in for a failed partner"
    )


# A key anyone can read in this file: good enough for a development machine, refused in
# production.
DEVELOPMENT_SECRET = "development-only-secret-key-not-for-production-use"  # noqa: S105
MIN_SECRET_LENGTH = 32


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
    log_format: Literal["json", "console"] | None = Field(
        default=None,
        description="log lines as JSON or readable text; default: JSON in production, "
        "text in development",
    )

    rules_file: Path | None = Field(
        default=None,
        description="the assistance rules (TOML); default: the packaged hub/rules/shanghai.toml",
    )

    sandbox_seed: int = 2026
    sandbox_size: int = 2000

    sync_page_size: int = Field(default=500, ge=1, le=1000)

    secret_key: SecretStr | None = Field(
        default=None,
        description="keys the hub derives its own secrets from (cursors, hashes of looked-up "
        "ID numbers); at least 32 characters, required in production",
    )

    redis_url: str | None = Field(
        default=None, description="shared rate-limit counters for several workers"
    )
    redis_prefix: str = Field(
        default="hub:", min_length=1, description="prefix of every Redis key the hub writes"
    )
    rate_limit_per_minute: int = Field(default=600, ge=1, description="requests per token")
    rate_limit_burst: int = Field(default=60, ge=1, description="requests at once per token")
    refusal_limit_per_minute: int = Field(
        default=30, ge=1, description="refused requests (401, 400, 403) per client address"
    )
    refusal_limit_burst: int = Field(
        default=10, ge=1, description="refused requests at once per client address"
    )
    credential_cache_ttl: float = Field(
        default=30.0,
        ge=0,
        description="seconds a worker keeps a validated token (0: ask the database every "
        "request); revocations take effect at once regardless",
    )
    index_cache_ttl: float = Field(
        default=30.0,
        ge=0,
        description="seconds a worker keeps the household index entries it read (0: ask "
        "the database every request); a sync or recorded aid takes effect at once regardless",
    )
    max_body_bytes: int = Field(default=1_048_576, ge=1024, description="largest request body")
    max_json_depth: int = Field(default=32, ge=2, description="deepest nesting of a JSON body")

    max_depth: MaxDepth = 12
    max_aliases: MaxAliases = 15
    max_tokens: MaxTokens = 2000
    max_cost: MaxCost = 50_000
    max_page_size: MaxPageSize = 100
    max_id_lookups: MaxIdLookups = 10

    region: str = Field(
        default="SH",
        pattern=r"^[A-Z]{2,8}$",
        description="this hub's region code (SH, JS, ZJ, AH): the issuer of its partner tokens",
    )
    partner_audience: str | None = Field(
        default=None, description="the `aud` partner tokens must name; default: HUB_REGION"
    )
    partner_token_max_lifetime: int = Field(
        default=300, ge=10, le=900, description="longest partner token accepted (exp - iat), s"
    )
    partner_max_id_lookups: MaxIdLookups = Field(
        default=100, le=100, description="lookups by ID number per partner request"
    )
    partner_calls: PartnerCallSettings = Field(default_factory=PartnerCallSettings)
    outbox_interval: float = Field(
        default=5.0, ge=0, description="seconds between outbox rounds in the app (0: none)"
    )
    outbox_backoff: float = Field(
        default=5.0, gt=0, description="first wait after a failed delivery, doubled each time"
    )
    outbox_backoff_max: float = Field(
        default=3600.0, gt=0, description="longest wait between delivery attempts"
    )

    audit_checkpoint_seconds: float = Field(
        default=300.0,
        ge=0,
        description="seconds between signed checkpoints of the audit log's head (0: none by "
        "time; 'hub audit checkpoint' takes one on demand)",
    )
    audit_checkpoint_entries: int = Field(
        default=0, ge=0, description="also a checkpoint once this many entries wait (0: off)"
    )
    audit_checkpoint_export: Path | None = Field(
        default=None,
        description="JSON-lines file every checkpoint is appended to, on storage the "
        "database's administrators cannot write",
    )
    federation: bool = Field(
        default=False, description="serve /graphql as an Apollo Federation v2 subgraph"
    )

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

    @model_validator(mode="after")
    def _secret_key_in_production(self) -> Settings:
        given = self.secret_key.get_secret_value() if self.secret_key else None
        if given is not None and len(given) < MIN_SECRET_LENGTH:
            raise ValueError(f"HUB_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
        if given is None and not self.development:
            raise ValueError(
                "HUB_SECRET_KEY is required in production: a random string of at least "
                f"{MIN_SECRET_LENGTH} characters, the same for every worker"
            )
        return self

    @property
    def development(self) -> bool:
        return self.env == "development"

    @property
    def secret(self) -> bytes:
        """The key material the hub derives its own keys from."""
        key = self.secret_key.get_secret_value() if self.secret_key else DEVELOPMENT_SECRET
        return key.encode()

    @property
    def audience(self) -> str:
        """The ``aud`` a partner's token must name to be taken here."""
        return self.partner_audience or self.region

    def query_limits(self) -> QueryLimits:
        return QueryLimits(
            max_depth=self.max_depth,
            max_aliases=self.max_aliases,
            max_tokens=self.max_tokens,
            max_cost=self.max_cost,
            max_page_size=self.max_page_size,
            max_id_lookups=self.max_id_lookups,
        )

    def source(self, source: Source) -> SourceSettings:
        """The settings of one department; fields are named after the source's value."""
        found: SourceSettings = getattr(self, source.value)
        return found
