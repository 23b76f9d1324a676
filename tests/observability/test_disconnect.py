"""A client that goes away mid-request is one INFO line, not an ERROR with a traceback.

Served by a real uvicorn on an ephemeral port, over real sockets, so that the
disconnect is the server's own.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from hub.observability.requests import ObservedRequests
from tests.observability.conftest import LogLines


@asynccontextmanager
async def served(app: Starlette) -> AsyncIterator[int]:
    """``app`` (its lifespan already run) on 127.0.0.1 at a free port, for the block."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_config=None)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
        assert not task.done(), "the server did not start"
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def _abandon(port: int, head: bytes, body: bytes, *, after: float = 0.2) -> None:
    """Send ``head`` and ``body`` and hang up before an answer can come."""
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + body)
    await writer.drain()
    await asyncio.sleep(after)
    writer.close()
    await writer.wait_closed()


def _head(length: int, headers: dict[str, str]) -> bytes:
    lines = [
        "POST /graphql HTTP/1.1",
        "Host: hub",
        "Content-Type: application/json",
        f"Content-Length: {length}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _no_errors(lines: LogLines) -> None:
    assert not [r for r in lines.records() if r["level"] in ("error", "critical")]
    assert "Traceback" not in lines.text


async def test_a_client_that_hangs_up_while_sending_its_body_is_one_info_line(
    log_lines: LogLines, hub_app, caseworker
):
    body = json.dumps({"query": "{ households(first: 1) { totalCount } }"}).encode()
    async with served(hub_app) as port:
        # The declared body is longer than what is sent: the hub is still reading it.
        await _abandon(port, _head(len(body) + 100, caseworker), body)
        await asyncio.sleep(0.3)

    (access,) = log_lines.find(event="request")
    assert access["level"] == "info"
    assert access["outcome"] == "disconnected"
    assert access["client_kind"] == "AGENCY"
    _no_errors(log_lines)


async def test_a_client_that_hangs_up_while_departments_answer_is_no_error(
    log_lines: LogLines, hub_app, caseworker, transport
):
    from adapters.vocabulary import Source
    from hub.settings import SANDBOX_PORTS

    transport.apps[f"127.0.0.1:{SANDBOX_PORTS[Source.CIVIL_AFFAIRS]}"].faults.latency_ms = 400
    query = "{ households(first: 2) { edges { node { id civilAffairs { address } } } } }"
    body = json.dumps({"query": query}).encode()
    async with served(hub_app) as port:
        await _abandon(port, _head(len(body), caseworker), body, after=0.1)
        await asyncio.sleep(0.8)  # the hub finishes its work and answers no one

    (access,) = log_lines.find(event="request")
    assert access["level"] == "info"
    _no_errors(log_lines)


async def test_a_disconnect_raised_inside_the_door_is_one_info_line(log_lines: LogLines):
    # Whatever inside the door reads the stream meets the disconnect as Starlette's
    # ClientDisconnect; the door ends the request quietly.
    read = asyncio.Event()

    async def reading(request: Request) -> Response:
        try:
            await request.body()
        finally:
            read.set()
        return Response("never sent")

    app = Starlette(
        routes=[Route("/graphql", ObservedRequests(_request_response(reading)), methods=["POST"])]
    )
    async with served(app) as port:
        await _abandon(port, _head(1000, {}), b'{"query": "{', after=0.1)
        await asyncio.wait_for(read.wait(), 5)
        await asyncio.sleep(0.1)

    (access,) = log_lines.find(event="request")
    assert access["level"] == "info"
    assert access["outcome"] == "disconnected"
    _no_errors(log_lines)


def _request_response(endpoint: Callable[[Request], Awaitable[Response]]) -> ASGIApp:
    from starlette.routing import request_response

    return request_response(endpoint)
