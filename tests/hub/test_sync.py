import httpx
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.registry import Adapters
from adapters.sandbox.population import Population
from adapters.vocabulary import Source
from hub.db.models import IndexedEnrollment, IndexedHousehold, IndexedMember, SyncCursor
from hub.index.sync import sync_households
from tests.conftest import SIZE, sandbox_url

CIVIL = sandbox_url(Source.CIVIL_AFFAIRS)


async def _count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


async def _row(sessions, household_id: str):
    async with sessions() as session:
        return await session.get(IndexedHousehold, household_id)


async def test_a_first_sync_indexes_every_household(
    sessions, adapters: Adapters, population: Population
):
    report = await sync_households(sessions=sessions, adapter=adapters.civil_affairs)
    assert (report.inserted, report.updated, report.removed) == (SIZE, 0, 0)
    assert await _count(sessions, IndexedHousehold) == SIZE
    assert await _count(sessions, IndexedMember) == sum(1 for _ in population.members())
    household = population.households[10]
    row = await _row(sessions, household.id)
    assert row is not None
    assert (row.district, row.street) == (household.district.code, household.street)
    async with sessions() as session:
        stored = await session.get(SyncCursor, Source.CIVIL_AFFAIRS.value)
    assert stored is not None
    assert stored.updated_since == max(h.updated_at for h in population.households)


async def test_small_pages_give_the_same_index(sessions, adapters: Adapters):
    report = await sync_households(sessions=sessions, adapter=adapters.civil_affairs, page_size=7)
    assert report.pages == SIZE // 7 + 1
    assert report.inserted == SIZE
    assert await _count(sessions, IndexedHousehold) == SIZE


async def test_a_second_run_without_upstream_changes_writes_nothing(
    sessions, adapters: Adapters, population: Population
):
    await sync_households(sessions=sessions, adapter=adapters.civil_affairs)
    before = await _row(sessions, population.households[0].id)
    again = await sync_households(sessions=sessions, adapter=adapters.civil_affairs)
    assert again.written == 0
    assert again.seen <= 2  # only what changed at the cursor's own instant is re-read
    after = await _row(sessions, population.households[0].id)
    assert before is not None
    assert after is not None
    assert after.synced_at == before.synced_at


async def test_a_household_changed_upstream_is_updated_on_the_next_run(
    sessions, adapters: Adapters, http: httpx.AsyncClient, population: Population
):
    await sync_households(sessions=sessions, adapter=adapters.civil_affairs)
    household = population.households[5]
    moved = await http.post(f"{CIVIL}/_sandbox/households/{household.id}/move", json={})
    new_street = moved.json()["streetName"]
    assert new_street != household.street
    report = await sync_households(sessions=sessions, adapter=adapters.civil_affairs)
    assert (report.updated, report.inserted, report.removed) == (1, 0, 0)
    row = await _row(sessions, household.id)
    assert row is not None
    assert row.street == new_street


async def test_a_household_removed_upstream_leaves_the_index(
    sessions, adapters: Adapters, http: httpx.AsyncClient, population: Population
):
    await sync_households(sessions=sessions, adapter=adapters.civil_affairs)
    household = population.households[7]
    assert (await http.delete(f"{CIVIL}/_sandbox/households/{household.id}")).status_code == 200
    report = await sync_households(sessions=sessions, adapter=adapters.civil_affairs)
    assert report.removed == 1
    assert await _row(sessions, household.id) is None
    async with sessions() as session:
        members = await session.scalar(
            select(func.count()).where(IndexedMember.household_id == household.id)
        )
        enrollments = await session.scalar(
            select(func.count()).where(IndexedEnrollment.household_id == household.id)
        )
    assert (members, enrollments) == (0, 0)
    assert await _count(sessions, IndexedHousehold) == SIZE - 1


async def _statistics(sessions) -> bool:
    """Whether the planner has statistics of the household index."""
    async with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            found = await session.scalar(
                text(
                    "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'household_index'"
                )
            )
            return found is not None
        try:
            found = await session.scalar(
                text("SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'household_index'")
            )
        except OperationalError:  # no statistics were ever gathered
            return False
        return bool(found)


async def test_a_large_sync_brings_the_planners_statistics_up_to_date(sessions, adapters: Adapters):
    assert not await _statistics(sessions)
    report = await sync_households(
        sessions=sessions, adapter=adapters.civil_affairs, analyze_after=SIZE
    )
    assert report.analyzed
    assert await _statistics(sessions)
    again = await sync_households(
        sessions=sessions, adapter=adapters.civil_affairs, analyze_after=SIZE
    )
    assert (again.written, again.analyzed) == (0, False)  # a small run leaves it to autovacuum
