"""Liveness, readiness and the metrics endpoint.

- ``/healthz``: the process answers (liveness: restart the hub when it stops answering).
- ``/readyz``: the hub can serve (readiness: send it traffic). The database answers, it
  is at the migrations' head, an audit entry can be appended, and not every department
  is down. Appending is tried for real and rolled back: under the appenders' lock the
  next entry is inserted and the transaction undone, so nothing is written to the chain
  and no number is used up. Departments are judged by what this worker already knows
  (breaker states and the last call's outcome); only when all of them look down are
  they asked directly (their health endpoints), so that a hub taken out of the load
  balancer by an outage of every department notices when they come back.
  One department down never makes the hub unready: its sections are null with an error.
- ``/metrics``: Prometheus's text format, for an operator token only (see
  ``hub.observability.metrics``).
"""

from __future__ import annotations

import asyncio
import functools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from adapters.base import HealthStatus
from adapters.resilience import BreakerState
from adapters.vocabulary import Source
from hub.audit.chain import AccessRecord, trial_append
from hub.auth.credentials import AuthError, authenticate
from hub.auth.principal import ClientKind, Purpose
from hub.db import migrate
from hub.db.models import SyncCursor
from hub.observability import metrics
from hub.observability.departments import WATCH, DepartmentWatch, Outcome
from hub.observability.logs import get_logger
from hub.resources import Resources

log = get_logger("hub.health")

CHECK_TIMEOUT = 2.0  # seconds for the database checks together
PROBE_TIMEOUT = 1.5  # seconds for asking the departments directly


@functools.cache
def migrations_head() -> str:
    return migrate.head()


@dataclass
class Readiness:
    reasons: list[str] = field(default_factory=list)
    checks: dict[str, Any] = field(default_factory=dict)

    @property
    def ready(self) -> bool:
        return not self.reasons

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "unready",
            "reasons": self.reasons,
            **self.checks,
        }


async def readiness(resources: Resources, *, watch: DepartmentWatch = WATCH) -> Readiness:
    found = Readiness()
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await _database(resources, found)
    except TimeoutError:
        found.reasons.append(f"the database did not answer within {CHECK_TIMEOUT:g} s")
        found.checks.setdefault("database", "unavailable")
    await _departments(resources, watch, found)
    return found


async def _database(resources: Resources, found: Readiness) -> None:
    try:
        async with resources.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:
        log.warning("readiness: the database does not answer", error=type(exc).__name__)
        found.checks["database"] = "unavailable"
        found.reasons.append("the database does not answer")
        return
    found.checks["database"] = "ok"
    try:
        current = await migrate.current(resources.engine)
    except Exception as exc:  # gone since the first statement
        log.warning("readiness: the migrations cannot be read", error=type(exc).__name__)
        found.checks["migrations"] = "unavailable"
        found.reasons.append("the database's migration cannot be read")
        return
    head = migrations_head()
    found.checks["migrations"] = {"current": current, "head": head}
    if current != head:
        found.reasons.append(
            f"the database is at migration {current or 'none'}, the code at {head}: "
            "run `hub db upgrade`"
        )
    try:
        await trial_append(resources.sessions, _TRIAL)
    except Exception as exc:
        log.warning("readiness: the audit log cannot be appended", error=type(exc).__name__)
        found.checks["audit"] = "unavailable"
        found.reasons.append("the audit log cannot be appended")
        return
    found.checks["audit"] = "ok"


# What the trial append of a readiness check would write (it is rolled back).
_TRIAL = AccessRecord(
    request_id="readiness",
    client_id=None,
    client_kind=None,
    token_id=None,
    purpose=None,
    operation="readiness",
    households=(),
    sections=(),
    outcome="GRANTED",
)


async def _departments(resources: Resources, watch: DepartmentWatch, found: Readiness) -> None:
    clients = resources.adapters.clients
    summary: dict[str, dict[str, Any]] = {}
    down: list[Source] = []
    now = time.monotonic()
    for source, client in clients.items():
        state = client.breaker.state
        last = watch.last.get(source)
        summary[source.value] = {
            "breaker": state.value,
            "last": None if last is None else ("ok" if last.ok else last.code),
            "secondsAgo": None if last is None else round(now - last.at, 1),
        }
        if state is BreakerState.OPEN or (last is not None and not last.ok):
            down.append(source)
    if down and len(down) == len(clients):
        # Everything looks down from here: ask each directly before saying so.
        answers = await asyncio.gather(*(_probe(clients[source], source, watch) for source in down))
        for source, up in zip(down, answers, strict=True):
            summary[source.value]["probe"] = "UP" if up else "DOWN"
        down = [source for source, up in zip(down, answers, strict=True) if not up]
    found.checks["departments"] = summary
    found.checks["departmentsDown"] = [source.value for source in down]
    if down and len(down) == len(clients):
        found.reasons.append("every department is down")


async def _probe(client: Any, source: Source, watch: DepartmentWatch) -> bool:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT):
            health = await client.health()
    except TimeoutError:
        return False
    up: bool = health.status is HealthStatus.UP
    if up:
        watch.last[source] = Outcome(True, None, time.monotonic())
    return up


class _OneAtATime:
    """Probes that arrive together share one check: a flood of them takes the audit
    appenders' lock once, not once each."""

    def __init__(self) -> None:
        self._running: asyncio.Future[Readiness] | None = None

    async def check(self, resources: Resources) -> Readiness:
        if self._running is None:
            self._running = asyncio.ensure_future(readiness(resources))
            self._running.add_done_callback(self._done)
        # Shielded: a probe that gives up does not cancel the check the others wait for.
        return await asyncio.shield(self._running)

    def _done(self, _: asyncio.Future[Readiness]) -> None:
        self._running = None


async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    shared: _OneAtATime | None = getattr(state, "readiness", None)
    if shared is None:
        shared = state.readiness = _OneAtATime()
    found = await shared.check(state.resources)
    if not found.ready:
        log.warning("not ready", reasons=found.reasons)
    return JSONResponse(found.as_json(), status_code=200 if found.ready else 503, headers=_NO_STORE)


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"}, headers=_NO_STORE)


_NO_STORE = {"Cache-Control": "no-store"}


async def metrics_endpoint(request: Request) -> Response:
    """The metrics, for a token of an operator client (``Authorization: Bearer``;
    ``X-Purpose`` may be left out: an operator's only purpose is OPERATIONS)."""
    from hub.door import error_body

    resources: Resources = request.app.state.resources
    try:
        principal = await authenticate(
            resources.sessions,
            resources.credentials,
            authorization=request.headers.get("authorization"),
            purpose=request.headers.get("x-purpose") or Purpose.OPERATIONS.value,
        )
    except AuthError as refusal:
        extra = {"WWW-Authenticate": 'Bearer realm="hub"'} if refusal.status == 401 else {}
        return Response(
            error_body(refusal.code, refusal.message),
            status_code=refusal.status,
            media_type="application/json",
            headers=extra,
        )
    if principal.kind is not ClientKind.OPERATOR:
        return Response(
            error_body("FORBIDDEN", "Metrics are for operator clients."),
            status_code=403,
            media_type="application/json",
        )
    for source, client in resources.adapters.clients.items():
        WATCH.breaker(source, client.breaker.state)  # time may have half-opened one
    body = metrics.exposition([metrics.sync_lag_family(await sync_lag(resources.sessions))])
    return Response(body, media_type=metrics.CONTENT_TYPE, headers=_NO_STORE)


async def sync_lag(sessions: async_sessionmaker[AsyncSession]) -> float | None:
    """Seconds since the newest civil-affairs change the index has seen (None: not synced)."""
    async with sessions() as session:
        cursor = await session.get(SyncCursor, Source.CIVIL_AFFAIRS.value)
    if cursor is None or cursor.updated_since is None:
        return None
    return max(0.0, (datetime.now(UTC) - cursor.updated_since).total_seconds())
