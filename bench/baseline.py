"""The hand-written aggregator the hub is measured against.

A Starlette app on one shared ``httpx.AsyncClient`` (httpx's own transport, or the
aiohttp one the hub uses by default) that, for one household, makes the
same seven department calls as the hub's full household view and returns their bodies
as one JSON document. It does the least that could work: members come from an
in-memory map built once from the synthetic population the stand-ins serve (the same
seed and size), and there is no GraphQL, no mapping of wire formats, no validation, no
database, no resilience. Its throughput is a ceiling for the hub.

Run by ``python -m bench`` (``BENCH_PORT``, ``BENCH_TRANSPORT``, ``BENCH_SEED``,
``BENCH_SIZE``, and the departments at ``HUB_<SOURCE>__BASE_URL`` as for the hub);
serves ``GET /household/{id}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.sandbox.population import generate
from adapters.transports import TransportKind, make_transport
from adapters.vocabulary import Source
from bench.stand_ins import department_ports

# Each department's batch endpoint and the body it takes, given the member ID numbers.
CALLS: dict[Source, tuple[str, str]] = {
    Source.HEALTH_INSURANCE: ("/v2/insured/query", "id_card_nos"),
    Source.EDUCATION: ("/api/students/lookup", "sfzhList"),
    Source.HOUSING: ("/housing/v1/dwellings:search", "occupantIdNumbers"),
    Source.HUMAN_RESOURCES: ("/rs/api/PersonQuery", "IdCardNos"),
    Source.EMERGENCY_MANAGEMENT: ("/em/relief/query", "persons"),
    Source.CHARITY: ("/charity/aid/lookup", "beneficiary_ids"),
}


def load_members(seed: int, size: int) -> dict[str, list[str]]:
    """Household ID → its members' ID numbers, in member order, as the stand-ins know them."""
    return {h.id: [m.id_number for m in h.members] for h in generate(seed, size).households}


def create_app(
    members: dict[str, list[str]], transport: TransportKind, ports: dict[Source, int]
) -> Starlette:
    client = httpx.AsyncClient(transport=make_transport(transport))

    def url(source: Source, path: str) -> str:
        return f"http://127.0.0.1:{ports[source]}{path}"

    async def post(source: Source, path: str, body: dict[str, Any]) -> Any:
        response = await client.post(url(source, path), json=body)
        response.raise_for_status()
        return response.json()

    async def household(request: Request) -> JSONResponse:
        household_id = request.path_params["household_id"]
        ids = members.get(household_id)
        if ids is None:
            return JSONResponse({"household": None})
        bodies = await asyncio.gather(
            post(
                Source.CIVIL_AFFAIRS,
                "/api/v1/households:batchGet",
                {"householdIds": [household_id]},
            ),
            *(post(source, path, {key: ids}) for source, (path, key) in CALLS.items()),
        )
        return JSONResponse(
            {
                "household": {
                    s.value: b for s, b in zip([Source.CIVIL_AFFAIRS, *CALLS], bodies, strict=False)
                }
            }
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await client.aclose()

    return Starlette(routes=[Route("/household/{household_id}", household)], lifespan=lifespan)


if __name__ == "__main__":
    transport: TransportKind = "aiohttp" if os.environ["BENCH_TRANSPORT"] == "aiohttp" else "httpx"
    members = load_members(int(os.environ["BENCH_SEED"]), int(os.environ["BENCH_SIZE"]))
    app = create_app(members, transport, department_ports(os.environ))
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["BENCH_PORT"]), log_level="warning")
