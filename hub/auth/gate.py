"""The door of /graphql: a request id, then the caller's token and purpose, or a refusal."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.auth.clients import AuthError, authenticate

log = logging.getLogger(__name__)

PURPOSE_HEADER = "x-purpose"
BREAK_GLASS_HEADER = "x-break-glass"


class AuthGate:
    """Authenticates every request to the wrapped app and puts the principal in its state.

    A refused request gets the status the refusal names (401 without a valid token, 400
    or 403 for a missing or disallowed purpose) and a GraphQL-shaped JSON body saying why.
    In development the GraphiQL page itself (a browser's GET for HTML) needs no token.
    """

    def __init__(self, app: ASGIApp, *, development: bool) -> None:
        self.app = app
        self.development = development

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        send = _with_request_id(send, request_id)
        headers = Headers(scope=scope)
        if (
            self.development
            and scope["method"] == "GET"
            and "text/html" in headers.get("accept", "")
        ):
            await self.app(scope, receive, send)
            return
        sessions = scope["app"].state.resources.sessions
        try:
            async with sessions() as session:
                state["principal"] = await authenticate(
                    session,
                    authorization=headers.get("authorization"),
                    purpose=headers.get(PURPOSE_HEADER),
                    break_glass=headers.get(BREAK_GLASS_HEADER),
                )
        except AuthError as refusal:
            log.info("refused %s: %s (request %s)", scope["path"], refusal.code, request_id)
            await _refuse(send, refusal)
            return
        await self.app(scope, receive, send)


async def _refuse(send: Send, refusal: AuthError) -> None:
    body = json.dumps(
        {"errors": [{"message": refusal.message, "extensions": {"code": refusal.code}}]}
    ).encode()
    headers: list[tuple[bytes, bytes]] = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if refusal.status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="hub"'))
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _with_request_id(send: Send, request_id: str) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers: list[Any] = list(message.get("headers", []))
            headers.append((b"x-request-id", request_id.encode()))
            message = {**message, "headers": headers}
        await send(message)

    return sending
