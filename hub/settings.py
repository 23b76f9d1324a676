"""Settings from the environment (``HUB_...``), built once at start-up and passed down."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.vocabulary import Source

SANDBOX_BASE_PORT = 8101
SANDBOX_PORTS: dict[Source, int] = {s: SANDBOX_BASE_PORT + i for i, s in enumerate(Source)}


class SourceSettings(BaseModel):
    """How to reach one department system (``HUB_<SOURCE>__<FIELD>``)."""

    base_url: str
    credentials_header: str | None = Field(
        default=None, description="header that carries the credential, e.g. X-Api-Key"
    )
    credentials: SecretStr | None = None
    timeout: float = Field(default=3.0, gt=0, description="seconds per call")

    def headers(self) -> dict[str, str]:
        if self.credentials_header and self.credentials:
            return {self.credentials_header: self.credentials.get_secret_value()}
        return {}


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

    civil_affairs: SourceSettings = Field(default_factory=lambda: _sandbox(Source.CIVIL_AFFAIRS))

    @field_validator("host")
    @classmethod
    def _loopback_only(cls, value: str) -> str:
        # Access control is not in place yet: the hub must not be reachable from outside.
        host = "127.0.0.1" if value == "localhost" else value
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ValueError(
                f"HUB_HOST={value!r}: the hub serves loopback only until access control is on"
            )
        return value

    @property
    def development(self) -> bool:
        return self.env == "development"

    def source(self, source: Source) -> SourceSettings:
        return {Source.CIVIL_AFFAIRS: self.civil_affairs}[source]
