"""A worker of ``hub serve --workers 2`` killed (SIGKILL) in the middle of requests, under
load from readers and writers: the requests it held are lost to their callers (their
connections close), every other request succeeds, the server puts a new worker in its
place, no acknowledged write is lost, none is half done, and the audit chain holds.
"""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from adapters.vocabulary import Source
from tests.reliability import checks
from tests.reliability.conftest import Prepared, Report, Serve, record_consents, soak_seconds
from tests.reliability.harness import StandIns
from tests.reliability.load import Answer, violations

pytestmark = [
    pytest.mark.soak,
    # Several workers are how the hub is deployed on PostgreSQL (SQLite, the embedded
    # default, runs one); appenders on separate engines, as workers are, take turns on
    # both databases in tests/hub/test_audit.py.
    pytest.mark.parametrize(
        "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
    ),
]

# Departments that take a moment to answer keep requests under way in every worker.
LATENCY_MS = 40
GRACE = 1.0  # seconds after the kill in which a request may still meet the dead worker
SETTLED = 20  # answers before the kill, and after it


def under_way(answer: Answer, at: float) -> bool:
    return answer.started <= at < answer.started + answer.seconds


async def test_a_worker_killed_mid_request_leaves_the_others_serving(
    prepared: Prepared, healthy: StandIns, serve: Serve, report: Report
):
    hub = await serve(prepared.database_url, healthy.environment(), workers=2)
    await record_consents(hub.url, prepared)
    for source in Source:
        await healthy.hurt(source, latency_ms=LATENCY_MS)
    load = prepared.load(hub.url)
    running = asyncio.create_task(load.run(math.inf))
    try:
        await asyncio.sleep(soak_seconds() / 3)
        await load.answered(SETTLED)
        # The worker holding most of the callers' connections: the kill cuts requests under
        # way.
        victim = max(hub.workers(), key=hub.connections)
        held = hub.connections(victim)
        killed = time.monotonic()
        hub.kill_worker(victim)
        replaced = await hub.replaced(victim, workers=2)
        await asyncio.sleep(soak_seconds() * 2 / 3)
        await load.answered(SETTLED, since=killed + GRACE)
    finally:
        load.stop()
    figures = await running
    await healthy.heal()
    problems = await checks.everything(
        prepared.sessions, hub.url, prepared.caseworker, figures.writes
    )
    unacknowledged = await checks.unacknowledged(prepared.sessions, figures.writes)

    lost = [a for a in figures.answers if a.status == 0]
    after = [a for a in figures.answers if a.started >= killed + GRACE]
    report(
        "worker kill (postgresql)",
        {
            **figures.summary(),
            "under_way_at_kill": sum(under_way(a, killed) for a in figures.answers),
            "connections_of_the_killed_worker": held,
            "lost_with_the_worker": len(lost),
            "stored_but_unanswered": unacknowledged,
            "problems": len(problems),
        },
    )
    wrong = [v for answer in figures.answers for v in violations(answer)]
    assert wrong == [], "\n".join(wrong[:20])
    assert {a.status for a in figures.answers} <= {0, 200}
    assert set(figures.codes()) <= {"NO_ANSWER"}, figures.codes()
    # Only requests under way in the dead worker (or sent to it just after) were lost.
    assert held > 0
    assert lost, "the kill met no request under way"
    assert all(a.started < killed + GRACE for a in lost)
    # The other worker kept serving, and a new one took the dead one's place.
    assert any(a.status == 200 for a in figures.answers if killed <= a.started < killed + GRACE)
    assert after
    assert all(a.status == 200 for a in after)
    assert victim not in replaced
    assert len(replaced) == 2
    # Nothing acknowledged lost, nothing half done, the chain whole; a write that committed
    # in the dead worker before it could answer is one of the lost requests.
    assert figures.writes
    assert problems == [], "\n".join(problems[:20])
    assert unacknowledged <= sum(a.kind in ("reportChange", "referHousehold") for a in lost)
