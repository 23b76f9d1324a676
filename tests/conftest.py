"""Shared fixtures: databases (SQLite and PostgreSQL), the stand-ins, the hub app."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.registry import AdapterConfig, Adapters
from adapters.resilience import Policy
from adapters.sandbox.faults import Faults
from adapters.sandbox.population import Population, generate
from adapters.sandbox.server import build_apps
from adapters.sandbox.transport import InProcessTransport
from adapters.vocabulary import Source
from hub.db import migrate
from hub.db.session import create_engine, session_factory
from hub.settings import SANDBOX_PORTS, Settings, SourceSettings

# The hub app and its callers, for every test that talks to the hub over HTTP.
from tests.hubclient import as_client, caseworker, gql, hub_app, hub_client, hub_sessions

__all__ = ["as_client", "caseworker", "gql", "hub_app", "hub_client", "hub_sessions"]

SEED = 7
SIZE = 150
POSTGRES_URL = os.environ.get("HUB_TEST_POSTGRES_URL")
# Tests do not wait for backoff or a stale cache: no caching, tiny backoff.
FAST = Policy(backoff=0.001, backoff_max=0.002, cache_ttl=0)


def sandbox_url(source: Source) -> str:
    return f"http://127.0.0.1:{SANDBOX_PORTS[source]}"


def faults(transport: InProcessTransport, source: Source) -> Faults:
    """The faults of one in-process stand-in, to hurt it from a test."""
    return transport.apps[sandbox_url(source).removeprefix("http://")].faults


@pytest.fixture(scope="session")
def population() -> Population:
    return generate(SEED, SIZE)


@pytest.fixture
def transport(population: Population) -> InProcessTransport:
    """The stand-ins in-process, fresh for each test (tests change their data)."""
    apps = build_apps(SEED, SIZE)
    return InProcessTransport(
        {f"127.0.0.1:{SANDBOX_PORTS[source]}": app for source, app in apps.items()}
    )


@pytest.fixture
async def http(transport: InProcessTransport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=transport) as client:
        yield client


@pytest.fixture
def adapters(http: httpx.AsyncClient) -> Adapters:
    return Adapters(http, {s: AdapterConfig(base_url=sandbox_url(s), policy=FAST) for s in Source})


def _postgres_or_skip() -> str:
    if POSTGRES_URL:
        return POSTGRES_URL
    if os.environ.get("CI"):
        pytest.fail("HUB_TEST_POSTGRES_URL is not set: CI runs every test on PostgreSQL")
    pytest.skip("PostgreSQL tests need HUB_TEST_POSTGRES_URL (postgresql+asyncpg://...)")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[str]:
    """An empty database of each kind; PostgreSQL gets a database of its own, dropped after."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
        return
    server = make_url(_postgres_or_skip())
    name = f"hub_test_{uuid.uuid4().hex[:16]}"
    admin = create_engine(
        server.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OSError as exc:
        await admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {server.host}:{server.port} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {server.host}:{server.port} is unreachable: {exc}")
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated database."""
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


def source_settings(**overrides: Any) -> dict[str, SourceSettings]:
    """Every department at its in-process stand-in, quick to give up and to retry."""
    fast = {"timeout": 0.5, "retries": 1, "backoff": 0.001, "cache_ttl": 0, **overrides}
    return {s.value: SourceSettings(base_url=sandbox_url(s), **fast) for s in Source}


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


def make_settings(database_url: str, **source_overrides: Any) -> Settings:
    """Test settings: the in-process stand-ins, and rate limits no test reaches by accident."""
    return Settings.model_validate(
        {
            "database_url": database_url,
            "sandbox_seed": SEED,
            "sandbox_size": SIZE,
            "rate_limit_per_minute": 1_000_000,
            "rate_limit_burst": 100_000,
            **source_settings(**source_overrides),
        }
    )
