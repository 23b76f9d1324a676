"""The Starlette application: GraphQL at /graphql, /healthz, /readyz and /metrics.

This module and ``hub.cli`` are the only ones in ``hub`` that import ``schema``: here the
service is assembled from its parts.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
import orjson
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, request_response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

import schema
from hub import observability
from hub.audit.checkpoints import Checkpointer
from hub.auth.gate import AuthGate, is_ide_page
from hub.auth.principal import Principal
from hub.door import (
    BodyLimit,
    RateLimitMiddleware,
    RefusalLimit,
    RequestIds,
    principal_token_id,
    send_error,
)
from hub.jsonbody import JsonTooDeep, loads_limited
from hub.observability.health import healthz, metrics_endpoint, readyz
from hub.observability.requests import ObservedRequests
from hub.partners.gate import PartnersElsewhere, partner_door
from hub.partners.outbox import OutboxSender
from hub.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from hub.resources import Resources
from hub.settings import Settings
from schema.context import Context

log = logging.getLogger(__name__)


class HubGraphQL(GraphQL[Context, None]):
    def __init__(self, settings: Settings, *, partner: bool = False) -> None:
        # The partner API: its own bound of lookups by ID number, no IDE, POST only.
        development = settings.development and not partner
        super().__init__(
            schema.build(
                mask_errors=not settings.development,
                limits=None if settings.development else settings.query_limits(),
                max_id_lookups=(
                    settings.partner_max_id_lookups if partner else settings.max_id_lookups
                ),
                # A router composes /graphql; partners ask their own narrow questions.
                federation=settings.federation and not partner,
            ),
            graphql_ide="graphiql" if development else None,
            allow_queries_via_get=development,
            subscription_protocols=(),
        )

        self.max_json_depth = settings.max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as refusal:
            # Strawberry answers these in plain text; the hub answers everything in JSON.
            code = getattr(refusal, "code", "BAD_REQUEST")
            await send_error(send, refusal.status_code, code, refusal.reason)
            return
        await response(scope, receive, send)

    def encode_json(self, data: object) -> bytes:
        # orjson: the answer of a page of households is most of what a request encodes.
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        try:
            return loads_limited(data, self.max_json_depth)
        except JsonTooDeep as exc:
            raise BadBody(str(exc), "JSON_TOO_DEEP") from None

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        assert isinstance(request, Request)
        resources: Resources = request.app.state.resources
        principal: Principal | None = getattr(request.state, "principal", None)
        if principal is None:
            # Only the development GraphiQL page passes the gate without a caller, and
            # rendering it needs no context; anything else would be a gap in the gate.
            if not (resources.settings.development and is_ide_page(request.scope, request.headers)):
                raise RuntimeError("a GraphQL request reached the schema without a principal")
            return None  # type: ignore[return-value]  # never read: the page is rendered
        return Context.build(request, resources, principal)


class BadBody(HTTPException):
    """A body the hub will not read, with the code its JSON answer carries."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(400, reason)
        self.code = code


def create_app(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    """The hub as an ASGI app; ``transport`` replaces the network to the departments."""
    observability.setup()
    limiter = _limiter(settings, settings.rate_limit_per_minute, settings.rate_limit_burst, "rl")
    refusals = _limiter(
        settings, settings.refusal_limit_per_minute, settings.refusal_limit_burst, "refused"
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        resources = Resources.open(settings, transport=transport)
        await resources.start()
        app.state.resources = resources
        checkpointer = _checkpointer(settings, resources)
        sender = OutboxSender(resources.sessions, resources.partners, settings)
        if settings.outbox_interval > 0:
            sender.start()  # messages to partner hubs (case transfers), retried with backoff
        if settings.development:
            log.warning("development mode: GraphiQL on, errors unmasked; not for production")
            if settings.secret_key is None:
                log.warning("HUB_SECRET_KEY is not set: using the development key")
        try:
            yield
        finally:
            if checkpointer is not None:
                await checkpointer.aclose()
            await sender.aclose()
            await resources.aclose()
            await limiter.aclose()
            await refusals.aclose()

    async def jwks(request: Request) -> JSONResponse:
        # The hub's public signing keys, for partners and auditors to verify its signatures.
        ring = await request.app.state.resources.signing.current()
        return JSONResponse(ring.jwks(), headers={"Cache-Control": "public, max-age=300"})

    graphql = HubGraphQL(settings)
    door = ObservedRequests(
        RequestIds(
            RefusalLimit(
                AuthGate(
                    # The limit is per token, so it sits inside the gate that finds the token,
                    # and before the body is read, so that a client over it costs no reading.
                    PartnersElsewhere(
                        RateLimitMiddleware(
                            BodyLimit(graphql, settings.max_body_bytes), limiter, principal_token_id
                        )
                    ),
                    development=settings.development,
                ),
                refusals,
            )
        )
    )
    return Starlette(
        routes=[
            Route("/graphql", door, methods=["GET", "POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            # Readiness for a load balancer or orchestrator; metrics for operator tokens,
            # behind the same limit on refused requests as every other door.
            Route("/readyz", readyz, methods=["GET"]),
            Route(
                "/metrics",
                RefusalLimit(request_response(metrics_endpoint), refusals),
                methods=["GET"],
            ),
            Route("/.well-known/jwks.json", jwks, methods=["GET"]),
            Route(
                "/partner/graphql",
                ObservedRequests(
                    partner_door(HubGraphQL(settings, partner=True), settings, limiter, refusals)
                ),
                methods=["GET", "POST"],
            ),
        ],
        lifespan=lifespan,
    )


def _checkpointer(settings: Settings, resources: Resources) -> Checkpointer | None:
    """Signed checkpoints of the audit log at the configured interval, in every worker."""
    if not settings.audit_checkpoint_seconds and not settings.audit_checkpoint_entries:
        return None
    checkpointer = Checkpointer(
        resources.sessions,
        resources.signing,
        every=settings.audit_checkpoint_seconds,
        entries=settings.audit_checkpoint_entries,
        export_to=settings.audit_checkpoint_export,
    )
    checkpointer.start()
    return checkpointer


def _limiter(settings: Settings, per_minute: int, burst: int, name: str) -> RateLimiter:
    if settings.redis_url:
        return RedisRateLimiter(
            settings.redis_url, per_minute, burst, prefix=f"{settings.redis_prefix}{name}:"
        )
    return MemoryRateLimiter(per_minute, burst)
