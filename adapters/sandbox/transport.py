"""An httpx transport that serves the stand-ins in-process, as if over the network."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

from adapters.sandbox.faults import FaultyApp


class InProcessTransport(httpx.AsyncBaseTransport):
    """Routes each request by ``host:port`` to a stand-in app.

    A stand-in whose faults say ``down`` refuses the connection, as a stopped service
    would; each app counts the calls it served.
    """

    def __init__(self, apps: Mapping[str, FaultyApp]) -> None:
        self.apps = dict(apps)
        self._transports = {address: httpx.ASGITransport(app=app) for address, app in apps.items()}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        address = f"{request.url.host}:{request.url.port}"
        app = self.apps.get(address)
        if app is None or app.faults.down:
            raise httpx.ConnectError(f"connection refused by {address}", request=request)
        return await self._transports[address].handle_async_request(request)
