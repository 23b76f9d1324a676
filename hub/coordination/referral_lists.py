"""Referrals as their departments list them: an inbox, a household's, and their history.

A department sees the referrals it made and those made to it, and only those whose
household is in the caller's reach (the index is joined to every read). Pages are newest
first, keyed on (created_at, id), so a referral made meanwhile never shifts a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.vocabulary import Source
from hub.coordination.referrals import ReferralDirection, ReferralState
from hub.db.coordination import Referral, ReferralEvent
from hub.db.models import Client, IndexedHousehold
from hub.households.reach import Reach, conditions


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a referral's history."""

    at: datetime
    client_id: str
    client_name: str | None  # None once the client is deleted
    department: Source | None
    from_state: ReferralState | None
    to_state: ReferralState
    note: str | None


@dataclass(frozen=True, slots=True)
class ReferralFilter:
    """The referrals one department sees: in one direction (None: both), in one state,
    of one household; every given condition must hold."""

    department: Source
    direction: ReferralDirection | None = None
    state: ReferralState | None = None
    household_id: str | None = None


Position = tuple[datetime, str]  # (created_at, id) of the last referral of a page


@dataclass(frozen=True, slots=True)
class ReferralPage:
    """One page of referrals, and whether more follow."""

    referrals: list[Referral]
    has_next_page: bool


_HOUSEHOLD_OF = IndexedHousehold.household_id == Referral.household_id


def _where(where: ReferralFilter, reach: Reach, now: datetime) -> list[ColumnElement[bool]]:
    """The referrals of ``where`` whose household is in ``reach`` (joined to the index)."""
    department = where.department.value
    found: list[ColumnElement[bool]] = [*conditions(reach, now)]
    if where.direction is ReferralDirection.INCOMING:
        found.append(Referral.to_department == department)
    elif where.direction is ReferralDirection.OUTGOING:
        found.append(Referral.from_department == department)
    else:
        found.append(
            or_(Referral.to_department == department, Referral.from_department == department)
        )
    if where.state is not None:
        found.append(Referral.state == where.state.value)
    if where.household_id is not None:
        found.append(Referral.household_id == where.household_id)
    return found


async def page(
    sessions: async_sessionmaker[AsyncSession],
    where: ReferralFilter,
    *,
    first: int,
    after: Position | None,
    reach: Reach,
    now: datetime,
) -> ReferralPage:
    """A page of the referrals ``where`` selects, newest first, after ``after``."""
    query = select(Referral).join(IndexedHousehold, _HOUSEHOLD_OF).where(*_where(where, reach, now))
    if after is not None:
        at, referral_id = after
        query = query.where(
            or_(
                Referral.created_at < at,
                and_(Referral.created_at == at, Referral.id < referral_id),
            )
        )
    query = query.order_by(Referral.created_at.desc(), Referral.id.desc()).limit(first + 1)
    async with sessions() as session:
        rows = list(await session.scalars(query))
    return ReferralPage(referrals=rows[:first], has_next_page=len(rows) > first)


async def count(
    sessions: async_sessionmaker[AsyncSession],
    where: ReferralFilter,
    *,
    reach: Reach,
    now: datetime,
) -> int:
    """How many referrals ``where`` selects."""
    query = (
        select(func.count())
        .select_from(Referral)
        .join(IndexedHousehold, _HOUSEHOLD_OF)
        .where(*_where(where, reach, now))
    )
    async with sessions() as session:
        return int(await session.scalar(query) or 0)


async def history(
    sessions: async_sessionmaker[AsyncSession], referral_ids: Sequence[str]
) -> dict[str, list[Step]]:
    """Each referral's steps, oldest first (one query for them all)."""
    found: dict[str, list[Step]] = {i: [] for i in referral_ids}
    if not found:
        return found
    query = (
        select(ReferralEvent, Client.name)
        .outerjoin(Client, Client.id == ReferralEvent.client_id)
        .where(ReferralEvent.referral_id.in_(list(found)))
        .order_by(ReferralEvent.referral_id, ReferralEvent.id)
    )
    async with sessions() as session:
        for event, name in await session.execute(query):
            found[event.referral_id].append(
                Step(
                    at=event.at,
                    client_id=event.client_id,
                    client_name=name,
                    department=Source(event.department) if event.department else None,
                    from_state=ReferralState(event.from_state) if event.from_state else None,
                    to_state=ReferralState(event.to_state),
                    note=event.note,
                )
            )
    return found
