"""Per-token rate limits on the hub app: in memory by default, in Redis when configured."""

import os
import uuid

import pytest
import redis.asyncio as redis

from hub.auth.principal import ClientKind, Purpose
from hub.settings import Settings
from tests.conftest import make_settings
from tests.hubclient import credentials

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(params=["memory", "redis"])
async def settings(request: pytest.FixtureRequest, database_url: str):
    limited = {"rate_limit_burst": 3, "rate_limit_per_minute": 6}
    if request.param == "memory":
        yield make_settings(database_url).model_copy(update=limited)
        return
    client = redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (redis.ConnectionError, OSError) as exc:
        await client.aclose()
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    await client.aclose()
    # A fresh token ID per test keeps the counters of tests apart.
    yield make_settings(database_url).model_copy(update={**limited, "redis_url": REDIS_URL})


async def test_a_token_past_its_burst_gets_429_with_retry_after(
    hub_client, hub_sessions, settings: Settings
):
    headers = await credentials(hub_sessions, ClientKind.OPERATOR, Purpose.OPERATIONS)
    other = await credentials(hub_sessions, ClientKind.OPERATOR, Purpose.OPERATIONS)
    query = {"query": "{ __typename }", "variables": {"nonce": uuid.uuid4().hex}}
    statuses = [
        (await hub_client.post("/graphql", json=query, headers=headers)).status_code
        for _ in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    refused = await hub_client.post("/graphql", json=query, headers=headers)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    # Another token has its own budget.
    assert (await hub_client.post("/graphql", json=query, headers=other)).status_code == 200
