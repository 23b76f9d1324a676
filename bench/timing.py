"""Out of reach against nonexistent: does the time of an answer tell them apart?

For each lookup and each kind of client, requests for a household (or person) that exists
out of the caller's reach and for one that does not exist at all are sent interleaved,
one after the other, so that both meet the same load and the same warm caches; the
ratio of the two medians should be within noise (0.9 to 1.1). Beside it, the median of
the ratios of each pair.

Run by ``python -m bench`` (step ``timing``), which picks the out-of-reach household and
person from the synthetic population the stand-ins serve.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date

import aiohttp

from adapters import idnumber

MISSING_HOUSEHOLD = "H3101019999999"
MISSING_PERSON = idnumber.make("310101", date(1970, 1, 1), 999)
QUERIES = {
    "household": ("query($v: ID!) { household(id: $v) { id } }", "household"),
    "householdByMember": (
        "query($v: String!) { householdByMember(idNumber: $v) { id } }",
        "person",
    ),
    "person": ("query($v: String!) { person(idNumber: $v) { name } }", "person"),
}


@dataclass(frozen=True)
class Timing:
    lookup: str
    client: str
    out_of_reach_ms: float
    nonexistent_ms: float
    # The median of each interleaved pair's ratio: a burst of load on the machine slows
    # both requests of a pair, so this one moves less with it than the ratio of medians.
    pair_ratio: float | None = None

    @property
    def ratio(self) -> float:
        return self.out_of_reach_ms / self.nonexistent_ms


async def _timed(call: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def measure(
    session: aiohttp.ClientSession,
    url: str,
    clients: dict[str, dict[str, str]],
    *,
    outside_household: str,
    outside_member: str,
    samples: int,
) -> list[Timing]:
    """Medians of interleaved out-of-reach and nonexistent lookups, per lookup and client."""
    targets = {
        "household": (outside_household, MISSING_HOUSEHOLD),
        "person": (outside_member, MISSING_PERSON),
    }
    found = []
    for client, headers in clients.items():
        for lookup, (query, target) in QUERIES.items():
            hidden, missing = targets[target]

            def ask(
                value: str,
                query: str = query,
                headers: dict[str, str] = headers,
                who: str = f"{client}'s {lookup}",
            ) -> Callable[[], Awaitable[None]]:
                async def call() -> None:
                    body = {"query": query, "variables": {"v": value}}
                    async with session.post(url, json=body, headers=headers) as response:
                        answer = await response.read()
                        if response.status != 200:
                            raise RuntimeError(
                                f"hub answered {response.status} to {who}: "
                                + answer.decode(errors="replace")[:300]
                            )

                return call

            for _ in range(5):  # warm both paths
                await ask(hidden)()
                await ask(missing)()
            times: dict[str, list[float]] = {"hidden": [], "missing": []}
            for i in range(samples):
                # Alternate which goes first, so neither always follows the other.
                order = [("hidden", hidden), ("missing", missing)]
                for name, value in order if i % 2 == 0 else reversed(order):
                    times[name].append(await _timed(ask(value)))
            found.append(
                Timing(
                    lookup,
                    client,
                    statistics.median(times["hidden"]),
                    statistics.median(times["missing"]),
                    statistics.median(
                        h / m for h, m in zip(times["hidden"], times["missing"], strict=True)
                    ),
                )
            )
    return found


def rows(timings: list[Timing]) -> list[str]:
    return [
        f"| `{t.lookup}` as {t.client}: out of reach / nonexistent | "
        f"{t.out_of_reach_ms:.2f} / {t.nonexistent_ms:.2f} ms | {t.ratio:.2f}"
        + ("" if t.pair_ratio is None else f" (pairs: {t.pair_ratio:.2f})")
        + " |"
        for t in timings
    ]
