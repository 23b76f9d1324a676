"""What the hub holds open while it runs: the database engine, the HTTP client, adapters."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.registry import AdapterConfig, Adapters
from adapters.transports import HttpxWire, Wire, make_wire
from adapters.vocabulary import Source
from hub.audit import AuditWriter
from hub.auth.credentials import CredentialCache
from hub.auth.revocations import INDEX, Revocations, watch
from hub.db.session import create_engine, create_thread_engine, session_factory
from hub.index.cache import EntryCache
from hub.keys import Keys
from hub.observability import setup
from hub.observability.tracing import instrument_engine
from hub.partners.asking import PartnerHubs
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
    audit_thread: Engine | None  # SQLite: the audit writer's blocking engine
    keys: Keys
    rules: Rules
    revocations: Revocations
    credentials: CredentialCache
    index_changes: Revocations
    index_entries: EntryCache
    signing: KeyRing
    # Partner hubs: their own client (answers are read with their headers, to check the
    # signature), and this hub's clients to each.
    partner_http: httpx.AsyncClient
    partners: PartnerHubs

    @classmethod
    def open(
        cls, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> Resources:
        """Build everything; ``transport`` replaces the network (tests, in-process stand-ins)."""
        setup()  # the process's logs, traces and department metrics (once)
        engine = create_engine(settings.database_url)
        instrument_engine(engine)  # a span per statement, when tracing is on
        wire = (
            HttpxWire(httpx.AsyncClient(transport=transport))
            if transport is not None
            else make_wire(settings.http_transport)
        )
        sessions = session_factory(engine)
        audit_thread = create_thread_engine(settings.database_url)
        revocations = watch(settings.database_url)
        index_changes = watch(settings.database_url, INDEX)
        keys = Keys(settings.secret)
        signing = KeyRing(sessions, keys)
        partner_http = httpx.AsyncClient(transport=transport, trust_env=False)
        return cls(
            settings=settings,
            engine=engine,
            sessions=sessions,
            audit=AuditWriter(sessions, thread=audit_thread),
            audit_thread=audit_thread,
            keys=keys,
            signing=signing,
            partner_http=partner_http,
            partners=PartnerHubs(settings, sessions, signing, partner_http),
            # A bad rules file stops the hub here, naming each bad entry.
            rules=load(settings.rules_file),
            revocations=revocations,
            credentials=CredentialCache(revocations, ttl=settings.credential_cache_ttl),
            index_changes=index_changes,
            index_entries=EntryCache(index_changes, ttl=settings.index_cache_ttl),
            wire=wire,
            adapters=Adapters(wire, adapter_configs(settings)),
        )

    async def start(self) -> None:
        """Start what runs beside the requests (the listeners for revocations and for
        index changes)."""
        await self.revocations.start()
        await self.index_changes.start()

    async def aclose(self) -> None:
        await self.revocations.aclose()
        await self.index_changes.aclose()
        await self.wire.aclose()
        await self.partner_http.aclose()
        await self.engine.dispose()
        if self.audit_thread is not None:
            self.audit_thread.dispose()
