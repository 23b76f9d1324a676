"""How the hub protects itself from slow, failing and flapping departments.

The same machinery serves every source: a per-call timeout, retries with jittered
backoff for idempotent reads, a circuit breaker, a concurrency cap, and one deadline for
the whole GraphQL request. Clocks are injectable so that tests need not sleep.
"""

from __future__ import annotations

import contextvars
import enum
import time
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]

# The monotonic time by which the current request must be answered (None: no deadline).
_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "hub_request_deadline", default=None
)


def set_deadline(seconds: float | None, *, clock: Clock = time.monotonic) -> None:
    """Give the current request (this context and tasks started from it) a deadline."""
    _deadline.set(None if seconds is None else clock() + seconds)


def remaining(clock: Clock = time.monotonic) -> float | None:
    """Seconds left before the request deadline, or None without one."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - clock()


@dataclass(frozen=True)
class Policy:
    """One source's resilience settings."""

    timeout: float = 3.0  # seconds for one call, body included
    retries: int = 2  # extra attempts for idempotent reads
    backoff: float = 0.05  # base of the jittered exponential backoff, seconds
    backoff_max: float = 1.0
    breaker_failures: int = 5  # consecutive failed calls that open the breaker
    breaker_reset: float = 30.0  # seconds open before one trial call is let through
    max_concurrency: int = 32  # calls in flight to this source from one worker
    cache_ttl: float = 0.0  # seconds a record is served without asking again (0: always ask)
    stale_ttl: float = 0.0  # how old a record may be to stand in when the source fails
    cache_entries: int = 100_000


class BreakerState(enum.Enum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


class CircuitBreaker:
    """Opens after ``failures`` consecutive failed calls; after ``reset`` seconds open it
    lets one trial call through (half-open): success closes it, failure opens it again.

    Hand-written rather than taken from a library: the asyncio breakers on PyPI are
    either unmaintained or keep module-global state with a wall clock, and the hub needs
    an injectable clock and its state on show in ``Query.sources``.
    """

    def __init__(self, *, failures: int, reset: float, clock: Clock = time.monotonic) -> None:
        self._threshold = failures
        self._reset = reset
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._clock() - self._opened_at >= self._reset:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    @property
    def retry_after(self) -> float:
        """Seconds until a trial call will be let through (0 unless open)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._reset - (self._clock() - self._opened_at))

    def allow(self) -> bool:
        """Whether a call may go out now; in half-open, only one trial at a time."""
        state = self.state
        if state is BreakerState.CLOSED:
            return True
        if state is BreakerState.HALF_OPEN and not self._trial_in_flight:
            self._trial_in_flight = True
            return True
        return False

    def record_success(self) -> None:
        self._failures = 0
        self._opened_at = None
        self._trial_in_flight = False

    def record_failure(self) -> None:
        self._trial_in_flight = False
        if self._opened_at is not None:
            self._opened_at = self._clock()  # the trial failed: open for another cool-down
            return
        self._failures += 1
        if self._failures >= self._threshold:
            self._opened_at = self._clock()

    def release(self) -> None:
        """A call let through ended without telling health either way (e.g. a 4xx)."""
        self._trial_in_flight = False
