"""Rate limits per caller (by token ID): in memory for one worker, in Redis for several.

Both limiters run the same algorithm, GCRA (the generic cell rate algorithm): a token
bucket that keeps one number per key, the "theoretical arrival time" (TAT) at which the
key's bucket will be full again. With ``interval = 60 s / rate`` and ``t = max(TAT, now)``,
a request is allowed when ``t + interval - burst × interval <= now``, and then sets TAT
to ``t + interval``; otherwise the caller waits the difference. So ``burst`` requests may
come at once, then one every ``interval``. A key idle until its TAT has a full bucket,
exactly as if it had never been seen, so it can be forgotten: that is what bounds memory
here and what the Redis key's expiry does there.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


class RateLimiter(Protocol):
    """Decides whether the next request of a key may go ahead."""

    async def hit(self, key: str, *, consume: bool = True) -> float | None:
        """Count a request of ``key``: None if allowed, else seconds until one would be.

        With ``consume=False`` only look: whether a request would be allowed now.
        """
        ...

    async def aclose(self) -> None:
        """Release what the limiter holds (connections)."""
        ...


def _check(rate_per_minute: int, burst: int) -> float:
    if rate_per_minute < 1 or burst < 1:
        raise ValueError("rate_per_minute and burst must be at least 1")
    return 60.0 / rate_per_minute


class MemoryRateLimiter:
    """GCRA in this process's memory: exact for one worker, ``burst`` at once at most.

    Keys are kept in least-recently-used order; on every hit, keys at the old end whose
    bucket is full again are dropped (they behave as unseen keys anyway), and beyond
    ``max_keys`` the least recently used are dropped even if not full, which at worst
    gives those callers a fresh budget.
    """

    def __init__(
        self,
        rate_per_minute: int,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_keys: int = 100_000,
    ) -> None:
        self.interval = _check(rate_per_minute, burst)
        self.burst = burst
        self.clock = clock
        self.max_keys = max_keys
        self._tat: OrderedDict[str, float] = OrderedDict()

    async def hit(self, key: str, *, consume: bool = True) -> float | None:
        """Count a request of ``key``: None if allowed, else seconds until one would be."""
        now = self.clock()
        tat = max(self._tat.get(key, now), now)
        # Allowed while the bucket holds a token: TAT may run at most burst intervals ahead.
        wait = tat + self.interval - self.burst * self.interval - now
        if wait > 0:
            return wait
        if not consume:
            return None
        self._tat[key] = tat + self.interval
        self._tat.move_to_end(key)
        self._forget_idle(now)
        return None

    def __len__(self) -> int:
        return len(self._tat)

    def _forget_idle(self, now: float) -> None:
        while self._tat:
            key, tat = next(iter(self._tat.items()))
            if tat > now and len(self._tat) <= self.max_keys:
                break
            del self._tat[key]

    async def aclose(self) -> None:
        """Nothing to release."""


# GCRA in one atomic step. Redis's clock is the one all workers share, so it is the one
# used; times are microseconds, formatted with %.0f because Lua would print a number this
# large as 1.7e+15 and lose precision. Returns 0 if allowed, else microseconds to wait;
# ARGV[3] = "0" only looks.
_GCRA = """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat + interval - burst * interval - now
if wait > 0 then return math.ceil(wait) end
if ARGV[3] == "0" then return 0 end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
return 0
"""


class RedisRateLimiter:
    """GCRA kept in Redis by a Lua script, so every hub worker draws on one budget.

    If Redis cannot be reached or answers with an error, the request is ALLOWED (fail
    open: a broken limiter must not take the hub down with it) and a warning is logged,
    once when the outage starts and then at most every ``warn_every`` seconds; for
    ``retry_after`` seconds after a failure Redis is not asked at all, so an outage costs
    requests no waiting. Calls time out after ``timeout`` seconds and are not retried.
    """

    def __init__(
        self,
        url: str,
        rate_per_minute: int,
        burst: int,
        prefix: str = "hub:rl:",
        *,
        timeout: float = 0.25,
        retry_after: float = 5.0,
        warn_every: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval_us = round(_check(rate_per_minute, burst) * 1_000_000)
        self.burst = burst
        self.prefix = prefix
        self.retry_after = retry_after
        self.warn_every = warn_every
        self.clock = clock
        self._redis = redis.Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )
        self._script = self._redis.register_script(_GCRA)
        self._down_since: float | None = None
        self._skip_until = 0.0
        self._warned_at = -math.inf

    async def hit(self, key: str, *, consume: bool = True) -> float | None:
        """Count a request of ``key``: None if allowed, else seconds until one would be."""
        now = self.clock()
        if now < self._skip_until:
            return None
        try:
            wait_us = int(
                await self._script(
                    keys=[self.prefix + key],
                    args=[self.interval_us, self.burst, "1" if consume else "0"],
                )
            )
        except (RedisError, OSError) as exc:
            self._failed(now, exc)
            return None
        if self._down_since is not None:
            log.warning("rate limits: Redis answers again after %.0f s", now - self._down_since)
            self._down_since = None
        return wait_us / 1_000_000 if wait_us > 0 else None

    def _failed(self, now: float, exc: Exception) -> None:
        self._skip_until = now + self.retry_after
        if self._down_since is None:
            self._down_since = now
        if now - self._warned_at >= self.warn_every:
            self._warned_at = now
            log.warning(
                "rate limits OFF: Redis failed (%s: %s); requests are let through unlimited",
                type(exc).__name__,
                exc,
            )

    async def aclose(self) -> None:
        """Close the connections to Redis."""
        await self._redis.aclose()
