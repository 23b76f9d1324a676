"""Load for ``python -m bench``: latency medians, throughput windows, CPU per request.

Not run on its own. ``Client`` sends the requests (hub GraphQL, baseline GET). A
throughput window runs ``concurrency`` clients in a loop for a fixed time, each picking a
random household; it also reads the CPU time of the given processes (and their workers)
and of this one (the load client) before and after the window.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.processes import cpu_seconds, machine_busy_seconds

SERVER = "server"  # the hub or the baseline
STAND_INS = "stand-ins"
LOAD_CLIENT = "load client"


@dataclass
class Rate:
    per_second: float  # answers that succeeded
    failed: int
    # CPU per answer in ms, by process: those given to ``throughput`` and the load client.
    cpu_ms: dict[str, float] = field(default_factory=dict)
    # Cores kept busy over the window: by those processes, and by the whole machine.
    cores: float = 0.0
    machine_cores: float = 0.0

    @property
    def others_cores(self) -> float:
        """Cores that processes outside the measurement kept busy (should be near 0)."""
        return max(0.0, self.machine_cores - self.cores)


async def median_ms(call: Callable[[], Awaitable[None]], n: int) -> float:
    for _ in range(3):
        await call()  # warm connections and caches of the interpreter
    times = []
    for _ in range(n):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def throughput(
    call: Callable[[str], Awaitable[None]],
    ids: list[str],
    concurrency: int,
    seconds: float,
    *,
    pids: Mapping[str, int] | None = None,
    warm: float | None = None,
) -> Rate:
    """Answers per second over ``seconds`` after ``warm`` seconds of the same load
    (by default a third of ``seconds``, at most 1).

    For each of ``pids`` (name → process ID), the CPU the process and its children spent
    in the window, divided by the answers given; likewise for this process, the load
    client. The window closes when the last request in flight has ended.
    """
    warm = min(1.0, seconds / 3) if warm is None else warm
    if warm > 0:
        await _window(call, ids, concurrency, warm)
    pids = {**(pids or {})}
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    client_before, machine_before = time.process_time(), machine_busy_seconds()
    started = time.perf_counter()
    done, failed = await _window(call, ids, concurrency, seconds)
    elapsed = time.perf_counter() - started
    spent = {name: cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    spent[LOAD_CLIENT] = time.process_time() - client_before
    rate = Rate(done / seconds, failed)
    rate.cores = sum(spent.values()) / elapsed
    rate.machine_cores = (machine_busy_seconds() - machine_before) / elapsed
    if done:
        rate.cpu_ms = {name: cpu * 1000 / done for name, cpu in spent.items()}
    return rate


async def _window(
    call: Callable[[str], Awaitable[None]], ids: list[str], concurrency: int, seconds: float
) -> tuple[int, int]:
    done = failed = 0
    stop = time.monotonic() + seconds
    rng = random.Random(1)

    async def worker() -> None:
        nonlocal done, failed
        while time.monotonic() < stop:
            try:
                await call(rng.choice(ids))
                done += 1
            except (RuntimeError, aiohttp.ClientError, TimeoutError):
                failed += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, failed


class Client:
    """Requests to the hub (GraphQL, one household's full view) and to the baseline."""

    def __init__(
        self, session: aiohttp.ClientSession, headers: dict[str, str], full_view: str
    ) -> None:
        self.session = session
        self.headers = headers
        self.full_view = full_view  # a query of one household, ``$id``

    async def graphql(self, port: int, query: str, **variables: str) -> None:
        url = f"http://127.0.0.1:{port}/graphql"
        payload = {"query": query, "variables": variables}
        async with self.session.post(url, json=payload, headers=self.headers) as r:
            body: dict[str, Any] = await r.json()
            if r.status != 200 or body.get("errors"):
                raise RuntimeError(f"hub answered {r.status}: {body.get('errors')}")

    async def baseline(self, port: int, household_id: str) -> None:
        async with self.session.get(f"http://127.0.0.1:{port}/household/{household_id}") as r:
            await r.read()
            if r.status != 200:
                raise RuntimeError(f"baseline answered {r.status}")

    def one(self, port: int) -> Callable[[str], Awaitable[None]]:
        """The full view of a household from the hub on ``port``."""
        return lambda household_id: self.graphql(port, self.full_view, id=household_id)
