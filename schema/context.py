"""The typed GraphQL context and the ``Info`` alias resolvers use."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from adapters.resilience import set_deadline
from hub.audit.access import AccessLog
from hub.auth.policy import Decision, View, view_of
from hub.auth.principal import Principal
from hub.households.reach import Reach, reach_of
from hub.households.service import Households
from hub.keys import Keys
from hub.resources import Resources
from hub.settings import Settings
from schema.loaders import Loaders


@dataclass
class Context:
    request: Request
    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    resources: Resources
    households: Households
    loaders: Loaders
    today: date
    now: datetime
    principal: Principal
    view: View
    reach: Reach
    access: AccessLog
    keys: Keys
    request_id: str
    decisions: list[Decision]
    notices: list[GraphQLError] = field(default_factory=list)  # errors beside served data

    @classmethod
    def build(cls, request: Request, resources: Resources, principal: Principal) -> Context:
        from schema.policy import decisions

        # Every department call made for this request must end within the deadline.
        set_deadline(resources.settings.request_deadline)
        now = datetime.now(UTC)
        scope = reach_of(principal)
        view = view_of(principal)
        access = AccessLog()
        households = Households(
            sessions=resources.sessions,
            adapters=resources.adapters,
            rules=resources.rules,
            reach=scope,
            view=view,
            now=now,
            access=access,
            cache=resources.index_entries,
        )
        return cls(
            request=request,
            settings=resources.settings,
            sessions=resources.sessions,
            resources=resources,
            households=households,
            loaders=Loaders(households),
            today=households.today,
            now=now,
            principal=principal,
            view=view,
            reach=scope,
            access=access,
            keys=resources.keys,
            request_id=getattr(request.state, "request_id", "") or uuid.uuid4().hex,
            decisions=decisions(view),
        )

    def refuse_lookup(self, arguments: dict[str, Any]) -> None:
        """A lookup this caller may not make: refused, and audited with what it tried."""
        self.access.refuse("FORBIDDEN")
        for value in lookup_values(arguments):
            self.access.looked_up(self.keys.lookup_hash(value))


def lookup_values(arguments: dict[str, Any]) -> list[str]:
    """The values a lookup field was given (strings, and the strings of list arguments),
    as they would be looked up: trimmed and in capitals, as ID numbers are normalised."""
    values: list[str] = []
    for value in arguments.values():
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str):
                values.append(item.strip().upper())
    return values


Info = strawberry.Info[Context, None]
