"""A worker's short cache of database reads that an announced change drops at once.

Entries live for ``ttl`` seconds at most, and only within the epoch they were read in:
every change they depend on is announced (``hub.auth.revocations``), which moves the
epoch, and the next ``get`` finds the cache empty. A read that raced with a change (the
epoch moved while it was in the database) is not kept. When the epoch cannot be known
(the listener's connection is down, an in-memory database), nothing is served.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from hub.auth.revocations import Revocations

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class EpochCache(Generic[K, V]):
    """Values by key, for ``ttl`` seconds and within one epoch; the oldest go first."""

    def __init__(
        self,
        changes: Revocations,
        *,
        ttl: float = 30.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.changes = changes
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._epoch: int | None = None
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()

    def epoch(self) -> int | None:
        """The epoch now; on a change, everything cached before is dropped."""
        epoch = self.changes.epoch()
        if epoch != self._epoch:
            self._entries.clear()
            self._epoch = epoch
        return epoch

    def get(self, key: K) -> V | None:
        if self.ttl <= 0 or self.epoch() is None:
            return None
        found = self._entries.get(key)
        if found is None or self.clock() - found[1] > self.ttl:
            return None
        return found[0]

    def put(self, key: K, value: V, *, read_in: int | None) -> None:
        """Keep a value read from the database while the epoch was ``read_in``: if the
        epoch moved meanwhile, it may be stale already, and is not kept."""
        if self.ttl <= 0 or read_in is None or self.epoch() != read_in:
            return
        self._entries[key] = (value, self.clock())
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
