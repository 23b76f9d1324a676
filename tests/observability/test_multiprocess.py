"""Several worker processes count together (prometheus-client's multiprocess mode).

Each worker is a process of its own here, as under ``hub serve --workers N``: the metrics
module decides at import whether it writes to the shared directory, so the test process
(which imported it long ago, alone) cannot play a worker.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.observability.conftest import sample

_WORKER = """
import sys
from hub.observability import metrics
metrics.REQUESTS.labels("households", "AGENCY", "ok").inc(int(sys.argv[1]))
metrics.BREAKER_STATE.labels("charity").set(int(sys.argv[2]))
metrics.IN_FLIGHT.labels("charity").inc(int(sys.argv[3]))
if sys.argv[4] == "scrape":
    sys.stdout.write(metrics.exposition().decode())
"""


def _worker(directory: Path, *args: object) -> str:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(directory)}
    done = subprocess.run(  # noqa: S603 (our own interpreter and module)
        [sys.executable, "-c", _WORKER, *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_workers_add_up_and_a_dead_workers_gauges_are_dropped(tmp_path: Path):
    # A worker that counted 3 requests, saw charity's breaker open and had 2 calls out,
    # then died (killed, or restarted by the server).
    _worker(tmp_path, 3, 2, 2, "quiet")
    # The worker that answers the scrape: 4 requests, breaker closed, 1 call out.
    text = _worker(tmp_path, 4, 0, 1, "scrape")

    labels = {"operation": "households", "client_kind": "AGENCY", "outcome": "ok"}
    assert sample(text, "hub_requests_total", **labels) == 7  # counters outlive workers
    assert sample(text, "hub_department_breaker_state", department="charity") == 0
    assert sample(text, "hub_department_calls_in_flight", department="charity") == 1


def test_serve_prepares_an_empty_shared_directory_for_several_workers(tmp_path, monkeypatch):
    from hub.observability.multiproc import MULTIPROC_ENV, shared_metrics

    monkeypatch.delenv(MULTIPROC_ENV, raising=False)
    with shared_metrics(1) as directory:
        assert directory is None  # one process: counted in memory
        assert MULTIPROC_ENV not in os.environ

    with shared_metrics(4) as directory:
        assert directory is not None
        assert os.environ[MULTIPROC_ENV] == str(directory)
        (directory / "counter_1234.db").write_bytes(b"counted")
    assert not directory.exists()  # made here: removed
    assert MULTIPROC_ENV not in os.environ

    leftover = tmp_path / "counter_1234.db"
    leftover.write_bytes(b"from a run before")
    monkeypatch.setenv(MULTIPROC_ENV, str(tmp_path))
    with shared_metrics(4) as directory:
        assert directory == tmp_path
        assert not leftover.exists()  # a run before would be counted again
    assert tmp_path.exists()  # the operator's own: kept
