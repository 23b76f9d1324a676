"""The typed GraphQL context and the ``Info`` alias resolvers use."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import strawberry
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from adapters.resilience import set_deadline
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
    notices: list[GraphQLError] = field(default_factory=list)  # errors beside served data

    @classmethod
    def build(cls, request: Request, resources: Resources) -> Context:
        # Every department call made for this request must end within the deadline.
        set_deadline(resources.settings.request_deadline)
        return cls(
            request=request,
            settings=resources.settings,
            sessions=resources.sessions,
            resources=resources,
            loaders=Loaders(resources),
            today=datetime.now(SHANGHAI).date(),
        )


Info = strawberry.Info[Context, None]
