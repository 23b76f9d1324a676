"""A per-record TTL cache with stale-if-error, in front of any adapter's ``fetch``.

Both are off unless configured (``cache_ttl``, ``stale_ttl``): by default every answer
asks the departments, and a department that fails leaves its section null.

Fresh records (younger than ``cache_ttl``) are served without asking the department;
the rest are fetched in one batch. When that fetch fails, records younger than
``stale_ttl`` stand in, labelled STALE with the time they were fetched; keys with
nothing cached carry the error.
"""

from __future__ import annotations

import enum
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from adapters import http
from adapters.base import Adapter, SourceError
from adapters.resilience import Clock, Policy
from adapters.vocabulary import Source

R = TypeVar("R")


class Freshness(enum.Enum):
    LIVE = "LIVE"  # fetched for this request, or fresh in the cache
    STALE = "STALE"  # the department failed; an older copy stands in


@dataclass(frozen=True, slots=True)
class Sourced(Generic[R]):
    """One key's records with their provenance."""

    records: Sequence[R]
    freshness: Freshness
    as_of: datetime  # when the department gave them
    latency_ms: float  # how long this request waited for them
    failure: SourceError | None = None  # why a STALE copy stands in


class RecordCache(Generic[R]):
    """Bounded LRU of key → (records, fetched at), on an injectable wall clock."""

    def __init__(self, *, max_entries: int, clock: Clock = time.time) -> None:
        self._entries: OrderedDict[str, tuple[Sequence[R], float]] = OrderedDict()
        self._max = max_entries
        self.clock = clock

    def get(self, key: str, max_age: float) -> tuple[Sequence[R], float] | None:
        entry = self._entries.get(key)
        if entry is None or self.clock() - entry[1] > max_age:
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: str, records: Sequence[R], at: float) -> None:
        self._entries[key] = (records, at)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)


class CachedSource(Generic[R]):
    """An adapter behind a record cache; ``fetch`` never raises a SourceError itself."""

    def __init__(self, adapter: Adapter[R], policy: Policy, *, clock: Clock = time.time) -> None:
        self.adapter = adapter
        self.source: Source = adapter.source
        self._policy = policy
        self._cache: RecordCache[R] = RecordCache(max_entries=policy.cache_entries, clock=clock)
        self._clock = clock

    async def fetch(self, keys: Sequence[str]) -> Mapping[str, Sourced[R] | SourceError]:
        result: dict[str, Sourced[R] | SourceError] = {}
        missing: list[str] = []
        for key in dict.fromkeys(keys):
            hit = self._cache.get(key, self._policy.cache_ttl)
            if hit is None:
                missing.append(key)
            else:
                result[key] = Sourced(hit[0], Freshness.LIVE, _utc(hit[1]), 0.0)
        if result:  # every one so far came from the cache
            http.observer.cached(self.source, fresh=len(result), stale=0)
        if not missing:
            return result
        started = time.perf_counter()
        try:
            fetched = await self.adapter.fetch(missing)
        except SourceError as exc:
            served = 0
            for key in missing:
                stale = self._cache.get(key, self._policy.stale_ttl)
                served += stale is not None
                result[key] = (
                    exc
                    if stale is None
                    else Sourced(stale[0], Freshness.STALE, _utc(stale[1]), _ms(started), exc)
                )
            if served:
                http.observer.cached(self.source, fresh=0, stale=served)
            return result
        now = self._clock()
        as_of = _utc(now)
        latency = _ms(started)
        keep = self._policy.cache_ttl > 0 or self._policy.stale_ttl > 0
        for key in missing:
            records = fetched.get(key, ())
            if keep:
                self._cache.put(key, records, now)
            result[key] = Sourced(records, Freshness.LIVE, as_of, latency)
        return result


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000
