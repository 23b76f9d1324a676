"""What every request meets before the hub spends anything on it.

- ``RequestIds``: an id per request, in the request state and the ``X-Request-Id`` header.
- ``RefusalLimit``: a client address whose requests keep being refused (bad tokens,
  missing purposes, oversized bodies) is answered 429 for a while, before its next
  request costs a token hash and a database query.
- ``BodyLimit``: a body over ``max_bytes`` is answered 413, by its ``Content-Length``
  before a byte of it is read, or as soon as a streamed body passes the limit.

Refusals here have the GraphQL error shape, ``{"errors": [{"message", "extensions":
{"code"}}]}``, like every other answer of the hub.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.observability import context, metrics
from hub.ratelimit import RateLimiter

# Statuses that mean "refused at the door": counted against the client's address.
REFUSED_STATUSES = frozenset({400, 401, 403, 413})


async def send_error(
    send: Send,
    status: int,
    code: str,
    message: str,
    *,
    headers: Iterable[tuple[bytes, bytes]] = (),
    **extensions: Any,
) -> None:
    """Answer ``status`` with one GraphQL-shaped error carrying ``code``."""
    body = error_body(code, message, **extensions)
    context.note_code(code)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def error_body(code: str, message: str, **extensions: Any) -> bytes:
    """One GraphQL-shaped error carrying ``code``, as JSON."""
    return json.dumps(
        {"errors": [{"message": message, "extensions": {"code": code, **extensions}}]},
        ensure_ascii=False,
    ).encode()


async def too_many(send: Send, wait: float, message: str) -> None:
    """429 with ``Retry-After`` in whole seconds (at least one)."""
    retry_after = max(1, math.ceil(wait))
    await send_error(
        send,
        429,
        "RATE_LIMITED",
        f"{message}: try again in {retry_after} s.",
        headers=[(b"retry-after", str(retry_after).encode())],
        retryAfter=retry_after,
    )


class RequestIds:
    """Gives every HTTP request an id (``scope["state"]["request_id"]``) and sends it back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        # One already given (by the observer outside this door) is kept, so that the log,
        # the trace and the answer name the same request.
        request_id = state.get("request_id") or uuid.uuid4().hex
        state["request_id"] = request_id
        header = (b"x-request-id", request_id.encode())

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), header]}
            await send(message)

        await self.app(scope, receive, sending)


def client_address(scope: Scope) -> str:
    """The caller's address as the server saw it (behind a proxy: as the proxy said)."""
    client = scope.get("client")
    return str(client[0]) if client else "unknown"


class RefusalLimit:
    """Limits refused requests per client address; over the limit, every request waits.

    Only refusals count (``REFUSED_STATUSES``), so a client that authenticates properly
    never meets this limit; one that keeps failing is told to wait before the hub
    hashes another token for it or asks the database about it.
    """

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        address = client_address(scope)
        wait = await self.limiter.hit(address, consume=False)
        if wait is not None:
            metrics.RATE_LIMITED.labels("address").inc()
            await too_many(send, wait, "Too many refused requests from this address")
            return
        status = 0

        async def watching(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        await self.app(scope, receive, watching)
        if status in REFUSED_STATUSES:
            await self.limiter.hit(address)


class BodyLimit:
    """Refuses bodies over ``max_bytes`` with 413; the app gets the body already read."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == -1:
            await send_error(send, 400, "BAD_REQUEST", "The Content-Length header is not a number.")
            return
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        await send_error(
            send,
            413,
            "BODY_TOO_LARGE",
            f"The request body is larger than {self.max_bytes} bytes.",
            maxBytes=self.max_bytes,
        )


def _content_length(scope: Scope) -> int | None:
    """The declared body length; None if not declared, -1 if not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isascii() and text.isdigit() else -1
    return None


def principal_token_id(scope: Scope) -> str | None:
    """The token ID of the caller ``hub.auth.gate.AuthGate`` put in the request state."""
    principal = scope.get("state", {}).get("principal")
    token_id = getattr(principal, "token_id", None)
    return token_id if isinstance(token_id, str) else None


class RateLimitMiddleware:
    """Refuses requests over their key's rate with 429, ``Retry-After`` and a GraphQL body.

    Requests whose ``key_of`` is None (and anything but HTTP) pass through unlimited;
    keying by the authenticated token means this must sit inside the authentication.
    """

    def __init__(
        self, app: ASGIApp, limiter: RateLimiter, key_of: Callable[[Scope], str | None]
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.key_of = key_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self.key_of(scope) if scope["type"] == "http" else None
        wait = await self.limiter.hit(key) if key is not None else None
        if wait is None:
            await self.app(scope, receive, send)
            return
        metrics.RATE_LIMITED.labels("token").inc()
        await too_many(send, wait, "Too many requests")
