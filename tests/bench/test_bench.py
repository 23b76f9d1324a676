"""The benchmarks keep working: a tiny live run of ``python -m bench``, and the reports.

The live run starts the stand-ins and one hub as ``make bench`` does (on free ports),
takes the fan-out and upstream-call steps over a population of 30 households, and checks
what the report says; the rest renders reports from given figures, so the tables a full
run prints cannot rot unseen.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest
from sqlalchemy.engine import make_url

import bench.__main__ as bench_main
from adapters.vocabulary import Source
from bench import profile, report, scale, scale_queries, timing
from bench.load import LOAD_CLIENT, SERVER, STAND_INS, Rate
from bench.processes import free_ports
from bench.stand_ins import department_environment, department_ports

SITE = "/srv/hub/.venv/lib/python3.11/site-packages"
RAW = "\n".join(
    f"{stack} {count}"
    for stack, count in (
        (f"<module> ({SITE}/uvicorn/main.py:10);run ({profile.STDLIB}/asyncio/runners.py:118)", 40),
        (
            f"handle ({SITE}/strawberry/http/base.py:5);"
            f"execute ({SITE}/graphql/execution/execute.py:7)",
            30,
        ),
        (f"_connection_worker_thread ({SITE}/aiosqlite/core.py:59)", 20),
        (f"handle ({SITE}/strawberry/http/base.py:5);__init__ (<string>:2)", 10),
        # With native frames: the collector, set off by an allocation in a hub function.
        (
            f"serve ({profile.PROJECT}/hub/cli.py:95);load ({profile.PROJECT}/schema/loaders.py:9);"
            "gc_collect_main (/usr/lib/libpython3.11.so.1.0)",
            25,
        ),
        (f"run ({profile.PROJECT}/hub/cli.py:95);uv_run (/project/uvloop/loop.c:20313)", 5),
    )
)


def _rate(per_second: float, server_ms: float) -> Rate:
    rate = Rate(per_second, failed=0, cores=1.0, machine_cores=1.1)
    rate.cpu_ms = {SERVER: server_ms, STAND_INS: 1.0, LOAD_CLIENT: 0.3}
    return rate


def test_the_quick_run_measures_the_fan_out_and_the_upstream_calls() -> None:
    # A process of its own, as `make bench` runs it: the bench drives the hub's CLI in
    # its own process, which sets up logging for that process.
    steps = ["--only", "fanout,calls", "--size", "30", "--samples", "2"]
    done = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-m", "bench", "--quick", *steps],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    assert "A quick run (`--quick`)" in done.stdout
    assert "| full household view, 7 departments (median) |" in done.stdout
    # One call per department for a page of households, every section selected.
    calls = next(line for line in done.stdout.splitlines() if "department calls for" in line)
    assert calls.split("|")[2].strip() == "7"
    assert "bench/latest.md left as it was" in done.stdout


def test_the_report_shows_ratios_targets_timings_and_the_profile() -> None:
    conditions = report.Conditions(50, 2000, 32, 5, 2, 8)
    figures = report.Figures(
        one_department_ms=50.0,
        full_view_ms=65.0,
        list_calls={"CIVIL_AFFAIRS": 1, "CHARITY": 1},
        throughput={
            report.HUB: _rate(150, 5.5),
            report.workers_key(2): _rate(250, 6.5),
            report.BASELINE: _rate(300, 3.0),
        },
        timings=[timing.Timing("household", "charity", 6.3, 6.0)],
        profile=profile.parse(RAW),
        profiled=_rate(140, 5.6),
    )

    text = report.render(conditions, figures)

    assert "| full household view, 7 departments (median) | 65.0 ms | 1.30 × one call |" in text
    assert "| full-view throughput, hub (aiohttp transport) | 150 req/s | 0.50 × baseline" in text
    assert "| `household` as charity: out of reach / nonexistent | 6.30 / 6.00 ms | 1.05 |" in text
    assert "| 1 of 1; furthest 1.05 (`household` as charity) | ✓ |" in text
    assert "hub (aiohttp transport, 2 workers) | 0.83 × | ✓ |" in text
    assert "hub (aiohttp transport) | 0.50 × | ✗ |" in text
    assert "at most 6 ms, hub (aiohttp transport) | 5.50 ms | ✓ |" in text
    assert "| graphql-core | 23.1 % |" in text
    assert "| (cyclic garbage collector) | 19.2 % |" in text
    assert "quick" not in text


def test_a_busy_machine_is_called_out() -> None:
    noisy = _rate(100, 5.0)
    noisy.machine_cores = 2.0
    figures = report.Figures(throughput={report.HUB: noisy, report.BASELINE: _rate(200, 3)})

    text = report.render(report.Conditions(50, 200, 32, 2, 2, 3, quick=True), figures)

    assert "Other processes kept up to 1.0 cores busy" in text


def test_the_profile_counts_self_samples_per_function_and_area() -> None:
    found = profile.parse(RAW)

    assert found.samples == 130
    assert found.functions[:2] == [
        ("run (asyncio/runners.py)", 40),
        ("execute (graphql/execution/execute.py)", 30),
    ]
    areas = dict(found.areas)
    assert areas[profile.EVENT_LOOP] == 40  # uvloop's C code, below the runner's frame
    assert areas["aiosqlite / asyncpg / sqlite3"] == 20
    # Generated code counts where its nearest caller with a file lives.
    assert areas["strawberry"] == 10
    assert areas[profile.GARBAGE_COLLECTOR] == 25
    # A native frame counts for the Python frame above it.
    assert dict(found.functions)["run (hub/cli.py)"] == 5
    # The deepest frame of ours on each stack asked for the work below it.
    assert found.ours == [("run (hub/cli.py)", 5)]


def test_the_stand_ins_are_found_where_the_hub_is_sent() -> None:
    ports = dict(zip(Source, free_ports(len(Source)), strict=True))

    assert department_ports(department_environment(ports)) == ports


def test_quick_is_the_default_of_what_is_not_given() -> None:
    quick = bench_main.arguments(["--quick", "--seconds", "1"])
    full = bench_main.arguments([])

    assert (quick.size, quick.seconds, quick.samples) == (200, 1.0, 5)
    assert (full.size, full.seconds, full.samples) == (2000, 5.0, 30)
    with pytest.raises(SystemExit):
        bench_main.arguments(["--only", "fanout,nothing"])


def test_the_scale_report_shows_sync_rate_and_percentiles() -> None:
    args = argparse.Namespace(size=1000, seed=1)
    figures = scale.Figures(people=1600, sync_s=2.0, server="15", database_bytes=2**20)
    figures.cpu_s = {scale.SYNC: 1.0, scale.FEED: 0.5}
    figures.lines = [
        scale_queries.Line("`householdByMember(idNumber)`", 200, 5.0, 9.5, {"hub": 3.0}),
        scale_queries.Line("`households(...)`, page 20", 200, 15.0, 25.0, {"hub": 4.0}),
    ]
    figures.wrong = ["{'district': 'PUDONG'}: totalCount 3, not 4"]

    text = scale.render(args, make_url("postgresql+asyncpg://u@db:5432/x"), figures)

    assert "**500 households/s**" in text
    assert "| `householdByMember(idNumber)` | 200 | 5.0 ms | 9.5 ms | ✓ | 3.0 ms |" in text
    assert "| `households(...)`, page 20 | 200 | 15.0 ms | 25.0 ms | ✗ | 4.0 ms |" in text
    assert "totalCount 3, not 4" in text
