"""Per-request DataLoaders: thin batches over the household service, results in key order.

They exist so that the resolvers of one request, run side by side, meet in one batch:
a page of 50 households selecting every section makes one index query and one call to
each department. The reading, joining and judging is ``hub.households``'s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import cached_property
from typing import TypeVar

from strawberry.dataloader import DataLoader

from adapters import records
from adapters.base import SourceError
from adapters.vocabulary import Source
from hub.coordination import alerts, charity, reviews
from hub.households.service import Households, Judged, Outcome, Withheld
from hub.index.search import IndexEntry

K = TypeVar("K")
V = TypeVar("V")


def _in_order(
    fetch: Callable[[list[K]], Awaitable[Mapping[K, V]]],
) -> Callable[[list[K]], Awaitable[list[V | BaseException | None]]]:
    """A dict-returning batch as a load function: key order, None for misses; a failure
    of the whole batch fails each key with the same error, for its own path."""

    async def load(keys: list[K]) -> list[V | BaseException | None]:
        try:
            found = await fetch(keys)
        except SourceError as exc:
            return [exc] * len(keys)
        return [found.get(key) for key in keys]

    return load


class Loaders:
    """All loaders of one request, each made when the request first asks for it: a full
    view uses a few of them, a listing of IDs none."""

    def __init__(self, households: Households) -> None:
        self.households = households
        self.part_by_household: Mapping[Source, DataLoader[str, Outcome | None]] = _BySource(
            lambda source: DataLoader(_in_order(_parts(households, source)))
        )
        self.facts_by_household: Mapping[Source, DataLoader[str, Judged | Withheld | None]] = (
            _BySource(lambda source: DataLoader(_in_order(_judged(households, source))))
        )

    @cached_property
    def entry_by_id(self) -> DataLoader[str, IndexEntry | None]:
        return DataLoader(_in_order(self.households.entries))

    @cached_property
    def household_id_by_member(self) -> DataLoader[str, str | None]:
        return DataLoader(_in_order(self.households.by_member))

    @cached_property
    def person_by_id_number(self) -> DataLoader[str, records.Member | None]:
        return DataLoader(_in_order(self.households.persons))

    @cached_property
    def reviews_by_household(self) -> DataLoader[str, list[reviews.Due] | None]:
        sessions = self.households.sessions
        return DataLoader(_in_order(lambda ids: reviews.schedules(sessions, ids)))

    @cached_property
    def changes_by_household(self) -> DataLoader[str, list[reviews.ReportedChange] | None]:
        sessions = self.households.sessions
        return DataLoader(_in_order(lambda ids: reviews.change_reports(sessions, ids)))

    @cached_property
    def alerts_by_household(self) -> DataLoader[str, list[alerts.Found] | None]:
        sessions = self.households.sessions
        return DataLoader(_in_order(lambda ids: alerts.for_households(sessions, ids)))

    @cached_property
    def charity_aid_by_household(self) -> DataLoader[str, list[charity.GivenAid] | None]:
        return DataLoader(_in_order(self.households.recorded_aid))


class _BySource(dict[Source, V]):
    """A loader per department, made on first use."""

    def __init__(self, make: Callable[[Source], V]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, source: Source) -> V:
        made = self[source] = self._make(source)
        return made


def _parts(
    households: Households, source: Source
) -> Callable[[Sequence[str]], Awaitable[dict[str, Outcome]]]:
    async def load(ids: Sequence[str]) -> dict[str, Outcome]:
        return await households.parts(source, ids)

    return load


def _judged(
    households: Households, source: Source
) -> Callable[[Sequence[str]], Awaitable[dict[str, Judged | SourceError | Withheld]]]:
    async def load(ids: Sequence[str]) -> dict[str, Judged | SourceError | Withheld]:
        return await households.judged(source, ids)

    return load
