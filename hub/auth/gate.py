"""The door of /graphql: the caller's token and purpose, or a refusal."""

from __future__ import annotations

import logging

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from hub.auth.credentials import AuthError, authenticate
from hub.db.session import unavailable
from hub.door import send_error

log = logging.getLogger(__name__)

PURPOSE_HEADER = "x-purpose"
BREAK_GLASS_HEADER = b"x-break-glass"


def is_ide_page(scope: Scope, headers: Headers) -> bool:
    """A browser opening the GraphiQL page: a GET for HTML that carries no query."""
    return (
        scope["method"] == "GET"
        and "text/html" in headers.get("accept", "")
        and b"query=" not in scope.get("query_string", b"")
    )


def _raw_header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


class AuthGate:
    """Authenticates every request to the wrapped app and puts the principal in its state.

    A refused request gets the status the refusal names (401 without a valid token, 400
    or 403 for a missing or disallowed purpose) and a GraphQL-shaped JSON body saying why.
    In development the GraphiQL page itself (a browser's GET for HTML, without a query)
    needs no token; every query it then sends does.
    """

    def __init__(self, app: ASGIApp, *, development: bool) -> None:
        self.app = app
        self.development = development

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        headers = Headers(scope=scope)
        if self.development and is_ide_page(scope, headers):
            await self.app(scope, receive, send)
            return
        resources = scope["app"].state.resources
        try:
            state["principal"] = await authenticate(
                resources.sessions,
                resources.credentials,
                authorization=headers.get("authorization"),
                purpose=headers.get(PURPOSE_HEADER),
                break_glass=_raw_header(scope, BREAK_GLASS_HEADER),
            )
        except AuthError as refusal:
            log.info(
                "refused %s: %s (request %s)", scope["path"], refusal.code, state.get("request_id")
            )
            extra = [(b"www-authenticate", b'Bearer realm="hub"')] if refusal.status == 401 else []
            await send_error(send, refusal.status, refusal.code, refusal.message, headers=extra)
            return
        except Exception as exc:
            if not unavailable(exc):
                raise
            # The token cannot be checked while the database is away: say so, with a code
            # and a time to come back, rather than a bare 500.
            log.warning(
                "database unavailable (%s) (request %s)",
                type(exc).__name__,
                state.get("request_id"),
            )
            await send_error(
                send,
                503,
                "DATABASE_UNAVAILABLE",
                "The hub's database is unavailable; try again shortly.",
                headers=[(b"retry-after", b"1")],
                retryable=True,
            )
            return
        await self.app(scope, receive, send)
