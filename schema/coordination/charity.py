"""Charity aid (慈善衔接): the needs charities match, and the aid they record through the hub.

``charityNeeds`` lists the households in the caller's reach with their needs (for a
charity: those with a live consent naming it, or any charity, for its purpose);
``recordCharityAid`` records aid a charity gave, once per idempotency key. What decides
both is in ``hub.coordination.charity_needs`` and ``hub.coordination.charity``; the types
of the needs are in ``schema.coordination.charity_needs``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, cast

import strawberry

from adapters.charity import CharityAidKind
from hub.coordination import charity
from hub.coordination.charity import (
    AidToRecord,
    CharityAidErrorCode,
    CharityAidProblem,
    GivenAid,
)
from schema import arguments
from schema.context import Info
from schema.coordination.charity_needs import CharityNeedConnection, NeedListing, after_id
from schema.enums import described
from schema.errors import bad_input
from schema.policy import OPEN, field, mutation
from schema.sections.charity import CharityAidGiven

PART = "charity"  # what recording aid discloses of a household: its charity section

described(
    CharityAidErrorCode,
    "Why charity aid could not be recorded.",
    {
        "NOT_ALLOWED": "Only charities record charity aid.",
        "HOUSEHOLD_NOT_FOUND": "No such household within the caller's reach (for a charity: "
        "no live consent to share with it).",
        "INVALID_AMOUNT": "The amount must be more than 0 yuan, with at most two decimals.",
        "INVALID_DATE": "The aid cannot have been given after today.",
        "INVALID_IDEMPOTENCY_KEY": "The key must be 1 to 128 printable characters, without "
        "leading or trailing spaces.",
        "INVALID_PROJECT_NAME": "The project name must be 1 to 128 printable characters.",
        "IDEMPOTENCY_KEY_REUSED": "The key was used before for other aid; use a new key for "
        "new aid (a retry must repeat the same content).",
    },
)


async def recorded_aid(info: Info, household_id: str) -> list[GivenAid]:
    """The aid recorded through the hub for a household in reach, batched per request."""
    return await info.context.loaders.charity_aid_by_household.load(household_id) or []


@strawberry.type(description="Charity aid as recorded through the hub.")
class CharityAidPayload:
    aid: CharityAidGiven = field(
        OPEN, description="The aid, as the household's charity section shows it (provenance HUB)."
    )
    household_id: strawberry.ID = field(OPEN, description="The household aided.")
    idempotency_key: str = field(OPEN, description="The key it was recorded under.")
    recorded_at: datetime = field(OPEN, description="When it was first recorded.")
    replayed: bool = field(
        OPEN,
        description="Whether an earlier request with this key recorded it: a retry answers "
        "the aid recorded first and records nothing more.",
    )


@strawberry.type(description="Why charity aid could not be recorded.")
class CharityAidError:
    code: CharityAidErrorCode = field(OPEN, description="What went wrong.")
    message: str = field(OPEN, description="The same, in words.")


CharityAidResult = Annotated[
    CharityAidPayload | CharityAidError,
    strawberry.union("CharityAidResult", description="Recorded charity aid, or why not."),
]


@strawberry.input(
    description="Aid a charity gave a household (慈善救助), to record through the hub."
)
class RecordCharityAidInput:
    household_id: strawberry.ID = strawberry.field(
        description="The household aided; it must have a live consent to share with you."
    )
    idempotency_key: str = strawberry.field(
        description="Your own key for this grant (e.g. a UUID), 1 to 128 characters: a retry "
        "with the same key and content records it once; the same key with other content is "
        "refused."
    )
    kind: CharityAidKind = strawberry.field(description="What was given.")
    amount: Decimal = strawberry.field(
        description="Amount or value in yuan, more than 0, at most two decimals."
    )
    given_on: date = strawberry.field(description="When it was given; not after today.")
    project_name: str = strawberry.field(description="The charity project, e.g. 慈善助学.")


@strawberry.type
class CharityQuery:
    @field(
        OPEN,
        description="慈善衔接: households in the caller's reach with their needs, in "
        "household-ID order (for a charity: those with a live consent to share with it). "
        "Needs are summaries, amounts are banded for charities, and no income is shown.",
    )
    async def charity_needs(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="How many, at most.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="The `endCursor` of the page before.")
        ] = None,
    ) -> CharityNeedConnection:
        context = info.context
        limit = context.settings.max_page_size
        if not 1 <= first <= limit:
            raise bad_input("first", f"must be between 1 and {limit}")
        start = after_id(context, after) if after is not None else None
        context.access.listed([])
        return CharityNeedConnection(listing=NeedListing(context=context, first=first, after=start))


@strawberry.type
class CharityMutation:
    @mutation(
        OPEN,
        description="慈善衔接: record aid a charity gave a consented household, once per "
        "idempotency key; it appears in the household's charity section (provenance HUB).",
    )
    async def record_charity_aid(
        self, info: Info, input: RecordCharityAidInput
    ) -> CharityAidResult:
        context = info.context
        household_id = arguments.household_id("householdId", input.household_id)
        try:
            recorded = await charity.record_aid(
                context.sessions,
                context.principal,
                aid=AidToRecord(
                    household_id=household_id,
                    kind=input.kind,
                    amount=input.amount,
                    given_on=input.given_on,
                    project_name=input.project_name,
                ),
                idempotency_key=input.idempotency_key,
                reach=context.reach,
                now=context.now,
                today=context.today,
            )
        except CharityAidProblem as problem:
            context.access.noted(
                problem, PART, refused=problem.code is CharityAidErrorCode.NOT_ALLOWED
            )
            return CharityAidError(code=problem.code, message=problem.message)
        context.access.saw(household_id, PART)
        return CharityAidPayload(
            aid=cast(CharityAidGiven, recorded.aid),
            household_id=strawberry.ID(recorded.household_id),
            idempotency_key=recorded.idempotency_key,
            recorded_at=recorded.recorded_at,
            replayed=recorded.replayed,
        )
