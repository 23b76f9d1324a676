"""Per-request DataLoaders: thin batches over the household service, results in key order.

They exist so that the resolvers of one request, run side by side, meet in one batch:
a page of 50 households selecting every section makes one index query and one call to
each department. The reading, joining and judging is ``hub.households``'s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
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
    """All loaders of one request, built in the context factory."""

    def __init__(self, households: Households) -> None:
        self.entry_by_id: DataLoader[str, IndexEntry | None] = DataLoader(
            _in_order(households.entries)
        )
        self.household_id_by_member: DataLoader[str, str | None] = DataLoader(
            _in_order(households.by_member)
        )
        self.person_by_id_number: DataLoader[str, records.Member | None] = DataLoader(
            _in_order(households.persons)
        )
        self.part_by_household: dict[Source, DataLoader[str, Outcome | None]] = {
            source: DataLoader(_in_order(_parts(households, source))) for source in Source
        }
        sessions = households.sessions
        self.reviews_by_household: DataLoader[str, list[reviews.Due] | None] = DataLoader(
            _in_order(lambda ids: reviews.schedules(sessions, ids))
        )
        self.changes_by_household: DataLoader[str, list[reviews.ReportedChange] | None] = (
            DataLoader(_in_order(lambda ids: reviews.change_reports(sessions, ids)))
        )
        self.alerts_by_household: DataLoader[str, list[alerts.Found] | None] = DataLoader(
            _in_order(lambda ids: alerts.for_households(sessions, ids))
        )
        self.charity_aid_by_household: DataLoader[str, list[charity.GivenAid] | None] = DataLoader(
            _in_order(households.recorded_aid)
        )
        self.facts_by_household: dict[Source, DataLoader[str, Judged | Withheld | None]] = {
            source: DataLoader(_in_order(_judged(households, source)))
            for source in Source
            if source is not Source.CIVIL_AFFAIRS
        }


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
