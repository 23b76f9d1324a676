"""Read the household index: entries by household and by member, filtered pages, counts.

Every read applies the caller's reach (``hub.households.reach``), so that a household out
of reach looks exactly like one that does not exist; an entry is one row, so a lookup is
one query whatever it finds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import Row, Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.vocabulary import AssistanceCategory, District, EnrollmentStatus, HukouType
from hub.db.coordination import RecordedCharityAid
from hub.db.models import IndexedEnrollment, IndexedHousehold, IndexedMember
from hub.households.reach import Reach, conditions, flag


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """What the index knows of a household, without asking any department."""

    household_id: str
    district: District
    street: str
    hukou_type: HukouType
    categories: tuple[AssistanceCategory, ...]  # active enrollments only
    member_id_numbers: tuple[str, ...]
    last_reviewed_on: date | None
    synced_at: datetime
    # Whether any charity recorded aid for it through the hub: read with the entry, so
    # that a household without (nearly all) costs no second query for its charity section.
    aid_recorded: bool = False


@dataclass(frozen=True, slots=True)
class HouseholdFilter:
    district: District | None = None
    street: str | None = None
    category: AssistanceCategory | None = None


@dataclass(frozen=True, slots=True)
class Page:
    entries: tuple[IndexEntry, ...]
    has_next_page: bool


@dataclass(frozen=True, slots=True)
class Found:
    """The households of a lookup in reach, and those that exist out of reach."""

    entries: dict[str, IndexEntry]
    out_of_reach: set[str]


# Plain rows rather than ORM objects: the index is read on every request, written only by sync.
_COLUMNS = (
    IndexedHousehold.household_id,
    IndexedHousehold.district,
    IndexedHousehold.street,
    IndexedHousehold.hukou_type,
    IndexedHousehold.categories,
    IndexedHousehold.member_ids,
    IndexedHousehold.last_reviewed_on,
    IndexedHousehold.synced_at,
    exists()
    .where(RecordedCharityAid.household_id == IndexedHousehold.household_id)
    .label("aid_recorded"),
)
_S = TypeVar("_S", bound=Select[*tuple[Any, ...]])


def _entry(row: Row[*tuple[Any, ...]]) -> IndexEntry:
    return IndexEntry(
        household_id=row.household_id,
        district=District(row.district),
        street=row.street,
        hukou_type=HukouType(row.hukou_type),
        categories=tuple(AssistanceCategory(c) for c in row.categories.split(",") if c),
        member_id_numbers=tuple(m for m in row.member_ids.split(",") if m),
        last_reviewed_on=row.last_reviewed_on,
        synced_at=row.synced_at,
        aid_recorded=bool(row.aid_recorded),
    )


async def entries_by_id(
    session: AsyncSession, ids: Sequence[str], *, reach: Reach, now: datetime
) -> Found:
    """The households among ``ids`` in reach, and which exist out of reach.

    One query answers both, so a household out of reach costs exactly what one that does
    not exist costs.
    """
    if not ids:
        return Found({}, set())
    rows = (
        await session.execute(
            select(*_COLUMNS, flag(reach, now).label("in_reach")).where(
                IndexedHousehold.household_id.in_(list(set(ids)))
            )
        )
    ).all()
    return Found(
        {row.household_id: _entry(row) for row in rows if row.in_reach},
        {row.household_id for row in rows if not row.in_reach},
    )


async def households_by_member(
    session: AsyncSession, id_numbers: Sequence[str], *, reach: Reach, now: datetime
) -> dict[str, tuple[str, bool]]:
    """Each known member ID number's household ID, and whether it is in reach (one query)."""
    if not id_numbers:
        return {}
    rows = await session.execute(
        select(
            IndexedMember.id_number,
            IndexedMember.household_id,
            flag(reach, now).label("in_reach"),
        )
        .join(IndexedHousehold, IndexedHousehold.household_id == IndexedMember.household_id)
        .where(IndexedMember.id_number.in_(list(set(id_numbers))))
    )
    return {id_number: (household_id, bool(shown)) for id_number, household_id, shown in rows}


def _filtered(query: _S, where: HouseholdFilter) -> _S:
    if where.district is not None:
        query = query.where(IndexedHousehold.district == where.district.code)
    if where.street is not None:
        query = query.where(IndexedHousehold.street == where.street)
    if where.category is not None:
        query = query.where(
            exists().where(
                IndexedEnrollment.household_id == IndexedHousehold.household_id,
                IndexedEnrollment.category == where.category.value,
                IndexedEnrollment.status == EnrollmentStatus.ACTIVE.value,
            )
        )
    return query


async def page(
    session: AsyncSession,
    *,
    where: HouseholdFilter,
    first: int,
    after: str | None,
    reach: Reach,
    now: datetime,
) -> Page:
    """A page of households in reach, in household-ID order, starting after the ID ``after``."""
    query = (
        _filtered(select(*_COLUMNS), where)
        .where(*conditions(reach, now))
        .order_by(IndexedHousehold.household_id)
        .limit(first + 1)
    )
    if after is not None:
        query = query.where(IndexedHousehold.household_id > after)
    rows = (await session.execute(query)).all()
    return Page(entries=tuple(_entry(r) for r in rows[:first]), has_next_page=len(rows) > first)


async def count(
    session: AsyncSession, *, where: HouseholdFilter, reach: Reach, now: datetime
) -> int:
    """How many households in reach match ``where``."""
    base = _filtered(select(IndexedHousehold.household_id), where).where(*conditions(reach, now))
    total = await session.scalar(select(func.count()).select_from(base.subquery()))
    return total or 0
