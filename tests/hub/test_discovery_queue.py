"""Discovery as queued jobs on Redis: one per district, shared by workers, each once."""

import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis
from sqlalchemy import select

from adapters.vocabulary import District
from hub.db.coordination import Alert
from hub.jobs.queue import enqueue_discovery, worker
from hub.settings import Settings

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
async def queued_settings(settings: Settings) -> AsyncIterator[Settings]:
    client = redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (redis.ConnectionError, OSError) as exc:
        await client.aclose()
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    prefix = f"hub-test-{uuid.uuid4().hex}:"
    try:
        yield settings.model_copy(update={"redis_url": REDIS_URL, "redis_prefix": prefix})
    finally:
        keys = [k async for k in client.scan_iter(match=f"*{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def _alerts(sessions) -> dict[str, int]:
    """Open alerts by district code (digits 2-7 of the household ID)."""
    async with sessions() as session:
        ids = (await session.scalars(select(Alert.household_id))).all()
    return dict(Counter(household_id[1:7] for household_id in ids))


async def test_queued_districts_are_judged_by_the_workers(hub_app, hub_sessions, queued_settings):
    queued = await enqueue_discovery(queued_settings)
    assert sorted(queued) == sorted(d.name for d in District)
    # A district already waiting is not queued twice.
    assert await enqueue_discovery(queued_settings, [District.PUDONG]) == []
    resources = hub_app.state.resources
    await worker(queued_settings, resources=resources, burst=True).start()
    found = await _alerts(hub_sessions)
    assert found  # alerts in the districts the test population has households in
    assert set(found) <= {d.code for d in District}
    # Done, the queue takes the districts again.
    assert await enqueue_discovery(queued_settings, [District.PUDONG]) == ["PUDONG"]
