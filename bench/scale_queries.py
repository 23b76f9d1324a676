"""The queries of ``python -m bench.scale`` and their latency, one request at a time.

Not run on its own. The inputs (district, street and category combinations, members,
how many households each filter should match) come from the synthetic population the
civil-affairs stand-in serves, so every answer can be checked against it. Each line
sends a few warm-up requests, then up to ``samples`` requests or as many as fit in
``budget`` seconds (at least ``MIN_SAMPLES``), and reports p50 and p95.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from adapters.sandbox.population import Population
from adapters.vocabulary import AssistanceCategory, District, EnrollmentStatus

PAGE = 50
MIN_SAMPLES = 20
TARGET_P95_MS = 20.0
LIST = """query($f: HouseholdFilterInput!, $after: String) {
  households(filter: $f, first: 50, after: $after) { edges { node { id } } } }"""
WALK = """query($f: HouseholdFilterInput!, $after: String) {
  households(filter: $f, first: 50, after: $after) {
    edges { node { id } } pageInfo { endCursor hasNextPage } } }"""
BY_MEMBER = "query($v: String!) { householdByMember(idNumber: $v) { id } }"
COUNT = "query($f: HouseholdFilterInput!) { households(filter: $f) { totalCount } }"

Combo = tuple[District, str, AssistanceCategory]


Meter = Callable[[], dict[str, float]]  # CPU seconds so far, by process


@dataclass(frozen=True)
class Line:
    label: str
    samples: int
    p50_ms: float
    p95_ms: float
    cpu_ms: dict[str, float]  # per request, by process

    @property
    def met(self) -> bool:
        return self.p95_ms < TARGET_P95_MS


@dataclass(frozen=True)
class Inputs:
    combos: list[tuple[Combo, int]]  # (district, street, category) → households, a few
    districts: Counter[District]
    members: list[str]  # ID numbers, a random sample


def inputs(population: Population, members: int, seed: int = 1) -> Inputs:
    """The largest, the median and the smallest district/street/category combinations."""
    combos: Counter[Combo] = Counter()
    districts: Counter[District] = Counter()
    for h in population.households:
        districts[h.district] += 1
        for category in {e.category for e in h.enrollments if e.status is EnrollmentStatus.ACTIVE}:
            combos[(h.district, h.street, category)] += 1
    ranked = combos.most_common()
    picked = [ranked[0], ranked[len(ranked) // 2], ranked[-1]]
    rng = random.Random(seed)
    people = rng.sample(range(len(population.by_id_number)), min(members, 10_000))
    ids = list(population.by_id_number)
    return Inputs(picked, districts, [ids[i] for i in people])


def _filter(combo: Combo) -> dict[str, str]:
    district, street, category = combo
    return {"district": district.name, "street": street, "category": category.name}


class Hub:
    """One client's GraphQL requests to the hub, each checked for errors."""

    def __init__(self, session: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> None:
        self.session, self.url, self.headers = session, url, headers

    async def ask(self, query: str, **variables: Any) -> dict[str, Any]:
        payload = {"query": query, "variables": variables}
        async with self.session.post(self.url, json=payload, headers=self.headers) as r:
            body: dict[str, Any] = await r.json()
        if r.status != 200 or body.get("errors") or body.get("data") is None:
            raise RuntimeError(f"hub answered {r.status}: {body.get('errors')}")
        data: dict[str, Any] = body["data"]
        return data


def _same(hub: Hub, query: str, **variables: Any) -> Callable[[int], Awaitable[object]]:
    """The same request every time."""

    async def call(_: int) -> object:
        return await hub.ask(query, **variables)

    return call


async def line(
    label: str,
    calls: Callable[[int], Awaitable[object]],
    samples: int,
    budget: float,
    meter: Meter,
) -> Line:
    """p50 and p95 of ``calls(i)`` for i = 0, 1, …, one at a time, and CPU per call."""
    for i in range(3):
        await calls(i)  # warm connections and the statement caches
    times: list[float] = []
    before = meter()
    ends = time.monotonic() + budget
    while len(times) < samples and (len(times) < MIN_SAMPLES or time.monotonic() < ends):
        started = time.perf_counter()
        await calls(len(times))
        times.append((time.perf_counter() - started) * 1000)
    cpu = {k: max(0.0, v - before[k]) * 1000 / len(times) for k, v in meter().items()}
    return Line(label, len(times), statistics.median(times), _p95(times), cpu)


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[18]


async def measure(
    hub: Hub, data: Inputs, *, samples: int, budget: float, deep: int, meter: Meter
) -> tuple[list[Line], list[str]]:
    """The lines, and the answers that disagreed with the population (should be none)."""
    lines, wrong = [], []
    for combo, count in data.combos:
        f = _filter(combo)
        answer = await hub.ask(LIST, f=f)
        if len(answer["households"]["edges"]) != min(PAGE, count):
            wrong.append(f"{f}: first page of {len(answer['households']['edges'])}, not {count}")
        lines.append(
            await line(
                f"`households({_show(f)}, first: 50)`, page 1 ({count} match)",
                _same(hub, LIST, f=f),
                samples,
                budget,
                meter,
            )
        )
    largest_district = data.districts.most_common(1)[0]
    for f, count in (
        (_filter(data.combos[0][0]), data.combos[0][1]),
        ({"district": largest_district[0].name}, largest_district[1]),
    ):
        page = min(deep, (count - 1) // PAGE + 1)
        if page < 2:
            continue  # one page only: the first-page lines cover it
        cursor = await _walk(hub, f, page - 1)
        lines.append(
            await line(
                f"`households({_show(f)}, first: 50, after: …)`, page {page} ({count} match)",
                _same(hub, LIST, f=f, after=cursor),
                samples,
                budget,
                meter,
            )
        )
    lines.append(
        await line(
            "`householdByMember(idNumber)`, a different member each time",
            lambda i: hub.ask(BY_MEMBER, v=data.members[i % len(data.members)]),
            samples,
            budget,
            meter,
        )
    )
    for district, count in sorted(data.districts.items(), key=lambda dc: -dc[1]):
        f = {"district": district.name}
        total = (await hub.ask(COUNT, f=f))["households"]["totalCount"]
        if total != count:
            wrong.append(f"{f}: totalCount {total}, not {count}")
        lines.append(
            await line(
                f"`households({_show(f)}) {{ totalCount }}` ({count})",
                _same(hub, COUNT, f=f),
                samples,
                budget,
                meter,
            )
        )
    return lines, wrong


async def _walk(hub: Hub, f: dict[str, str], pages: int) -> str | None:
    """The cursor after ``pages`` pages (None for none), walked with the same token."""
    cursor = None
    for _ in range(pages):
        answer = (await hub.ask(WALK, f=f, after=cursor))["households"]
        cursor = answer["pageInfo"]["endCursor"]
    return cursor


def _show(f: dict[str, str]) -> str:
    inner = ", ".join(f'{k}: "{v}"' if k == "street" else f"{k}: {v}" for k, v in f.items())
    return f"filter: {{{inner}}}"


def rows(lines: list[Line]) -> list[str]:
    """The lines as a Markdown table, with the CPU per request of each metered process."""
    meters = list(lines[0].cpu_ms) if lines else []
    head = ["query, one at a time", "n", "p50", "p95", f"p95 under {TARGET_P95_MS:g} ms"]
    head += [f"{m} CPU per request" for m in meters]
    out = [_row(head), _row(["---"] * len(head))]
    for x in lines:
        cells = [x.label, str(x.samples), f"{x.p50_ms:.1f} ms", f"{x.p95_ms:.1f} ms"]
        cells += ["✓" if x.met else "✗", *(f"{x.cpu_ms[m]:.1f} ms" for m in meters)]
        out.append(_row(cells))
    return out


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"
