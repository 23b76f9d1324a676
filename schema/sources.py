"""Where each part of an answer came from, and how the departments are doing."""

from __future__ import annotations

import asyncio
from datetime import datetime

import strawberry

from adapters.base import HealthStatus
from adapters.resilience import BreakerState
from adapters.vocabulary import Source
from hub.auth.principal import ClientKind
from hub.households.service import State
from schema.context import Info
from schema.enums import described
from schema.policy import OPEN, Mark, field

described(
    State,
    "How a department's part of this answer was obtained.",
    {
        "OK": "Read from the department for this answer (or within its cache time).",
        "STALE": "The department failed; an earlier copy is shown, as of `asOf`.",
        "UNAVAILABLE": "The department failed and no earlier copy exists; its section is null.",
        "WITHHELD": "Not shared with this caller by policy; its section is null.",
    },
    name="SourceState",
)
described(
    HealthStatus,
    "Whether a department system answers its health check.",
    {
        "UP": "Answering.",
        "DOWN": "Not answering, or answering that it is unwell.",
    },
)
described(
    BreakerState,
    "The hub's circuit breaker for a department (熔断器).",
    {
        "CLOSED": "Calls go through.",
        "OPEN": "Recent calls failed; calls are refused at once until the cool-down ends.",
        "HALF_OPEN": "Cool-down over: one trial call decides whether to close or open again.",
    },
)


@strawberry.type(description="One department's part in a household answer.")
class SourceStatus:
    """Served from ``hub.households.service.Provenance``."""

    source: Source = field(OPEN, description="The department.")
    state: State = field(OPEN, description="How its part was obtained.")
    as_of: datetime | None = field(
        OPEN, description="When the department gave the data shown (null if unavailable)."
    )
    latency_ms: float | None = field(
        OPEN, description="How long this answer waited for the department, in milliseconds."
    )
    error_code: str | None = field(
        OPEN,
        description="Why it is unavailable: SOURCE_UNAVAILABLE, SOURCE_TIMEOUT or SOURCE_BAD_DATA.",
    )


@strawberry.type(description="A department system's health as the hub sees it now.")
class SourceHealth:
    source: Source = field(OPEN, description="The department.")
    status: HealthStatus = field(OPEN, description="Whether it answers its health check.")
    latency_ms: float = field(OPEN, description="Health-check round trip, milliseconds.")
    breaker: BreakerState = field(OPEN, description="The hub's circuit breaker for it.")
    detail: str | None = field(OPEN, description="Why it is down, when it is.")


@strawberry.type
class SourcesQuery:
    @field(
        Mark(open=True, kinds=frozenset({ClientKind.AGENCY, ClientKind.OPERATOR})),
        description="Each department's health and circuit-breaker state.",
    )
    async def sources(self, info: Info) -> list[SourceHealth]:
        adapters = info.context.resources.adapters
        checks = await asyncio.gather(*(adapter.health() for adapter in adapters))
        return [
            SourceHealth(
                source=h.source,
                status=h.status,
                latency_ms=round(h.latency_ms, 1),
                breaker=adapters.clients[h.source].breaker.state,
                detail=h.detail or None,
            )
            for h in checks
        ]
