"""Two hubs in one test: Shanghai (the usual ``hub_app``) and Jiangsu, each with its own
database, stand-ins and keys, talking over HTTP (an httpx transport that routes a hub's
host to the other hub's ASGI app, and everything else to the hub's own stand-ins).

Jiangsu's stand-ins serve only a hand-built scenario: a person of one of Shanghai's
households, enrolled in 低保 in Jiangsu since 2025-03-01.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette
from starlette.types import ASGIApp

from adapters.sandbox.population import Population
from adapters.sandbox.scenario import parse_scenario
from adapters.sandbox.server import build_apps
from adapters.sandbox.transport import InProcessTransport
from hub.app import create_app
from hub.index.sync import sync_households
from hub.partners import registry
from hub.settings import SANDBOX_PORTS, PartnerCallSettings, Settings
from tests.conftest import MIGRATED, POSTGRES_URL, SEED, Templates, make_settings, stand_ins
from tests.partners.fake import FakePartner, fake_partner

SH_HOST, JS_HOST = "hub-sh", "hub-js"
SH_URL, JS_URL = f"http://{SH_HOST}", f"http://{JS_HOST}"
JS_SINCE = "2025-03-01"


class Hubs(InProcessTransport):
    """A hub's network: its stand-ins by ``host:port``, other hubs by host. ``down``: a hub
    that refuses connections, as a stopped one would; ``lost``: a hub whose answers are
    lost on the way back (it did the work; the caller never hears)."""

    def __init__(self, apps: Any) -> None:
        super().__init__(apps)
        self.hubs: dict[str, ASGIApp] = {}
        self.down: set[str] = set()
        self.lost: set[str] = set()
        self.calls: dict[str, int] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        if host in self.hubs:
            if host in self.down:
                raise httpx.ConnectError(f"connection refused by {host}", request=request)
            self.calls[host] = self.calls.get(host, 0) + 1
            response = await httpx.ASGITransport(app=self.hubs[host]).handle_async_request(request)
            if host in self.lost:
                await response.aread()
                raise httpx.ReadError(f"connection to {host} lost", request=request)
            return response
        return await super().handle_async_request(request)


def fast_partner_calls(settings: Settings) -> Settings:
    """Quick calls to partner hubs, and no outbox rounds of the app's own: each test
    delivers when it means to (``OutboxSender`` is tested by itself)."""
    calls = PartnerCallSettings(timeout=2.0, retries=0, backoff=0.001, breaker_failures=1000)
    return settings.model_copy(update={"partner_calls": calls, "outbox_interval": 0.0})


@pytest.fixture
def transport(population: Population) -> Hubs:
    """Shanghai's network: the usual stand-ins, and the other hubs."""
    return Hubs(stand_ins().apps)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return fast_partner_calls(make_settings(database_url))


@pytest.fixture
async def js_database(
    database_url: str, tmp_path: Path, templates: Templates
) -> AsyncIterator[str]:
    """Jiangsu's database, of the same kind as Shanghai's: migrated, empty."""
    if database_url.startswith("sqlite"):
        path = tmp_path / "js.db"
        shutil.copyfile(await templates.sqlite(MIGRATED), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    assert POSTGRES_URL is not None
    async with templates.postgres(make_url(POSTGRES_URL)).database(MIGRATED) as url:
        yield url


def moved_person(population: Population) -> tuple[str, str, str]:
    """A person of a Shanghai household (household ID, ID number, name) who is enrolled
    in Jiangsu too: the first member of the first household of the test population."""
    household = population.households[0]
    member = household.members[0]
    return household.id, member.id_number, member.name


def js_scenario(population: Population) -> str:
    _, id_number, name = moved_person(population)
    return f"""
description: Jiangsu's one household, a person who also lives in Shanghai's records.
households:
  - id: H3101159900001
    members:
      - id_number: "{id_number}"
        name: {name}
    enrollments:
      - category: MINIMUM_LIVING
        since: {JS_SINCE}
"""


@dataclass
class Hub:
    """One hub of the test: its app, database sessions, network and settings."""

    app: Starlette
    transport: Hubs
    settings: Settings
    host: str

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        sessions: async_sessionmaker[AsyncSession] = self.app.state.resources.sessions
        return sessions

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=f"http://{self.host}"
        )


@pytest.fixture
async def js(
    js_database: str, population: Population, hub_app: Starlette, transport: Hubs
) -> AsyncIterator[Hub]:
    """Jiangsu's hub beside Shanghai's (``hub_app``), each holding the other's keys."""
    apps = build_apps(SEED, 0, scenario=parse_scenario(js_scenario(population)))
    js_transport = Hubs({f"127.0.0.1:{SANDBOX_PORTS[s]}": app for s, app in apps.items()})
    js_settings = fast_partner_calls(make_settings(js_database)).model_copy(update={"region": "JS"})
    app = create_app(js_settings, transport=js_transport)
    async with app.router.lifespan_context(app):
        resources = app.state.resources
        await sync_households(
            sessions=resources.sessions,
            adapter=resources.adapters.civil_affairs,
            rules=resources.rules,
        )
        transport.hubs[JS_HOST] = app
        js_transport.hubs[SH_HOST] = hub_app
        sh_sessions = hub_app.state.resources.sessions
        sh_ring = await hub_app.state.resources.signing.current()
        js_ring = await resources.signing.current()
        await registry.add(sh_sessions, name="jiangsu", region="JS", url=JS_URL)
        await registry.add_keys(sh_sessions, "JS", js_ring.jwks())
        await registry.add(resources.sessions, name="shanghai", region="SH", url=SH_URL)
        await registry.add_keys(resources.sessions, "SH", sh_ring.jwks())
        yield Hub(app, js_transport, js_settings, JS_HOST)


@pytest.fixture
def sh(hub_app: Starlette, transport: Hubs, settings: Settings) -> Hub:
    return Hub(hub_app, transport, settings, SH_HOST)


@pytest.fixture
async def partner(hub_app: Starlette, hub_client: httpx.AsyncClient) -> FakePartner:
    """Jiangsu as a partner of Shanghai, holding key ``js-1``."""
    return await fake_partner(hub_app, hub_client)
