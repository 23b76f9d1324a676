"""The transport under the adapters' shared ``httpx.AsyncClient``, chosen by configuration.

httpx's own connection pool rescans its connections on every request and dominates the
profile when a household view fans out to seven departments under concurrency; the
aiohttp transport keeps httpx as the interface (so tests still swap in MockTransport or
ASGITransport) with aiohttp's pool underneath. ``bench/`` measures both.
"""

from __future__ import annotations

from typing import Literal

import httpx
from httpx_aiohttp import AiohttpTransport

TransportKind = Literal["aiohttp", "httpx"]


def make_transport(kind: TransportKind, *, max_connections: int = 200) -> httpx.AsyncBaseTransport:
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    if kind == "aiohttp":
        return AiohttpTransport(limits=limits, trust_env=False)
    return httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
