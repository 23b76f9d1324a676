"""The Starlette application: GraphQL at /graphql, health at /healthz.

This module and ``hub.cli`` are the only ones in ``hub`` that import ``schema``: here the
service is assembled from its parts.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

import schema
from hub.auth.gate import AuthGate
from hub.auth.principal import Principal
from hub.ratelimit import (
    MemoryRateLimiter,
    RateLimiter,
    RateLimitMiddleware,
    RedisRateLimiter,
    principal_token_id,
)
from hub.resources import Resources
from hub.settings import Settings
from schema.context import Context
from schema.limits import Limits

log = logging.getLogger(__name__)


class HubGraphQL(GraphQL[Context, None]):
    def __init__(self, settings: Settings) -> None:
        super().__init__(
            schema.build(
                mask_errors=not settings.development,
                limits=None if settings.development else limits(settings),
            ),
            graphql_ide="graphiql" if settings.development else None,
            allow_queries_via_get=settings.development,
            subscription_protocols=(),
        )

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        assert isinstance(request, Request)
        resources: Resources = request.app.state.resources
        principal: Principal = request.state.principal
        return Context.build(request, resources, principal)


def limits(settings: Settings) -> Limits:
    return Limits(
        max_depth=settings.max_depth,
        max_aliases=settings.max_aliases,
        max_tokens=settings.max_tokens,
        max_cost=settings.max_cost,
        max_page_size=settings.max_page_size,
    )


def create_app(
    settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    """The hub as an ASGI app; ``transport`` replaces the network to the departments."""
    limiter: RateLimiter = (
        RedisRateLimiter(
            settings.redis_url, settings.rate_limit_per_minute, settings.rate_limit_burst
        )
        if settings.redis_url
        else MemoryRateLimiter(settings.rate_limit_per_minute, settings.rate_limit_burst)
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        resources = Resources.open(settings, transport=transport)
        app.state.resources = resources
        if settings.development:
            log.warning("development mode: GraphiQL on, errors unmasked; not for production")
        try:
            yield
        finally:
            await resources.aclose()
            await limiter.aclose()

    async def healthz(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    graphql = HubGraphQL(settings)
    return Starlette(
        routes=[
            Route(
                "/graphql",
                # The limit is per token, so it sits inside the gate that finds the token.
                AuthGate(
                    RateLimitMiddleware(graphql, limiter, principal_token_id),
                    development=settings.development,
                ),
                methods=["GET", "POST"],
            ),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
