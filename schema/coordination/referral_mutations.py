"""Referrals between departments: the mutations, each in one transaction, each answering
with the referral or a typed error, and each audited (``schema.auditing`` marks every
mutation attempted; what it touched is noted here).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated

import strawberry

from adapters.vocabulary import Source
from hub.coordination import referrals
from hub.coordination.referrals import ReferralErrorCode, ReferralProblem, ReferralState
from hub.db.coordination import Referral as ReferralRow
from schema import arguments
from schema.context import Info
from schema.coordination.referrals import PART, Batch, Referral
from schema.enums import described
from schema.policy import OPEN, field, mutation

described(
    ReferralErrorCode,
    "Why a referral could not be made or changed.",
    {
        "NOT_ALLOWED": "Only agencies act on referrals, and each step only by the department "
        "it belongs to (answering and completing: the receiving one; withdrawing: the "
        "referring one).",
        "HOUSEHOLD_NOT_FOUND": "No such household within the caller's reach.",
        "REFERRAL_NOT_FOUND": "No such referral of the caller's department within its reach.",
        "ALERT_NOT_FOUND": "No such alert on this household.",
        "ALERT_NOT_ACTIVE": "The alert was resolved, dismissed or referred already.",
        "SAME_DEPARTMENT": "A department does not refer a household to itself.",
        "ILLEGAL_TRANSITION": "The referral's state does not allow this step "
        "(`fromState`, `toState`).",
        "CONFLICT": "Someone changed the referral since it was read; read it again.",
        "INVALID_REASON": "The reason is empty or too long.",
        "INVALID_NOTE": "The note is too long, or missing where a decline needs one.",
        "INVALID_OUTCOME": "The outcome is empty or too long.",
        "INVALID_IDEMPOTENCY_KEY": "The idempotency key is empty, too long or not printable.",
        "IDEMPOTENCY_KEY_REUSED": "The idempotency key was used for another referral.",
    },
)


@strawberry.type(description="The referral as made or changed.")
class ReferralPayload:
    referral: Referral = field(OPEN, description="The referral.")


@strawberry.type(description="Why the referral could not be made or changed.")
class ReferralError:
    code: ReferralErrorCode = field(OPEN, description="What went wrong.")
    message: str = field(OPEN, description="The same, in words.")
    from_state: ReferralState | None = field(
        OPEN, default=None, description="For an illegal transition: the referral's state."
    )
    to_state: ReferralState | None = field(
        OPEN, default=None, description="For an illegal transition: the state asked for."
    )


ReferralResult = Annotated[
    ReferralPayload | ReferralError,
    strawberry.union("ReferralResult", description="A referral, or why there is none."),
]


@strawberry.input(description="A household to refer to another department (转介).")
class ReferHouseholdInput:
    household_id: strawberry.ID = strawberry.field(description="The household.")
    to_department: Source = strawberry.field(description="The department asked to act.")
    reason: str = strawberry.field(description="Why (at most 2000 characters).")
    alert_id: strawberry.ID | None = strawberry.field(
        default=None, description="The open alert of this household the referral answers."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Chosen by the client (1-128 printable characters): a retry with the same "
        "key answers the referral made first; the same key for another referral is refused.",
    )


@strawberry.input(description="The receiving department's answer to a referral.")
class RespondToReferralInput:
    id: strawberry.ID = strawberry.field(description="The referral.")
    version: int = strawberry.field(description="The version read.")
    accept: bool = strawberry.field(description="Accept (受理) or decline (不予受理).")
    note: str | None = strawberry.field(
        default=None, description="What the department says; required to decline."
    )


@strawberry.input(description="An accepted referral, completed by the receiving department.")
class CompleteReferralInput:
    id: strawberry.ID = strawberry.field(description="The referral.")
    version: int = strawberry.field(description="The version read.")
    outcome: str = strawberry.field(description="What came of it (at most 2000 characters).")
    note: str | None = strawberry.field(default=None, description="A note on the step.")


@strawberry.input(description="A referral withdrawn by the department that made it.")
class WithdrawReferralInput:
    id: strawberry.ID = strawberry.field(description="The referral.")
    version: int = strawberry.field(description="The version read.")
    note: str | None = strawberry.field(default=None, description="Why, if it says.")


@strawberry.type
class ReferralMutation:
    @mutation(OPEN, description="转介: refer a household to another department, from the caller's.")
    async def refer_household(self, info: Info, input: ReferHouseholdInput) -> ReferralResult:
        context = info.context
        wanted = arguments.household_id("householdId", input.household_id)
        return await _changed(
            info,
            referrals.refer(
                context.sessions,
                context.principal,
                household_id=wanted,
                to_department=input.to_department,
                reason=input.reason,
                alert_id=str(input.alert_id) if input.alert_id is not None else None,
                idempotency_key=input.idempotency_key,
                reach=context.reach,
                rules=context.households.rules,
                now=context.now,
                today=context.today,
            ),
        )

    @mutation(OPEN, description="Accept or decline a referral to the caller's department.")
    async def respond_to_referral(
        self, info: Info, input: RespondToReferralInput
    ) -> ReferralResult:
        context = info.context
        return await _changed(
            info,
            referrals.respond(
                context.sessions,
                context.principal,
                referral_id=str(input.id),
                version=input.version,
                accept=input.accept,
                note=input.note,
                reach=context.reach,
                rules=context.households.rules,
                now=context.now,
                today=context.today,
            ),
        )

    @mutation(OPEN, description="Complete an accepted referral to the caller's department.")
    async def complete_referral(self, info: Info, input: CompleteReferralInput) -> ReferralResult:
        context = info.context
        return await _changed(
            info,
            referrals.complete(
                context.sessions,
                context.principal,
                referral_id=str(input.id),
                version=input.version,
                outcome=input.outcome,
                note=input.note,
                reach=context.reach,
                now=context.now,
            ),
        )

    @mutation(OPEN, description="Withdraw a referral the caller's department made, unanswered.")
    async def withdraw_referral(self, info: Info, input: WithdrawReferralInput) -> ReferralResult:
        context = info.context
        return await _changed(
            info,
            referrals.withdraw(
                context.sessions,
                context.principal,
                referral_id=str(input.id),
                version=input.version,
                note=input.note,
                reach=context.reach,
                now=context.now,
            ),
        )


async def _changed(info: Info, change: Awaitable[ReferralRow]) -> ReferralResult:
    """The referral as changed, or the typed error, with what the audit log keeps of it."""
    access = info.context.access
    try:
        row = await change
    except ReferralProblem as problem:
        access.noted(problem, PART, refused=problem.code is ReferralErrorCode.NOT_ALLOWED)
        return ReferralError(
            code=problem.code,
            message=problem.message,
            from_state=problem.from_state,
            to_state=problem.to_state,
        )
    access.saw(row.household_id, PART)
    return ReferralPayload(referral=Referral(row=row, batch=Batch(info.context, [row.id])))
