"""Rate limits: the in-memory and Redis limiters, and the middleware's 429."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import Scope

from hub.door import RateLimitMiddleware, principal_token_id
from hub.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter

REDIS_URL = os.environ.get("HUB_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_limiter_of_each_kind_fits_the_protocol():
    limiters: list[RateLimiter] = [
        MemoryRateLimiter(rate_per_minute=1, burst=1),
        RedisRateLimiter(REDIS_URL, rate_per_minute=1, burst=1),
    ]
    for limiter in limiters:
        await limiter.aclose()


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (1, 0)])
def test_rate_and_burst_must_be_positive(rate, burst):
    with pytest.raises(ValueError, match="at least 1"):
        MemoryRateLimiter(rate_per_minute=rate, burst=burst)


# --- in memory -------------------------------------------------------------------------


async def test_memory_allows_the_burst_then_says_when_to_come_back():
    clock = Clock()
    limiter = MemoryRateLimiter(rate_per_minute=10, burst=3, clock=clock)  # one per 6 s
    assert [await limiter.hit("t1") for _ in range(3)] == [None, None, None]
    assert await limiter.hit("t1") == pytest.approx(6.0)
    clock.now += 2.5
    # a refused request does not use up budget: still 3.5 s to wait
    assert await limiter.hit("t1") == pytest.approx(3.5)


async def test_memory_refills_one_request_per_interval():
    clock = Clock()
    limiter = MemoryRateLimiter(rate_per_minute=10, burst=3, clock=clock)
    for _ in range(3):
        assert await limiter.hit("t1") is None
    clock.now += 6
    assert await limiter.hit("t1") is None
    assert await limiter.hit("t1") == pytest.approx(6.0)
    clock.now += 18  # a full bucket again, and no more than full
    assert [await limiter.hit("t1") for _ in range(4)][-1] == pytest.approx(6.0)


async def test_memory_keys_are_independent():
    clock = Clock()
    limiter = MemoryRateLimiter(rate_per_minute=10, burst=1, clock=clock)
    assert await limiter.hit("t1") is None
    assert await limiter.hit("t1") is not None
    assert await limiter.hit("t2") is None


async def test_memory_forgets_keys_whose_bucket_is_full_again():
    clock = Clock()
    limiter = MemoryRateLimiter(rate_per_minute=60, burst=2, clock=clock)  # 1 s interval
    for n in range(1000):
        await limiter.hit(f"t{n}")
    assert len(limiter) == 1000
    clock.now += 1.5
    await limiter.hit("late")
    assert len(limiter) == 1


async def test_memory_never_keeps_more_than_max_keys():
    limiter = MemoryRateLimiter(rate_per_minute=1, burst=5, clock=Clock(), max_keys=100)
    for n in range(1000):
        assert await limiter.hit(f"t{n}") is None
    assert len(limiter) == 100


# --- in Redis ---------------------------------------------------------------------------


@dataclass
class RedisTarget:
    url: str
    prefix: str

    def limiter(self, rate_per_minute: int, burst: int) -> RedisRateLimiter:
        return RedisRateLimiter(self.url, rate_per_minute, burst, prefix=self.prefix)


@pytest.fixture
async def redis_target() -> AsyncIterator[RedisTarget]:
    """The test Redis with a prefix of this test's own; its keys are deleted after."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        reason = f"Redis at {REDIS_URL} is unreachable ({exc})"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must provide it")
        pytest.skip(f"{reason}; start one or set HUB_TEST_REDIS_URL")
    prefix = f"test:rl:{uuid.uuid4().hex}:"
    try:
        yield RedisTarget(REDIS_URL, prefix)
    finally:
        keys = [key async for key in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def test_redis_allows_the_burst_then_says_when_to_come_back(redis_target):
    limiter = redis_target.limiter(rate_per_minute=60, burst=3)  # one per second
    try:
        assert [await limiter.hit("t1") for _ in range(3)] == [None, None, None]
        wait = await limiter.hit("t1")
        assert wait is not None
        assert 0.5 < wait <= 1.0
        assert await limiter.hit("t2") is None
    finally:
        await limiter.aclose()


async def test_redis_refills_over_time(redis_target):
    limiter = redis_target.limiter(rate_per_minute=1200, burst=1)  # one per 50 ms
    try:
        assert await limiter.hit("t1") is None
        wait = await limiter.hit("t1")
        assert wait is not None
        assert wait <= 0.05
        await asyncio.sleep(wait + 0.01)
        assert await limiter.hit("t1") is None
    finally:
        await limiter.aclose()


async def test_two_workers_share_one_budget(redis_target):
    first = redis_target.limiter(rate_per_minute=6, burst=3)
    second = redis_target.limiter(rate_per_minute=6, burst=3)
    try:
        assert await first.hit("t1") is None
        assert await second.hit("t1") is None
        assert await first.hit("t1") is None
        assert await second.hit("t1") is not None
        assert await first.hit("t1") is not None
    finally:
        await first.aclose()
        await second.aclose()


async def test_redis_keys_expire_when_their_bucket_is_full_again(redis_target):
    limiter = redis_target.limiter(rate_per_minute=60, burst=5)
    client = redis.Redis.from_url(redis_target.url)
    try:
        await limiter.hit("t1")
        await limiter.hit("t1")
        ttl = await client.pttl(redis_target.prefix + "t1")
        assert 1000 < ttl <= 2000
    finally:
        await limiter.aclose()
        await client.aclose()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_without_redis_requests_pass_and_a_warning_is_logged(caplog):
    clock = Clock()
    limiter = RedisRateLimiter(
        f"redis://127.0.0.1:{_closed_port()}/0", rate_per_minute=1, burst=1, clock=clock
    )
    try:
        with caplog.at_level(logging.WARNING, logger="hub.ratelimit"):
            assert [await limiter.hit("t1") for _ in range(5)] == [None] * 5
    finally:
        await limiter.aclose()
    warnings = [r.getMessage() for r in caplog.records if r.name == "hub.ratelimit"]
    assert len(warnings) == 1
    assert "rate limits OFF" in warnings[0]


class FlakyScript:
    """Stands in for the Lua script: fails while ``down``, else allows; counts calls."""

    def __init__(self) -> None:
        self.down = True
        self.calls = 0

    async def __call__(self, keys: Any, args: Any) -> int:
        self.calls += 1
        if self.down:
            raise RedisConnectionError("connection refused")
        return 0


async def test_after_an_outage_redis_is_asked_again_after_a_pause(caplog):
    clock = Clock()
    limiter = RedisRateLimiter(REDIS_URL, rate_per_minute=1, burst=1, clock=clock, retry_after=5)
    script = FlakyScript()
    limiter._script = script  # type: ignore[assignment]
    with caplog.at_level(logging.WARNING, logger="hub.ratelimit"):
        assert await limiter.hit("t1") is None
        clock.now += 4
        assert await limiter.hit("t1") is None
        assert script.calls == 1  # not asked during the pause
        clock.now += 2
        script.down = False
        assert await limiter.hit("t1") is None
        assert script.calls == 2
    await limiter.aclose()
    messages = [r.getMessage() for r in caplog.records if r.name == "hub.ratelimit"]
    assert len(messages) == 2
    assert "Redis answers again after 6 s" in messages[1]


# --- the middleware ---------------------------------------------------------------------


def token_header(scope: Scope) -> str | None:
    return Headers(scope=scope).get("x-token")


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async def hello(request: Request) -> PlainTextResponse:
        return PlainTextResponse("hello")

    app = Starlette(routes=[Route("/", hello)])
    # 40 a minute: one every 1.5 s, so a refusal says 2 s (rounded up)
    limiter = MemoryRateLimiter(rate_per_minute=40, burst=2, clock=Clock())
    limited = RateLimitMiddleware(app, limiter, key_of=token_header)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=limited), base_url="http://hub"
    ) as client:
        yield client


async def test_the_middleware_answers_429_with_retry_after(client):
    for _ in range(2):
        response = await client.get("/", headers={"x-token": "t1"})
        assert response.status_code == 200
        assert response.text == "hello"
    response = await client.get("/", headers={"x-token": "t1"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "errors": [
            {
                "message": "Too many requests: try again in 2 s.",
                "extensions": {"code": "RATE_LIMITED", "retryAfter": 2},
            }
        ]
    }
    assert (await client.get("/", headers={"x-token": "t2"})).status_code == 200


async def test_requests_without_a_key_pass_unlimited(client):
    for _ in range(10):
        assert (await client.get("/")).status_code == 200


def test_the_key_is_the_token_id_the_gate_put_in_the_state():
    @dataclass
    class Principal:
        token_id: str

    assert principal_token_id({"type": "http", "state": {"principal": Principal("tok1")}}) == (
        "tok1"
    )
    assert principal_token_id({"type": "http", "state": {}}) is None
    assert principal_token_id({"type": "http"}) is None
