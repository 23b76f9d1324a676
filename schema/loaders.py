"""Per-request DataLoaders: one upstream call or one query per batch, results in key order.

Department sections are keyed by household ID. A batch asks the index for the
households' members, then makes one call to the department for all their ID numbers,
and hands each household its members' records with their provenance.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from strawberry.dataloader import DataLoader

from adapters.base import SourceError
from adapters.cache import CachedSource, Freshness, Sourced
from adapters.records import Household, Member
from adapters.vocabulary import Source
from hub.audit.access import AccessLog
from hub.auth.policy import Reach
from hub.index import search
from hub.index.search import IndexEntry
from hub.resources import Resources

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class SectionData(Generic[R]):
    """One department's records for one household's members, with provenance."""

    source: Source
    member_ids: tuple[str, ...]
    records: Mapping[str, Sequence[R]]
    freshness: Freshness
    as_of: datetime
    latency_ms: float
    failure: SourceError | None = None  # why a STALE copy stands in


def _batch(
    fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]],
) -> Callable[[list[K]], Awaitable[list[V | BaseException | None]]]:
    """Wrap a dict-returning batch fetch into a load function: key order, None for misses.

    A source failure fails every key of the batch with the same error, which the
    resolver turns into a GraphQL error for its own path.
    """

    async def load(keys: list[K]) -> list[V | BaseException | None]:
        try:
            found = await fetch(keys)
        except SourceError as exc:
            return [exc] * len(keys)
        return [found.get(key) for key in keys]

    return load


def _merge(
    source: Source, member_ids: tuple[str, ...], found: Sequence[Sourced[Any]]
) -> SectionData[Any]:
    return SectionData(
        source=source,
        member_ids=member_ids,
        records={m: s.records for m, s in zip(member_ids, found, strict=True)},
        freshness=(
            Freshness.STALE
            if any(s.freshness is Freshness.STALE for s in found)
            else Freshness.LIVE
        ),
        as_of=min(s.as_of for s in found),
        latency_ms=max(s.latency_ms for s in found),
        failure=next((s.failure for s in found if s.failure is not None), None),
    )


class Loaders:
    """All loaders of one request, built in the context factory."""

    def __init__(
        self, resources: Resources, *, reach: Reach, now: datetime, access: AccessLog
    ) -> None:
        sessions = resources.sessions
        adapters = resources.adapters

        async def index_entries(ids: Sequence[str]) -> dict[str, IndexEntry]:
            async with sessions() as session:
                found = await search.entries_by_id(session, ids, reach=reach, now=now)
            # Out of reach is answered as missing; the log tells the two apart.
            for household_id in ids:
                if household_id in found.entries:
                    access.saw(household_id, "household")
                elif household_id in found.out_of_reach:
                    access.deny(household_id)
                else:
                    access.miss(household_id)
            return found.entries

        async def household_ids(id_numbers: Sequence[str]) -> dict[str, str]:
            async with sessions() as session:
                found = await search.households_by_member(session, id_numbers, reach=reach, now=now)
            shown = {}
            for id_number, (household_id, in_reach) in found.items():
                if in_reach:
                    shown[id_number] = household_id
                else:
                    access.lookups_denied += 1
            return shown

        self.index_entry_by_id: DataLoader[str, IndexEntry | None] = DataLoader(
            _batch(index_entries)
        )
        self.household_id_by_member: DataLoader[str, str | None] = DataLoader(_batch(household_ids))
        self.person_by_id_number: DataLoader[str, Member | None] = DataLoader(
            _batch(adapters.civil_affairs.persons)
        )
        self.civil_affairs_by_household: DataLoader[str, Sourced[Household] | None] = DataLoader(
            self._civil_affairs(adapters.cached[Source.CIVIL_AFFAIRS])
        )
        self.section_by_household: dict[Source, DataLoader[str, SectionData[Any] | None]] = {
            source: DataLoader(self._by_members(source, cached))
            for source, cached in adapters.cached.items()
            if source is not Source.CIVIL_AFFAIRS
        }

    @staticmethod
    def _civil_affairs(
        cached: CachedSource[Household],
    ) -> Callable[[list[str]], Awaitable[list[Sourced[Household] | BaseException | None]]]:
        async def load(ids: list[str]) -> list[Sourced[Household] | BaseException | None]:
            found = await cached.fetch(ids)
            results: list[Sourced[Household] | BaseException | None] = []
            for key in ids:
                outcome = found[key]
                results.append(
                    outcome if isinstance(outcome, SourceError) or outcome.records else None
                )
            return results

        return load

    def _by_members(
        self, source: Source, cached: CachedSource[Any]
    ) -> Callable[[list[str]], Awaitable[list[SectionData[Any] | BaseException | None]]]:
        async def load(ids: list[str]) -> list[SectionData[Any] | BaseException | None]:
            entries = await self.index_entry_by_id.load_many(ids)
            wanted = [m for e in entries if isinstance(e, IndexEntry) for m in e.member_id_numbers]
            found = await cached.fetch(wanted) if wanted else {}
            results: list[SectionData[Any] | BaseException | None] = []
            for entry in entries:
                if not isinstance(entry, IndexEntry):
                    results.append(None)
                    continue
                outcomes = [found[m] for m in entry.member_id_numbers]
                if not outcomes:
                    results.append(None)
                    continue
                error = next((o for o in outcomes if isinstance(o, SourceError)), None)
                if error is not None:
                    results.append(error)
                else:
                    sourced = [o for o in outcomes if isinstance(o, Sourced)]
                    results.append(_merge(source, entry.member_id_numbers, sourced))
            return results

        return load
