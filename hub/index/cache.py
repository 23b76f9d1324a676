"""Index entries a worker has read, so that a household's view needs no query to find it.

A lookup by household ID is kept per reach: what it found (the entry, out of reach, or
nothing) for callers who see exactly what this caller sees, for ``ttl`` seconds and
within one epoch of index changes (``hub.auth.revocations.INDEX``: every sync that
changed the index and every charity aid recorded through the hub announce one). Kept
per reach and kept whatever was found, a household out of reach and one that does not
exist both cost a query the first time a reach asks, and neither afterwards: the time
of an answer does not tell them apart, nor say what callers of another reach looked up.

Reach bound to consent (charities) depends on the consents and on the time; it is read
from the database every time.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth import revocations
from hub.caching import EpochCache
from hub.households.reach import Reach
from hub.index import search
from hub.index.search import Found, IndexEntry

log = logging.getLogger(__name__)


async def announce_change(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Tell every worker to drop the entries it keeps, after a change of the index has
    committed. If that fails, the change stands and the entries expire with their time to
    live: a warning, not a failure of what was done."""
    try:
        await revocations.announce(sessions, revocations.INDEX)
    except Exception:
        log.warning(
            "a change of the index was not announced; workers may answer from entries "
            "kept before it until they expire",
            exc_info=True,
        )


@dataclass(frozen=True, slots=True)
class Looked:
    """What a lookup of one household ID found, for one reach."""

    entry: IndexEntry | None  # in reach
    out_of_reach: bool = False


class EntryCache(EpochCache[tuple[Reach, str], Looked]):
    """Lookups by (reach, household ID)."""


def cacheable(reach: Reach) -> bool:
    return reach.consent_organisation is None


async def entries_by_id(
    sessions: async_sessionmaker[AsyncSession],
    ids: Sequence[str],
    *,
    reach: Reach,
    now: datetime,
    cache: EntryCache | None,
) -> Found:
    """``search.entries_by_id``, answered from ``cache`` where it can be."""
    if cache is None or not cacheable(reach):
        async with sessions() as session:
            return await search.entries_by_id(session, ids, reach=reach, now=now)
    looked: dict[str, Looked] = {}
    missing = []
    for household_id in dict.fromkeys(ids):
        kept = cache.get((reach, household_id))
        if kept is None:
            missing.append(household_id)
        else:
            looked[household_id] = kept
    if missing:
        read_in = cache.epoch()
        async with sessions() as session:
            found = await search.entries_by_id(session, missing, reach=reach, now=now)
        for household_id in missing:
            read = Looked(found.entries.get(household_id), household_id in found.out_of_reach)
            cache.put((reach, household_id), read, read_in=read_in)
            looked[household_id] = read
    return Found(
        {i: one.entry for i, one in looked.items() if one.entry is not None},
        {i for i, one in looked.items() if one.out_of_reach},
    )
