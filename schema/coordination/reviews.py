"""Review schedules (动态管理) and change reports (主动报告), as caseworkers see and record them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, cast

import strawberry

from adapters.vocabulary import AssistanceCategory, District, Source
from hub.coordination import reviews
from hub.coordination.reviews import (
    ChangeKind,
    Due,
    DueFilter,
    Reporter,
    ReviewErrorCode,
    ReviewOutcome,
    ReviewProblem,
)
from schema import arguments
from schema.context import Info
from schema.enums import described
from schema.errors import bad_input
from schema.pagination import NOT_OURS, PageInfo, open_cursor, seal_cursor
from schema.policy import AMOUNT, OPEN, F, S, field, mutation, section

if TYPE_CHECKING:
    from schema.household import Household

LazyHousehold = Annotated["Household", strawberry.lazy("schema.household")]

described(
    ReviewOutcome,
    "What a review (复核) decided.",
    {
        "CONTINUED": "继续享受: the assistance continues unchanged.",
        "AMOUNT_CHANGED": "调整: the monthly amount changes (give the new amount).",
        "SUSPENDED": "暂停: the assistance is suspended.",
        "TERMINATED": "终止: the assistance ends.",
    },
)
described(
    ChangeKind,
    "A major change in a household (主动报告).",
    {
        "MEMBER_JOINED": "A member joined the household.",
        "MEMBER_LEFT": "A member left the household.",
        "DEATH": "A member died.",
        "INCOME_CHANGE": "The household's income changed.",
        "EMPLOYMENT_CHANGE": "A member found or lost work.",
        "MOVED": "The household moved.",
        "OTHER": "Another change that may affect eligibility.",
    },
)
described(
    Reporter,
    "Who reported a change.",
    {
        "HOUSEHOLD": "The household itself (主动报告).",
        "CASEWORKER": "A caseworker learned of it.",
        "DEPARTMENT": "Another department told civil affairs.",
        "FEED": "It arrived through the civil-affairs change feed.",
    },
)
described(
    ReviewErrorCode,
    "Why a review or change could not be recorded.",
    {
        "NOT_ALLOWED": "Only civil-affairs caseworkers record reviews and changes.",
        "HOUSEHOLD_NOT_FOUND": "No such household within the caller's reach.",
        "NOT_ENROLLED": "The household has no active enrollment in that category to review.",
        "INVALID_DATE": "The date is in the future.",
        "INVALID_AMOUNT": "A new amount goes with AMOUNT_CHANGED, and only with it.",
        "CONFLICT": "Someone changed the schedule since it was read; read it again.",
        "INVALID_IDEMPOTENCY_KEY": "The idempotency key is empty, too long or not printable.",
        "IDEMPOTENCY_KEY_REUSED": "The idempotency key was used for another change report.",
    },
)


def _overdue(root: Due, info: Info) -> bool:
    return root.overdue(info.context.today, info.context.households.rules)


async def _household(root: Due, info: Info) -> LazyHousehold | None:
    from schema.household import Household

    entry = await info.context.loaders.entry_by_id.load(root.household_id)
    return Household(entry=entry) if entry else None


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(description="When an enrollment is next reviewed (动态管理), and why.")
class ScheduledReview:
    category: AssistanceCategory = field(S, description="The enrollment's category.")
    cycle_months: int = field(S, description="Months between reviews, as the rules set them.")
    reason: str = field(S, description="Why this cycle: the rule that applies, in words.")
    last_reviewed_on: date | None = field(S, description="The last review, if any.")
    regular_due_on: date = field(S, description="Due by the cycle alone.")
    next_due_on: date = field(
        S, description="Due: the cycle's date, or earlier where a reported change brings it."
    )
    overdue: bool = field(S, description="Whether it is past due today.", resolver=_overdue)
    change_report_id: strawberry.ID | None = field(
        S,
        name="broughtForwardBy",
        description="The change report that brought the review forward, if one did.",
    )
    rules_version: str = field(S, description="The rules the cycle was set by.")
    version: int = field(S, description="Version, for recording a review against what was read.")
    household: LazyHousehold | None = field(S, description="The household.", resolver=_household)


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(description="A review recorded through the hub.")
class RecordedReview:
    id: strawberry.ID = field(S, description="Review ID.")
    household_id: strawberry.ID = field(S, description="The household.")
    category: AssistanceCategory = field(S, description="The enrollment reviewed.")
    reviewed_on: date = field(S, description="When the review was done.")
    outcome: ReviewOutcome = field(S, description="What it decided.")
    monthly_amount: Decimal | None = field(
        S, AMOUNT, description="The new monthly amount, for AMOUNT_CHANGED."
    )
    note: str | None = field(F, description="The caseworker's note.")
    recorded_at: datetime = field(S, description="When it was recorded.")


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(description="A change in a household, reported (主动报告).")
class ChangeReport:
    id: strawberry.ID = field(S, description="Change report ID.")
    household_id: strawberry.ID = field(S, description="The household.")
    kind: ChangeKind = field(S, description="What changed.")
    occurred_on: date = field(S, description="When it happened.")
    reported_on: date = field(S, description="When it was reported.")
    reported_by: Reporter = field(S, description="Who reported it.")
    note: str | None = field(F, description="What was said about it.")
    review_due_by: date = field(S, description="The review it brings forward is due by then.")


@strawberry.type(description="A review recorded, and the schedule it restarted.")
class ReviewPayload:
    review: RecordedReview = field(OPEN, description="The review.")
    schedule: ScheduledReview = field(OPEN, description="The enrollment's schedule now.")


@strawberry.type(description="A change recorded, and the household's schedule now.")
class ChangeReportPayload:
    report: ChangeReport = field(OPEN, description="The change report.")
    reviews: list[ScheduledReview] = field(OPEN, description="Every review of the household.")


@strawberry.type(description="Why a review or change could not be recorded.")
class ReviewError:
    code: ReviewErrorCode = field(OPEN, description="What went wrong.")
    message: str = field(OPEN, description="The same, in words.")


ReviewResult = Annotated[
    ReviewPayload | ReviewError,
    strawberry.union("ReviewResult", description="A recorded review, or why there is none."),
]
ChangeReportResult = Annotated[
    ChangeReportPayload | ReviewError,
    strawberry.union("ChangeReportResult", description="A recorded change, or why not."),
]


@strawberry.input(description="A review done (复核).")
class RecordReviewInput:
    household_id: strawberry.ID = strawberry.field(description="The household.")
    category: AssistanceCategory = strawberry.field(description="The enrollment reviewed.")
    reviewed_on: date = strawberry.field(description="When the review was done.")
    outcome: ReviewOutcome = strawberry.field(description="What it decided.")
    monthly_amount: Decimal | None = strawberry.field(
        default=None, description="The new monthly amount in yuan, for AMOUNT_CHANGED."
    )
    note: str | None = strawberry.field(default=None, description="A note for the file.")
    version: int | None = strawberry.field(
        default=None, description="The schedule's version as read; refused if it changed."
    )


@strawberry.input(description="A change in a household (主动报告).")
class ReportChangeInput:
    household_id: strawberry.ID = strawberry.field(description="The household.")
    kind: ChangeKind = strawberry.field(description="What changed.")
    occurred_on: date = strawberry.field(description="When it happened.")
    reported_by: Reporter = strawberry.field(
        default=Reporter.HOUSEHOLD, description="Who reported it."
    )
    note: str | None = strawberry.field(default=None, description="What was said about it.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Chosen by the client (1-128 printable characters): a retry with the same "
        "key answers the report recorded first; the same key for another report is refused.",
    )


@strawberry.input(description="Narrows the reviews falling due.")
class ReviewsDueFilterInput:
    district: District | None = strawberry.field(default=None, description="In this district.")
    street: str | None = strawberry.field(default=None, description="In this street or town.")
    category: AssistanceCategory | None = strawberry.field(
        default=None, description="Of enrollments in this category."
    )


@strawberry.type(description="A review falling due, with its cursor.")
class ScheduledReviewEdge:
    cursor: str = field(OPEN, description="Pass as `after` to continue after this one.")
    node: ScheduledReview = field(OPEN, description="The review.")


@strawberry.type(description="Reviews falling due, soonest first (Relay connection).")
class ScheduledReviewConnection:
    edges: list[ScheduledReviewEdge] = field(OPEN, description="The reviews of this page.")
    page_info: PageInfo = field(OPEN, description="Where this page stands.")


CURSORS = "reviews due"  # its cursors' kind: good for no other list


def _cursor(info: Info, due: Due) -> str:
    parts = (due.next_due_on.isoformat(), due.household_id, due.category.value)
    return seal_cursor(info.context, CURSORS, *parts)


def _after(info: Info, cursor: str) -> tuple[date, str, str]:
    day, household_id, category = open_cursor(info.context, CURSORS, cursor, parts=3)
    try:
        return date.fromisoformat(day), household_id, category
    except ValueError:
        raise bad_input("after", NOT_OURS) from None


@strawberry.type
class ReviewQuery:
    @field(OPEN, description="Reviews falling due before a date, soonest first (动态管理).")
    async def reviews_due(
        self,
        info: Info,
        before: date,
        filter: ReviewsDueFilterInput | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> ScheduledReviewConnection:
        context = info.context
        limit = context.settings.max_page_size
        if not 1 <= first <= limit:
            raise bad_input("first", f"must be between 1 and {limit}")
        where = DueFilter(
            before=before,
            district=filter.district.code if filter and filter.district else None,
            street=filter.street if filter else None,
            category=filter.category if filter else None,
        )
        context.access.listed(
            [
                (name, value)
                for name, value in (
                    ("district", where.district),
                    ("street", where.street),
                    ("category", where.category.value if where.category else None),
                )
                if value is not None
            ]
        )
        found, more = await reviews.due(
            context.sessions,
            where=where,
            reach=context.reach,
            now=context.now,
            first=first,
            after=_after(info, after) if after is not None else None,
        )
        for due in found:
            context.access.saw(due.household_id, "reviews")
        edges = [
            ScheduledReviewEdge(cursor=_cursor(info, d), node=cast(ScheduledReview, d))
            for d in found
        ]
        return ScheduledReviewConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=more,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )


def _problem(info: Info, problem: ReviewProblem) -> ReviewError:
    refused = problem.code is ReviewErrorCode.NOT_ALLOWED
    info.context.access.noted(problem, "reviews", refused=refused)
    return ReviewError(code=problem.code, message=problem.message)


@strawberry.type
class ReviewMutation:
    @mutation(OPEN, description="Record a review; its enrollment's cycle restarts from it.")
    async def record_review(self, info: Info, input: RecordReviewInput) -> ReviewResult:
        context = info.context
        household_id = arguments.household_id("householdId", input.household_id)
        try:
            review, schedule = await reviews.record_review(
                context.sessions,
                context.principal,
                household_id=household_id,
                category=input.category,
                reviewed_on=input.reviewed_on,
                outcome=input.outcome,
                monthly_amount=input.monthly_amount,
                note=input.note,
                version=input.version,
                reach=context.reach,
                now=context.now,
                today=context.today,
            )
        except ReviewProblem as problem:
            return _problem(info, problem)
        context.access.saw(household_id, "reviews")
        return ReviewPayload(
            review=cast(RecordedReview, review), schedule=cast(ScheduledReview, schedule)
        )

    @mutation(
        OPEN, description="Record a change (主动报告); the household's next review comes forward."
    )
    async def report_change(self, info: Info, input: ReportChangeInput) -> ChangeReportResult:
        context = info.context
        household_id = arguments.household_id("householdId", input.household_id)
        try:
            report, schedule = await reviews.report_change(
                context.sessions,
                context.principal,
                household_id=household_id,
                kind=input.kind,
                occurred_on=input.occurred_on,
                reported_by=input.reported_by,
                note=input.note,
                idempotency_key=input.idempotency_key,
                reach=context.reach,
                now=context.now,
                today=context.today,
                rules=context.households.rules,
            )
        except ReviewProblem as problem:
            return _problem(info, problem)
        context.access.saw(household_id, "reviews")
        return ChangeReportPayload(
            report=cast(ChangeReport, report), reviews=cast(list[ScheduledReview], schedule)
        )
