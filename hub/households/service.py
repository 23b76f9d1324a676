"""The households one caller may see: read from the index with reach, joined across the
departments in batches, with provenance, and judged by the facts.

One ``Households`` serves one request (or one job's run): it remembers what it has read,
so that asking twice for a household's part of a department costs one call, and a batch
of households costs one call per department. Entries out of reach are never returned,
and departments are never asked about them; a section the caller's view does not show is
not fetched at all (``WITHHELD``).
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters import records
from adapters.base import SourceError
from adapters.cache import Freshness, Sourced
from adapters.registry import Adapters
from adapters.vocabulary import Source
from hub.audit.access import AccessLog
from hub.auth.policy import Level, View
from hub.coordination import charity
from hub.households import facts
from hub.households.facts import Part
from hub.households.reach import Reach
from hub.index import cache as index_cache
from hub.index import search
from hub.index.cache import EntryCache
from hub.index.search import HouseholdFilter, IndexEntry, Page
from hub.rules import Rules

SHANGHAI = ZoneInfo("Asia/Shanghai")


class State(enum.Enum):
    """How a department's part of a household was obtained."""

    OK = "OK"
    STALE = "STALE"  # the department failed; an earlier copy stands in
    UNAVAILABLE = "UNAVAILABLE"  # the department failed, and there is no earlier copy
    WITHHELD = "WITHHELD"  # not shown to this caller: not even fetched


class Withheld:
    """A section the caller's view does not show."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "WITHHELD"


WITHHELD = Withheld()
Outcome = Part[Any] | SourceError | Withheld


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where one department's part of a household came from."""

    source: Source
    state: State
    as_of: datetime | None = None
    latency_ms: float | None = None
    error_code: str | None = None


def provenance(source: Source, outcome: Outcome) -> Provenance:
    if isinstance(outcome, Withheld):
        return Provenance(source, State.WITHHELD)
    if isinstance(outcome, SourceError):
        return Provenance(source, State.UNAVAILABLE, error_code=outcome.code)
    stale = outcome.freshness is Freshness.STALE
    return Provenance(
        source,
        State.STALE if stale else State.OK,
        as_of=outcome.as_of,
        latency_ms=round(outcome.latency_ms, 1),
    )


class Households:
    """Households as one caller (``reach``, ``view``) sees them, for one request or job."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        adapters: Adapters,
        rules: Rules,
        reach: Reach,
        view: View,
        now: datetime,
        access: AccessLog | None = None,
        cache: EntryCache | None = None,
    ) -> None:
        self.sessions = sessions
        self.adapters = adapters
        self.rules = rules
        self.reach = reach
        self.view = view
        self.now = now
        self.today: date = now.astimezone(SHANGHAI).date()
        self.access = access if access is not None else AccessLog()
        self.cache = cache  # index entries this worker read lately (``hub.index.cache``)
        self._entries: dict[str, IndexEntry] = {}
        self._parts: dict[tuple[Source, str], asyncio.Future[Outcome]] = {}

    # --- the index ---------------------------------------------------------------------

    async def entries(self, ids: Sequence[str]) -> dict[str, IndexEntry]:
        """The households among ``ids`` that exist and are in reach (one query)."""
        wanted = [i for i in dict.fromkeys(ids) if i not in self._entries]
        if wanted:
            found = await index_cache.entries_by_id(
                self.sessions, wanted, reach=self.reach, now=self.now, cache=self.cache
            )
            # Out of reach is answered as missing; the audit log tells the two apart.
            for household_id in wanted:
                entry = found.entries.get(household_id)
                if entry is not None:
                    self.remember(entry)
                elif household_id in found.out_of_reach:
                    self.access.deny(household_id)
                else:
                    self.access.miss(household_id)
        return {i: self._entries[i] for i in ids if i in self._entries}

    async def by_member(self, id_numbers: Sequence[str]) -> dict[str, str]:
        """Each of ``id_numbers`` that belongs to a household in reach, to that household.

        One query whatever it finds: a member of a household out of reach costs what an
        unknown number costs, and neither names a household in the audit log.
        """
        async with self.sessions() as session:
            found = await search.households_by_member(
                session, id_numbers, reach=self.reach, now=self.now
            )
        shown = {}
        for id_number, (household_id, in_reach) in found.items():
            if in_reach:
                shown[id_number] = household_id
            else:
                self.access.lookups_denied += 1
        return shown

    async def page(self, where: HouseholdFilter, *, first: int, after: str | None) -> Page:
        """A page of households in reach, in household-ID order, after ``after``."""
        async with self.sessions() as session:
            found = await search.page(
                session, where=where, first=first, after=after, reach=self.reach, now=self.now
            )
        for entry in found.entries:
            self.remember(entry)
        return found

    async def count(self, where: HouseholdFilter) -> int:
        """How many households in reach match ``where``."""
        async with self.sessions() as session:
            return await search.count(session, where=where, reach=self.reach, now=self.now)

    def remember(self, entry: IndexEntry) -> None:
        """An entry read elsewhere (a page of the index): no second query for it."""
        self._entries[entry.household_id] = entry
        self.access.saw(entry.household_id, "household")

    # --- the departments ---------------------------------------------------------------

    async def parts(self, source: Source, ids: Sequence[str]) -> dict[str, Outcome]:
        """One department's part of each household in reach among ``ids``.

        One call to the department for all of them (civil affairs by household ID, the
        others by the members' ID numbers); a failure is the household's ``SourceError``,
        a section the view does not show is ``WITHHELD`` and is not fetched.
        """
        entries = await self.entries(ids)
        if self.view.level(source) is Level.NONE:
            return dict.fromkeys(entries, WITHHELD)
        loop = asyncio.get_running_loop()
        missing = [h for h in entries if (source, h) not in self._parts]
        for household_id in missing:
            self._parts[(source, household_id)] = loop.create_future()
        if missing:
            await self._fetch(source, [entries[h] for h in missing])
        return {h: await self._parts[(source, h)] for h in entries}

    async def _fetch(self, source: Source, entries: list[IndexEntry]) -> None:
        cached = self.adapters.cached[source]
        keys_of: dict[str, tuple[str, ...]] = (
            {e.household_id: (e.household_id,) for e in entries}
            if source is Source.CIVIL_AFFAIRS
            else {e.household_id: e.member_id_numbers for e in entries}
        )
        wanted = list(dict.fromkeys(k for keys in keys_of.values() for k in keys))
        try:
            found = await cached.fetch(wanted) if wanted else {}
        except BaseException as exc:
            for household_id in keys_of:
                future = self._parts[(source, household_id)]
                if not future.done():
                    future.set_exception(exc)
            raise
        for household_id, keys in keys_of.items():
            self._parts[(source, household_id)].set_result(_part(source, keys, found))

    async def civil_affairs(self, household_id: str) -> records.Household | SourceError | None:
        """Civil affairs' record of a household in reach (None: not in reach or unknown)."""
        outcome = (await self.parts(Source.CIVIL_AFFAIRS, [household_id])).get(household_id)
        if outcome is None or isinstance(outcome, SourceError | Withheld):
            return outcome if isinstance(outcome, SourceError) else None
        found = outcome.records.get(household_id, ())
        return found[0] if found else None

    async def recorded_aid(self, ids: Sequence[str]) -> dict[str, list[charity.GivenAid]]:
        """The aid charities recorded through the hub for each household in reach among
        ``ids``: read only for those whose index entry says there is some."""
        entries = await self.entries(ids)
        flagged = [h for h, entry in entries.items() if entry.aid_recorded]
        found = await charity.recorded_aid(self.sessions, flagged) if flagged else {}
        return {h: found.get(h, []) for h in entries}

    async def persons(self, id_numbers: Sequence[str]) -> dict[str, records.Member]:
        """People by ID number, as civil affairs knows them (the caller checked reach)."""
        return await self.adapters.civil_affairs.persons(id_numbers)

    # --- the facts ---------------------------------------------------------------------

    async def judged(
        self, source: Source, ids: Sequence[str]
    ) -> dict[str, Judged | SourceError | Withheld]:
        """A department's part of each household, judged: its facts (``hub.households.
        facts``) beside the part they come from, the ``SourceError`` that kept it away,
        or ``WITHHELD``."""
        found = await self.parts(source, ids)
        judge = _JUDGES.get(source)
        if judge is None:
            raise ValueError(f"no facts are derived from {source.value} alone")
        civil: Mapping[str, Outcome] = {}
        if source is Source.HUMAN_RESOURCES:
            civil = await self.parts(Source.CIVIL_AFFAIRS, list(found))
        result: dict[str, Judged | SourceError | Withheld] = {}
        for household_id, outcome in found.items():
            if isinstance(outcome, SourceError | Withheld):
                result[household_id] = outcome
                continue
            household = _household(civil.get(household_id), household_id)
            result[household_id] = Judged(judge(self, outcome, household), outcome)
        return result


@dataclass(frozen=True, slots=True)
class Judged:
    """A department's facts about one household, and the part they were derived from."""

    facts: Any
    part: Part[Any]


def _household(outcome: Outcome | None, household_id: str) -> records.Household | None:
    if not isinstance(outcome, Part):
        return None
    found = outcome.records.get(household_id, ())
    return found[0] if found else None


_JUDGES: dict[Source, Callable[[Households, Part[Any], records.Household | None], object]] = {
    Source.HEALTH_INSURANCE: lambda h, part, _: facts.medical(part, h.rules, h.today),
    Source.EDUCATION: lambda h, part, _: facts.education(part, h.rules),
    Source.HOUSING: lambda h, part, _: facts.housing(part, h.rules),
    Source.HUMAN_RESOURCES: lambda h, part, civil: facts.employment(part, civil, h.rules, h.today),
    Source.EMERGENCY_MANAGEMENT: lambda h, part, _: facts.disaster(part, h.rules),
    Source.CHARITY: lambda h, part, _: facts.charity(part, h.rules),
}


def _part(
    source: Source, keys: tuple[str, ...], found: Mapping[str, Sourced[Any] | SourceError]
) -> Part[Any] | SourceError:
    """A household's part from the outcomes of its keys: the first failure fails it."""
    outcomes = [found[k] for k in keys]
    error = next((o for o in outcomes if isinstance(o, SourceError)), None)
    if error is not None:
        return error
    sourced = [o for o in outcomes if isinstance(o, Sourced)]
    if not sourced:  # a household with no members: nothing to ask for
        return Part(source, keys, {}, Freshness.LIVE, datetime.now().astimezone(), 0.0)
    return Part(
        source=source,
        keys=keys,
        records={k: s.records for k, s in zip(keys, sourced, strict=True)},
        freshness=(
            Freshness.STALE
            if any(s.freshness is Freshness.STALE for s in sourced)
            else Freshness.LIVE
        ),
        as_of=min(s.as_of for s in sourced),
        latency_ms=max(s.latency_ms for s in sourced),
        failure=next((s.failure for s in sourced if s.failure is not None), None),
    )


async def gather_parts(
    households: Households, ids: Sequence[str]
) -> dict[Source, dict[str, Outcome]]:
    """Every department's part of ``ids`` at once (jobs judge whole households)."""
    calls: list[Awaitable[dict[str, Outcome]]] = [households.parts(s, ids) for s in Source]
    return dict(zip(Source, await asyncio.gather(*calls), strict=True))
