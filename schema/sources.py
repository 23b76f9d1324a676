"""Where each part of an answer came from, and how the departments are doing."""

from __future__ import annotations

import asyncio
import enum
from datetime import datetime

import strawberry

from adapters.base import HealthStatus
from adapters.resilience import BreakerState
from adapters.vocabulary import Source
from schema.context import Info
from schema.enums import described


class SourceState(enum.Enum):
    OK = "OK"
    STALE = "STALE"
    UNAVAILABLE = "UNAVAILABLE"
    WITHHELD = "WITHHELD"


described(
    SourceState,
    "How a department's part of this answer was obtained.",
    {
        "OK": "Read from the department for this answer (or within its cache time).",
        "STALE": "The department failed; an earlier copy is shown, as of `asOf`.",
        "UNAVAILABLE": "The department failed and no earlier copy exists; its section is null.",
        "WITHHELD": "Not shared with this caller by policy; its section is null.",
    },
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
    source: Source = strawberry.field(description="The department.")
    state: SourceState = strawberry.field(description="How its part was obtained.")
    as_of: datetime | None = strawberry.field(
        description="When the department gave the data shown (null if unavailable)."
    )
    latency_ms: float | None = strawberry.field(
        description="How long this answer waited for the department, in milliseconds."
    )
    error_code: str | None = strawberry.field(
        description="Why it is unavailable: SOURCE_UNAVAILABLE, SOURCE_TIMEOUT or SOURCE_BAD_DATA."
    )


@strawberry.type(description="A department system's health as the hub sees it now.")
class SourceHealth:
    source: Source = strawberry.field(description="The department.")
    status: HealthStatus = strawberry.field(description="Whether it answers its health check.")
    latency_ms: float = strawberry.field(description="Health-check round trip, milliseconds.")
    breaker: BreakerState = strawberry.field(description="The hub's circuit breaker for it.")
    detail: str | None = strawberry.field(description="Why it is down, when it is.")


@strawberry.type
class SourcesQuery:
    @strawberry.field(description="Each department's health and circuit-breaker state.")
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
