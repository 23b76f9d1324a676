"""Read the household index: lookups by household and by member, and filtered pages."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Row, Select, and_, exists, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.vocabulary import AssistanceCategory, District, EnrollmentStatus, HukouType
from hub.auth.policy import Reach
from hub.db.models import Consent, IndexedEnrollment, IndexedHousehold, IndexedMember


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


@dataclass(frozen=True, slots=True)
class HouseholdFilter:
    district: District | None = None
    street: str | None = None
    category: AssistanceCategory | None = None


@dataclass(frozen=True, slots=True)
class Page:
    entries: tuple[IndexEntry, ...]
    has_next_page: bool


def in_reach(reach: Reach, now: datetime) -> list[ColumnElement[bool]]:
    """The conditions a household must meet to be seen at all by a caller with ``reach``.

    Every read of the index applies them, so that a household out of reach looks exactly
    like one that does not exist, whichever way it is asked for.
    """
    if reach.nothing:
        return [false()]
    conditions: list[ColumnElement[bool]] = []
    if reach.district is not None:
        conditions.append(IndexedHousehold.district == reach.district.code)
    if reach.street is not None:
        conditions.append(IndexedHousehold.street == reach.street)
    if reach.consent_organisation is not None:
        conditions.append(
            exists().where(
                Consent.household_id == IndexedHousehold.household_id,
                or_(
                    Consent.organisation_id.is_(None),
                    Consent.organisation_id == reach.consent_organisation,
                ),
                Consent.purpose == (reach.consent_purpose.value if reach.consent_purpose else ""),
                Consent.granted_at <= now,
                Consent.expires_at > now,
                Consent.withdrawn_at.is_(None),
            )
        )
    return conditions


def reach_flag(reach: Reach, now: datetime) -> ColumnElement[bool]:
    """``in_reach`` as one boolean column, so that one query tells in reach from out."""
    return and_(true(), *in_reach(reach, now))


@dataclass(frozen=True, slots=True)
class Found:
    """The households of a lookup in reach, and those that exist out of reach."""

    entries: dict[str, IndexEntry]
    out_of_reach: set[str]


async def entries_by_id(
    session: AsyncSession, ids: Sequence[str], *, reach: Reach, now: datetime
) -> Found:
    """The households among ``ids`` in reach, and which exist out of reach.

    One query answers both, so a household out of reach costs exactly what one that does
    not exist costs: neither gets its members and categories read.
    """
    if not ids:
        return Found({}, set())
    rows = (
        await session.execute(
            select(*_COLUMNS, reach_flag(reach, now).label("in_reach")).where(
                IndexedHousehold.household_id.in_(list(set(ids)))
            )
        )
    ).all()
    shown = [row for row in rows if row.in_reach]
    return Found(
        await _entries(session, shown), {row.household_id for row in rows if not row.in_reach}
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
            reach_flag(reach, now).label("in_reach"),
        )
        .join(IndexedHousehold, IndexedHousehold.household_id == IndexedMember.household_id)
        .where(IndexedMember.id_number.in_(list(set(id_numbers))))
    )
    return {id_number: (household_id, bool(flag)) for id_number, household_id, flag in rows}


# Plain rows rather than ORM objects: the index is read on every request, written only by sync.
_COLUMNS = (
    IndexedHousehold.household_id,
    IndexedHousehold.district,
    IndexedHousehold.street,
    IndexedHousehold.hukou_type,
    IndexedHousehold.last_reviewed_on,
    IndexedHousehold.synced_at,
)


_S = TypeVar("_S", bound=Select[*tuple[Any, ...]])


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
        .where(*in_reach(reach, now))
        .order_by(IndexedHousehold.household_id)
        .limit(first + 1)
    )
    if after is not None:
        query = query.where(IndexedHousehold.household_id > after)
    rows = (await session.execute(query)).all()
    entries = await _entries(session, rows[:first])
    return Page(
        entries=tuple(entries[r.household_id] for r in rows[:first]),
        has_next_page=len(rows) > first,
    )


async def count(
    session: AsyncSession, *, where: HouseholdFilter, reach: Reach, now: datetime
) -> int:
    """How many households in reach match ``where``."""
    base = _filtered(select(IndexedHousehold.household_id), where).where(*in_reach(reach, now))
    total = await session.scalar(select(func.count()).select_from(base.subquery()))
    return total or 0


async def _entries(
    session: AsyncSession, rows: Sequence[Row[*tuple[Any, ...]]]
) -> dict[str, IndexEntry]:
    ids = [r.household_id for r in rows]
    members: dict[str, list[str]] = defaultdict(list)
    categories: dict[str, list[AssistanceCategory]] = defaultdict(list)
    if ids:
        for hid, id_number in await session.execute(
            select(IndexedMember.household_id, IndexedMember.id_number)
            .where(IndexedMember.household_id.in_(ids))
            .order_by(IndexedMember.household_id, IndexedMember.position)
        ):
            members[hid].append(id_number)
        for hid, category in await session.execute(
            select(IndexedEnrollment.household_id, IndexedEnrollment.category)
            .where(
                IndexedEnrollment.household_id.in_(ids),
                IndexedEnrollment.status == EnrollmentStatus.ACTIVE.value,
            )
            .order_by(IndexedEnrollment.household_id, IndexedEnrollment.category)
        ):
            categories[hid].append(AssistanceCategory(category))
    return {
        r.household_id: IndexEntry(
            household_id=r.household_id,
            district=District.from_code(r.district),
            street=r.street,
            hukou_type=HukouType(r.hukou_type),
            categories=tuple(categories[r.household_id]),
            member_id_numbers=tuple(members[r.household_id]),
            last_reviewed_on=r.last_reviewed_on,
            synced_at=r.synced_at,
        )
        for r in rows
    }
