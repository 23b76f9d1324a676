"""The typed GraphQL context and the ``Info`` alias resolvers use."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import strawberry
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from adapters.resilience import set_deadline
from hub.audit.access import AccessLog
from hub.auth.policy import Decision, Reach, Rule, reach
from hub.auth.principal import Principal
from hub.keys import Keys
from hub.resources import Resources
from hub.settings import Settings
from schema.loaders import Loaders

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Context:
    request: Request
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    resources: Resources
    loaders: Loaders
    today: date
    now: datetime
    principal: Principal
    reach: Reach
    access: AccessLog
    keys: Keys
    request_id: str
    notices: list[GraphQLError] = field(default_factory=list)  # errors beside served data
    decisions: dict[tuple[str, str], tuple[Decision, Rule | None]] = field(default_factory=dict)

    @classmethod
    def build(cls, request: Request, resources: Resources, principal: Principal) -> Context:
        # Every department call made for this request must end within the deadline.
        set_deadline(resources.settings.request_deadline)
        now = datetime.now(UTC)
        scope = reach(principal)
        access = AccessLog()
        return cls(
            request=request,
            settings=resources.settings,
            sessions=resources.sessions,
            resources=resources,
            loaders=Loaders(resources, reach=scope, now=now, access=access),
            today=now.astimezone(SHANGHAI).date(),
            now=now,
            principal=principal,
            reach=scope,
            access=access,
            keys=resources.keys,
            request_id=getattr(request.state, "request_id", "") or uuid.uuid4().hex,
        )


Info = strawberry.Info[Context, None]
