"""The wires under the adapters, over real sockets: what production runs on."""

import asyncio
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.base import BadUpstreamData, SourceTimeout, SourceUnavailable
from adapters.http import SourceClient
from adapters.resilience import Policy
from adapters.transports import AiohttpWire, HttpxWire, Wire, make_wire
from adapters.vocabulary import Source

FAST = Policy(timeout=0.3, retries=1, backoff=0.001, backoff_max=0.002)


async def echo(request: Request) -> Response:
    body = await request.json()
    return JSONResponse(
        {
            "got": body,
            "type": request.headers.get("content-type"),
            "key": request.headers.get("x-api-key"),
        }
    )


async def slow(request: Request) -> Response:
    await asyncio.sleep(1)
    return JSONResponse({})


async def broken(request: Request) -> Response:
    return Response(b"<html>oops", media_type="text/html")


async def unwell(request: Request) -> Response:
    return JSONResponse({"error": "down"}, status_code=503)


APP = Starlette(
    routes=[
        Route("/echo", echo, methods=["POST"]),
        Route("/slow", slow, methods=["POST"]),
        Route("/broken", broken, methods=["POST"]),
        Route("/unwell", unwell, methods=["POST"]),
    ]
)


@pytest.fixture
async def served() -> AsyncIterator[str]:
    """APP on an ephemeral loopback port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(APP, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 (uvicorn offers a flag, not an event)
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(params=["aiohttp", "httpx"])
async def wire(request: pytest.FixtureRequest) -> AsyncIterator[Wire]:
    made = make_wire(request.param)
    assert isinstance(made, AiohttpWire if request.param == "aiohttp" else HttpxWire)
    try:
        yield made
    finally:
        await made.aclose()


def _client(wire: Wire, base_url: str) -> SourceClient:
    return SourceClient(
        Source.EDUCATION, wire, base_url=base_url, headers={"X-Api-Key": "k"}, policy=FAST
    )


async def test_a_call_sends_json_with_the_credential_and_reads_json(wire, served):
    found = await _client(wire, served).post("/echo", {"ids": ["a", "b"], "n": 1})
    assert found == {"got": {"ids": ["a", "b"], "n": 1}, "type": "application/json", "key": "k"}


async def test_a_refused_connection_is_unavailable(wire):
    with pytest.raises(SourceUnavailable, match="cannot reach the service"):
        await _client(wire, f"http://127.0.0.1:{_closed_port()}").post("/echo", {})


async def test_no_answer_in_time_is_a_timeout(wire, served):
    with pytest.raises(SourceTimeout, match=r"no answer within 0\.3s"):
        await _client(wire, served).post("/slow", {})


async def test_a_5xx_is_unavailable_and_a_body_that_is_not_json_is_bad_data(wire, served):
    client = _client(wire, served)
    with pytest.raises(SourceUnavailable, match="answered 503"):
        await client.post("/unwell", {})
    with pytest.raises(BadUpstreamData):
        await client.post("/broken", {})


async def test_an_httpx_client_is_taken_as_it_is():
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP)) as client:
        found = await SourceClient(Source.EDUCATION, client, base_url="http://x").post(
            "/echo", {"a": 1}
        )
    assert found["got"] == {"a": 1}
