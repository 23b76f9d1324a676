"""The hub app over a migrated, synced database and the in-process stand-ins, and callers
of it as clients of each kind (fixtures, registered for every test in ``tests/conftest.py``)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from adapters.sandbox.transport import InProcessTransport
from adapters.vocabulary import Source
from hub.app import create_app
from hub.auth.clients import add_client, issue_token
from hub.auth.principal import ClientKind, Purpose
from hub.auth.revocations import ListenRevocations, Revocations
from hub.db.models import AuditEntry, SyncCursor
from hub.settings import Settings

_names = iter(range(1_000_000))


@dataclass
class GraphQL:
    """Posts GraphQL to the hub app as one client and returns the decoded response."""

    client: httpx.AsyncClient
    headers: dict[str, str] = field(default_factory=dict)

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables}, headers=self.headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


async def credentials(
    sessions: async_sessionmaker[AsyncSession],
    kind: ClientKind,
    purpose: Purpose,
    **client: Any,
) -> dict[str, str]:
    """A new client of ``kind`` with a fresh token, as request headers."""
    added = await add_client(
        sessions, name=f"{kind.value.lower()}-{next(_names)}", kind=kind, **client
    )
    issued = await issue_token(sessions, added.id, ttl=timedelta(days=1))
    return {"Authorization": f"Bearer {issued.secret}", "X-Purpose": purpose.value}


@pytest.fixture
async def hub_app(
    settings: Settings, engine, transport: InProcessTransport
) -> AsyncIterator[Starlette]:
    """The hub app over a migrated, synced database and the in-process stand-ins.

    The database is a copy of a template the hub app synced from stand-ins like these
    (``tests/conftest.py``: ``wanted``, ``Templates``): the index and its sync cursor as a
    sync leaves them, and nothing else, the audit log empty.
    """
    app = create_app(settings, transport=transport)
    async with app.router.lifespan_context(app):
        async with app.state.resources.sessions() as session:
            cursor = await session.get(SyncCursor, Source.CIVIL_AFFAIRS.value)
        # A test that asks for the hub app only at run time, or a module's own database
        # that is not a SQLite file, would get a database ``wanted`` did not sync.
        assert cursor is not None, "the hub app's database has not been synced"
        await listening(app.state.resources.revocations)
        await listening(app.state.resources.index_changes)
        yield app


async def listening(changes: Revocations) -> None:
    """Wait for the hub to hear of announcements: on PostgreSQL it starts listening just
    after it starts, and caches nothing until then. Tests expect a hub that has been up a
    moment (as syncing here used to give it), whose workers know a token once it was used."""
    if not isinstance(changes, ListenRevocations):
        return
    for _ in range(500):
        if changes.epoch() is not None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the hub's listener did not connect in 5 s")


async def announced(changes: Revocations, before: int | None) -> None:
    """Wait for the hub to hear of an announcement. On PostgreSQL it is a NOTIFY that
    reaches each worker's listener a moment after the change commits (milliseconds, more
    on a loaded machine); on SQLite it is a file's time, read on every request."""
    for _ in range(500):
        if changes.epoch() != before:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the hub did not hear of the change within 5 s")


@pytest.fixture
def hub_sessions(hub_app: Starlette) -> async_sessionmaker[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = hub_app.state.resources.sessions
    return sessions


@pytest.fixture
async def hub_client(hub_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=hub_app), base_url="http://hub"
    ) as client:
        yield client


@pytest.fixture
async def caseworker(hub_sessions) -> dict[str, str]:
    """A city-wide civil-affairs caseworker managing cases."""
    return await credentials(
        hub_sessions, ClientKind.AGENCY, Purpose.CASE_MANAGEMENT, department=Source.CIVIL_AFFAIRS
    )


@pytest.fixture
def gql(hub_client: httpx.AsyncClient, caseworker: dict[str, str]) -> GraphQL:
    return GraphQL(hub_client, caseworker)


@pytest.fixture
def as_client(hub_client: httpx.AsyncClient, hub_sessions) -> Callable[..., Awaitable[GraphQL]]:
    """Make a GraphQL caller of another kind: ``await as_client(ClientKind.CHARITY, ...)``."""

    async def make(kind: ClientKind, purpose: Purpose | None = None, **client: Any) -> GraphQL:
        from hub.auth.principal import DEFAULT_PURPOSES

        chosen = purpose or sorted(DEFAULT_PURPOSES[kind], key=lambda p: p.value)[0]
        return GraphQL(hub_client, await credentials(hub_sessions, kind, chosen, **client))

    return make


async def audit_entries(sessions: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    """The whole audit log, oldest first."""
    async with sessions() as session:
        return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.seq)))


def details(entry: AuditEntry) -> dict[str, Any]:
    """What an audit entry says beyond households and sections."""
    found: dict[str, Any] = json.loads(entry.details) if entry.details else {}
    return found
