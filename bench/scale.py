"""``python -m bench.scale`` (``make bench-scale [SIZE=N]``): the hub's index at scale.

On PostgreSQL (the server of ``HUB_BENCH_POSTGRES_URL``, by default
postgresql+asyncpg://postgres@127.0.0.1:5432/test) in a fresh database
``hub_bench_<random>``, dropped at the end whatever happens (Ctrl-C and SIGTERM included):

1. the civil-affairs stand-in alone serves ``--size`` households (default 400,000, about
   650,000 people); how long it takes to come up and how much memory it holds;
2. ``hub db upgrade`` and ``hub sync`` fill the index through the hub's own path: sync
   throughput in households per second, and where the CPU went (the sync process, the
   stand-in serving its change feed, PostgreSQL); then ``VACUUM (ANALYZE)``, as
   autovacuum would do a while later, so that the queries meet planner statistics;
3. ``hub serve`` in production mode, asked over HTTP one request at a time by an agency
   token made with the CLI: p50 and p95 of list pages (first and deep, through opaque
   cursors walked with the same token), ``householdByMember`` and ``totalCount`` per
   district, against the target p95 < 20 ms.

Inputs and expected answers come from the synthetic population (``--seed``, by default
HUB_SANDBOX_SEED or 2026). Prints Markdown; a run that is not ``--quick`` also writes
``bench/scale-latest.md``.
``--quick``: 5,000 households and 30 requests per line, to see that it works.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import secrets
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import aiohttp
import click
from sqlalchemy.engine import URL

from adapters.sandbox.population import generate
from adapters.vocabulary import Source
from bench import postgres, scale_queries
from bench.processes import (
    client_headers,
    cpu_seconds,
    free_ports,
    hub,
    machine_busy_seconds,
    memory_mb,
    running,
    wait_up,
)
from bench.stand_ins import department_environment
from hub.demo import wait_healthy

DEFAULT_SIZE = 400_000
QUICK_SIZE, QUICK_SAMPLES = 5_000, 30
NOISY_CORES = 0.25
SYNC = "`hub sync` process"
FEED = "civil-affairs stand-in (its change feed)"
POSTGRES = "PostgreSQL (the backends of this database)"


@dataclass
class Figures:
    people: int = 0
    generated_s: float = 0.0  # in this process
    stand_in_up_s: float = 0.0
    stand_in_mb: tuple[float, float] = (0.0, 0.0)  # resident, peak
    upgrade_s: float = 0.0
    sync_s: float = 0.0
    sync_said: str = ""
    cpu_s: dict[str, float] = field(default_factory=dict)  # during the sync, by process
    analyze_s: float = 0.0
    server: str = ""
    database_bytes: int = 0
    lines: list[scale_queries.Line] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)
    others_cores: float = 0.0  # cores busy outside the hub and PostgreSQL while asking


def _environment(
    url: URL, args: argparse.Namespace, departments: dict[Source, int], hub_port: int
) -> dict[str, str]:
    env = {
        **os.environ,
        **department_environment(departments),
        "HUB_PORT": str(hub_port),
        "HUB_DATABASE_URL": url.render_as_string(hide_password=False),
        "HUB_ENV": "production",
        "HUB_SECRET_KEY": secrets.token_urlsafe(32),
        "HUB_LOG_LEVEL": "warning",
        "HUB_RATE_LIMIT_PER_MINUTE": "100000000",
        "HUB_RATE_LIMIT_BURST": "1000000",
        "HUB_REFUSAL_LIMIT_PER_MINUTE": "100000000",
        "HUB_REFUSAL_LIMIT_BURST": "1000000",
        # Generous: the bench measures the sync's pace, not its patience.
        "HUB_CIVIL_AFFAIRS__TIMEOUT": "300",
        "HUB_REQUEST_DEADLINE": "300",
    }
    if args.sync_page_size:
        env["HUB_SYNC_PAGE_SIZE"] = str(args.sync_page_size)
    return env


def run(args: argparse.Namespace, url: URL) -> Figures:
    figures = Figures()
    hub_port, feed_port = free_ports(2)
    ports = {Source.CIVIL_AFFAIRS: feed_port}
    with running(_environment(url, args, ports, hub_port)) as processes:
        env = processes.env
        started = time.perf_counter()
        stand_in = processes.start(
            "-m",
            "bench.stand_ins",
            "--only",
            Source.CIVIL_AFFAIRS.value,
            "--seed",
            str(args.seed),
            "--size",
            str(args.size),
            quiet=True,
        )
        # The bench draws the same population meanwhile, on the other core.
        population = generate(args.seed, args.size)
        figures.generated_s = time.perf_counter() - started
        figures.people = len(population.by_id_number)
        inputs = scale_queries.inputs(population, args.samples)
        while True:
            if stand_in.poll() is not None:
                raise SystemExit(f"the civil-affairs stand-in ended ({stand_in.returncode})")
            try:
                wait_healthy([ports[Source.CIVIL_AFFAIRS]], timeout=5)
                break
            except click.ClickException:
                continue  # still generating
        figures.stand_in_up_s = time.perf_counter() - started
        figures.stand_in_mb = memory_mb(stand_in.pid)

        started = time.perf_counter()
        hub(env, "db", "upgrade")
        figures.upgrade_s = time.perf_counter() - started

        before = _cpu(stand_in.pid)
        database = postgres.BackendCpu(str(url.database))
        database.start()
        started = time.perf_counter()
        figures.sync_said = hub(env, "sync").strip()
        figures.sync_s = time.perf_counter() - started
        after = _cpu(stand_in.pid)
        figures.cpu_s = {k: after[k] - before[k] for k in after}
        figures.cpu_s[POSTGRES] = database.stop()
        started = time.perf_counter()
        postgres.vacuum_analyze(url)
        figures.analyze_s = time.perf_counter() - started
        figures.server, figures.database_bytes = postgres.facts(url)

        headers = client_headers(
            env,
            "bench scale",
            "CASE_MANAGEMENT",
            "--kind",
            "agency",
            "--department",
            "civil_affairs",
        )
        server = processes.start("-m", "hub.cli", "serve")

        def meter() -> dict[str, float]:
            return {
                "hub": cpu_seconds(server.pid),
                "PostgreSQL": sum(postgres.backends(str(url.database)).values()),
            }

        url_of_hub = f"http://127.0.0.1:{hub_port}"
        metered, machine = meter(), machine_busy_seconds()
        started = time.perf_counter()
        figures.lines, figures.wrong = asyncio.run(_ask(args, url_of_hub, headers, inputs, meter))
        elapsed = time.perf_counter() - started
        ours = sum(meter().values()) - sum(metered.values())
        # This process (the client) is small beside the hub and PostgreSQL; counted as others.
        figures.others_cores = max(0.0, (machine_busy_seconds() - machine - ours) / elapsed)
    return figures


def _cpu(stand_in: int) -> dict[str, float]:
    """CPU seconds so far: the ``hub`` commands run and waited for, and the stand-in."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        SYNC: children.ru_utime + children.ru_stime,
        FEED: cpu_seconds(stand_in),
    }


async def _ask(
    args: argparse.Namespace,
    hub_url: str,
    headers: dict[str, str],
    inputs: scale_queries.Inputs,
    meter: scale_queries.Meter,
) -> tuple[list[scale_queries.Line], list[str]]:
    async with aiohttp.ClientSession() as session:
        await wait_up(session, f"{hub_url}/healthz")
        client = scale_queries.Hub(session, f"{hub_url}/graphql", headers)
        return await scale_queries.measure(
            client,
            inputs,
            samples=args.samples,
            budget=args.line_seconds,
            deep=args.deep_page,
            meter=meter,
        )


def render(args: argparse.Namespace, url: URL, f: Figures) -> str:
    rate = args.size / f.sync_s
    feed = f.cpu_s.get(FEED, 0.0)
    lines = [
        f"Measured {time.strftime('%Y-%m-%d')} on PostgreSQL {f.server} ({url.host}:{url.port}, "
        f"a fresh database), {args.size} households ({f.people} people, seed {args.seed}) "
        "filled into the hub's index by `hub sync` from the civil-affairs stand-in; the hub "
        "in production mode, asked one request at a time over HTTP on loopback; "
        f"{os.cpu_count()} cores shared by all processes.",
        "",
        "| step | value | notes |",
        "| --- | --- | --- |",
        f"| civil-affairs stand-in up ({args.size} households generated, served) | "
        f"{f.stand_in_up_s:.0f} s | {f.stand_in_mb[0]:.0f} MB resident, "
        f"{f.stand_in_mb[1]:.0f} MB at peak |",
        f"| the same population generated in the bench process | {f.generated_s:.0f} s | "
        "at the same time, on the other core |",
        f"| `hub db upgrade` | {f.upgrade_s:.1f} s | |",
        f"| `hub sync` | {f.sync_s:.0f} s | **{rate:.0f} households/s**; {f.sync_said} |",
    ]
    lines += [
        f"| CPU during the sync: {name} | {seconds:.0f} s | {100 * seconds / f.sync_s:.0f} % of "
        "the sync's time |"
        for name, seconds in f.cpu_s.items()
    ]
    if f.sync_s > feed:
        lines.append(
            f"| `hub sync` without the stand-in's time | {f.sync_s - feed:.0f} s | "
            f"{args.size / (f.sync_s - feed):.0f} households/s (the sync waits while the "
            "stand-in builds each feed page) |"
        )
    lines += [
        f"| `VACUUM (ANALYZE)` after the sync | {f.analyze_s:.1f} s | what autovacuum does "
        "a while after a bulk load; without statistics the filtered listing is planned as a "
        "nested loop over every active enrollment of its category (0.3-0.9 s a page at "
        "20,000 households) |",
        f"| database size after the sync | {f.database_bytes / 2**20:.0f} MB | |",
        "",
        *scale_queries.rows(f.lines),
        "",
        f"While the queries ran, processes other than the hub and PostgreSQL kept "
        f"{f.others_cores:.2f} of the {os.cpu_count()} cores busy"
        + (": the latencies include waiting for a core." if f.others_cores > NOISY_CORES else "."),
    ]
    if f.wrong:
        lines += ["", "Answers that disagree with the population:", *(f"- {w}" for w in f.wrong)]
    return "\n".join(lines) + "\n"


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_SIZE} households, {QUICK_SAMPLES} requests per line (< 1 min)",
    )
    parser.add_argument("--size", type=int, default=None, help=f"households ({DEFAULT_SIZE})")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("HUB_SANDBOX_SEED", 2026)))
    parser.add_argument(
        "--url",
        default=os.environ.get("HUB_BENCH_POSTGRES_URL", postgres.DEFAULT_URL),
        help="a PostgreSQL server (its database is only used to connect)",
    )
    parser.add_argument("--samples", type=int, default=None, help="requests per line (200)")
    parser.add_argument(
        "--line-seconds", type=float, default=30, help="stop a line after this, once it has 20"
    )
    parser.add_argument("--deep-page", type=int, default=20, help="the deep page to ask for")
    parser.add_argument("--sync-page-size", type=int, default=None, help="HUB_SYNC_PAGE_SIZE")
    args = parser.parse_args(argv)
    if args.size is None:
        args.size = QUICK_SIZE if args.quick else DEFAULT_SIZE
    if args.samples is None:
        args.samples = QUICK_SAMPLES if args.quick else 200
    if args.size < 100 or args.samples < scale_queries.MIN_SAMPLES:
        parser.error(f"--size needs 100 households, --samples {scale_queries.MIN_SAMPLES}")
    return args


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the cleanup, as Ctrl-C does


def main() -> None:
    args = arguments()
    signal.signal(signal.SIGTERM, _terminated)
    started = time.perf_counter()
    try:
        with postgres.scratch_database(args.url) as url:
            figures = run(args, url)
    except KeyboardInterrupt:
        sys.exit("interrupted: the processes are stopped and the database dropped")
    text = render(args, url, figures)
    print(text)
    print(f"(the whole run took {time.perf_counter() - started:.0f} s)", file=sys.stderr)
    if not args.quick:
        Path(__file__).with_name("scale-latest.md").write_text(text, encoding="utf-8")
    else:
        print("(a quick run: bench/scale-latest.md left as it was)", file=sys.stderr)


if __name__ == "__main__":
    main()
