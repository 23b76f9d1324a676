"""What the department adapter tests share: an adapter over a stand-in or over a canned answer.

The adapters here are the hub's own (``adapters.registry.ADAPTER_TYPES``), each addressed
as in the sandbox (``tests.conftest.sandbox_url``), so a test names only its department.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from adapters import idnumber
from adapters.base import Adapter, BadUpstreamData
from adapters.http import SourceClient
from adapters.registry import ADAPTER_TYPES
from adapters.sandbox.population import Population, generate
from adapters.sandbox.server import SERVICES
from adapters.sandbox.transport import InProcessTransport
from adapters.vocabulary import Source
from tests.conftest import SEED, sandbox_url

# A well-formed ID number that no department knows.
UNKNOWN = idnumber.make("310101", date(1990, 1, 1), 11)


def strangers(count: int) -> list[str]:
    """Distinct, well-formed ID numbers of people born in 1900, whom no population holds."""
    return [idnumber.make("310101", date(1900, 1, 1) + timedelta(days=i), 1) for i in range(count)]


def adapter_over(source: Source, transport: httpx.AsyncBaseTransport) -> Adapter[Any]:
    """The department's adapter, reaching its sandbox address through ``transport``."""
    client = httpx.AsyncClient(transport=transport)
    return ADAPTER_TYPES[source](SourceClient(source, client, base_url=sandbox_url(source)))


def serving(source: Source, population: Population) -> Adapter[Any]:
    """The department's adapter over a stand-in of its own, built over ``population``."""
    app = SERVICES[source](population)
    return adapter_over(source, httpx.ASGITransport(app=app))


async def holdings(source: Source, population: Population) -> dict[str, list[Any]]:
    """What the department's stand-in over ``population`` holds for each of its members."""
    result = await serving(source, population).fetch([m.id_number for m in population.members()])
    return {key: list(records) for key, records in result.items()}


def mocked(source: Source, body: object, seen: list[httpx.Request] | None = None) -> Adapter[Any]:
    """The department's adapter over a transport answering every request 200 with ``body``:
    bytes as they are, anything else as JSON. The requests go into ``seen``."""

    def answer(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if isinstance(body, bytes):
            return httpx.Response(200, content=body, headers={"content-type": "application/json"})
        return httpx.Response(200, json=body)

    return adapter_over(source, httpx.MockTransport(answer))


async def assert_bad_upstream_data(source: Source, body: object, key: str) -> None:
    """Asked for ``key`` and answered ``body``, the adapter fails with BadUpstreamData that
    names its department and does not repeat the ID number."""
    with pytest.raises(BadUpstreamData) as caught:
        await mocked(source, body).fetch([key])
    assert caught.value.source is source
    assert key not in str(caught.value)


class Recording(httpx.AsyncBaseTransport):
    """Passes requests on and keeps their JSON bodies."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.bodies: list[Any] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return await self._inner.handle_async_request(request)


@dataclass(frozen=True)
class StandIn:
    """A department's adapter over its in-process stand-in, and the body of each of its calls."""

    adapter: Adapter[Any]
    bodies: list[Any]

    def batches(self, field: str) -> list[list[str]]:
        """The ID numbers each call asked for, ``field`` naming them in the request body."""
        return [body[field] for body in self.bodies]


@pytest.fixture
def stand_in(transport: InProcessTransport) -> Callable[[Source], StandIn]:
    """``stand_in(source)``: that department's adapter over the test's in-process stand-ins
    (over ``population``), recording its calls."""

    def make(source: Source) -> StandIn:
        recording = Recording(transport)
        return StandIn(adapter_over(source, recording), recording.bodies)

    return make


@pytest.fixture(scope="session")
def large() -> Population:
    """Ten times the usual population, for departments that touch few households."""
    return generate(SEED, 1500)
