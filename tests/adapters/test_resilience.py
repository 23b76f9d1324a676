import asyncio
from collections.abc import Mapping, Sequence

import httpx
import pytest

from adapters.base import BadUpstreamData, Health, SourceError, SourceTimeout, SourceUnavailable
from adapters.cache import CachedSource, Freshness, Sourced
from adapters.http import CircuitOpen, SourceClient
from adapters.resilience import BreakerState, CircuitBreaker, Policy, set_deadline
from adapters.vocabulary import Source


def state(breaker: CircuitBreaker) -> BreakerState:
    # A function call, so that mypy does not narrow the property across assertions.
    return breaker.state


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Upstream:
    """A scripted department: answers each call with the next response in ``script``."""

    def __init__(self, *script: httpx.Response | type[Exception] | float) -> None:
        self.script = list(script)
        self.calls = 0
        self.in_flight = 0
        self.most_in_flight = 0

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        step = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if isinstance(step, float):
                await asyncio.sleep(step)
                return httpx.Response(200, json={"ok": True})
            if isinstance(step, type):
                raise step("scripted", request=request)  # type: ignore[call-arg]
            return step
        finally:
            self.in_flight -= 1


def client(upstream: Upstream, *, clock=None, sleeps=None, **policy) -> SourceClient:
    async def record_sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    kwargs = {"clock": clock} if clock else {}
    return SourceClient(
        Source.HOUSING,
        httpx.AsyncClient(transport=httpx.MockTransport(upstream)),
        base_url="http://housing.test",
        policy=Policy(**{"backoff": 0.01, **policy}),
        sleep=record_sleep,
        **kwargs,
    )


OK = httpx.Response(200, json={"ok": True})


def test_the_breaker_opens_half_opens_and_closes():
    clock = FakeClock()
    breaker = CircuitBreaker(failures=3, reset=10, clock=clock)
    for _ in range(2):
        breaker.record_failure()
    assert state(breaker) is BreakerState.CLOSED
    breaker.record_failure()
    assert state(breaker) is BreakerState.OPEN
    assert not breaker.allow()
    clock.now += 10
    assert state(breaker) is BreakerState.HALF_OPEN
    assert breaker.allow()  # the one trial
    assert not breaker.allow()  # no second trial while the first is out
    breaker.record_failure()
    assert state(breaker) is BreakerState.OPEN  # the trial failed: a new cool-down
    clock.now += 9.9
    assert not breaker.allow()
    clock.now += 0.1
    assert breaker.allow()
    breaker.record_success()
    assert state(breaker) is BreakerState.CLOSED
    assert breaker.allow()


async def test_reads_are_retried_on_5xx_and_connect_errors_then_succeed():
    upstream = Upstream(httpx.Response(503), httpx.ConnectError, OK)
    http = client(upstream, retries=2)
    assert await http.post("/lookup", {"ids": []}) == {"ok": True}
    assert upstream.calls == 3


async def test_retries_stop_after_the_configured_attempts():
    upstream = Upstream(httpx.Response(502))
    http = client(upstream, retries=2)
    with pytest.raises(SourceUnavailable):
        await http.get("/lookup")
    assert upstream.calls == 3


async def test_backoff_is_jittered_exponential_within_its_cap():
    sleeps: list[float] = []
    http = client(
        Upstream(httpx.Response(503)), retries=4, sleeps=sleeps, backoff=0.1, backoff_max=0.3
    )
    with pytest.raises(SourceUnavailable):
        await http.get("/x")
    assert len(sleeps) == 4
    for attempt, slept in enumerate(sleeps, start=1):
        assert 0 <= slept <= min(0.3, 0.1 * 2**attempt)


@pytest.mark.parametrize(
    ("response", "error"),
    [(httpx.Response(400), SourceError), (httpx.Response(200, content=b"<html>"), BadUpstreamData)],
)
async def test_client_errors_and_bad_data_are_not_retried(response, error):
    upstream = Upstream(response)
    with pytest.raises(error):
        await client(upstream, retries=3).get("/x")
    assert upstream.calls == 1


async def test_a_non_idempotent_call_is_never_retried():
    upstream = Upstream(httpx.Response(503), OK)
    with pytest.raises(SourceUnavailable):
        await client(upstream, retries=3).post("/aid", {"amount": "100"}, idempotent=False)
    assert upstream.calls == 1


async def test_a_slow_answer_times_out():
    upstream = Upstream(0.5)
    with pytest.raises(SourceTimeout):
        await client(upstream, retries=0, timeout=0.05).get("/x")


async def test_an_open_breaker_refuses_without_calling_until_the_cool_down_ends():
    clock = FakeClock()
    upstream = Upstream(httpx.Response(503))
    http = client(upstream, clock=clock, retries=0, breaker_failures=2, breaker_reset=30)
    for _ in range(2):
        with pytest.raises(SourceUnavailable):
            await http.get("/x")
    assert state(http.breaker) is BreakerState.OPEN
    with pytest.raises(CircuitOpen):
        await http.get("/x")
    assert upstream.calls == 2
    clock.now += 30
    upstream.script = [OK]
    assert await http.get("/x") == {"ok": True}
    assert state(http.breaker) is BreakerState.CLOSED


async def test_the_request_deadline_bounds_every_call():
    upstream = Upstream(1.0)
    http = client(upstream, retries=3, timeout=5)
    set_deadline(0.05)
    try:
        with pytest.raises(SourceTimeout):
            await http.get("/x")
        await asyncio.sleep(0.06)
        with pytest.raises(SourceTimeout, match="deadline"):
            await http.get("/x")
    finally:
        set_deadline(None)
    assert upstream.calls == 1  # no retry past the deadline, no call after it


async def test_calls_in_flight_never_exceed_the_cap():
    upstream = Upstream(0.02)
    http = client(upstream, max_concurrency=2)
    await asyncio.gather(*(http.get("/x") for _ in range(10)))
    assert upstream.calls == 10
    assert upstream.most_in_flight == 2


class Department:
    source = Source.HOUSING

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.fail = False

    async def fetch(self, keys: Sequence[str]) -> Mapping[str, Sequence[str]]:
        self.calls.append(list(keys))
        if self.fail:
            raise SourceUnavailable(self.source, "down")
        return {k: [f"record of {k}"] for k in keys}

    async def health(self) -> Health:
        raise NotImplementedError


async def test_fresh_records_are_served_from_the_cache_and_only_misses_are_fetched():
    clock = FakeClock()
    department = Department()
    cached = CachedSource(department, Policy(cache_ttl=30), clock=clock)
    await cached.fetch(["a", "b"])
    clock.now += 10
    result = await cached.fetch(["a", "b", "c"])
    assert department.calls == [["a", "b"], ["c"]]
    assert all(isinstance(r, Sourced) and r.freshness is Freshness.LIVE for r in result.values())
    clock.now += 25  # a and b are past their TTL now
    await cached.fetch(["a", "c"])
    assert department.calls[-1] == ["a"]


async def test_stale_records_stand_in_when_the_department_fails():
    clock = FakeClock()
    department = Department()
    cached = CachedSource(department, Policy(cache_ttl=30, stale_ttl=3600), clock=clock)
    await cached.fetch(["a"])
    fetched_at = clock.now
    clock.now += 600
    department.fail = True
    result = await cached.fetch(["a", "b"])
    stale = result["a"]
    assert isinstance(stale, Sourced)
    assert stale.freshness is Freshness.STALE
    assert stale.records == ["record of a"]
    assert stale.as_of.timestamp() == fetched_at
    assert isinstance(result["b"], SourceUnavailable)  # nothing cached to stand in
    clock.now += 3600
    assert isinstance((await cached.fetch(["a"]))["a"], SourceUnavailable)  # too old now
