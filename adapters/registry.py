"""The adapters by source, built on one shared HTTP client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx

from adapters.base import Adapter
from adapters.civil_affairs import CivilAffairsAdapter
from adapters.http import SourceClient
from adapters.vocabulary import Source


@dataclass(frozen=True)
class AdapterConfig:
    """How to reach one department: where, with which credentials, how patiently."""

    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    timeout: float = 3.0


class Adapters:
    """One adapter per department, reachable by source or by name."""

    def __init__(self, client: httpx.AsyncClient, configs: dict[Source, AdapterConfig]) -> None:
        def http(source: Source) -> SourceClient:
            config = configs[source]
            return SourceClient(
                source,
                client,
                base_url=config.base_url,
                timeout=config.timeout,
                headers=config.headers,
            )

        self.civil_affairs = CivilAffairsAdapter(http(Source.CIVIL_AFFAIRS))
        self._by_source: dict[Source, Adapter[object]] = {
            Source.CIVIL_AFFAIRS: self.civil_affairs,
        }

    def __getitem__(self, source: Source) -> Adapter[object]:
        return self._by_source[source]

    def __iter__(self) -> Iterator[Adapter[object]]:
        return iter(self._by_source.values())
