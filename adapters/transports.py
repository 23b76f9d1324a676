"""What carries department calls: a one-method ``Wire``, chosen by configuration.

- ``AiohttpWire`` (the default): aiohttp's connection pool, called directly. A household
  view fans out to seven departments; measured here, httpx's own pool rescans its
  connections on every request and dominates the profile under concurrency, and even
  httpx over an aiohttp transport spends as much again in building and converting
  request and response objects. ``bench/`` shows the difference.
- ``HttpxWire``: any ``httpx.AsyncClient``, so that tests swap the network for an
  in-process ``ASGITransport`` or a ``MockTransport``, and ``HUB_HTTP_TRANSPORT=httpx``
  runs on httpx's own pool.

A wire sends one request and returns the status and the body's bytes, or raises
``WireTimeout`` / ``WireUnreachable``; everything else (timeouts per call, retries,
breakers, reading JSON) is ``adapters.http.SourceClient``'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, Protocol

import aiohttp
import httpx

TransportKind = Literal["aiohttp", "httpx"]


class WireTimeout(Exception):
    """No answer in time."""


class WireUnreachable(Exception):
    """No connection, or it broke."""

    def __init__(self, kind: str, *, refused: bool = False) -> None:
        super().__init__(kind)
        self.kind = kind
        self.refused = refused


class Wire(Protocol):
    """Sends one HTTP request; the caller bounds its time (``asyncio.timeout``)."""

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        body: bytes | None,
        headers: Mapping[str, str],
    ) -> tuple[int, bytes]: ...

    async def aclose(self) -> None: ...


_JSON = {"content-type": "application/json"}


class HttpxWire:
    """Requests through an ``httpx.AsyncClient`` (its transport decides the network)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        body: bytes | None,
        headers: Mapping[str, str],
    ) -> tuple[int, bytes]:
        try:
            response = await self.client.request(
                method,
                url,
                params=params,
                content=body,
                headers={**headers, **_JSON} if body is not None else headers,
            )
        except httpx.TimeoutException as exc:
            if _refused(exc):
                raise WireUnreachable(type(exc).__name__, refused=True) from None
            raise WireTimeout from None
        except httpx.TransportError as exc:
            raise WireUnreachable(type(exc).__name__) from None
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self.client.aclose()


class AiohttpWire:
    """Requests on one ``aiohttp.ClientSession``, made in the loop that first uses it."""

    def __init__(self, *, max_connections: int = 200) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                # Each call's time is bounded by the caller (asyncio.timeout): no
                # per-request timeout objects here.
                timeout=aiohttp.ClientTimeout(total=None),
                trust_env=False,
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None,
        body: bytes | None,
        headers: Mapping[str, str],
    ) -> tuple[int, bytes]:
        session = self._open()
        try:
            async with session.request(
                method,
                url,
                params=params,
                data=body,
                headers={**headers, **_JSON} if body is not None else headers,
            ) as response:
                return response.status, await response.read()
        except TimeoutError:
            raise WireTimeout from None
        except aiohttp.ClientConnectorError as exc:
            refused = isinstance(exc.os_error, ConnectionRefusedError)
            raise WireUnreachable(type(exc).__name__, refused=refused) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise WireUnreachable(type(exc).__name__) from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


def make_wire(kind: TransportKind, *, max_connections: int = 200) -> Wire:
    if kind == "aiohttp":
        return AiohttpWire(max_connections=max_connections)
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    return HttpxWire(
        httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(limits=limits), trust_env=False)
    )


def make_transport(kind: TransportKind, *, max_connections: int = 200) -> httpx.AsyncBaseTransport:
    """An httpx transport (the benchmark's hand-written baseline runs on httpx)."""
    from httpx_aiohttp import AiohttpTransport

    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    if kind == "aiohttp":
        return AiohttpTransport(limits=limits, trust_env=False)
    return httpx.AsyncHTTPTransport(limits=limits, trust_env=False)


def _refused(exc: BaseException) -> bool:
    """Whether a 'timeout' is really a refused connection (as some transports map it)."""
    cause = exc.__cause__
    return isinstance(cause, OSError) and isinstance(
        getattr(cause, "os_error", cause), ConnectionRefusedError
    )
