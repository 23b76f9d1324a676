"""The adapters by source, each on its own resilient client over one shared transport.

Adding a department is one line in ``ADAPTER_TYPES`` (plus its module, stand-in, schema
section and policy row).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from adapters.base import Adapter
from adapters.cache import CachedSource
from adapters.charity import CharityAdapter
from adapters.civil_affairs import CivilAffairsAdapter
from adapters.education import EducationAdapter
from adapters.emergency_management import EmergencyManagementAdapter
from adapters.health_insurance import HealthInsuranceAdapter
from adapters.housing import HousingAdapter
from adapters.http import SourceClient
from adapters.human_resources import HumanResourcesAdapter
from adapters.resilience import Clock, Policy
from adapters.transports import Wire
from adapters.vocabulary import Source

ADAPTER_TYPES: dict[Source, Callable[[SourceClient], Adapter[Any]]] = {
    Source.CIVIL_AFFAIRS: CivilAffairsAdapter,
    Source.HEALTH_INSURANCE: HealthInsuranceAdapter,
    Source.EDUCATION: EducationAdapter,
    Source.HOUSING: HousingAdapter,
    Source.HUMAN_RESOURCES: HumanResourcesAdapter,
    Source.EMERGENCY_MANAGEMENT: EmergencyManagementAdapter,
    Source.CHARITY: CharityAdapter,
}


@dataclass(frozen=True)
class AdapterConfig:
    """How to reach one department: where, with which credentials, how patiently."""

    base_url: str
    headers: dict[str, str] = field(default_factory=dict)
    policy: Policy = field(default_factory=Policy)


class Adapters:
    """One adapter per department, with its client (breaker state) and its record cache."""

    def __init__(
        self,
        client: Wire | httpx.AsyncClient,
        configs: Mapping[Source, AdapterConfig],
        *,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.clients: dict[Source, SourceClient] = {}
        self.cached: dict[Source, CachedSource[Any]] = {}
        self._adapters: dict[Source, Adapter[Any]] = {}
        for source, make in ADAPTER_TYPES.items():
            config = configs[source]
            http = SourceClient(
                source,
                client,
                base_url=config.base_url,
                headers=config.headers,
                policy=config.policy,
                clock=clock,
                sleep=sleep,
            )
            adapter = make(http)
            self.clients[source] = http
            self._adapters[source] = adapter
            self.cached[source] = CachedSource(adapter, config.policy, clock=wall_clock)
        civil = self._adapters[Source.CIVIL_AFFAIRS]
        assert isinstance(civil, CivilAffairsAdapter)
        self.civil_affairs = civil

    def __getitem__(self, source: Source) -> Adapter[Any]:
        return self._adapters[source]

    def __iter__(self) -> Iterator[Adapter[Any]]:
        return iter(self._adapters.values())
