"""An httpx transport that serves the stand-ins in-process, and counts the calls."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import httpx
from starlette.types import ASGIApp


class InProcessTransport(httpx.AsyncBaseTransport):
    """Routes each request by host and port to an ASGI app, as if over the network.

    ``calls`` counts requests per ``host:port`` so that tests and benchmarks can see
    how many upstream calls a query made. ``down`` holds the addresses that refuse
    connections, as a stopped service would.
    """

    def __init__(self, apps: Mapping[str, ASGIApp]) -> None:
        self._transports = {address: httpx.ASGITransport(app=app) for address, app in apps.items()}
        self.calls: Counter[str] = Counter()
        self.down: set[str] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        address = f"{request.url.host}:{request.url.port}"
        transport = self._transports.get(address)
        if transport is None or address in self.down:
            raise httpx.ConnectError(f"connection refused by {address}", request=request)
        self.calls[address] += 1
        return await transport.handle_async_request(request)
