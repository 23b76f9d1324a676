"""The door of the partner API (``POST /partner/graphql``), and of /graphql to partners.

- ``SignedAnswers``: every answer of the partner API, refusals included, carries a
  detached signature over its exact body (``hub.partners.signature``).
- ``PartnerGate``: a partner's JWT (``hub.partners.tokens``) or a refusal with a code,
  audited; on success the request's principal is the partner, purpose
  CROSS_REGION_CHECK.
- ``TrustedDocuments``: the body names a registered document; its text replaces the ID
  before GraphQL sees the request. A raw ``query``, or an ID not registered for this
  partner, is refused, and audited.
- ``PartnersElsewhere``: /graphql refuses a partner client's bearer token: partners
  call only the partner API, where tokens are signed, single use, and documents trusted.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.audit import AccessRecord
from hub.auth.principal import ClientKind, Principal, Purpose
from hub.door import (
    BodyLimit,
    RateLimitMiddleware,
    RefusalLimit,
    RequestIds,
    principal_token_id,
    send_error,
)
from hub.jsonbody import JsonTooDeep, loads_limited
from hub.partners import documents, signature, tokens
from hub.ratelimit import RateLimiter
from hub.resources import Resources
from hub.settings import Settings

log = logging.getLogger(__name__)

PURPOSE = Purpose.CROSS_REGION_CHECK
OPERATION = "partner-api"


def _resources(scope: Scope) -> Resources:
    resources: Resources = scope["app"].state.resources
    return resources


async def audit_refusal(
    scope: Scope, code: str, *, client_id: str | None, operation: str = OPERATION
) -> None:
    """A refused partner request, in the audit log: who (if known), why, when."""
    state = scope.get("state", {})
    record = AccessRecord(
        request_id=str(state.get("request_id", ""))[:32],
        client_id=client_id,
        client_kind=ClientKind.PARTNER.value if client_id else None,
        token_id=None,
        purpose=PURPOSE.value if client_id else None,
        operation=operation,
        households=(),
        sections=(),
        outcome="REFUSED",
        refused=code,
    )
    await _resources(scope).audit.append(record)


class SignedAnswers:
    """Signs the body of every answer with the hub's current key (``Hub-Signature``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def keeping(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                body = b"".join(chunks)
                assert start is not None
                ring = await _resources(scope).signing.current()
                headers = [
                    (k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"
                ]
                headers += [
                    (b"content-length", str(len(body)).encode()),
                    (signature.HEADER.lower().encode(), signature.sign(ring, body).encode()),
                ]
                await send({**start, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
            await send(message)

        await self.app(scope, receive, keeping)


class PartnerGate:
    """Authenticates a partner's JWT; refusals are answered with their code and audited."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] != "POST":
            await send_error(send, 405, "METHOD_NOT_ALLOWED", "The partner API takes POST only.")
            return
        resources = _resources(scope)
        settings = resources.settings
        headers = Headers(scope=scope)
        try:
            caller = await tokens.authenticate(
                resources.sessions,
                headers.get("authorization"),
                audience=settings.audience,
                max_lifetime=settings.partner_token_max_lifetime,
                http=resources.partner_http,
            )
            declared = headers.get("x-purpose")
            if declared is not None and declared.strip().upper() != PURPOSE.value:
                raise tokens.AuthRefusal(
                    "PURPOSE_NOT_ALLOWED",
                    f"a partner may declare {PURPOSE.value} only",
                    status=403,
                    client_id=caller.client_id,
                )
        except tokens.AuthRefusal as refusal:
            log.info("partner request refused: %s", refusal.code)
            await audit_refusal(scope, refusal.code, client_id=refusal.client_id)
            extra = (
                [(b"www-authenticate", b'Bearer realm="partner"')] if refusal.status == 401 else []
            )
            await send_error(send, refusal.status, refusal.code, refusal.message, headers=extra)
            return
        state = scope.setdefault("state", {})
        state["partner"] = caller
        state["principal"] = Principal(
            client_id=caller.client_id,
            client_name=caller.name,
            kind=ClientKind.PARTNER,
            # Rate limits and the audit log name the partner's key.
            token_id=caller.key_id,
            purpose=PURPOSE,
        )
        await self.app(scope, receive, send)


class TrustedDocuments:
    """Puts the text of the trusted document a partner names in place of its ID."""

    def __init__(self, app: ASGIApp, *, max_json_depth: int) -> None:
        self.app = app
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        caller: tokens.PartnerCaller = scope["state"]["partner"]
        message = await receive()  # the whole body: BodyLimit read it already
        try:
            body = loads_limited(message.get("body", b""), self.max_json_depth)
        except (JsonTooDeep, ValueError):
            await self._refuse(scope, send, 400, "BAD_REQUEST", "The body is not JSON.", caller)
            return
        if not isinstance(body, dict):
            await self._refuse(
                scope, send, 400, "BAD_REQUEST", "The body is not a JSON object.", caller
            )
            return
        if "query" in body:
            await self._refuse(
                scope,
                send,
                403,
                "RAW_QUERY_REFUSED",
                "Partners send a trusted document's ID ('documentId'), not its text.",
                caller,
            )
            return
        wanted = _document_id(body)
        if wanted is None:
            await self._refuse(
                scope,
                send,
                400,
                "DOCUMENT_ID_REQUIRED",
                "The body needs 'documentId': 'sha256:<64 hex digits>'.",
                caller,
            )
            return
        async with _resources(scope).sessions() as session:
            text = await documents.text_for(session, wanted, caller.client_id)
        if text is None:
            await self._refuse(
                scope,
                send,
                403,
                "DOCUMENT_NOT_REGISTERED",
                f"Document {wanted} is not registered for this partner.",
                caller,
            )
            return
        rewritten: dict[str, Any] = {"query": text, "variables": body.get("variables") or {}}
        if isinstance(body.get("operationName"), str):
            rewritten["operationName"] = body["operationName"]
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": orjson.dumps(rewritten), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(
        self,
        scope: Scope,
        send: Send,
        status: int,
        code: str,
        message: str,
        caller: tokens.PartnerCaller,
    ) -> None:
        await audit_refusal(scope, code, client_id=caller.client_id, operation="partner-document")
        await send_error(send, status, code, message)


def _document_id(body: dict[str, Any]) -> str | None:
    given = body.get("documentId")
    if given is None:
        persisted = (body.get("extensions") or {}).get("persistedQuery")
        if isinstance(persisted, dict) and isinstance(persisted.get("sha256Hash"), str):
            given = "sha256:" + persisted["sha256Hash"]
    if isinstance(given, str) and documents.DOCUMENT_ID.fullmatch(given):
        return given
    return None


class PartnersElsewhere:
    """/graphql is not for partners: their bearer tokens are refused there (403)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = scope.get("state", {}).get("principal") if scope["type"] == "http" else None
        if isinstance(principal, Principal) and principal.kind is ClientKind.PARTNER:
            await send_error(
                send,
                403,
                "PARTNER_API_ONLY",
                "Partners call the partner API (POST /partner/graphql) with signed tokens.",
            )
            return
        await self.app(scope, receive, send)


def partner_door(
    graphql: ASGIApp, settings: Settings, limiter: RateLimiter, refusals: RateLimiter
) -> ASGIApp:
    """The partner API: the same limits as /graphql, a partner's JWT in place of a hub
    token, trusted documents only, and every answer signed."""
    return RequestIds(
        SignedAnswers(
            RefusalLimit(
                PartnerGate(
                    RateLimitMiddleware(
                        BodyLimit(
                            TrustedDocuments(graphql, max_json_depth=settings.max_json_depth),
                            settings.max_body_bytes,
                        ),
                        limiter,
                        principal_token_id,
                    )
                ),
                refusals,
            )
        )
    )
