"""The hub's Prometheus metrics, and their exposition at ``/metrics``.

Labels stay few and bounded: operations are named by their root field (a schema-bounded
set; several root fields are ``multiple``, none ``none``), departments by source, outcomes
and codes from fixed lists. Never a household, a person or a client's own words.

Several worker processes (``hub serve --workers N``) share one count through
prometheus-client's multiprocess mode: with ``PROMETHEUS_MULTIPROC_DIR`` set before the
process starts, each process writes its values to files there and whichever worker
answers a scrape sums them (``exposition``). Gauges say how: the breaker state is the
worst among live workers, calls in flight their sum; a dead worker's gauges are dropped
(``mark_dead_workers``), its counters kept, so totals never go backwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hub.observability.multiproc import MULTIPROC_ENV

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Latencies from a cached read (a few ms) to the request deadline (8 s by default).
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 8.0, 15.0)

REQUESTS = Counter(
    "hub_requests",
    "Requests to /graphql by operation (root field), client kind and outcome.",
    ["operation", "client_kind", "outcome"],
)
REQUEST_SECONDS = Histogram(
    "hub_request_duration_seconds",
    "Time to answer a request to /graphql, by operation (root field).",
    ["operation"],
    buckets=_SECONDS,
)
DEPARTMENT_SECONDS = Histogram(
    "hub_department_call_duration_seconds",
    "Time of one call to a department, retries and their backoff included.",
    ["department"],
    buckets=_SECONDS,
)
DEPARTMENT_ERRORS = Counter(
    "hub_department_errors",
    "Department calls that failed, by the code the hub reports (SOURCE_UNAVAILABLE, "
    "SOURCE_TIMEOUT, SOURCE_BAD_DATA, CIRCUIT_OPEN: not even tried, SOURCE_ERROR: a 4xx).",
    ["department", "code"],
)
DEPARTMENT_RETRIES = Counter(
    "hub_department_retries", "Attempts beyond the first of department calls.", ["department"]
)
BREAKER_STATE = Gauge(
    "hub_department_breaker_state",
    "Circuit breaker per department: 0 closed, 1 half-open, 2 open (the worst of the "
    "live workers).",
    ["department"],
    multiprocess_mode="livemax",
)
IN_FLIGHT = Gauge(
    "hub_department_calls_in_flight",
    "Calls to a department under way (its concurrency cap in use), all live workers.",
    ["department"],
    multiprocess_mode="livesum",
)
CACHE_HITS = Counter(
    "hub_department_cache_hits",
    "Records served from the hub's cache without asking the department.",
    ["department"],
)
STALE_HITS = Counter(
    "hub_department_stale_hits",
    "Records served from an earlier copy because the department failed (STALE).",
    ["department"],
)
AUDIT_APPEND_SECONDS = Histogram(
    "hub_audit_append_duration_seconds",
    "Time to append one batch of audit entries (lock, read, insert, commit).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
AUDIT_BATCH_SIZE = Histogram(
    "hub_audit_batch_size",
    "Audit entries appended together in one transaction (group commit).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
)
AUDIT_FAILURES = Counter(
    "hub_audit_append_failures",
    "Audit batches that could not be written (their requests answered AUDIT_UNAVAILABLE).",
)
RATE_LIMITED = Counter(
    "hub_rate_limited",
    "Requests answered 429: stage 'address' before authentication (refused too often), "
    "'token' after it (over the token's rate).",
    ["stage"],
)
HOUSEHOLDS_JUDGED = Counter(
    "hub_discovery_households_judged", "Households judged by proactive discovery (主动发现)."
)
ALERTS_OPENED = Counter("hub_alerts_opened", "Discovery alerts opened.")
ALERTS_RESOLVED = Counter("hub_alerts_resolved", "Discovery alerts resolved (no longer hold).")


def multiprocess_dir() -> Path | None:
    """Where this process's metrics live when several processes share them, else None."""
    found = os.environ.get(MULTIPROC_ENV)
    return Path(found) if found else None


def mark_dead_workers(directory: Path) -> list[int]:
    """Drop the live gauges of processes that are gone (a worker killed or restarted)."""
    dead = []
    for pid in sorted(_pids(directory)):
        if pid != os.getpid() and not _alive(pid):
            multiprocess.mark_process_dead(pid, str(directory))  # type: ignore[no-untyped-call]
            dead.append(pid)
    return dead


def _pids(directory: Path) -> set[int]:
    pids = set()
    for path in directory.glob("gauge_live*_*.db"):
        tail = path.stem.rsplit("_", 1)[-1]
        if tail.isdigit():
            pids.add(int(tail))
    return pids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Snapshot(Collector):
    """Values read when scraped (sync lag, this worker's breakers), not counted as they go."""

    def __init__(self, families: Iterable[Metric]) -> None:
        self._families = list(families)

    def collect(self) -> Iterable[Metric]:
        return self._families


def sync_lag_family(seconds: float | None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "hub_sync_lag_seconds",
        "Age of the newest civil-affairs change the index has seen (hub sync's cursor); "
        "absent before the first sync.",
    )
    if seconds is not None:
        family.add_metric([], seconds)
    return family


def exposition(extra: Iterable[Metric] = ()) -> bytes:
    """Every metric in the text format: summed over the workers in multiprocess mode."""
    directory = multiprocess_dir()
    if directory is not None:
        mark_dead_workers(directory)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    snapshot = CollectorRegistry()
    snapshot.register(Snapshot(extra))
    return generate_latest(registry) + generate_latest(snapshot)
