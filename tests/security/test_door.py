"""Finding 7: protection before authentication, and input errors as input errors.

Refused requests (401, 400, 403) were never rate limited and each cost a hash and a
database query; a 50 MB body was read and answered; a ``variables`` value nested 100,000
arrays deep answered 500; in production a variable that failed coercion was "Unexpected
error." with a traceback in the log.
"""

import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as redis

from hub.settings import Settings
from tests.conftest import make_settings
from tests.security.test_out_of_reach_costs_the_same import statements

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BAD = {"Authorization": "Bearer hub_not-a-token", "X-Purpose": "CASE_MANAGEMENT"}
TYPENAME = {"query": "{ __typename }"}


async def _redis_or_skip() -> None:
    client = redis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (redis.ConnectionError, OSError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"Redis at {REDIS_URL} is unreachable: {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    finally:
        await client.aclose()


@pytest.fixture(params=["memory", "redis"])
async def settings(request: pytest.FixtureRequest, database_url: str) -> AsyncIterator[Settings]:
    limits: dict[str, Any] = {
        "refusal_limit_burst": 3,
        "refusal_limit_per_minute": 3,
        "max_body_bytes": 262_144,  # room for a body nested 100,000 deep
    }
    if request.param == "memory":
        yield make_settings(database_url).model_copy(update=limits)
        return
    await _redis_or_skip()
    prefix = f"hub-test-{uuid.uuid4().hex}:"
    yield make_settings(database_url).model_copy(
        update={**limits, "redis_url": REDIS_URL, "redis_prefix": prefix}
    )
    client = redis.from_url(REDIS_URL)
    try:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def _from(hub_app: Any, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=hub_app, client=(address, 40000)),
        base_url="http://hub",
    )


async def test_an_address_that_keeps_being_refused_is_told_to_wait(hub_app, caseworker):
    async with _from(hub_app, "203.0.113.7") as flooding, _from(hub_app, "198.51.100.2") as other:
        statuses = [(await flooding.post("/graphql", json=TYPENAME, headers=BAD)).status_code
                    for _ in range(3)]  # fmt: skip
        assert statuses == [401, 401, 401]
        with statements(hub_app) as seen:
            waited = await flooding.post("/graphql", json=TYPENAME, headers=BAD)
            also = await flooding.post("/graphql", json=TYPENAME, headers=caseworker)
        assert waited.status_code == also.status_code == 429
        assert seen == []  # no token lookup for either
        assert int(waited.headers["retry-after"]) >= 1
        assert waited.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert waited.headers["x-request-id"]
        # Another address, and requests that succeed, are not held back.
        assert (await other.post("/graphql", json=TYPENAME, headers=BAD)).status_code == 401
        assert (await other.post("/graphql", json=TYPENAME, headers=caseworker)).status_code == 200


async def test_a_declared_oversized_body_is_refused_unread(hub_app, caseworker):
    read = 0

    async def fifty_megabytes() -> AsyncIterator[bytes]:
        nonlocal read
        for _ in range(50):
            read += 1
            yield b" " * 1_048_576

    async with _from(hub_app, "192.0.2.10") as client:
        response = await client.post(
            "/graphql",
            content=fifty_megabytes(),
            headers={**caseworker, "Content-Type": "application/json",
                     "Content-Length": str(50 * 1_048_576)},
        )  # fmt: skip
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"] == {
        "code": "BODY_TOO_LARGE",
        "maxBytes": 262_144,
    }
    assert read <= 1


async def test_a_streamed_oversized_body_is_refused_as_it_passes_the_limit(hub_app, caseworker):
    read = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal read
        for _ in range(100):
            read += 1
            yield b" " * 65_536

    async with _from(hub_app, "192.0.2.11") as client:
        response = await client.post(
            "/graphql", content=chunks(), headers={**caseworker, "Content-Type": "application/json"}
        )
    assert response.status_code == 413
    assert read == 5  # the fifth chunk of 64 KiB passes 256 KiB


async def test_a_body_within_the_limit_is_served(hub_client, caseworker):
    response = await hub_client.post("/graphql", json=TYPENAME, headers=caseworker)
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize("depth", [100_000, 33])
async def test_a_deeply_nested_body_is_a_client_error(depth, hub_client, caseworker):
    nested = "[" * depth + "]" * depth
    body = f'{{"query": "query($v: [[Int]]) {{ __typename }}", "variables": {{"v": {nested}}}}}'
    response = await _post(hub_client, caseworker, body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "JSON_TOO_DEEP"


async def test_a_body_that_is_not_json_says_so_in_json(hub_client, caseworker):
    response = await _post(hub_client, caseworker, "{not json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def _post(client: httpx.AsyncClient, headers: dict[str, str], body: str) -> httpx.Response:
    return await client.post(
        "/graphql", content=body, headers={**headers, "Content-Type": "application/json"}
    )
