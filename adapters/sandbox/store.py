"""The stand-ins' data: precomputed answers by key, with a scenario's laid over them.

A stand-in builds its answers for the synthetic population once (``base``); loading a
scenario hides the answers about the members of the households it replaces and adds its
own, without copying or changing ``base``. Lookups stay one or two dict lookups.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from adapters.sandbox.population import Population

if TYPE_CHECKING:
    from adapters.sandbox.scenario import Scenario

V = TypeVar("V")


class KeyedStore(Generic[V]):
    """Answers by key (an ID number): ``added`` first, then ``base`` unless ``hidden``."""

    def __init__(
        self,
        base: Mapping[str, V],
        added: Mapping[str, V] | None = None,
        hidden: Iterable[str] = (),
    ) -> None:
        self._base = base
        self._added = dict(added or {})
        self._hidden = frozenset(hidden)

    def get(self, key: str) -> V | None:
        found = self._added.get(key)
        if found is not None:
            return found
        if key in self._hidden:
            return None
        return self._base.get(key)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def over(self, hidden: Iterable[str], added: Mapping[str, V]) -> KeyedStore[V]:
        """The base answers without ``hidden`` and with ``added`` (whatever was laid before)."""
        return KeyedStore(self._base, added, hidden)

    def alone(self) -> KeyedStore[V]:
        """The base answers alone."""
        return KeyedStore(self._base)


def replaced_members(population: Population, scenario: Scenario) -> set[str]:
    """ID numbers of the population's members whose households the scenario replaces."""
    return {
        member.id_number
        for entry in scenario.households
        if (replaced := population.by_id.get(entry.household.id)) is not None
        for member in replaced.members
    }


@dataclass(frozen=True, slots=True)
class FeedChanges:
    """What loading a scenario changed in the civil-affairs change feed.

    Every household listed got ``updated_at`` (None when nothing changed): ``added`` are
    new to the feed, ``replaced`` changed (a synthetic household replaced or back, a
    scenario household changed), ``removed`` are gone (``deleted: true``).
    """

    updated_at: datetime | None
    added: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
