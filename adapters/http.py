"""The HTTP client every adapter talks through, with the resilience every source shares.

It turns transport failures into the hub's source errors, so that no adapter and no
resolver ever sees an httpx exception or an upstream body. Each call gets a timeout
(bounded by the request deadline), a place under the source's concurrency cap, the
circuit breaker's permission, and, for idempotent reads, retries with jittered backoff
on connect errors, timeouts and 5xx only.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_any,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from adapters.base import (
    BadUpstreamData,
    Health,
    HealthStatus,
    SourceError,
    SourceTimeout,
    SourceUnavailable,
)
from adapters.resilience import BreakerState, CircuitBreaker, Clock, Policy, remaining
from adapters.vocabulary import Source

log = logging.getLogger(__name__)


class CircuitOpen(SourceUnavailable):
    """The breaker is open: the call was not even tried."""


class SourceClient:
    """JSON over HTTP to one department, on an injected ``httpx.AsyncClient``."""

    def __init__(
        self,
        source: Source,
        client: httpx.AsyncClient,
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
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._headers = headers or {}
        self._clock = clock
        self._sleep = sleep
        self._slots = asyncio.Semaphore(self.policy.max_concurrency)

    async def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        return await self._call("GET", path, params=params, idempotent=True)

    async def post(self, path: str, body: Any, *, idempotent: bool = True) -> Any:
        """POST ``body``; lookups by POST are reads, so idempotent unless told otherwise."""
        return await self._call("POST", path, json=body, idempotent=idempotent)

    async def health(self, path: str = "/health") -> Health:
        """Probe the department directly, past the breaker and without retries."""
        started = time.perf_counter()
        try:
            body = await self._once("GET", path, params=None, json=None)
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
        json: Any = None,
    ) -> Any:
        if not self.breaker.allow():
            raise CircuitOpen(
                self.source, f"circuit open, next try in {self.breaker.retry_after:.0f}s"
            )
        retrying = AsyncRetrying(
            stop=stop_any(
                stop_after_attempt(self.policy.retries + 1 if idempotent else 1),
                _DeadlinePassed(self._clock),
            ),
            wait=wait_random_exponential(
                multiplier=self.policy.backoff, max=self.policy.backoff_max
            ),
            retry=retry_if_exception_type((SourceUnavailable, SourceTimeout)),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    body = await self._once(method, path, params=params, json=json)
        except (SourceUnavailable, SourceTimeout):
            self.breaker.record_failure()
            if self.breaker.state is BreakerState.OPEN:
                log.warning("circuit opened for %s", self.source.value)
            raise
        except SourceError:
            self.breaker.release()
            raise
        self.breaker.record_success()
        return body

    async def _once(
        self, method: str, path: str, *, params: dict[str, str] | None, json: Any
    ) -> Any:
        timeout = self.policy.timeout
        left = remaining(self._clock)
        if left is not None:
            if left <= 0:
                raise SourceTimeout(self.source, "the request's deadline has passed")
            timeout = min(timeout, left)
        try:
            async with asyncio.timeout(timeout):
                async with self._slots:
                    response = await self._client.request(
                        method,
                        self._base_url + path,
                        params=params,
                        json=json,
                        headers=self._headers,
                        timeout=timeout,
                    )
        except (TimeoutError, httpx.TimeoutException) as exc:
            if _refused(exc):
                raise SourceUnavailable(self.source, "cannot reach the service") from None
            raise SourceTimeout(self.source, f"no answer within {timeout:g}s") from None
        except httpx.TransportError as exc:
            raise SourceUnavailable(
                self.source, f"cannot reach the service ({type(exc).__name__})"
            ) from None
        return self._read(response)

    def _read(self, response: httpx.Response) -> Any:
        status = response.status_code
        if status >= 500:
            raise SourceUnavailable(self.source, f"service answered {status}")
        if status == 404:
            return None
        if status >= 400:
            error = SourceError(self.source, f"service refused the request ({status})")
            error.retryable = False
            raise error
        try:
            return response.json()
        except ValueError:
            raise BadUpstreamData(self.source, "response is not valid JSON") from None


class _DeadlinePassed(stop_base):
    """Stop retrying once the request's deadline has passed."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock

    def __call__(self, retry_state: RetryCallState) -> bool:
        left = remaining(self._clock)
        return left is not None and left <= 0


def _refused(exc: BaseException) -> bool:
    """Whether a 'timeout' is really a refused connection (as the aiohttp transport maps it)."""
    cause = exc.__cause__
    return isinstance(cause, OSError) and isinstance(
        getattr(cause, "os_error", cause), ConnectionRefusedError
    )
