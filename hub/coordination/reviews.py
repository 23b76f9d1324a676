"""Review schedules (动态管理) and change reports (主动报告).

Each active enrollment is reviewed on the cycle the rules set for its category (低收入 and
支出型贫困 quarterly; 低保 with unstable income and a member able to work half-yearly;
特困 and stable 低保 yearly; 临时救助 never: it is one-off). The schedule is kept in the
hub's database (``review_schedule``) so that caseworkers can list the work that falls
due, and moves with three events:

- ``hub sync`` brings a household's enrollments: its schedule is recomputed from them,
  the reviews recorded through the hub and any change reported since the last review;
- ``record_review``: the review restarts the cycle from the day it was done;
- ``report_change`` (or a change that arrives through the civil-affairs feed): the next
  review is brought forward to within the rules' ``change_report.review_within_days``.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from adapters import records
from adapters.vocabulary import AssistanceCategory, EnrollmentStatus, WorkAbility
from hub.auth.principal import Principal
from hub.coordination import idempotency
from hub.db.coordination import ChangeReport, Review, ReviewSchedule
from hub.db.models import IndexedHousehold
from hub.households.reach import Reach, flag
from hub.money import fen, yuan
from hub.problems import Problem
from hub.rules import ReviewCycle, Rules


class ReviewOutcome(enum.Enum):
    """What a review decided."""

    CONTINUED = "CONTINUED"  # 继续享受: nothing changes
    AMOUNT_CHANGED = "AMOUNT_CHANGED"  # 调整救助金额
    SUSPENDED = "SUSPENDED"  # 暂停
    TERMINATED = "TERMINATED"  # 终止


class ChangeKind(enum.Enum):
    """What changed in a household (主动报告)."""

    MEMBER_JOINED = "MEMBER_JOINED"
    MEMBER_LEFT = "MEMBER_LEFT"
    DEATH = "DEATH"
    INCOME_CHANGE = "INCOME_CHANGE"
    EMPLOYMENT_CHANGE = "EMPLOYMENT_CHANGE"
    MOVED = "MOVED"
    OTHER = "OTHER"


class Reporter(enum.Enum):
    """Who reported a change."""

    HOUSEHOLD = "HOUSEHOLD"  # the household itself (主动报告)
    CASEWORKER = "CASEWORKER"  # a caseworker learned of it
    DEPARTMENT = "DEPARTMENT"  # another department told civil affairs
    FEED = "FEED"  # it arrived through the civil-affairs change feed


class ReviewErrorCode(enum.Enum):
    NOT_ALLOWED = "NOT_ALLOWED"  # only civil-affairs caseworkers record reviews and changes
    HOUSEHOLD_NOT_FOUND = "HOUSEHOLD_NOT_FOUND"
    NOT_ENROLLED = "NOT_ENROLLED"  # no active enrollment in that category to review
    INVALID_DATE = "INVALID_DATE"
    INVALID_AMOUNT = "INVALID_AMOUNT"
    CONFLICT = "CONFLICT"  # someone changed the schedule since it was read
    INVALID_IDEMPOTENCY_KEY = "INVALID_IDEMPOTENCY_KEY"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"  # the same key with another report


class ReviewProblem(Problem[ReviewErrorCode]):
    """A refusal of this module, with its code."""


@dataclass(frozen=True, slots=True)
class Due:
    """One enrollment's place in the schedule."""

    household_id: str
    category: AssistanceCategory
    cycle_months: int
    reason: str
    last_reviewed_on: date | None
    regular_due_on: date
    next_due_on: date
    change_report_id: str | None
    rules_version: str
    version: int

    def overdue(self, today: date, rules: Rules) -> bool:
        return today > self.next_due_on + timedelta(days=rules.alerts.review_overdue_grace_days)


def _due(row: ReviewSchedule) -> Due:
    return Due(
        household_id=row.household_id,
        category=AssistanceCategory(row.category),
        cycle_months=row.cycle_months,
        reason=row.reason,
        last_reviewed_on=row.last_reviewed_on,
        regular_due_on=row.regular_due_on,
        next_due_on=row.next_due_on,
        change_report_id=row.change_report_id,
        rules_version=row.rules_version,
        version=row.version,
    )


def able_to_work_member(household: records.Household) -> bool:
    return any(m.work_ability is not WorkAbility.NONE for m in household.members)


def cycles(
    household: records.Household, rules: Rules
) -> dict[AssistanceCategory, tuple[records.Enrollment, ReviewCycle]]:
    """The review cycle of each active enrollment that has one (临时救助 has none)."""
    able = able_to_work_member(household)
    found = {}
    for enrollment in household.enrollments:
        if enrollment.status is not EnrollmentStatus.ACTIVE:
            continue
        cycle = rules.review_cycle(
            enrollment.category, income_stable=enrollment.income_stable, able_to_work_member=able
        )
        if cycle is not None:
            found[enrollment.category] = (enrollment, cycle)
    return found


async def refresh(
    session: AsyncSession, households: Sequence[records.Household], rules: Rules
) -> None:
    """Recompute the schedules of ``households`` from their enrollments (in ``session``).

    The last review is the later of civil affairs' and the hub's records; a change
    reported since then still brings the review forward.
    """
    if not households:
        return
    ids = [h.id for h in households]
    recorded = await _latest_reviews(session, ids)
    pending = await _pending_changes(session, ids)
    existing = {
        (row.household_id, row.category): row
        for row in await session.scalars(
            select(ReviewSchedule).where(ReviewSchedule.household_id.in_(ids))
        )
    }
    keep: set[tuple[str, str]] = set()
    for household in households:
        for category, (enrollment, cycle) in cycles(household, rules).items():
            key = (household.id, category.value)
            keep.add(key)
            last = max(
                (d for d in (enrollment.last_reviewed_on, recorded.get(key)) if d is not None),
                default=None,
            )
            regular = cycle.due_after(last or enrollment.since)
            change = _after(pending.get(household.id, ()), last)
            next_due = min(regular, change.review_due_by) if change else regular
            row = existing.get(key) or ReviewSchedule(household_id=household.id, category=key[1])
            row.cycle_months = cycle.months
            row.reason = cycle.reason
            row.last_reviewed_on = last
            row.regular_due_on = regular
            row.next_due_on = next_due
            row.change_report_id = change.id if change and change.review_due_by < regular else None
            row.rules_version = rules.version
            if key not in existing:
                session.add(row)
    for key, row in existing.items():
        if key not in keep:
            await session.delete(row)


async def _latest_reviews(session: AsyncSession, ids: Sequence[str]) -> dict[tuple[str, str], date]:
    rows = await session.execute(
        select(Review.household_id, Review.category, func.max(Review.reviewed_on))
        .where(Review.household_id.in_(ids))
        .group_by(Review.household_id, Review.category)
    )
    return {(h, c): d for h, c, d in rows}


async def _pending_changes(
    session: AsyncSession, ids: Sequence[str]
) -> dict[str, list[ChangeReport]]:
    found: dict[str, list[ChangeReport]] = {}
    for report in await session.scalars(
        select(ChangeReport)
        .where(ChangeReport.household_id.in_(ids))
        .order_by(ChangeReport.review_due_by)
    ):
        found.setdefault(report.household_id, []).append(report)
    return found


def _after(reports: Iterable[ChangeReport], last: date | None) -> ChangeReport | None:
    """The change reported since the last review whose review falls due first."""
    return next((r for r in reports if last is None or r.reported_on > last), None)


async def schedules(
    sessions: async_sessionmaker[AsyncSession], household_ids: Sequence[str]
) -> dict[str, list[Due]]:
    """The schedule of each household, by category (the caller has checked reach)."""
    found: dict[str, list[Due]] = {h: [] for h in household_ids}
    if not household_ids:
        return found
    async with sessions() as session:
        for row in await session.scalars(
            select(ReviewSchedule)
            .where(ReviewSchedule.household_id.in_(list(household_ids)))
            .order_by(ReviewSchedule.household_id, ReviewSchedule.category)
        ):
            found[row.household_id].append(_due(row))
    return found


@dataclass(frozen=True, slots=True)
class DueFilter:
    before: date
    district: str | None = None  # region code
    street: str | None = None
    category: AssistanceCategory | None = None


async def due(
    sessions: async_sessionmaker[AsyncSession],
    *,
    where: DueFilter,
    reach: Reach,
    now: datetime,
    first: int,
    after: tuple[date, str, str] | None,
) -> tuple[list[Due], bool]:
    """Reviews falling due before ``where.before`` in reach, soonest first, a page after
    the (due date, household, category) ``after``; and whether more follow."""
    query = (
        select(ReviewSchedule)
        .join(IndexedHousehold, IndexedHousehold.household_id == ReviewSchedule.household_id)
        .where(ReviewSchedule.next_due_on < where.before, flag(reach, now))
        .order_by(ReviewSchedule.next_due_on, ReviewSchedule.household_id, ReviewSchedule.category)
        .limit(first + 1)
    )
    if where.district is not None:
        query = query.where(IndexedHousehold.district == where.district)
    if where.street is not None:
        query = query.where(IndexedHousehold.street == where.street)
    if where.category is not None:
        query = query.where(ReviewSchedule.category == where.category.value)
    if after is not None:
        day, household_id, category = after
        query = query.where(
            (ReviewSchedule.next_due_on > day)
            | ((ReviewSchedule.next_due_on == day) & (ReviewSchedule.household_id > household_id))
            | (
                (ReviewSchedule.next_due_on == day)
                & (ReviewSchedule.household_id == household_id)
                & (ReviewSchedule.category > category)
            )
        )
    async with sessions() as session:
        rows = list(await session.scalars(query))
    return [_due(r) for r in rows[:first]], len(rows) > first


@dataclass(frozen=True, slots=True)
class RecordedReview:
    id: str
    household_id: str
    category: AssistanceCategory
    reviewed_on: date
    outcome: ReviewOutcome
    monthly_amount: Decimal | None
    note: str | None
    recorded_at: datetime


def _allowed(principal: Principal, what: str) -> None:
    if not principal.is_civil_affairs_caseworker:
        raise ReviewProblem(ReviewErrorCode.NOT_ALLOWED, f"only civil-affairs caseworkers {what}")


async def _in_reach(session: AsyncSession, household_id: str, reach: Reach, now: datetime) -> None:
    """The household exists and is in reach, or HOUSEHOLD_NOT_FOUND (one query either way)."""
    found = (
        await session.execute(
            select(flag(reach, now)).where(IndexedHousehold.household_id == household_id)
        )
    ).first()
    if found is None or not found[0]:
        raise ReviewProblem(
            ReviewErrorCode.HOUSEHOLD_NOT_FOUND,
            "no such household",
            denied=household_id if found is not None else None,
        )


async def record_review(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    household_id: str,
    category: AssistanceCategory,
    reviewed_on: date,
    outcome: ReviewOutcome,
    monthly_amount: Decimal | None,
    note: str | None,
    version: int | None,
    reach: Reach,
    now: datetime,
    today: date,
) -> tuple[RecordedReview, Due]:
    """Record a review and restart the enrollment's cycle from the day it was done."""
    _allowed(principal, "record reviews")
    if reviewed_on > today:
        raise ReviewProblem(ReviewErrorCode.INVALID_DATE, "a review cannot be in the future")
    if (outcome is ReviewOutcome.AMOUNT_CHANGED) != (monthly_amount is not None):
        raise ReviewProblem(
            ReviewErrorCode.INVALID_AMOUNT,
            "a new monthly amount goes with AMOUNT_CHANGED, and only with it",
        )
    if monthly_amount is not None and monthly_amount < 0:
        raise ReviewProblem(ReviewErrorCode.INVALID_AMOUNT, "the amount cannot be negative")
    try:
        async with sessions.begin() as session:
            await _in_reach(session, household_id, reach, now)
            row = await session.get(ReviewSchedule, (household_id, category.value))
            if row is None:
                raise ReviewProblem(
                    ReviewErrorCode.NOT_ENROLLED,
                    f"the household has no active {category.value} enrollment to review",
                )
            if version is not None and row.version != version:
                raise ReviewProblem(
                    ReviewErrorCode.CONFLICT,
                    f"the schedule is at version {row.version}, not {version}",
                )
            review = Review(
                id=str(uuid.uuid4()),
                household_id=household_id,
                category=category.value,
                reviewed_on=reviewed_on,
                outcome=outcome.value,
                monthly_amount_fen=fen(monthly_amount),
                note=note,
                recorded_by=principal.client_id,
                recorded_at=now,
            )
            session.add(review)
            cycle = ReviewCycle(months=row.cycle_months, reason=row.reason)
            if row.last_reviewed_on is None or reviewed_on >= row.last_reviewed_on:
                row.last_reviewed_on = reviewed_on
                row.regular_due_on = cycle.due_after(reviewed_on)
                row.next_due_on = row.regular_due_on
                row.change_report_id = None
            await session.flush()
            scheduled = _due(row)
    except StaleDataError:
        raise ReviewProblem(
            ReviewErrorCode.CONFLICT, "the schedule changed while the review was recorded"
        ) from None
    return _recorded(review), scheduled


def _recorded(review: Review) -> RecordedReview:
    return RecordedReview(
        id=review.id,
        household_id=review.household_id,
        category=AssistanceCategory(review.category),
        reviewed_on=review.reviewed_on,
        outcome=ReviewOutcome(review.outcome),
        monthly_amount=yuan(review.monthly_amount_fen),
        note=review.note,
        recorded_at=review.recorded_at,
    )


@dataclass(frozen=True, slots=True)
class ReportedChange:
    id: str
    household_id: str
    kind: ChangeKind
    occurred_on: date
    reported_on: date
    reported_by: Reporter
    note: str | None
    review_due_by: date


async def report_change(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    household_id: str,
    kind: ChangeKind,
    occurred_on: date,
    reported_by: Reporter,
    note: str | None,
    idempotency_key: str | None = None,
    reach: Reach,
    now: datetime,
    today: date,
    rules: Rules,
) -> tuple[ReportedChange, list[Due]]:
    """Record a change and bring every review of the household forward to within the
    rules' days of today (never later than it already falls). With ``idempotency_key``,
    a retry answers the report the key recorded first (``hub.coordination.idempotency``)."""
    _allowed(principal, "record change reports")
    if occurred_on > today:
        raise ReviewProblem(ReviewErrorCode.INVALID_DATE, "the change cannot be in the future")
    if reported_by is Reporter.FEED:
        raise ReviewProblem(
            ReviewErrorCode.NOT_ALLOWED, "changes from the feed are recorded by the sync"
        )
    if idempotency_key is not None and not idempotency.valid(idempotency_key):
        raise ReviewProblem(ReviewErrorCode.INVALID_IDEMPOTENCY_KEY, idempotency.PROBLEM)
    asked = idempotency.digest(household_id, kind.value, occurred_on, reported_by.value, note)
    try:
        async with sessions.begin() as session:
            await _in_reach(session, household_id, reach, now)
            made = (
                await _reported_under(session, principal.client_id, idempotency_key, asked)
                if idempotency_key is not None
                else None
            )
            report = made or await changed(
                session,
                household_id=household_id,
                kind=kind,
                occurred_on=occurred_on,
                reported_by=reported_by,
                note=note,
                recorded_by=principal.client_id,
                now=now,
                today=today,
                rules=rules,
                idempotency_key=idempotency_key,
                request_hash=asked if idempotency_key is not None else None,
            )
            scheduled = await _schedule(session, household_id)
    except StaleDataError:
        raise ReviewProblem(
            ReviewErrorCode.CONFLICT, "the schedule changed while the change was recorded"
        ) from None
    except IntegrityError:
        if idempotency_key is None:
            raise
        # A concurrent retry with the same key recorded it first: answer that one.
        async with sessions() as session:
            made = await _reported_under(session, principal.client_id, idempotency_key, asked)
            if made is None:  # pragma: no cover - the database refused for another reason
                raise
            scheduled = await _schedule(session, household_id)
        return made, scheduled
    return report, scheduled


async def _schedule(session: AsyncSession, household_id: str) -> list[Due]:
    rows = await session.scalars(
        select(ReviewSchedule)
        .where(ReviewSchedule.household_id == household_id)
        .order_by(ReviewSchedule.category)
    )
    return [_due(r) for r in rows]


async def _reported_under(
    session: AsyncSession, client_id: str, key: str, asked: str
) -> ReportedChange | None:
    """The report this client recorded under ``key``; the key reused for another report is
    refused."""
    report = await session.scalar(
        select(ChangeReport).where(
            ChangeReport.recorded_by == client_id, ChangeReport.idempotency_key == key
        )
    )
    if report is None:
        return None
    if report.request_hash != asked:
        raise ReviewProblem(ReviewErrorCode.IDEMPOTENCY_KEY_REUSED, idempotency.REUSED)
    return _reported(report)


async def changed(
    session: AsyncSession,
    *,
    household_id: str,
    kind: ChangeKind,
    occurred_on: date,
    reported_by: Reporter,
    note: str | None,
    recorded_by: str | None,
    now: datetime,
    today: date,
    rules: Rules,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
) -> ReportedChange:
    """Store a change report and bring the household's reviews forward (in ``session``)."""
    due_by = today + timedelta(days=rules.change_report.review_within_days)
    report = ChangeReport(
        id=str(uuid.uuid4()),
        household_id=household_id,
        kind=kind.value,
        occurred_on=occurred_on,
        reported_on=today,
        reported_by=reported_by.value,
        note=note,
        review_due_by=due_by,
        recorded_by=recorded_by,
        recorded_at=now,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )
    session.add(report)
    for row in await session.scalars(
        select(ReviewSchedule).where(ReviewSchedule.household_id == household_id)
    ):
        if due_by < row.next_due_on:
            row.next_due_on = due_by
            row.change_report_id = report.id
    await session.flush()
    return _reported(report)


def _reported(report: ChangeReport) -> ReportedChange:
    return ReportedChange(
        id=report.id,
        household_id=report.household_id,
        kind=ChangeKind(report.kind),
        occurred_on=report.occurred_on,
        reported_on=report.reported_on,
        reported_by=Reporter(report.reported_by),
        note=report.note,
        review_due_by=report.review_due_by,
    )


async def change_reports(
    sessions: async_sessionmaker[AsyncSession], household_ids: Sequence[str]
) -> dict[str, list[ReportedChange]]:
    """Each household's change reports, newest first (the caller has checked reach)."""
    found: dict[str, list[ReportedChange]] = {h: [] for h in household_ids}
    if not household_ids:
        return found
    async with sessions() as session:
        for report in await session.scalars(
            select(ChangeReport)
            .where(ChangeReport.household_id.in_(list(household_ids)))
            .order_by(ChangeReport.reported_on.desc(), ChangeReport.recorded_at.desc())
        ):
            found[report.household_id].append(_reported(report))
    return found


async def forget(session: AsyncSession, household_ids: Sequence[str]) -> None:
    """Drop the schedules of households that left the index."""
    if household_ids:
        await session.execute(
            delete(ReviewSchedule).where(ReviewSchedule.household_id.in_(list(household_ids)))
        )


def feed_changes(before: Mapping[str, object], household: records.Household) -> list[ChangeKind]:
    """What changed in a household between the index's copy (``before``: its members,
    district, street and assessed income) and the feed's new copy."""
    found = []
    members_before = set(str(before["member_ids"]).split(",")) - {""}
    members_now = {m.id_number for m in household.members}
    if members_now - members_before:
        found.append(ChangeKind.MEMBER_JOINED)
    if members_before - members_now:
        found.append(ChangeKind.MEMBER_LEFT)
    if (before["district"], before["street"]) != (household.district.code, household.street):
        found.append(ChangeKind.MOVED)
    if before["income_fen"] != fen(household.assessed_monthly_income):
        found.append(ChangeKind.INCOME_CHANGE)
    return found
