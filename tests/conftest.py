"""Shared fixtures: databases (SQLite and PostgreSQL), the stand-ins, the hub app."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.types import ASGIApp

from adapters.registry import AdapterConfig, Adapters
from adapters.resilience import Policy
from adapters.sandbox.faults import Faults, FaultyApp
from adapters.sandbox.population import Population, generate
from adapters.sandbox.server import SERVED, build_apps
from adapters.sandbox.transport import InProcessTransport
from adapters.vocabulary import Source
from hub.db import migrate
from hub.db.models import AuditEntry
from hub.db.session import create_engine, session_factory
from hub.index.sync import sync_households
from hub.resources import Resources
from hub.settings import SANDBOX_PORTS, Settings, SourceSettings

# The hub app and its callers, for every test that talks to the hub over HTTP.
from tests.hubclient import as_client, caseworker, gql, hub_app, hub_client, hub_sessions

# The whole run fails if any log line of it carried a citizen ID number.
from tests.logcheck import no_id_numbers_logged

__all__ = [
    "as_client",
    "caseworker",
    "gql",
    "hub_app",
    "hub_client",
    "hub_sessions",
    "no_id_numbers_logged",
]

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


@functools.cache
def _unchanging() -> dict[Source, ASGIApp]:
    """The stand-ins whose data no request changes, built once: those with no ``/_sandbox/``
    route, the stand-ins' way to let tests change their data (civil affairs has them).
    Building them is most of what building the stand-ins costs (health insurance alone,
    about 0.1 s a test); each test still wraps them in faults and call counts of its own
    (and a scenario loaded in a test wraps a new app: ``adapters.sandbox.loading``)."""
    return {
        source: wrapped.app
        for source, wrapped in build_apps(SEED, SIZE).items()
        if not any(
            getattr(route, "path", "/_sandbox/").startswith("/_sandbox/")
            for route in getattr(wrapped.app, "routes", [None])
        )
    }


def stand_ins() -> InProcessTransport:
    """The stand-ins in-process, over the population of SEED and SIZE, as ``build_apps``
    makes them: each in a ``FaultyApp`` of its own, the ones tests can change built anew."""
    shared = _unchanging()
    apps = build_apps(SEED, SIZE, only=[source for source in SERVED if source not in shared])
    apps |= {source: FaultyApp(app, seed=SEED) for source, app in shared.items()}
    return InProcessTransport(
        {f"127.0.0.1:{SANDBOX_PORTS[source]}": app for source, app in apps.items()}
    )


@pytest.fixture
def transport(population: Population) -> InProcessTransport:
    """The stand-ins in-process, fresh for each test (tests change their data)."""
    return stand_ins()


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


# What a test's database starts as (``wanted``): each but EMPTY is copied from a template.
EMPTY, MIGRATED, SYNCED = "empty", "migrated", "synced"


def wanted(request: pytest.FixtureRequest) -> str:
    """SYNCED for a test of the hub app (the index as ``hub_app`` used to sync it itself),
    MIGRATED for any other test that asks for ``engine``, EMPTY for the rest (they migrate
    it themselves, as ``tests/hub/test_migrations.py`` does)."""
    if "hub_app" in request.fixturenames:
        return SYNCED
    if "engine" in request.fixturenames:
        return MIGRATED
    return EMPTY


def sqlite_file(database_url: str) -> Path | None:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


async def _fill(database_url: str, state: str) -> None:
    """Bring an empty database to ``state``, as the tests used to do to each of theirs."""
    engine = create_engine(database_url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    if state != SYNCED:
        return
    # Synced as the hub app syncs, from stand-ins of its own (a test's count their calls);
    # the app is not started: what it does when it starts, it does in each test.
    resources = Resources.open(make_settings(database_url), transport=stand_ins())
    try:
        await sync_households(sessions=resources.sessions, adapter=resources.adapters.civil_affairs)
        async with resources.sessions() as session:
            audited = await session.scalar(select(func.count()).select_from(AuditEntry))
    finally:
        await resources.aclose()
    assert audited == 0, "syncing wrote to the audit log: every test must start without one"


class Templates:
    """The SQLite templates, each a closed, checkpointed file built on first use, and the
    PostgreSQL databases of the session (``Postgres``), once a test needs one."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._built: dict[str, Path] = {}
        self._failed: dict[str, BaseException] = {}
        self._postgres: Postgres | None = None

    async def sqlite(self, state: str) -> Path:
        if state in self._failed:
            raise RuntimeError(f"the {state} SQLite template could not be built") from (
                self._failed[state]
            )
        if state not in self._built:
            try:
                self._built[state] = await self._build_sqlite(state)
            except Exception as exc:
                self._failed[state] = exc  # not built again for every test after
                raise
        return self._built[state]

    async def _build_sqlite(self, state: str) -> Path:
        path = self._directory / f"{state}.db"
        await _fill(f"sqlite+aiosqlite:///{path}", state)
        # The engine is disposed, so its last connection checkpointed the WAL into the file
        # and removed it; make sure, since a test copies only the file.
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        wal = path.with_name(path.name + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0, f"{wal} is not checkpointed"
        return path

    def postgres(self, server: URL) -> Postgres:
        if self._postgres is None:
            self._postgres = Postgres(server)
        return self._postgres

    def close(self) -> None:
        if self._postgres is not None:
            self._postgres.close()


class Postgres:
    """The session's databases on a PostgreSQL server: templates built on first use (one
    that could not be built fails the tests after it at once), and a database for each test,
    a copy of the template of the state it wants, or an empty one.

    A test's database is dropped with those of the tests before it, a batch at a time:
    dropping a database makes the server checkpoint, which drops under way at once share.
    Nothing of this runs while a test does (nor is made ahead of it): it would load the
    server under the test. Every database of the session (``hub_test_<run>_...``,
    templates too) is in ``databases`` from just before it is created until it is dropped;
    ``close`` drops what is left when the session ends, whatever happened.
    """

    DROP_EVERY = 16

    def __init__(self, server: URL) -> None:
        self.server = server
        self.databases: set[str] = set()
        self._dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
        self._run = uuid.uuid4().hex[:8]
        self._templates: dict[str, str] = {}
        self._failed: dict[str, BaseException] = {}
        self._used: list[str] = []  # tests' databases not dropped yet

    @contextlib.asynccontextmanager
    async def database(self, state: str) -> AsyncIterator[str]:
        """The URL of a database of the test's own, in ``state``."""
        admin = await self._reach()
        try:
            template = None if state == EMPTY else await self._template(admin, state)
            name = f"hub_test_{self._run}_{uuid.uuid4().hex[:12]}"
            await self._create(admin, name, template)
        finally:
            await admin.close()
        try:
            yield _database(self.server, name)
        finally:
            self._used.append(name)
            if len(self._used) >= self.DROP_EVERY:
                used, self._used = self._used, []
                await self._drop(used)

    async def _reach(self) -> Any:
        """A connection to create databases with (asyncpg: no pool, nothing of SQLAlchemy's)."""
        try:
            return await asyncpg.connect(self._dsn)
        except OSError as exc:
            where = f"PostgreSQL at {self.server.host}:{self.server.port}"
            if os.environ.get("CI"):
                pytest.fail(f"{where} is unreachable: {exc}")
            pytest.skip(f"{where} is unreachable: {exc}")

    async def _template(self, admin: Any, state: str) -> str:
        if state in self._failed:
            raise RuntimeError(f"the {state} PostgreSQL template could not be built") from (
                self._failed[state]
            )
        if state not in self._templates:
            name = f"hub_test_{self._run}_{state}"
            try:
                await self._create(admin, name)
                await _fill(_database(self.server, name), state)
            except Exception as exc:
                self._failed[state] = exc  # not built again for every test after
                raise
            self._templates[state] = name
        return self._templates[state]

    async def _create(self, admin: Any, name: str, template: str | None = None) -> None:
        self.databases.add(name)
        # No one is connected to the template: what built it is closed (and the server
        # waits a few seconds for connections still ending).
        copied = f' TEMPLATE "{template}"' if template is not None else ""
        await admin.execute(f'CREATE DATABASE "{name}"{copied}')

    async def _drop(self, names: list[str]) -> None:
        """Drop ``names`` at once, each on a connection of its own (a few at a time)."""
        few = asyncio.Semaphore(8)

        async def drop(name: str) -> None:
            async with few:
                admin = await asyncpg.connect(self._dsn)
                try:
                    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                finally:
                    await admin.close()
            self.databases.discard(name)

        dropped = await asyncio.gather(*(drop(name) for name in names), return_exceptions=True)
        failed = [error for error in dropped if isinstance(error, BaseException)]
        if failed:
            raise RuntimeError(f"databases left on the server: {sorted(self.databases)}") from (
                failed[0]
            )

    def close(self) -> None:
        """Drop every database of the session still there (on a thread of its own: an event
        loop may be running here, or none)."""
        if self.databases:
            with ThreadPoolExecutor(1) as thread:
                thread.submit(asyncio.run, self._drop(sorted(self.databases))).result()


def _database(server: URL, name: str) -> str:
    return server.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    built = Templates(tmp_path_factory.mktemp("templates"))
    try:
        yield built
    finally:
        built.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, templates: Templates
) -> AsyncIterator[str]:
    """A database of each kind, the test's own, as ``wanted`` says. SQLite: a file in the
    test's tmp dir, which ``engine`` fills (a module may give a path of its own).
    PostgreSQL: a database of its own, dropped soon after (``Postgres``)."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"
        return
    async with templates.postgres(make_url(_postgres_or_skip())).database(wanted(request)) as url:
        yield url


@pytest.fixture
async def engine(
    request: pytest.FixtureRequest, database_url: str, templates: Templates
) -> AsyncIterator[AsyncEngine]:
    """A migrated database; synced too for a test of the hub app (see ``wanted``)."""
    path = sqlite_file(database_url)
    if path is not None and not path.exists():
        shutil.copyfile(await templates.sqlite(wanted(request)), path)
    engine = create_engine(database_url)
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
