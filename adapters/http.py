"""The HTTP client every adapter talks through.

It turns transport failures into the hub's source errors, so that no adapter and no
resolver ever sees an httpx exception or an upstream body.
"""

from __future__ import annotations

from typing import Any

import httpx

from adapters.base import BadUpstreamData, SourceError, SourceTimeout, SourceUnavailable
from adapters.vocabulary import Source


class SourceClient:
    """JSON over HTTP to one department, on an injected ``httpx.AsyncClient``."""

    def __init__(
        self,
        source: Source,
        client: httpx.AsyncClient,
        *,
        base_url: str,
        timeout: float = 5.0,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.source = source
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._headers = headers or {}

    async def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        return await self._request("GET", path, params=params)

    async def post(self, path: str, body: Any) -> Any:
        return await self._request("POST", path, json=body)

    async def _request(
        self, method: str, path: str, *, params: dict[str, str] | None = None, json: Any = None
    ) -> Any:
        try:
            response = await self._client.request(
                method,
                self._base_url + path,
                params=params,
                json=json,
                headers=self._headers,
                timeout=self._timeout,
            )
        except httpx.TimeoutException:
            raise SourceTimeout(self.source, f"no answer within {self._timeout:g}s") from None
        except httpx.TransportError as exc:
            raise SourceUnavailable(
                self.source, f"cannot reach the service ({type(exc).__name__})"
            ) from None
        if response.status_code >= 500:
            raise SourceUnavailable(self.source, f"service answered {response.status_code}")
        if response.status_code == 404:
            return None
        if response.status_code >= 400:
            error = SourceError(
                self.source, f"service refused the request ({response.status_code})"
            )
            error.retryable = False
            raise error
        try:
            return response.json()
        except ValueError:
            raise BadUpstreamData(self.source, "response is not valid JSON") from None
