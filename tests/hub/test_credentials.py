"""Tokens kept in a worker's memory, and revocations that reach every worker at once."""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import event

from adapters.vocabulary import Source
from hub.app import create_app
from hub.auth import clients as registry
from hub.auth.credentials import Credential, CredentialCache
from hub.auth.principal import ClientKind, Purpose
from hub.db.session import create_engine, session_factory
from hub.settings import Settings
from tests.hubclient import credentials

QUERY = {"query": "{ __typename }"}


class Epochs:
    def __init__(self) -> None:
        self.value: int | None = 1

    def epoch(self) -> int | None:
        return self.value

    async def start(self) -> None: ...

    async def aclose(self) -> None: ...


def _credential(**changes: Any) -> Credential:
    fields: dict[str, Any] = {
        "token_id": "tk_1",
        "revoked_at": None,
        "expires_at": datetime.now(UTC) + timedelta(days=1),
        "client_id": "c",
        "client_name": "c",
        "kind": ClientKind.AGENCY,
        "enabled": True,
        "purposes": frozenset({Purpose.CASE_MANAGEMENT}),
        "department": Source.CIVIL_AFFAIRS,
        "district": None,
        "street": None,
        "organisation_id": None,
    }
    return Credential(**{**fields, **changes})


def test_the_cache_keeps_a_credential_within_its_epoch_and_ttl():
    now = [0.0]
    epochs = Epochs()
    cache = CredentialCache(epochs, ttl=30, clock=lambda: now[0])
    cache.put("h", _credential(), read_in=cache.epoch())
    assert cache.get("h") is not None
    now[0] = 31
    assert cache.get("h") is None  # past its ttl
    cache.put("h", _credential(), read_in=cache.epoch())
    epochs.value = 2
    assert cache.get("h") is None  # an announcement moved the epoch


def test_a_credential_read_before_a_revocation_is_not_kept_after_it():
    epochs = Epochs()
    cache = CredentialCache(epochs, ttl=30)
    read_in = cache.epoch()
    epochs.value = 2  # revoked while the database was being read
    cache.put("h", _credential(), read_in=read_in)
    assert cache.get("h") is None


def test_nothing_is_cached_while_the_epoch_is_unknown():
    epochs = Epochs()
    epochs.value = None
    cache = CredentialCache(epochs, ttl=30)
    cache.put("h", _credential(), read_in=cache.epoch())
    assert cache.get("h") is None


async def _statements(engine: Any, call: Any) -> list[str]:
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        await call()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)
    return seen


async def test_a_known_token_costs_no_query(hub_client, hub_app, caseworker):
    assert (await hub_client.post("/graphql", json=QUERY, headers=caseworker)).status_code == 200
    seen = await _statements(
        hub_app.state.resources.engine,
        lambda: hub_client.post("/graphql", json=QUERY, headers=caseworker),
    )
    assert not [s for s in seen if "token" in s.lower()]


async def _until_refused(client: httpx.AsyncClient, headers: dict[str, str]) -> int:
    """Requests until the worker refuses: 1 when the very next request is refused."""
    for attempt in range(1, 200):
        if (await client.post("/graphql", json=QUERY, headers=headers)).status_code == 401:
            return attempt
        await asyncio.sleep(0.01)
    raise AssertionError("the revoked token was never refused")


async def test_revoking_a_token_reaches_every_worker(
    hub_app, settings: Settings, database_url: str, transport
):
    other = create_app(settings, transport=transport)
    async with other.router.lifespan_context(other):
        workers = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")
            for app in (hub_app, other)
        ]
        # The revocation comes from elsewhere, as `hub tokens revoke` would send it.
        engine = create_engine(database_url)
        sessions = session_factory(engine)
        try:
            headers = await credentials(
                sessions, ClientKind.AGENCY, Purpose.CASE_MANAGEMENT, department=Source.HOUSING
            )
            for worker in workers:  # both keep the token now
                assert (await worker.post("/graphql", json=QUERY, headers=headers)).is_success
            token_id = (await registry.list_tokens(sessions))[-1][0].id
            await registry.revoke_token(sessions, token_id)
            attempts = [await _until_refused(w, headers) for w in workers]
        finally:
            for worker in workers:
                await worker.aclose()
            await engine.dispose()
    if database_url.startswith("sqlite"):
        assert attempts == [1, 1]  # the very next request, on both
    else:
        # PostgreSQL tells workers by NOTIFY: refused as soon as it arrives.
        assert max(attempts) <= 3


async def test_disabling_a_client_reaches_a_worker_that_kept_its_token(
    hub_client, hub_sessions, database_url: str
):
    headers = await credentials(hub_sessions, ClientKind.OPERATOR, Purpose.OPERATIONS)
    assert (await hub_client.post("/graphql", json=QUERY, headers=headers)).is_success
    (client,) = [c for c in await registry.list_clients(hub_sessions) if c.kind == "OPERATOR"]
    await registry.set_enabled(hub_sessions, client.id, enabled=False)
    attempts = await _until_refused(hub_client, headers)
    assert attempts == 1 if database_url.startswith("sqlite") else attempts <= 3
