"""The HTTP client every adapter talks through.

It turns transport failures into the hub's source errors, so that no adapter and no
resolver ever sees an httpx exception or an upstream body.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx

from adapters.base import (
    BadUpstreamData,
    Health,
    HealthStatus,
    SourceError,
    SourceTimeout,
    SourceUnavailable,
)
from adapters.vocabulary import Source

BATCH_LIMIT = 500


def chunks(keys: Sequence[str], limit: int = BATCH_LIMIT) -> list[list[str]]:
    """The distinct keys, in order, in chunks a department accepts in one call."""
    unique = list(dict.fromkeys(keys))
    return [unique[i : i + limit] for i in range(0, len(unique), limit)]


@contextmanager
def reading(source: Source) -> Iterator[None]:
    """Turn any error while reading an upstream body into BadUpstreamData."""
    try:
        yield
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise BadUpstreamData(source, "response does not match the contract") from exc


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

    async def health(self, path: str = "/health") -> Health:
        """Ask the department's health endpoint; any failure is DOWN with a safe reason."""
        started = time.perf_counter()
        try:
            body = await self.get(path)
            up = isinstance(body, dict) and body.get("status") == "UP"
            status, detail = (HealthStatus.UP if up else HealthStatus.DOWN), ""
        except SourceError as exc:
            status, detail = HealthStatus.DOWN, exc.message
        return Health(self.source, status, (time.perf_counter() - started) * 1000, detail)

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
