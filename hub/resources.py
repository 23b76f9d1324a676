"""What the hub holds open while it runs: the database engine, the HTTP client, adapters."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.registry import AdapterConfig, Adapters
from adapters.transports import HttpxWire, Wire, make_wire
from adapters.vocabulary import Source
from hub.audit import AuditWriter
from hub.auth.credentials import CredentialCache
from hub.auth.revocations import Revocations, watch
from hub.db.session import create_engine, session_factory
from hub.keys import Keys
from hub.rules import Rules, load
from hub.settings import Settings
from hub.signing import KeyRing


def adapter_configs(settings: Settings) -> dict[Source, AdapterConfig]:
    configs = {}
    for source in Source:
        s = settings.source(source)
        configs[source] = AdapterConfig(base_url=s.base_url, headers=s.headers(), policy=s.policy())
    return configs


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    wire: Wire
    adapters: Adapters
    audit: AuditWriter
    keys: Keys
    rules: Rules
    revocations: Revocations
    credentials: CredentialCache
    signing: KeyRing

    @classmethod
    def open(
        cls, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> Resources:
        """Build everything; ``transport`` replaces the network (tests, in-process stand-ins)."""
        engine = create_engine(settings.database_url)
        wire = (
            HttpxWire(httpx.AsyncClient(transport=transport))
            if transport is not None
            else make_wire(settings.http_transport)
        )
        sessions = session_factory(engine)
        revocations = watch(settings.database_url)
        keys = Keys(settings.secret)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            audit=AuditWriter(sessions),
            keys=keys,
            signing=KeyRing(sessions, keys),
            # A bad rules file stops the hub here, naming each bad entry.
            rules=load(settings.rules_file),
            revocations=revocations,
            credentials=CredentialCache(revocations, ttl=settings.credential_cache_ttl),
            wire=wire,
            adapters=Adapters(wire, adapter_configs(settings)),
        )

    async def start(self) -> None:
        """Start what runs beside the requests (the revocation listener)."""
        await self.revocations.start()

    async def aclose(self) -> None:
        await self.revocations.aclose()
        await self.wire.aclose()
        await self.engine.dispose()
