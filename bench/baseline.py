"""The hand-written aggregator the hub is measured against.

A Starlette app on one shared ``httpx.AsyncClient`` (httpx's own transport, or the
aiohttp one the hub uses by default) that, for one household, makes the
same seven department calls as the hub's full household view and returns their bodies
as one JSON document. It does the least that could work: members come from an
in-memory map loaded once from the hub's index, and there is no GraphQL, no mapping of
wire formats, no validation, no resilience. Its throughput is a ceiling for the hub.

Run by ``python -m bench``; serves ``GET /household/{id}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.transports import TransportKind, make_transport
from adapters.vocabulary import Source
from hub.settings import SANDBOX_PORTS

# Each department's batch endpoint and the body it takes, given the member ID numbers.
CALLS: dict[Source, tuple[str, str]] = {
    Source.HEALTH_INSURANCE: ("/v2/insured/query", "id_card_nos"),
    Source.EDUCATION: ("/api/students/lookup", "sfzhList"),
    Source.HOUSING: ("/housing/v1/dwellings:search", "occupantIdNumbers"),
    Source.HUMAN_RESOURCES: ("/rs/api/PersonQuery", "IdCardNos"),
    Source.EMERGENCY_MANAGEMENT: ("/em/relief/query", "persons"),
    Source.CHARITY: ("/charity/aid/lookup", "beneficiary_ids"),
}


def load_members(sqlite_path: str) -> dict[str, list[str]]:
    members: dict[str, list[str]] = defaultdict(list)
    with contextlib.closing(sqlite3.connect(sqlite_path)) as db:
        rows = db.execute(
            "SELECT household_id, id_number FROM household_index_member ORDER BY position"
        )
        for household_id, id_number in rows:
            members[household_id].append(id_number)
    return members


def create_app(members: dict[str, list[str]], transport: TransportKind) -> Starlette:
    client = httpx.AsyncClient(transport=make_transport(transport))

    def url(source: Source, path: str) -> str:
        return f"http://127.0.0.1:{SANDBOX_PORTS[source]}{path}"

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
    app = create_app(load_members(os.environ["BENCH_INDEX_PATH"]), transport)
    uvicorn.run(app, host="127.0.0.1", port=int(os.environ["BENCH_PORT"]), log_level="warning")
