"""Messages from partner hubs in the schema (跨区域转移), for partner hubs only, through
the partner API: ``receiveCaseTransfer`` (a transfer to this region) and
``receiveTransferDecision`` (the decision on one this hub sent). Each is taken once per
message ID (``hub.partners.receipts``); a message that is not whole, or names a transfer
not sent to that partner, is answered with a code and changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from adapters.vocabulary import AssistanceCategory
from hub.auth.principal import ClientKind
from hub.partners import receipts
from hub.partners.receipts import MessageCode, MessageProblem
from hub.partners.tokens import PartnerCaller
from hub.partners.transfers import TransferState
from schema import arguments
from schema.context import Info
from schema.enums import described
from schema.errors import HubError
from schema.policy import Mark, field, mutation
from schema.transfers import PART

_PARTNER = Mark(open=True, kinds=frozenset({ClientKind.PARTNER}))

described(
    MessageCode,
    "Why a partner hub's message was not taken.",
    {
        "INVALID_MESSAGE": "The message is incomplete or malformed.",
        "TRANSFER_NOT_FOUND": "It names a transfer this hub did not send to that region.",
        "ILLEGAL_TRANSITION": "The transfer was decided otherwise already.",
    },
    name="PartnerMessageErrorCode",
)


def _partner(info: Info) -> PartnerCaller:
    caller = getattr(info.context.request.state, "partner", None)
    if not isinstance(caller, PartnerCaller):
        info.context.access.refuse("FORBIDDEN")
        raise HubError("Partner hubs send this through the partner API only.", "FORBIDDEN")
    return caller


@strawberry.input(description="An assistance category and since when.")
class CrossRegionCategoryInput:
    category: AssistanceCategory = strawberry.field(description="The category.")
    since: date = strawberry.field(description="When the enrollment began.")


@strawberry.input(description="A transfer from a partner hub's outbox.")
class ReceiveCaseTransferInput:
    message_id: strawberry.ID = strawberry.field(description="The message's ID (once only).")
    transfer_id: strawberry.ID = strawberry.field(description="The sender's transfer ID.")
    household_id: strawberry.ID = strawberry.field(description="The sender's household ID.")
    reason: str = strawberry.field(description="Why the household moves.")
    moved_on: date | None = strawberry.field(default=None, description="The day of the move.")
    member_id_numbers: list[str] = strawberry.field(description="The members' ID numbers.")
    categories: list[CrossRegionCategoryInput] = strawberry.field(
        description="The household's active categories at the sender, and since when."
    )


@strawberry.input(description="A decision from a partner hub's outbox.")
class ReceiveTransferDecisionInput:
    message_id: strawberry.ID = strawberry.field(description="The message's ID (once only).")
    transfer_id: strawberry.ID = strawberry.field(description="This hub's transfer ID.")
    decision: TransferState = strawberry.field(description="ACCEPTED or DECLINED.")
    note: str | None = strawberry.field(default=None, description="The receiver's note.")
    decided_at: datetime | None = strawberry.field(default=None, description="When decided.")


@strawberry.type(description="A partner hub's message, taken.")
class PartnerReceipt:
    message_id: strawberry.ID = field(_PARTNER, description="The message taken.")
    duplicate: bool = field(_PARTNER, description="Whether it had been taken before.")


@strawberry.type(description="Why a partner hub's message was not taken.")
class PartnerMessageError:
    code: MessageCode = field(_PARTNER, description="What is wrong with it.")
    message: str = field(_PARTNER, description="The same, in words.")


PartnerReceiptResult = Annotated[
    PartnerReceipt | PartnerMessageError,
    strawberry.union("PartnerReceiptResult", description="A message taken, or why not."),
]


@strawberry.type
class PartnerMessageMutation:
    @mutation(
        _PARTNER,
        description="For partner hubs, through the partner API: a transfer to this region. "
        "Taken once per message ID; the same message again changes nothing.",
    )
    async def receive_case_transfer(
        self, info: Info, input: ReceiveCaseTransferInput
    ) -> PartnerReceiptResult:
        caller = _partner(info)
        try:
            fresh = await receipts.receive_transfer(
                info.context.sessions,
                caller.region,
                message_id=str(input.message_id),
                transfer_id=str(input.transfer_id),
                household_id=str(input.household_id),
                reason=input.reason,
                moved_on=input.moved_on,
                member_id_numbers=[
                    arguments.id_number(f"memberIdNumbers[{i}]", v)
                    for i, v in enumerate(input.member_id_numbers)
                ],
                categories=[(c.category, c.since) for c in input.categories],
                now=info.context.now,
            )
        except MessageProblem as problem:
            return PartnerMessageError(code=problem.code, message=problem.message)
        return PartnerReceipt(message_id=input.message_id, duplicate=not fresh)

    @mutation(
        _PARTNER,
        description="For partner hubs, through the partner API: the decision on a transfer "
        "this hub sent. Taken once per message ID.",
    )
    async def receive_transfer_decision(
        self, info: Info, input: ReceiveTransferDecisionInput
    ) -> PartnerReceiptResult:
        caller = _partner(info)
        try:
            fresh, household_id = await receipts.receive_decision(
                info.context.sessions,
                caller.region,
                message_id=str(input.message_id),
                transfer_id=str(input.transfer_id),
                decision=input.decision,
                note=input.note,
                decided_at=input.decided_at,
                now=info.context.now,
            )
        except MessageProblem as problem:
            info.context.access.noted(problem, PART)
            return PartnerMessageError(code=problem.code, message=problem.message)
        if household_id:
            info.context.access.saw(household_id, PART)
        return PartnerReceipt(message_id=input.message_id, duplicate=not fresh)
