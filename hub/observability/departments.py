"""What the hub sees of its department calls: metrics, a span per call, the last outcome.

``DepartmentWatch`` is the observer ``adapters.http`` reports to (installed by
``hub.observability.setup``). Besides counting, it remembers each department's last
outcome in this process, which ``/readyz`` summarises beside the breaker states.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from adapters.base import SourceError
from adapters.http import CallWatch, CircuitOpen
from adapters.resilience import BreakerState
from adapters.vocabulary import Source
from hub.observability import metrics, tracing

BREAKER_VALUES = {BreakerState.CLOSED: 0, BreakerState.HALF_OPEN: 1, BreakerState.OPEN: 2}


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a department's latest call in this process ended."""

    ok: bool
    code: str | None  # the hub's error code when not ok
    at: float  # time.monotonic()


def error_code(error: BaseException) -> str:
    """The metric's code of a failed call: the hub's own, CIRCUIT_OPEN when the call was
    not even tried, CANCELLED when the request gave up on it, ERROR for anything else."""
    if isinstance(error, CircuitOpen):
        return "CIRCUIT_OPEN"
    if isinstance(error, SourceError):
        return error.code
    return "CANCELLED" if isinstance(error, asyncio.CancelledError) else "ERROR"


@dataclass(frozen=True, slots=True)
class _Series:
    """The series every call of one department writes to."""

    seconds: Any
    in_flight: Any


@functools.cache
def _series(source: Source) -> _Series:
    # Looked up once per department: ``labels`` takes a lock and checks its values each
    # time, and every department call wrote three series.
    name = source.value
    return _Series(metrics.DEPARTMENT_SECONDS.labels(name), metrics.IN_FLIGHT.labels(name))


class _Call:
    __slots__ = ("_owner", "_retries", "_source", "_span", "_started", "_status", "headers")

    def __init__(self, owner: DepartmentWatch, source: Source, method: str, path: str) -> None:
        self._owner = owner
        self._source = source
        self._started = time.perf_counter()
        self._retries = 0
        self._status: int | None = None
        self.headers: Mapping[str, str] = {}
        self._span: Any = None
        traced = tracing.start_call(
            f"{source.value} {method} {path}",
            {
                "hub.department": source.value,
                "http.request.method": method,
                # The endpoint as the adapter names it: fixed paths, never a record's key.
                "url.template": path,
            },
        )
        if traced is not None:
            self._span, self.headers = traced

    def answered(self, status: int) -> None:
        self._status = status

    def retried(self) -> None:
        self._retries += 1

    def ended(self, error: BaseException | None) -> None:
        source = self._source.value
        _series(self._source).seconds.observe(time.perf_counter() - self._started)
        if self._retries:
            metrics.DEPARTMENT_RETRIES.labels(source).inc(self._retries)
        code = None if error is None else error_code(error)
        if code is not None and code != "CANCELLED":
            metrics.DEPARTMENT_ERRORS.labels(source, code).inc()
        if code != "CANCELLED":
            self._owner.last[self._source] = Outcome(code is None, code, time.monotonic())
        if self._span is not None:
            attributes: dict[str, Any] = {"hub.retries": self._retries}
            if self._status is not None:
                attributes["http.response.status_code"] = self._status
            if code is not None:
                attributes["error.type"] = code
            tracing.end_call(self._span, attributes, failed=code is not None)


class DepartmentWatch:
    """Counts department calls, traces them, and keeps each department's last outcome."""

    def __init__(self) -> None:
        self.last: dict[Source, Outcome] = {}
        self._breakers: dict[Source, BreakerState] = {}

    def prime(self) -> None:
        """Every department's series at zero from the start, so that a dashboard shows a
        department that was never called (and a breaker that never opened) as such."""
        for source in Source:
            name = source.value
            metrics.DEPARTMENT_SECONDS.labels(name)
            metrics.DEPARTMENT_RETRIES.labels(name)
            metrics.IN_FLIGHT.labels(name)
            metrics.CACHE_HITS.labels(name)
            metrics.STALE_HITS.labels(name)
            self.breaker(source, self._breakers.get(source, BreakerState.CLOSED))
        for stage in ("address", "token"):
            metrics.RATE_LIMITED.labels(stage)

    def start(self, source: Source, method: str, path: str) -> CallWatch:
        return _Call(self, source, method, path)

    def in_flight(self, source: Source, change: int) -> None:
        _series(source).in_flight.inc(change)

    def breaker(self, source: Source, state: BreakerState) -> None:
        # Written only when it changes: the gauge is a file write in multiprocess mode.
        if self._breakers.get(source) is not state:
            self._breakers[source] = state
            metrics.BREAKER_STATE.labels(source.value).set(BREAKER_VALUES[state])

    def cached(self, source: Source, *, fresh: int, stale: int) -> None:
        if fresh:
            metrics.CACHE_HITS.labels(source.value).inc(fresh)
        if stale:
            metrics.STALE_HITS.labels(source.value).inc(stale)


# The process's one watch (adapters report to one observer per process).
WATCH = DepartmentWatch()
