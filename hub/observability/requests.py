"""Each request to /graphql, observed from the door: its context, span, access line, counts.

``ObservedRequests`` is the outermost part of each door, so that everything inside it
(refusals at the door, the gate, the schema, the department calls) runs with the
request's ``RequestInfo`` set and, when tracing is on, under the request's span. When
the request is over it writes one access line and counts it.

A client that goes away mid-request is not the hub's failure: whatever the server or
Starlette raises for it (``ClientDisconnect``, anyio's ``EndOfStream`` and
``ClosedResourceError``, an ``OSError`` from sending, a cancellation after the
disconnect) ends the request with one INFO access line, outcome ``disconnected``, and no
traceback. Any other exception is logged once, with its (scrubbed) traceback, and
answered 500 with the request id, rather than left to the server's own log.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import anyio
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.observability import context, metrics, tracing
from hub.observability.logs import get_logger

log = get_logger("hub.requests")

DISCONNECTS: tuple[type[BaseException], ...] = (
    ClientDisconnect,
    anyio.EndOfStream,
    anyio.ClosedResourceError,
    anyio.BrokenResourceError,
)
# What a request may end as; the metric's outcome label takes only these.
OUTCOMES = ("ok", "partial", "error", "refused", "limited", "failed", "disconnected")


class ObservedRequests:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        # The id the door answers with (``hub.door.RequestIds`` keeps one given here).
        request_id = state.setdefault("request_id", uuid.uuid4().hex)
        info = context.RequestInfo(request_id=str(request_id), state=state)
        token = context.enter(info)
        traced = tracing.start_request(scope.get("headers", ()))
        status = 0
        disconnected = False
        failed: BaseException | None = None

        async def receiving() -> Message:
            nonlocal disconnected
            message = await receive()
            if message["type"] == "http.disconnect":
                disconnected = True
            return message

        async def sending(message: Message) -> None:
            nonlocal status, disconnected
            if message["type"] == "http.response.start":
                status = int(message["status"])
            try:
                await send(message)
            except OSError:
                disconnected = True
                raise

        try:
            await self.app(scope, receiving, sending)
        except DISCONNECTS:
            disconnected = True
        except OSError as exc:
            if not disconnected:
                failed = exc
                status = await self._fail(send, status, exc)
        except asyncio.CancelledError:
            if not disconnected:
                raise
            # The server gave up on a client that had gone: nothing left to answer.
        except Exception as exc:
            failed = exc
            status = await self._fail(send, status, exc)
        finally:
            try:
                self._finish(info, traced, scope, status, disconnected, failed)
            finally:
                context.leave(token)

    async def _fail(self, send: Send, status: int, exc: BaseException) -> int:
        """Log ``exc`` once and answer 500 unless an answer has begun; the status sent."""
        log.error("unexpected error", exc_info=exc)
        if status != 0:
            return status
        from hub.door import send_error

        with contextlib.suppress(OSError):  # the client may be gone as well
            await send_error(send, 500, "INTERNAL_SERVER_ERROR", "Internal server error.")
        return 500

    def _finish(
        self,
        info: context.RequestInfo,
        traced: Any,
        scope: Scope,
        status: int,
        disconnected: bool,
        failed: BaseException | None,
    ) -> None:
        seconds = time.perf_counter() - info.started
        outcome = _outcome(info, status, disconnected, failed)
        principal = info.principal
        kind = principal.kind.value if principal is not None else "none"
        metrics.REQUESTS.labels(info.label, kind, outcome).inc()
        metrics.REQUEST_SECONDS.labels(info.label).observe(seconds)
        fields: dict[str, Any] = {
            "status": status or None,
            "outcome": outcome,
            "duration_ms": round(seconds * 1000, 1),
            "root_field": info.label,
        }
        if info.codes:
            fields["codes"] = info.codes
        if traced is not None:
            attributes: dict[str, Any] = {
                "hub.request_id": info.request_id,
                "hub.outcome": outcome,
                "hub.client_kind": kind,
                "http.request.method": scope.get("method", ""),
            }
            if status:
                attributes["http.response.status_code"] = status
            if principal is not None:
                attributes["hub.purpose"] = principal.purpose.value
            if info.operation_type is not None:
                attributes["graphql.operation.type"] = info.operation_type
            if info.operation is not None:
                attributes["graphql.operation.name"] = info.operation
            name = f"{info.operation_type} {info.label}" if info.operation_type else "graphql"
            # The access line below is written inside the span, so it carries its ids.
            _write(outcome, fields)
            tracing.end_request(traced, attributes, name)
            return
        _write(outcome, fields)


def _write(outcome: str, fields: dict[str, Any]) -> None:
    if outcome == "failed":
        log.error("request", **fields)
    else:
        log.info("request", **fields)


def _outcome(
    info: context.RequestInfo, status: int, disconnected: bool, failed: BaseException | None
) -> str:
    if failed is not None or status >= 500:
        return "failed"
    if disconnected and status == 0:
        return "disconnected"
    if status == 429:
        return "limited"
    if status >= 400:
        return "refused"
    if disconnected:
        return "disconnected"
    return info.outcome if info.outcome in OUTCOMES else "ok"
