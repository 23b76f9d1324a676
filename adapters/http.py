"""The HTTP client every adapter talks through, with the resilience every source shares.

It turns transport failures into the hub's source errors, so that no adapter and no
resolver ever sees a transport's exception or an upstream body. Each call gets a timeout
(bounded by the request deadline), a place under the source's concurrency cap, the
circuit breaker's permission, and, for idempotent reads, retries with full-jitter
exponential backoff on connect errors, timeouts and 5xx only, while the request's
deadline allows. (The retry loop is a few lines of its own: building a retry object
per call, as a library does, showed in the profile of every department call.)
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import httpx
import orjson

from adapters.base import (
    BadUpstreamData,
    Health,
    HealthStatus,
    SourceError,
    SourceTimeout,
    SourceUnavailable,
)
from adapters.resilience import BreakerState, CircuitBreaker, Clock, Policy, remaining
from adapters.transports import HttpxWire, Wire, WireTimeout, WireUnreachable
from adapters.vocabulary import Source

log = logging.getLogger(__name__)


class CircuitOpen(SourceUnavailable):
    """The breaker is open: the call was not even tried."""


class CallWatch(Protocol):
    """One department call as it is observed: the headers each attempt carries (the
    trace context), the statuses answered, its retries and how it ended."""

    headers: Mapping[str, str]

    def answered(self, status: int) -> None: ...

    def retried(self) -> None: ...

    def ended(self, error: BaseException | None) -> None: ...


class CallObserver(Protocol):
    """Who watches department calls (the hub's metrics and traces). Adapters only report
    to it; what it does with the reports is none of theirs."""

    def start(self, source: Source, method: str, path: str) -> CallWatch: ...

    def in_flight(self, source: Source, change: int) -> None: ...

    def breaker(self, source: Source, state: BreakerState) -> None: ...

    def cached(self, source: Source, *, fresh: int, stale: int) -> None: ...


class _Unwatched:
    headers: Mapping[str, str] = {}

    def answered(self, status: int) -> None:
        pass

    def retried(self) -> None:
        pass

    def ended(self, error: BaseException | None) -> None:
        pass


class _Unobserved:
    _watch = _Unwatched()

    def start(self, source: Source, method: str, path: str) -> CallWatch:
        return self._watch

    def in_flight(self, source: Source, change: int) -> None:
        pass

    def breaker(self, source: Source, state: BreakerState) -> None:
        pass

    def cached(self, source: Source, *, fresh: int, stale: int) -> None:
        pass


# One per process, like the log and the metrics registry: the hub installs its own.
observer: CallObserver = _Unobserved()


def observe(new: CallObserver | None) -> None:
    """Report every department call of this process to ``new`` (None: to no one)."""
    global observer
    observer = new if new is not None else _Unobserved()


class SourceClient:
    """JSON over HTTP to one department, on an injected wire (``adapters.transports``).

    ``client`` may be a ``Wire`` or an ``httpx.AsyncClient`` (wrapped in ``HttpxWire``),
    so that tests keep swapping the network for httpx's in-process transports.
    """

    def __init__(
        self,
        source: Source,
        client: Wire | httpx.AsyncClient,
        *,
        base_url: str,
        headers: dict[str, str] | None = None,
        policy: Policy | None = None,
        clock: Clock = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        timeout: float | None = None,
    ) -> None:
        self.source = source
        self.policy = policy or (Policy(timeout=timeout) if timeout else Policy())
        self.breaker = CircuitBreaker(
            failures=self.policy.breaker_failures, reset=self.policy.breaker_reset, clock=clock
        )
        self._wire: Wire = HttpxWire(client) if isinstance(client, httpx.AsyncClient) else client
        self._base_url = base_url.rstrip("/")
        self._headers = headers or {}
        self._clock = clock
        self._sleep = sleep
        self._slots = asyncio.Semaphore(self.policy.max_concurrency)

    async def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        return await self._call("GET", path, params=params, idempotent=True)

    async def post(self, path: str, body: Any, *, idempotent: bool = True) -> Any:
        """POST ``body``; lookups by POST are reads, so idempotent unless told otherwise."""
        return await self._call("POST", path, body=orjson.dumps(body), idempotent=idempotent)

    async def health(self, path: str = "/health") -> Health:
        """Probe the department directly, past the breaker and without retries."""
        started = time.perf_counter()
        try:
            body = await self._once("GET", path, params=None, body=None)
            up = isinstance(body, dict) and body.get("status") == "UP"
            status, detail = (HealthStatus.UP if up else HealthStatus.DOWN), ""
        except SourceError as exc:
            status, detail = HealthStatus.DOWN, exc.message
        return Health(self.source, status, (time.perf_counter() - started) * 1000, detail)

    async def _call(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool,
        params: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Any:
        watch = observer.start(self.source, method, path)
        if not self.breaker.allow():
            refused = CircuitOpen(
                self.source, f"circuit open, next try in {self.breaker.retry_after:.0f}s"
            )
            watch.ended(refused)
            raise refused
        attempts = self.policy.retries + 1 if idempotent else 1
        attempt = 0
        try:
            while True:
                attempt += 1
                try:
                    found = await self._once(method, path, params=params, body=body, watch=watch)
                    break
                except (SourceUnavailable, SourceTimeout):
                    left = remaining(self._clock)
                    if attempt >= attempts or (left is not None and left <= 0):
                        raise
                    watch.retried()
                    await self._sleep(self._backoff(attempt))
        except (SourceUnavailable, SourceTimeout) as exc:
            self.breaker.record_failure()
            if self.breaker.state is BreakerState.OPEN:
                log.warning("circuit opened for %s", self.source.value)
            watch.ended(exc)
            observer.breaker(self.source, self.breaker.state)
            raise
        except SourceError as exc:
            self.breaker.release()
            watch.ended(exc)
            raise
        except BaseException as exc:  # cancelled (the request gave up), or a bug
            watch.ended(exc)
            raise
        self.breaker.record_success()
        watch.ended(None)
        observer.breaker(self.source, BreakerState.CLOSED)
        return found

    def _backoff(self, attempt: int) -> float:
        """Full jitter: a random wait up to the exponential step (capped)."""
        ceiling = min(self.policy.backoff_max, self.policy.backoff * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)

    async def _once(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None,
        body: bytes | None,
        watch: CallWatch | None = None,
    ) -> Any:
        timeout = self.policy.timeout
        left = remaining(self._clock)
        if left is not None:
            if left <= 0:
                raise SourceTimeout(self.source, "the request's deadline has passed")
            timeout = min(timeout, left)
        headers = self._headers
        if watch is not None and watch.headers:
            headers = {**headers, **watch.headers}  # the trace context, to the department
        try:
            async with asyncio.timeout(timeout):
                async with self._slots:
                    observer.in_flight(self.source, 1)
                    try:
                        status, content = await self._wire.request(
                            method,
                            self._base_url + path,
                            params=params,
                            body=body,
                            headers=headers,
                        )
                    finally:
                        observer.in_flight(self.source, -1)
            if watch is not None:
                watch.answered(status)
        except (TimeoutError, WireTimeout):
            raise SourceTimeout(self.source, f"no answer within {timeout:g}s") from None
        except WireUnreachable as exc:
            detail = "" if exc.refused else f" ({exc.kind})"
            raise SourceUnavailable(self.source, f"cannot reach the service{detail}") from None
        return self._read(status, content)

    def _read(self, status: int, content: bytes) -> Any:
        if status >= 500:
            raise SourceUnavailable(self.source, f"service answered {status}")
        if status == 404:
            return None
        if status >= 400:
            error = SourceError(self.source, f"service refused the request ({status})")
            error.retryable = False
            raise error
        try:
            return orjson.loads(content)
        except orjson.JSONDecodeError:
            raise BadUpstreamData(self.source, "response is not valid JSON") from None
