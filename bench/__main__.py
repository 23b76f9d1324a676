"""``python -m bench`` (``make bench``): the hub against one department and a baseline.

Everything runs on loopback in separate processes, started and measured in this run:
the seven stand-ins (one process, each department answering after ``--latency-ms``),
the hub twice (aiohttp and httpx transports, caching off so every answer asks the
departments), later once more with ``--workers`` processes, and the hand-written
aggregator in ``bench/baseline.py`` on each transport. Reported as ratios measured in
the same run, never as absolute targets:

- fan-out: one household's full view (seven departments) against one department call;
- upstream calls made by one ``households(first: 50)`` query selecting every section;
- out of reach against nonexistent: the time of an answer (``bench/timing.py``);
- throughput of the full view under concurrency, against the baseline, and the CPU each
  process (hub or baseline, stand-ins, this load client) spends per answer (read from
  /proc, so Linux only);
- a py-spy profile of the hub under that load: top functions and areas by self samples;
- throughput of the hub with ``--workers`` worker processes, against the baseline.

Households and their members come from the synthetic population the stand-ins serve
(``--seed``, ``--size``), never from the hub's database. Every process listens on a
loopback port the system chose free. ``--quick`` runs every step on a small population
with short windows (under a minute; the figures are rough); ``--only throughput,profile``
runs some steps (``fanout``, ``calls``, ``timing``, ``throughput``, ``profile``,
``workers``). A full run of every step also writes ``bench/latest.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import aiohttp

from adapters.sandbox.population import Population, generate
from adapters.vocabulary import Source
from bench import load, profile, report, timing
from bench.processes import Processes, client_headers, free_ports, hub_here, running, wait_up
from bench.stand_ins import department_environment
from hub.demo import wait_healthy

STEPS = ("fanout", "calls", "timing", "throughput", "profile", "workers")
SECTIONS = """id members { idNumber age } civilAffairs { enrollments { category status } }
  medical { totalOutOfPocket insured { scheme } } education { students { stage } }
  housing { dwellings { tenure } } employment { members { status } }
  disaster { impacts { damageLevel } } charity { totalAmount }"""
ONE = f"query($id: ID!) {{ household(id: $id) {{ {SECTIONS} }} }}"
LIST = f"{{ households(first: 50) {{ edges {{ node {{ {SECTIONS} }} }} }} }}"
AGENCY = ("--kind", "agency", "--department", "civil_affairs")

# Option → (full run, --quick): what --quick changes unless the option is given.
SIZES = {
    "size": (2000, 200),
    "seconds": (5.0, 1.5),
    "samples": (30, 5),
    "profile_seconds": (8, 2),
}


@dataclass(frozen=True)
class Ports:
    """Where each process of the run listens: loopback ports the system chose free."""

    departments: dict[Source, int]
    control: int
    servers: dict[str, int]  # report key → port (the hub's and the baseline's)

    @classmethod
    def allocate(cls, workers_key: str) -> Ports:
        keys = [report.HUB, report.HUB_HTTPX, report.BASELINE, report.BASELINE_HTTPX, workers_key]
        free = free_ports(len(Source) + 1 + len(keys))
        return cls(
            departments=dict(zip(Source, free, strict=False)),
            control=free[len(Source)],
            servers=dict(zip(keys, free[len(Source) + 1 :], strict=True)),
        )


@dataclass
class Run:
    """What the steps share: the options, the population, the clients and the processes."""

    args: argparse.Namespace
    population: Population
    ports: Ports
    processes: Processes
    sandbox: subprocess.Popen[bytes]
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)
    servers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)  # by report key

    @property
    def steps(self) -> set[str]:
        steps: set[str] = self.args.steps
        return steps

    @cached_property
    def ids(self) -> list[str]:
        """The households asked for: the first 200 by ID."""
        return sorted(self.population.by_id)[:200]

    def url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.ports.servers[key]}"


async def measure(run: Run) -> report.Figures:
    args, steps, figures = run.args, run.steps, report.Figures()
    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = load.Client(session, run.tokens["city caseworker"], ONE)
        for key in run.servers:
            path = "/household/none" if key.startswith("baseline") else "/healthz"
            await wait_up(session, run.url(key) + path)
        hub_port = run.ports.servers[report.HUB]
        if "fanout" in steps:
            education = run.ports.departments[Source.EDUCATION]
            sample = run.population.by_id[run.ids[0]]
            ids = [m.id_number for m in sample.members]

            async def one_department() -> None:
                url = f"http://127.0.0.1:{education}/api/students/lookup"
                async with session.post(url, json={"sfzhList": ids}) as r:
                    await r.read()

            figures.one_department_ms = await load.median_ms(one_department, args.samples)
            figures.full_view_ms = await load.median_ms(
                lambda: client.graphql(hub_port, ONE, id=sample.id), args.samples
            )
        if "calls" in steps:
            stats = f"http://127.0.0.1:{run.ports.control}/stats"
            async with session.delete(stats):
                pass
            await client.graphql(hub_port, LIST)
            async with session.get(stats) as r:
                figures.list_calls = dict(await r.json())
        if "timing" in steps:
            figures.timings = await _timing(run, session)
        if steps & {"throughput", "workers"}:
            await _throughput(run, client, figures)
        if "profile" in steps:
            call = client.one(hub_port)
            await load.throughput(call, run.ids, args.concurrency, 1.0, warm=0)
            figures.profile, figures.profiled = await profile.record(
                run.servers[report.HUB].pid,
                args.profile_seconds,
                lambda s: load.throughput(
                    call, run.ids, args.concurrency, s, warm=0, pids=_pids(run, report.HUB)
                ),
                keep=args.profile_out,
            )
        if "workers" in steps:
            # The other hubs rest meanwhile; the httpx one is done with and goes.
            if report.HUB_HTTPX in run.servers:
                run.processes.stop(run.servers.pop(report.HUB_HTTPX))
            key = report.workers_key(args.workers)
            run.servers[key] = _serve(run, key, "aiohttp", "--workers", str(args.workers))
            await wait_up(session, run.url(key) + "/healthz")
            figures.throughput[key] = await load.throughput(
                client.one(run.ports.servers[key]),
                run.ids,
                args.concurrency,
                args.seconds,
                pids=_pids(run, key),
            )
    return figures


async def _timing(run: Run, session: aiohttp.ClientSession) -> list[timing.Timing]:
    # A household outside the district caseworker's district (that of the first one).
    first = run.population.by_id[run.ids[0]]
    outside = next(
        run.population.by_id[h]
        for h in sorted(run.population.by_id)
        if run.population.by_id[h].district is not first.district
    )
    if timing.MISSING_HOUSEHOLD in run.population.by_id or (
        timing.MISSING_PERSON in run.population.by_id_number
    ):
        raise SystemExit("the population holds the 'nonexistent' household or person")
    return await timing.measure(
        session,
        run.url(report.HUB) + "/graphql",
        {k: v for k, v in run.tokens.items() if k != "city caseworker"},
        outside_household=outside.id,
        outside_member=outside.members[0].id_number,
        samples=run.args.samples * 6,
    )


async def _throughput(run: Run, client: load.Client, figures: report.Figures) -> None:
    def baseline(key: str) -> Callable[[str], Awaitable[None]]:
        return lambda h: client.baseline(run.ports.servers[key], h)

    targets: list[tuple[str, Callable[[str], Awaitable[None]]]] = [
        (report.BASELINE, baseline(report.BASELINE))
    ]
    if "throughput" in run.steps:
        targets = [
            (report.HUB, client.one(run.ports.servers[report.HUB])),
            (report.HUB_HTTPX, client.one(run.ports.servers[report.HUB_HTTPX])),
            *targets,
            (report.BASELINE_HTTPX, baseline(report.BASELINE_HTTPX)),
        ]
    for key, call in targets:
        figures.throughput[key] = await load.throughput(
            call, run.ids, run.args.concurrency, run.args.seconds, pids=_pids(run, key)
        )


def _pids(run: Run, key: str) -> dict[str, int]:
    return {load.SERVER: run.servers[key].pid, load.STAND_INS: run.sandbox.pid}


def _wanted(steps: set[str]) -> dict[str, str]:
    """The servers the steps need from the start: report key → transport."""
    wanted = {}
    if steps & {"fanout", "calls", "timing", "throughput", "profile"}:
        wanted[report.HUB] = "aiohttp"
    if "throughput" in steps:
        wanted[report.HUB_HTTPX] = "httpx"
        wanted[report.BASELINE_HTTPX] = "httpx"
    if steps & {"throughput", "workers"}:
        wanted[report.BASELINE] = "aiohttp"
    return wanted


def _serve(run: Run, key: str, transport: str, *options: str) -> subprocess.Popen[bytes]:
    return run.processes.start(
        "-m",
        "hub.cli",
        "serve",
        *options,
        HUB_PORT=str(run.ports.servers[key]),
        HUB_HTTP_TRANSPORT=transport,
    )


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="a small population and short windows (< 1 min)"
    )
    parser.add_argument("--seed", type=int, default=int(os.environ.get("HUB_SANDBOX_SEED", 2026)))
    parser.add_argument("--size", type=int, help="households (2000; --quick 200)")
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, help="per throughput window (5; --quick 1.5)")
    parser.add_argument("--samples", type=int, help="per latency median (30; --quick 5)")
    parser.add_argument("--profile-seconds", type=int, help="(8; --quick 2)")
    parser.add_argument(
        "--profile-out", type=Path, default=None, help="keep py-spy's collapsed stacks here"
    )
    parser.add_argument("--workers", type=int, default=2, help="of the multi-process hub")
    parser.add_argument(
        "--only", default=",".join(STEPS), help=f"comma-separated steps of {', '.join(STEPS)}"
    )
    args = parser.parse_args(argv)
    for name, (full, quick) in SIZES.items():
        if getattr(args, name) is None:
            setattr(args, name, quick if args.quick else full)
    args.steps = {s.strip() for s in args.only.split(",") if s.strip()}
    if not args.steps or args.steps - set(STEPS):
        parser.error(f"--only takes steps of {', '.join(STEPS)}")
    if args.size < 2 or args.workers < 1 or args.seconds <= 0 or args.samples < 1:
        parser.error("--size needs at least 2 households; --workers, --seconds, --samples > 0")
    return args


def _environment(database: Path, ports: Ports) -> dict[str, str]:
    return {
        **os.environ,
        "HUB_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "HUB_LOG_LEVEL": "warning",
        "HUB_ENV": "production",
        "HUB_SECRET_KEY": secrets.token_urlsafe(32),
        # The benchmark measures the fan-out, not the rate limits.
        "HUB_RATE_LIMIT_PER_MINUTE": "100000000",
        "HUB_RATE_LIMIT_BURST": "1000000",
        "HUB_REFUSAL_LIMIT_PER_MINUTE": "100000000",
        "HUB_REFUSAL_LIMIT_BURST": "1000000",
        **{f"HUB_{s.name}__CACHE_TTL": "0" for s in Source},
        **department_environment(ports.departments),
    }


def _tokens(
    env: dict[str, str], population: Population, steps: set[str]
) -> dict[str, dict[str, str]]:
    """The clients the steps ask as: name → request headers.

    Every step asks as a city caseworker; the timing step also as a caseworker limited to
    the district of the first household, and as a charity (with no consents at all).
    """
    district = population.by_id[min(population.by_id)].district.name.lower()
    clients: list[tuple[str, str, tuple[str, ...]]] = [
        ("city caseworker", "CASE_MANAGEMENT", AGENCY)
    ]
    if "timing" in steps:
        clients += [
            ("district caseworker", "CASE_MANAGEMENT", (*AGENCY, "--district", district)),
            ("charity", "CHARITY_MATCHING", ("--kind", "charity", "--organisation", "o1")),
        ]
    return {
        name: client_headers(env, name, purpose, *options) for name, purpose, options in clients
    }


def start(args: argparse.Namespace, ps: Processes, ports: Ports) -> Run:
    """The stand-ins, the baselines, the hub's database and the hubs, ready to be asked."""
    sandbox = ps.start(
        "-m",
        "bench.stand_ins",
        "--seed",
        str(args.seed),
        "--size",
        str(args.size),
        "--latency-ms",
        f"{args.latency_ms:g}",
        "--control-port",
        str(ports.control),
        silent=True,
    )
    wanted = _wanted(args.steps)
    servers = {
        key: ps.start(
            "-m",
            "bench.baseline",
            BENCH_PORT=str(ports.servers[key]),
            BENCH_TRANSPORT=transport,
            BENCH_SEED=str(args.seed),
            BENCH_SIZE=str(args.size),
            silent=True,
        )
        for key, transport in wanted.items()
        if key.startswith("baseline")
    }
    population = generate(args.seed, args.size)  # meanwhile, as the stand-ins do
    wait_healthy(list(ports.departments.values()), timeout=300)
    hub_here(ps.env, "db", "upgrade")
    hub_here(ps.env, "sync")
    run = Run(args, population, ports, ps, sandbox, servers=servers)
    for key, transport in wanted.items():
        if not key.startswith("baseline"):
            run.servers[key] = _serve(run, key, transport)
    run.tokens = _tokens(ps.env, population, args.steps)  # while the hubs start
    return run


def main(argv: list[str] | None = None) -> str:
    """Run the steps, print the report and return it."""
    args = arguments(argv)
    started = time.perf_counter()
    ports = Ports.allocate(report.workers_key(args.workers))
    with (
        tempfile.TemporaryDirectory() as tmp,
        running(_environment(Path(tmp) / "bench.db", ports)) as ps,
    ):
        figures = asyncio.run(measure(start(args, ps, ports)))
    conditions = report.Conditions(
        args.latency_ms,
        args.size,
        args.concurrency,
        args.seconds,
        args.workers,
        args.profile_seconds,
        quick=args.quick,
    )
    text = report.render(conditions, figures)
    print(text)
    print(f"(the run took {time.perf_counter() - started:.0f} s)")
    if args.steps == set(STEPS) and not args.quick:
        Path(__file__).with_name("latest.md").write_text(text, encoding="utf-8")
    else:
        print("(a quick or partial run: bench/latest.md left as it was)")
    return text


if __name__ == "__main__":
    main()
