"""``python -m bench.discovery`` (``make bench-discovery``): proactive discovery at scale.

The seven stand-ins serve ``--size`` synthetic households (one process, every department
answering after ``--latency-ms``); the hub's index is synced from them into a scratch
database (SQLite, or PostgreSQL with ``HUB_BENCH_POSTGRES_URL``); then ``hub discover``
runs twice as its own process: the first round opens the alerts, the second finds them
standing (the steady state of a nightly run). Reported against a baseline measured in the
same run: a pass that reads the same pages of the index and makes the same batched calls
to the seven departments, and judges nothing and writes nothing. The ratio says what the
judging, the alerts and the audit cost on top of the reading it cannot do without.

Caching is off, so every batch asks every department. The target is 2,000 households a
second with departments answering after 20 ms. A last round shares the work as production
does: ``hub discover --queue`` puts one job per district on Redis (``HUB_BENCH_REDIS_URL``,
by default the local one; ``--workers 0`` skips it) and ``--workers`` ``hub worker
--burst`` processes take them. The run writes ``bench/discovery-latest.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from adapters.vocabulary import Source
from bench import postgres
from bench.processes import cpu_seconds, hub, running
from hub.demo import wait_healthy
from hub.households.reach import EVERYTHING
from hub.households.service import Households, gather_parts
from hub.index.search import HouseholdFilter
from hub.jobs.discovery import JOB_VIEW
from hub.resources import Resources
from hub.runtime import tune_gc
from hub.settings import SANDBOX_PORTS, Settings

LATEST = Path(__file__).with_name("discovery-latest.md")
TARGET = 2000.0  # households a second
_SAID = re.compile(r"judged (\d+) households in ([\d.]+) s")


@dataclass
class Round:
    households: int
    seconds: float
    hub_cpu_s: float
    stand_in_cpu_s: float
    said: str

    @property
    def per_second(self) -> float:
        return self.households / self.seconds if self.seconds else 0.0


@dataclass
class Figures:
    database: str = ""
    stand_in_up_s: float = 0.0
    sync_s: float = 0.0
    baseline: Round | None = None
    rounds: list[Round] = field(default_factory=list)
    shared: Round | None = None  # the queued round, several workers


def _environment(database_url: str, latency_ms: float) -> dict[str, str]:
    return {
        **os.environ,
        "HUB_DATABASE_URL": database_url,
        "HUB_ENV": "production",
        "HUB_SECRET_KEY": secrets.token_urlsafe(32),
        "HUB_LOG_LEVEL": "warning",
        # The stand-in's change feed slows down as it grows; the sync waits for it.
        "HUB_CIVIL_AFFAIRS__TIMEOUT": "300",
        "HUB_REQUEST_DEADLINE": "300",
        **{f"HUB_{s.name}__CACHE_TTL": "0" for s in Source},
        # A batch of 500 households is one call per department, answered after the
        # latency plus the time to serve 500 households.
        **{f"HUB_{s.name}__TIMEOUT": str(max(30.0, latency_ms / 100)) for s in Source},
    }


@contextmanager
def _database(args: argparse.Namespace) -> Iterator[str]:
    server = os.environ.get("HUB_BENCH_POSTGRES_URL")
    if server:
        with postgres.scratch_database(server) as url:
            yield url.render_as_string(hide_password=False)
        return
    with tempfile.TemporaryDirectory(prefix="hub-bench-discovery-") as scratch:
        yield f"sqlite+aiosqlite:///{Path(scratch) / 'hub.db'}"


async def fetch_only(env: dict[str, str], batch: int, concurrency: int) -> tuple[int, float]:
    """The baseline: the pages of the index and the seven batched calls per page, as
    discovery makes them, at the same concurrency; nothing judged, nothing written."""
    os.environ.update(env)  # the bench process reads the settings the hub commands get
    settings = Settings()
    resources = Resources.open(settings)
    await resources.start()
    try:
        now = datetime.now(UTC)

        def reader() -> Households:
            return Households(
                sessions=resources.sessions,
                adapters=resources.adapters,
                rules=resources.rules,
                reach=EVERYTHING,
                view=JOB_VIEW,
                now=now,
            )

        slots = asyncio.Semaphore(concurrency)
        running_tasks: set[asyncio.Task[None]] = set()
        seen = 0

        async def one(entries: list[str]) -> None:
            nonlocal seen
            try:
                await gather_parts(reader(), entries)
                seen += len(entries)
            finally:
                slots.release()

        started = time.perf_counter()
        pages = reader()
        after: str | None = None
        while True:
            page = await pages.page(HouseholdFilter(), first=batch, after=after)
            if not page.entries:
                break
            await slots.acquire()
            ids = [e.household_id for e in page.entries]
            task = asyncio.create_task(one(ids))
            running_tasks.add(task)
            task.add_done_callback(running_tasks.discard)
            after = ids[-1]
            if not page.has_next_page:
                break
        await asyncio.gather(*running_tasks)
        return seen, time.perf_counter() - started
    finally:
        await resources.aclose()


def queued_round(env: dict[str, str], workers: int, households: int) -> Round:
    """Every district queued on Redis, judged by ``workers`` worker processes at once."""
    queued = {
        **env,
        "HUB_REDIS_URL": os.environ.get("HUB_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        "HUB_REDIS_PREFIX": f"hub-bench-{secrets.token_hex(4)}:",
    }
    said = hub(queued, "discover", "--queue").strip()
    cpu_before = _children_cpu()
    started = time.perf_counter()
    running_workers = [
        subprocess.Popen([sys.executable, "-m", "hub.cli", "worker", "--burst"], env=queued)
        for _ in range(workers)
    ]
    failed = [p.returncode for p in running_workers if p.wait() != 0]
    if failed:
        raise SystemExit(f"a discovery worker failed ({failed})")
    return Round(
        households=households,
        seconds=time.perf_counter() - started,
        hub_cpu_s=_children_cpu() - cpu_before,
        stand_in_cpu_s=0.0,
        said=f"{said}; {workers} workers",
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(args: argparse.Namespace) -> Figures:
    figures = Figures()
    with _database(args) as database_url:
        figures.database = database_url.split(":", 1)[0]
        env = _environment(database_url, args.latency_ms)
        with running(env) as processes:
            started = time.perf_counter()
            stand_ins = processes.start(
                "-m",
                "hub.cli",
                "sandbox",
                "--seed",
                str(args.seed),
                "--size",
                str(args.size),
                "--control-port",
                "0",
                *[f"--fault={s.value}:latency_ms={args.latency_ms}" for s in Source],
                quiet=True,
            )
            wait_healthy([SANDBOX_PORTS[s] for s in Source], timeout=1800)
            if stand_ins.poll() is not None:
                raise SystemExit(f"the stand-ins ended ({stand_ins.returncode})")
            figures.stand_in_up_s = time.perf_counter() - started
            hub(env, "db", "upgrade")
            started = time.perf_counter()
            print(hub(env, "sync").strip(), flush=True)
            figures.sync_s = time.perf_counter() - started

            stand_in_before = cpu_seconds(stand_ins.pid)
            tune_gc()  # as `hub discover` does: the same interpreter settings on both sides
            cpu_before = resource.getrusage(resource.RUSAGE_SELF)
            seen, seconds = asyncio.run(fetch_only(env, args.batch, args.concurrency))
            cpu_after = resource.getrusage(resource.RUSAGE_SELF)
            figures.baseline = Round(
                households=seen,
                seconds=seconds,
                hub_cpu_s=(cpu_after.ru_utime + cpu_after.ru_stime)
                - (cpu_before.ru_utime + cpu_before.ru_stime),
                stand_in_cpu_s=cpu_seconds(stand_ins.pid) - stand_in_before,
                said="fetch only",
            )
            print(f"baseline: {seen} households in {seconds:.1f} s", flush=True)

            for _ in range(args.rounds):
                stand_in_before = cpu_seconds(stand_ins.pid)
                cpu_before_children = _children_cpu()
                said = hub(
                    env,
                    "discover",
                    "--batch",
                    str(args.batch),
                    "--concurrency",
                    str(args.concurrency),
                )
                said = said.strip().splitlines()[0]
                match = _SAID.search(said)
                if match is None:
                    raise SystemExit(f"unexpected output of hub discover: {said}")
                figures.rounds.append(
                    Round(
                        households=int(match.group(1)),
                        seconds=float(match.group(2)),
                        hub_cpu_s=_children_cpu() - cpu_before_children,
                        stand_in_cpu_s=cpu_seconds(stand_ins.pid) - stand_in_before,
                        said=said,
                    )
                )
                print(said, flush=True)
            if args.workers:
                stand_in_before = cpu_seconds(stand_ins.pid)
                shared = queued_round(env, args.workers, seen)
                shared.stand_in_cpu_s = cpu_seconds(stand_ins.pid) - stand_in_before
                figures.shared = shared
                print(f"{shared.said}: {shared.seconds:.1f} s", flush=True)
    return figures


def render(args: argparse.Namespace, f: Figures) -> str:
    assert f.baseline is not None
    base = f.baseline
    lines = [
        "# Discovery at scale",
        "",
        f"{args.size:,} synthetic households (seed {args.seed}), every department answering "
        f"after {args.latency_ms:g} ms, caching off; batches of {args.batch}, "
        f"{args.concurrency} in flight; database {f.database}; {os.cpu_count()} cores shared "
        "by the hub, the stand-ins and the database. Made by `make bench-discovery`.",
        "",
        f"Stand-ins up in {f.stand_in_up_s:.0f} s; index synced in {f.sync_s:.0f} s.",
        "",
        "| run | households | seconds | households/s | against the baseline | hub CPU ms per "
        "household | stand-in CPU ms per household |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    runs = [("baseline: fetch only", base)] + [
        (("first round (opens alerts)" if i == 0 else "later round (alerts standing)"), r)
        for i, r in enumerate(f.rounds)
    ]
    if f.shared is not None:
        runs.append((f"{args.workers} workers on the queue (alerts standing)", f.shared))
    for name, r in runs:
        ratio = r.per_second / base.per_second if base.per_second else 0.0
        lines.append(
            f"| {name} | {r.households:,} | {r.seconds:.1f} | {r.per_second:,.0f} | "
            f"{ratio:.2f}× | {1000 * r.hub_cpu_s / max(r.households, 1):.2f} | "
            f"{1000 * r.stand_in_cpu_s / max(r.households, 1):.2f} |"
        )
    best = max((r.per_second for r in [*f.rounds, *filter(None, [f.shared])]), default=0.0)
    lines += [
        "",
        f"Target: at least {TARGET:,.0f} households a second — "
        f"{'met' if best >= TARGET else 'not met'} (best round {best:,.0f}/s).",
        "",
        "The hub CPU of a round is that of the `hub discover` process (judging, alerts, "
        "audit, reading the departments' answers); the baseline's is the bench process's "
        "own, reading the same answers. The queued round's is the sum of its workers'; its "
        "households are every indexed one (each district's job judges all of its own).",
    ]
    return "\n".join(lines) + "\n"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.discovery", description=__doc__)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--workers", type=int, default=2, help="Workers of the queued round (0: no such round)."
    )
    parser.add_argument("--no-write", action="store_true", help="Do not write the report.")
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    figures = run(args)
    text = render(args, figures)
    print(text)
    if not args.no_write:
        LATEST.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
