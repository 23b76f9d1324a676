"""Index entries a worker keeps (``hub.index.cache``): no query to find a household it
found lately, the same cost for out of reach and unknown, and nothing kept past a change.

Each test syncs the index, then reads through ``Households`` as a request would, with one
cache shared by the "requests" as a worker shares it, and counts the index's queries.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.registry import Adapters
from adapters.sandbox.population import Population
from adapters.vocabulary import Source
from hub import rules
from hub.auth.policy import view
from hub.auth.principal import ClientKind, Purpose
from hub.auth.revocations import INDEX, Revocations, watch
from hub.households.reach import EVERYTHING, Reach
from hub.households.service import Households
from hub.index.cache import EntryCache
from hub.index.search import IndexEntry
from hub.index.sync import sync_households
from tests.conftest import sandbox_url
from tests.hubclient import announced, listening

T = TypeVar("T")
CIVIL = sandbox_url(Source.CIVIL_AFFAIRS)
UNKNOWN = "H3101159999999"


@pytest.fixture
async def changes(database_url: str) -> AsyncIterator[Revocations]:
    watcher = watch(database_url, INDEX)
    await watcher.start()
    await listening(watcher)
    yield watcher
    await watcher.aclose()


@pytest.fixture
async def cache(
    changes: Revocations, sessions: async_sessionmaker[AsyncSession], adapters: Adapters
) -> EntryCache:
    before = changes.epoch()
    await sync_households(sessions=sessions, adapter=adapters.civil_affairs)
    # On PostgreSQL the sync's announcements arrive a moment after it returns; one that
    # arrived after a test's first lookup would (rightly) drop what that lookup kept.
    await announced(changes, before)
    await settled(changes)
    return EntryCache(changes, ttl=30)


async def settled(changes: Revocations, quiet: float = 0.2) -> None:
    """Wait until no announcement has arrived for ``quiet`` seconds."""
    epoch = changes.epoch()
    while True:
        await asyncio.sleep(quiet)
        if changes.epoch() == epoch:
            return
        epoch = changes.epoch()


def request(
    sessions: async_sessionmaker[AsyncSession],
    adapters: Adapters,
    cache: EntryCache,
    reach: Reach = EVERYTHING,
) -> Households:
    """The households service of one request, with the worker's cache."""
    return Households(
        sessions=sessions,
        adapters=adapters,
        rules=rules.load(),
        reach=reach,
        view=view(ClientKind.AGENCY, Purpose.CASE_MANAGEMENT),
        now=datetime.now(UTC),
        cache=cache,
    )


def asking(
    sessions: async_sessionmaker[AsyncSession],
    adapters: Adapters,
    cache: EntryCache,
    household_id: str,
) -> Callable[[], Awaitable[dict[str, IndexEntry]]]:
    """A city-wide request for one household's entry, each time it is called."""

    def ask() -> Awaitable[dict[str, IndexEntry]]:
        return request(sessions, adapters, cache).entries([household_id])

    return ask


async def index_reads(engine: AsyncEngine, ask: Callable[[], Awaitable[T]]) -> tuple[T, int]:
    """What ``ask`` answered, and how many queries of the household index it made."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        answer = await ask()
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)
    return answer, sum("FROM household_index" in s for s in seen)


async def test_a_household_found_lately_costs_no_query_until_a_sync_changes_it(
    engine, sessions, adapters, cache, changes, http: httpx.AsyncClient, population: Population
):
    household = population.households[5]
    ask = asking(sessions, adapters, cache, household.id)
    first, reads = await index_reads(engine, ask)
    assert (first[household.id].street, reads) == (household.street, 1)
    again, reads = await index_reads(engine, ask)
    assert (again[household.id], reads) == (first[household.id], 0)
    moved = await http.post(f"{CIVIL}/_sandbox/households/{household.id}/move", json={})
    before = changes.epoch()
    report = await sync_households(sessions=sessions, adapter=adapters.civil_affairs)
    assert report.updated == 1
    await announced(changes, before)  # the sync told the workers
    after, reads = await index_reads(engine, ask)
    assert (after[household.id].street, reads) == (moved.json()["streetName"], 1)


async def test_a_household_removed_upstream_is_gone_after_the_sync(
    engine, sessions, adapters, cache, changes, http: httpx.AsyncClient, population: Population
):
    household = population.households[7]
    ask = asking(sessions, adapters, cache, household.id)
    assert household.id in await ask()
    assert (await http.delete(f"{CIVIL}/_sandbox/households/{household.id}")).status_code == 200
    before = changes.epoch()
    await sync_households(sessions=sessions, adapter=adapters.civil_affairs)
    await announced(changes, before)
    assert await ask() == {}


async def test_out_of_reach_and_unknown_cost_the_same_and_are_kept_per_reach(
    engine, sessions, adapters, cache, population: Population
):
    household = population.households[3]
    elsewhere = next(h for h in population.households if h.district != household.district)
    district = Reach(district=household.district)
    for attempt in (1, 2):
        for asked, denied in ((elsewhere.id, 1), (UNKNOWN, 0)):
            one = request(sessions, adapters, cache, district)
            found, reads = await index_reads(engine, lambda: one.entries([asked]))  # noqa: B023
            # Asked first, each costs a query; asked again, neither does.
            assert (found, reads) == ({}, 1 if attempt == 1 else 0)
            # The audit log still tells them apart.
            assert (one.access.denied, len(one.access.missing)) == (
                ({asked} if denied else set()),
                1 - denied,
            )
    # Callers of another reach are not answered from what this reach was told.
    city = request(sessions, adapters, cache)
    found, reads = await index_reads(engine, lambda: city.entries([elsewhere.id]))
    assert (list(found), reads) == ([elsewhere.id], 1)


async def test_charities_ask_the_database_every_time(
    engine, sessions, adapters, cache, population: Population
):
    # Their reach rests on consents, which are withdrawn and expire without a sync.
    charity = Reach(consent_organisation="org-a", consent_purpose=Purpose.CHARITY_MATCHING)
    for _ in (1, 2):
        one = request(sessions, adapters, cache, charity)
        found, reads = await index_reads(engine, lambda: one.entries([population.households[0].id]))  # noqa: B023
        assert (found, reads) == ({}, 1)


async def test_nothing_is_kept_when_the_cache_is_off(
    engine, sessions, adapters, changes, population: Population
):
    await sync_households(sessions=sessions, adapter=adapters.civil_affairs)
    off = EntryCache(changes, ttl=0)
    for _ in (1, 2):
        one = request(sessions, adapters, off)
        _, reads = await index_reads(engine, lambda: one.entries([population.households[0].id]))  # noqa: B023
        assert reads == 1
