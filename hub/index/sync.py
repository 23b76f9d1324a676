"""Pull the civil-affairs change feed into the household index.

The feed's ``updatedSince`` is inclusive, so the cursor is the newest change time seen
and a run re-reads the changes made at exactly that moment; a fingerprint of what the
index keeps makes those (and any other unchanged household) cost no write. Each page is
committed with the cursor it reached, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import delete, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.civil_affairs import CivilAffairsAdapter
from adapters.records import Household, HouseholdChange
from adapters.vocabulary import EnrollmentStatus, Source
from hub.coordination import reviews
from hub.db.models import IndexedEnrollment, IndexedHousehold, IndexedMember, SyncCursor
from hub.households.service import SHANGHAI
from hub.index import cache as index_cache
from hub.money import fen
from hub.rules import Rules, default_rules

log = logging.getLogger(__name__)


@dataclass
class SyncReport:
    """What one sync run did."""

    seen: int = 0
    inserted: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    pages: int = 0
    cursor: datetime | None = None
    changes_reported: int = 0  # changes of members, place or income noticed in the feed
    analyzed: bool = False  # the planner's statistics of the index were brought up to date

    @property
    def written(self) -> int:
        return self.inserted + self.updated + self.removed


def fingerprint(household: Household) -> str:
    """A digest of exactly what the index keeps of a household."""
    kept: dict[str, object] = {
        "district": household.district.code,
        "street": household.street,
        "hukou": household.hukou_type.value,
        "members": [m.id_number for m in household.members],
        "enrollments": sorted(
            [
                e.category.value,
                e.status.value,
                e.since.isoformat(),
                e.income_stable,
                e.last_reviewed_on.isoformat() if e.last_reviewed_on else None,
            ]
            for e in household.enrollments
        ),
    }
    if household.assessed_monthly_income is not None:
        kept["income"] = str(household.assessed_monthly_income)
    return hashlib.sha256(json.dumps(kept, sort_keys=True).encode()).hexdigest()


def _last_reviewed(household: Household) -> date | None:
    dates = [
        e.last_reviewed_on
        for e in household.enrollments
        if e.status is EnrollmentStatus.ACTIVE and e.last_reviewed_on is not None
    ]
    return max(dates) if dates else None


def _apply(row: IndexedHousehold, household: Household, now: datetime) -> None:
    row.district = household.district.code
    row.street = household.street
    row.hukou_type = household.hukou_type.value
    row.last_reviewed_on = _last_reviewed(household)
    row.upstream_updated_at = household.updated_at
    row.fingerprint = fingerprint(household)
    row.synced_at = now
    row.assessed_income_fen = fen(household.assessed_monthly_income)
    row.member_ids = ",".join(m.id_number for m in household.members)
    row.categories = ",".join(
        sorted(
            {e.category.value for e in household.enrollments if e.status is EnrollmentStatus.ACTIVE}
        )
    )


def _children(household: Household) -> list[IndexedMember | IndexedEnrollment]:
    members: list[IndexedMember | IndexedEnrollment] = [
        IndexedMember(id_number=m.id_number, household_id=household.id, position=i)
        for i, m in enumerate(household.members)
    ]
    return members + [
        IndexedEnrollment(
            household_id=household.id,
            category=e.category.value,
            status=e.status.value,
            since=e.since,
            income_stable=e.income_stable,
            last_reviewed_on=e.last_reviewed_on,
        )
        for e in household.enrollments
    ]


# A run that wrote this many households (a first sync, a large batch upstream) updates the
# planner's statistics of the index at once: until autovacuum gets to it, PostgreSQL plans
# a filtered listing as a nested loop over every active enrollment of its category (a
# third of a second to a second a page already at 20,000 households).
ANALYZE_AFTER = 1000
_INDEX_TABLES = (
    IndexedHousehold.__tablename__,
    IndexedMember.__tablename__,
    IndexedEnrollment.__tablename__,
)


async def sync_households(
    *,
    sessions: async_sessionmaker[AsyncSession],
    adapter: CivilAffairsAdapter,
    page_size: int = 500,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    rules: Rules | None = None,
    analyze_after: int = ANALYZE_AFTER,
) -> SyncReport:
    """Read the feed from the stored cursor to its end and bring the index in line.

    With the index, each household's review schedule follows its enrollments, and a
    change of members, place or assessed income that arrives through the feed is
    recorded as a change report that brings its next review forward.
    """
    rules = rules or default_rules()
    report = SyncReport()
    async with sessions() as session:
        stored = await session.get(SyncCursor, Source.CIVIL_AFFAIRS.value)
        since = stored.updated_since if stored else None
    report.cursor = since
    token: str | None = None
    while True:
        page = await adapter.changes(updated_since=since, page_token=token, page_size=page_size)
        report.pages += 1
        changed_before = report.written
        async with sessions.begin() as session:
            await _apply_page(session, page.changes, report, clock(), rules)
            newest = max((c.updated_at for c in page.changes), default=None)
            if newest is not None and (report.cursor is None or newest > report.cursor):
                report.cursor = newest
                await _store_cursor(session, newest, clock())
        if report.written != changed_before:
            # Workers drop the index entries they keep (hub.index.cache).
            await index_cache.announce_change(sessions)
        token = page.next_page_token
        if token is None:
            break
    if report.written >= analyze_after:
        await _analyze(sessions)
        report.analyzed = True
    log.info(
        "sync done: seen=%d inserted=%d updated=%d removed=%d unchanged=%d",
        report.seen,
        report.inserted,
        report.updated,
        report.removed,
        report.unchanged,
    )
    return report


async def _apply_page(
    session: AsyncSession,
    changes: tuple[HouseholdChange, ...],
    report: SyncReport,
    now: datetime,
    rules: Rules,
) -> None:
    # The feed may name a household more than once; its last entry is its state.
    latest = {c.household_id: c for c in changes}
    report.seen += len(changes)
    report.unchanged += len(changes) - len(latest)
    rows = {
        row.household_id: row
        for row in await session.scalars(
            select(IndexedHousehold).where(IndexedHousehold.household_id.in_(list(latest)))
        )
    }
    noticed: dict[str, tuple[list[reviews.ChangeKind], datetime]] = {}
    stale: list[str] = []  # households whose members and enrollments are replaced
    removed: list[str] = []
    fresh: list[Household] = []
    for hid, change in latest.items():
        row = rows.get(hid)
        if change.household is None:
            if row is None:
                report.unchanged += 1
            else:
                removed.append(hid)
                report.removed += 1
        elif row is None:
            row = IndexedHousehold(household_id=hid)
            _apply(row, change.household, now)
            session.add(row)
            fresh.append(change.household)
            report.inserted += 1
        elif row.fingerprint != fingerprint(change.household):
            before = {
                "member_ids": row.member_ids,
                "district": row.district,
                "street": row.street,
                "income_fen": row.assessed_income_fen,
            }
            if before["income_fen"] is None:  # never synced with an income: no change known
                before["income_fen"] = fen(change.household.assessed_monthly_income)
            noticed[hid] = (reviews.feed_changes(before, change.household), change.updated_at)
            _apply(row, change.household, now)
            stale.append(hid)
            fresh.append(change.household)
            report.updated += 1
        else:
            report.unchanged += 1
    if not (stale or removed or fresh):
        return
    moved_in = [m.id_number for h in fresh for m in h.members]
    # Members follow their newest household: a person who moved is taken off the old one.
    await session.execute(
        delete(IndexedMember).where(
            or_(
                IndexedMember.household_id.in_(stale + removed),
                IndexedMember.id_number.in_(moved_in),
            )
        )
    )
    await session.execute(
        delete(IndexedEnrollment).where(IndexedEnrollment.household_id.in_(stale + removed))
    )
    if removed:
        await session.execute(
            delete(IndexedHousehold).where(IndexedHousehold.household_id.in_(removed))
        )
    await session.flush()
    session.add_all([child for h in fresh for child in _children(h)])
    await reviews.refresh(session, fresh, rules)
    today = now.astimezone(SHANGHAI).date()
    for household_id, (kinds, updated_at) in noticed.items():
        for kind in kinds:
            await reviews.changed(
                session,
                household_id=household_id,
                kind=kind,
                occurred_on=min(updated_at.astimezone(SHANGHAI).date(), today),
                reported_by=reviews.Reporter.FEED,
                note="reported through the civil-affairs change feed",
                recorded_by=None,
                now=now,
                today=today,
                rules=rules,
            )
            report.changes_reported += 1


async def _analyze(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        for table in _INDEX_TABLES:
            await session.execute(text(f"ANALYZE {table}"))


async def _store_cursor(session: AsyncSession, newest: datetime, now: datetime) -> None:
    cursor = await session.get(SyncCursor, Source.CIVIL_AFFAIRS.value)
    if cursor is None:
        session.add(
            SyncCursor(source=Source.CIVIL_AFFAIRS.value, updated_since=newest, updated_at=now)
        )
    else:
        cursor.updated_since = newest
        cursor.updated_at = now
