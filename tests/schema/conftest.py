from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.sandbox.transport import InProcessTransport
from hub.app import create_app
from hub.index.sync import sync_households
from hub.settings import Settings


@dataclass
class GraphQL:
    """Posts GraphQL to the hub app and returns the decoded response."""

    client: httpx.AsyncClient

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        response = await self.client.post("/graphql", json={"query": query, "variables": variables})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
async def hub_client(
    settings: Settings, engine, transport: InProcessTransport
) -> AsyncIterator[httpx.AsyncClient]:
    """The hub app over a migrated, synced database and the in-process stand-ins."""
    app = create_app(settings, transport=transport)
    async with app.router.lifespan_context(app):
        resources = app.state.resources
        await sync_households(sessions=resources.sessions, adapter=resources.adapters.civil_affairs)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub"
        ) as client:
            yield client


@pytest.fixture
def gql(hub_client: httpx.AsyncClient) -> GraphQL:
    return GraphQL(hub_client)
