"""The database connection cut under load, then restored.

A TCP proxy started by the test sits between the hub (``hub serve``) and PostgreSQL; the
hub's ``HUB_DATABASE_URL`` points at it. Under load from readers and writers it is cut
(every connection reset, new ones refused) for a few seconds and restored. Requests during
the cut fail cleanly, with a code and within the deadline; the hub recovers by itself
within seconds; no acknowledged write is lost and none is half done. PostgreSQL only:
SQLite has no connection to cut.
"""

from __future__ import annotations

import asyncio
import math
import time

import pytest
from sqlalchemy.engine import make_url

from hub.settings import Settings
from tests.reliability import checks
from tests.reliability.conftest import Prepared, Report, Serve, record_consents, soak_seconds
from tests.reliability.harness import StandIns, TcpProxy
from tests.reliability.load import Answer, Figures, violations

pytestmark = [
    pytest.mark.soak,
    # This test has no SQLite form: the conftest's database, PostgreSQL only.
    pytest.mark.parametrize(
        "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
    ),
]

CUT_SECONDS = max(2.0, soak_seconds() / 12)
RECOVERY_LIMIT = 3.0  # seconds after the restore by which every request must succeed
SETTLED = 20  # answers to have before the cut: the hub is warm and every caller busy
# What an answer may say while the database is away.
DATABASE_CODES = frozenset({"DATABASE_UNAVAILABLE", "AUDIT_UNAVAILABLE"})
UNIDEMPOTENT = frozenset({"reportChange", "referHousehold"})  # no key to retry with


def succeeded(answer: Answer) -> bool:
    body = answer.body or {}
    return answer.status == 200 and not body.get("errors") and body.get("data") is not None


def recovery_seconds(figures: Figures, restored: float) -> float | None:
    """Seconds from the restore to the start of the last request that failed; None if
    no request succeeded after it (the hub did not recover within the run)."""
    failed = [a.started for a in figures.answers if not succeeded(a) and a.started >= restored]
    last_failure = max(failed, default=restored)
    if any(a.started > last_failure and succeeded(a) for a in figures.answers):
        return last_failure - restored
    return None


async def proxied(prepared: Prepared) -> tuple[TcpProxy, str]:
    """A proxy to the test's PostgreSQL server, and the database's URL through it."""
    server = make_url(prepared.database_url)
    proxy = TcpProxy(server.host or "127.0.0.1", server.port or 5432)
    await proxy.start()
    through = server.set(host="127.0.0.1", port=proxy.port)
    return proxy, through.render_as_string(hide_password=False)


async def test_the_database_cut_under_load_fails_cleanly_and_recovers(
    prepared: Prepared, healthy: StandIns, serve: Serve, report: Report
):
    deadline = Settings().request_deadline
    before = soak_seconds() / 4  # at least, and until SETTLED answers came
    after = max(RECOVERY_LIMIT, soak_seconds() * 3 / 4)
    proxy, url = await proxied(prepared)
    try:
        hub = await serve(url, healthy.environment())
        await record_consents(hub.url, prepared)
        load = prepared.load(hub.url)
        running = asyncio.create_task(load.run(math.inf))
        try:
            await asyncio.sleep(before)
            await load.answered(SETTLED)
            cut = time.monotonic()
            await proxy.cut()
            await asyncio.sleep(CUT_SECONDS)
            await proxy.restore()
            restored = time.monotonic()
            await asyncio.sleep(after)
            await load.answered(SETTLED, since=restored + RECOVERY_LIMIT)
        finally:
            load.stop()
        figures = await running
        problems = await checks.everything(
            prepared.sessions, hub.url, prepared.caseworker, figures.writes
        )
        unacknowledged = await checks.unacknowledged(prepared.sessions, figures.writes)
    finally:
        await proxy.close()

    during = [a for a in figures.answers if cut <= a.started < restored]
    recovered = recovery_seconds(figures, restored)
    refused_writes = [a for a in figures.answers if a.kind in UNIDEMPOTENT and not succeeded(a)]
    report(
        "database cut (postgresql)",
        {
            **figures.summary(),
            "cut_seconds": CUT_SECONDS,
            "requests_during_cut": len(during),
            "failed_during_cut": sum(not succeeded(a) for a in during),
            "recovery_seconds": None if recovered is None else round(recovered, 2),
            "stored_but_refused": unacknowledged,
            "problems": len(problems),
        },
    )
    wrong = [
        v for answer in figures.answers for v in violations(answer, allowed_5xx=DATABASE_CODES)
    ]
    assert wrong == [], "\n".join(wrong[:20])
    assert "NO_ANSWER" not in figures.codes(), "the hub dropped a connection or hung"
    assert set(figures.codes()) <= DATABASE_CODES, figures.codes()
    assert max(figures.latencies_ms()) < deadline * 1000, "an answer took longer than the deadline"
    # Everything went well before the cut.
    ended_before = [a for a in figures.answers if a.started + a.seconds < cut]
    assert ended_before
    assert all(succeeded(a) for a in ended_before), "failed before the cut"
    # The cut was felt, and answered with a code.
    assert any(not succeeded(a) for a in during)
    assert all(set(a.codes) <= DATABASE_CODES for a in during if not succeeded(a))
    # Over within seconds of the restore, with no help.
    assert recovered is not None, "requests kept failing until the end"
    assert recovered < RECOVERY_LIMIT
    # No acknowledged write lost, none half done, every one audited, the chain whole.
    assert figures.writes
    assert problems == [], "\n".join(problems[:20])
    # A write stored although its caller was told it failed (its commit landed, then its
    # audit entry or the answer did not) was at least answered with a code.
    assert unacknowledged <= len(refused_writes)


async def test_after_a_cut_while_idle_the_first_requests_succeed(
    prepared: Prepared, healthy: StandIns, serve: Serve
):
    """Connections the pool kept while the link was cut are dead when the next request
    comes: the hub finds out before using one (pre-ping), not by failing a caller."""
    proxy, url = await proxied(prepared)
    try:
        # The token is read from the database on every request, through the pool.
        hub = await serve(url, healthy.environment(), settings={"HUB_CREDENTIAL_CACHE_TTL": "0"})
        # Several connections into the pool, then a quiet moment with the link cut.
        await prepared.load(hub.url, writes=False).run(1.0, readers=8, writers=0)
        await proxy.cut()
        await asyncio.sleep(0.5)
        await proxy.restore()
        figures = await prepared.load(hub.url, writes=False).run(1.0, readers=8, writers=0)
    finally:
        await proxy.close()
    assert figures.answers
    assert [a.codes for a in figures.answers if not succeeded(a)] == []
