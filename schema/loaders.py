"""Per-request DataLoaders: one upstream call or one query per batch, results in key order."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from strawberry.dataloader import DataLoader

from adapters.base import SourceError
from adapters.records import Household, Member
from hub.index import search
from hub.index.search import IndexEntry
from hub.resources import Resources

K = TypeVar("K")
V = TypeVar("V")


def _batch(
    fetch: Callable[[list[K]], Awaitable[dict[K, V]]],
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


class Loaders:
    """All loaders of one request, built in the context factory."""

    def __init__(self, resources: Resources) -> None:
        sessions = resources.sessions
        civil = resources.adapters.civil_affairs

        async def index_entries(ids: Sequence[str]) -> dict[str, IndexEntry]:
            async with sessions() as session:
                return await search.entries_by_id(session, ids)

        async def household_ids(id_numbers: Sequence[str]) -> dict[str, str]:
            async with sessions() as session:
                return await search.household_ids_by_member(session, id_numbers)

        self.index_entry_by_id: DataLoader[str, IndexEntry | None] = DataLoader(
            _batch(index_entries)
        )
        self.household_id_by_member: DataLoader[str, str | None] = DataLoader(_batch(household_ids))
        self.civil_affairs_household_by_id: DataLoader[str, Household | None] = DataLoader(
            _batch(civil.households)
        )
        self.person_by_id_number: DataLoader[str, Member | None] = DataLoader(_batch(civil.persons))
