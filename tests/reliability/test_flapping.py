"""Readers and writers for a fixed time while one department flaps up and down and another
fails a third of its calls: no 5xx, every null section labelled with its department and
a code, p99 within the request deadline, every acknowledged write there, the chain intact.

The hub runs as the operator runs it (``hub serve``, production mode) over real sockets to
the stand-ins, whose ``down`` closes the department's port.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import Counter

import pytest

from adapters.vocabulary import Source
from hub.settings import Settings
from tests.reliability import checks
from tests.reliability.conftest import Prepared, Report, Serve, record_consents, soak_seconds
from tests.reliability.harness import StandIns
from tests.reliability.load import SOURCE_CODES, Figures, violations

pytestmark = pytest.mark.soak

FLAPPING = Source.HOUSING
FAILING = Source.EDUCATION
# The breakers wait a second, not thirty, before a trial call: in a run of a few seconds
# the hub must go through open, half-open and closed again, and reconnect each time.
ENOUGH = 100  # answers at least
BREAKERS = {f"HUB_{s.value.upper()}__BREAKER_RESET": "1" for s in Source}


async def flap(standins: StandIns, source: Source, period: float) -> None:
    """``down`` on and off every ``period`` seconds until cancelled."""
    down = False
    while True:
        down = not down
        await standins.hurt(source, down=down)
        await asyncio.sleep(period)


def named_sources(figures: Figures) -> Counter[str]:
    """How often each department was named by an error."""
    return Counter(
        str((error.get("extensions") or {}).get("source"))
        for answer in figures.answers
        if answer.body is not None
        for error in answer.body.get("errors") or []
    )


async def test_load_through_a_flapping_and_a_failing_department(
    prepared: Prepared, healthy: StandIns, serve: Serve, database_url: str, report: Report
):
    hub = await serve(prepared.database_url, healthy.environment(), settings=BREAKERS)
    await record_consents(hub.url, prepared)
    await healthy.hurt(FAILING, error_rate=0.33)
    flapping = asyncio.create_task(flap(healthy, FLAPPING, period=1.0))
    load = prepared.load(hub.url)
    running = asyncio.create_task(load.run(math.inf, readers=16, writers=2))
    try:
        # The time asked for, and enough answers in it to have met both faults, however
        # busy the machine.
        await asyncio.sleep(soak_seconds())
        await load.answered(ENOUGH)
    finally:
        load.stop()
        flapping.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flapping
    figures = await running
    await healthy.heal()
    problems = await checks.everything(
        prepared.sessions, hub.url, prepared.caseworker, figures.writes
    )

    named = named_sources(figures)
    report(
        f"flapping ({'postgresql' if database_url.startswith('postgresql') else 'sqlite'})",
        {**figures.summary(), "errors_by_department": dict(named), "problems": len(problems)},
    )
    wrong = [v for answer in figures.answers for v in violations(answer)]
    assert wrong == [], "\n".join(wrong[:20])
    assert set(figures.statuses()) == {200}, figures.statuses()
    assert set(figures.codes()) <= SOURCE_CODES, figures.codes()
    # The faults were felt, by these two departments only.
    assert named[FLAPPING.name] > 0
    assert named[FAILING.name] > 0
    assert set(named) <= {FLAPPING.name, FAILING.name}, named
    assert figures.percentile_ms(99) < Settings().request_deadline * 1000
    assert len(figures.writes) >= 2
    assert problems == [], "\n".join(problems[:20])
