"""Case transfers between regions (跨区域转移) in the schema.

For caseworkers: ``requestCaseTransfer``, ``acceptCaseTransfer``, ``declineCaseTransfer``
and the ``caseTransfers`` connection (what partner hubs send is
``schema.partner_messages``). The states, reach, versions and the outbox are
``hub.partners.transfers``'s and ``hub.partners.outbox``'s. Transfer data is
civil-affairs data, for agencies only: states and dates at SUMMARY, free text (reason,
note) at FULL, members' ID numbers as ID numbers.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import date, datetime
from typing import Annotated

import strawberry

from adapters.vocabulary import Source
from hub.auth.principal import ClientKind
from hub.db.partners import CaseTransfer as TransferRow
from hub.partners import transfers
from hub.partners.transfers import (
    DeliveryState,
    MessageKind,
    TransferDirection,
    TransferErrorCode,
    TransferProblem,
    TransferState,
    TransferView,
)
from schema import arguments
from schema.context import Context, Info
from schema.enums import described
from schema.errors import HubError, bad_input
from schema.pagination import PageInfo, moment, open_cursor, seal_cursor
from schema.partners import CrossRegionCategory
from schema.policy import ID_NUMBER, OPEN, F, Mark, S, field, mutation, section

AGENCIES = frozenset({ClientKind.AGENCY})
_S = Mark(level=S, kinds=AGENCIES)
_F = Mark(level=F, kinds=AGENCIES)
PART = "transfers"  # the part of a household the audit log names
CURSORS = "transfers"  # its cursors' kind: good for no other list

described(
    TransferState,
    "Where a case transfer stands (转移状态).",
    {
        "REQUESTED": "待接收: requested, waiting for the receiving region's answer.",
        "ACCEPTED": "已接收: the receiving region took the case on.",
        "DECLINED": "不予接收: the receiving region declined it, with a note.",
    },
)
described(
    TransferDirection,
    "Transfers as this hub sees them.",
    {
        "OUTGOING": "From this hub's households to a partner region.",
        "INCOMING": "From a partner region to this one.",
    },
)
described(
    DeliveryState,
    "Whether a message reached the partner hub.",
    {
        "PENDING": "Not taken yet: tried again after a backoff.",
        "DELIVERED": "Taken by the partner hub.",
        "REJECTED": "Read and refused for good by the partner hub (`lastError` says why).",
    },
    name="TransferDeliveryState",
)
described(
    MessageKind,
    "What a message between hubs carries.",
    {
        "TRANSFER_REQUEST": "A transfer, from the sending hub.",
        "TRANSFER_DECISION": "The receiving region's decision, back to the sender.",
    },
    name="TransferMessageKind",
)
described(
    TransferErrorCode,
    "Why a transfer could not be made or changed.",
    {
        "NOT_ALLOWED": "Only civil-affairs caseworkers handle transfers.",
        "HOUSEHOLD_NOT_FOUND": "No such household within the caller's reach.",
        "TRANSFER_NOT_FOUND": "No such transfer within the caller's reach.",
        "UNKNOWN_REGION": "Not a partner region this hub sends to.",
        "ALREADY_REQUESTED": "The household has a transfer waiting for an answer.",
        "ILLEGAL_TRANSITION": "The transfer was decided already.",
        "CONFLICT": "Someone changed the transfer since it was read; read it again.",
        "INVALID_REASON": "The reason is empty or too long.",
        "INVALID_NOTE": "The note is too long, or missing where a decline needs one.",
    },
)


@strawberry.type(description="One message of a transfer to the partner hub, and its delivery.")
class TransferMessage:
    kind: MessageKind = field(_S, description="What it carries.")
    state: DeliveryState = field(_S, description="Whether it reached the partner hub.")
    attempts: int = field(_S, description="Delivery attempts so far.")
    next_attempt_at: datetime | None = field(_S, description="When it is tried next (PENDING).")
    last_error: str | None = field(_S, description="Why the last attempt failed, as a code.")
    delivered_at: datetime | None = field(_S, description="When the partner hub took it.")


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(description="跨区域转移: a household's case moving between regions.")
class CaseTransfer:
    view: strawberry.Private[TransferView]

    @property
    def row(self) -> TransferRow:
        return self.view.row

    @field(_S, description="Transfer ID (this hub's).")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.row.id)

    @field(_S, description="Outgoing (from here) or incoming (from a partner region).")
    def direction(self) -> TransferDirection:
        return TransferDirection(self.row.direction)

    @field(_S, description="The partner region it goes to or comes from, e.g. JS.")
    def region(self) -> str:
        return self.row.partner_region

    @field(_S, description="This hub's household (outgoing transfers).")
    def household_id(self) -> strawberry.ID | None:
        return strawberry.ID(self.row.household_id) if self.row.household_id else None

    @field(_S, description="The sending region's household ID (incoming transfers).")
    def partner_household_id(self) -> str | None:
        return self.row.partner_household_id

    @field(_S, description="Where it stands.")
    def state(self) -> TransferState:
        return TransferState(self.row.state)

    @field(_F, description="Why the household moves (free text).")
    def reason(self) -> str:
        return self.row.reason

    @field(_S, description="The day of the move, if given.")
    def moved_on(self) -> date | None:
        return self.row.moved_on

    @field(
        Mark(level=S, value=ID_NUMBER, kinds=AGENCIES),
        description="The members' ID numbers, the key both regions' systems share.",
    )
    def member_id_numbers(self) -> list[str]:
        return self.view.member_id_numbers

    @field(_S, description="The household's active categories when it was sent, and since.")
    def categories(self) -> list[CrossRegionCategory]:
        return [CrossRegionCategory(category=c, since=s) for c, s in self.view.categories]

    @field(_F, description="The receiving caseworker's note (a decline says why).")
    def note(self) -> str | None:
        return self.row.note

    @field(_S, description="When it was made (or received).")
    def created_at(self) -> datetime:
        return self.row.created_at

    @field(_S, description="When it was decided.")
    def decided_at(self) -> datetime | None:
        return self.row.decided_at

    @field(_S, description="Version, to change only what was read (乐观锁).")
    def version(self) -> int:
        return self.row.version

    @field(_S, description="This hub's messages about it to the partner hub, oldest first.")
    def messages(self) -> list[TransferMessage]:
        return [
            TransferMessage(
                kind=MessageKind(m.kind),
                state=DeliveryState(m.state),
                attempts=m.attempts,
                next_attempt_at=m.next_attempt_at if m.state == "PENDING" else None,
                last_error=m.last_error,
                delivered_at=m.delivered_at,
            )
            for m in self.view.messages
        ]


@strawberry.type(description="A transfer in a list, with its cursor.")
class CaseTransferEdge:
    cursor: str = field(OPEN, description="Pass as `after` to continue after this one.")
    node: CaseTransfer = field(OPEN, description="The transfer.")


@strawberry.type(description="A page of transfers, newest first (Relay connection).")
class CaseTransferConnection:
    edges: list[CaseTransferEdge] = field(OPEN, description="The transfers of this page.")
    page_info: PageInfo = field(OPEN, description="Where this page stands.")
    total_count: int = field(OPEN, description="How many transfers the list holds.")


@strawberry.type(description="The transfer as made or changed.")
class CaseTransferPayload:
    transfer: CaseTransfer = field(OPEN, description="The transfer.")


@strawberry.type(description="Why the transfer could not be made or changed.")
class CaseTransferError:
    code: TransferErrorCode = field(OPEN, description="What went wrong.")
    message: str = field(OPEN, description="The same, in words.")


CaseTransferResult = Annotated[
    CaseTransferPayload | CaseTransferError,
    strawberry.union("CaseTransferResult", description="A transfer, or why there is none."),
]


@strawberry.input(description="A household to transfer to a partner region (跨区域转移).")
class RequestCaseTransferInput:
    household_id: strawberry.ID = strawberry.field(description="The household (this hub's).")
    to_region: str = strawberry.field(description="The partner region it moves to, e.g. JS.")
    reason: str = strawberry.field(description="Why (at most 2000 characters).")
    moved_on: date | None = strawberry.field(default=None, description="The day of the move.")


@strawberry.input(description="The receiving region's answer to an incoming transfer.")
class DecideCaseTransferInput:
    id: strawberry.ID = strawberry.field(description="The transfer.")
    version: int = strawberry.field(description="The version read.")
    note: str | None = strawberry.field(
        default=None, description="What the caseworker says; required to decline."
    )


@strawberry.type
class TransferQuery:
    @field(
        OPEN,
        description="跨区域转移: transfers the caller may see, newest first (civil-affairs "
        "caseworkers: outgoing ones of households in reach; incoming ones city-level).",
    )
    async def case_transfers(
        self,
        info: Info,
        direction: Annotated[
            TransferDirection | None, strawberry.argument(description="Omit for both.")
        ] = None,
        state: Annotated[
            TransferState | None, strawberry.argument(description="Only those in this state.")
        ] = None,
        first: Annotated[int, strawberry.argument(description="How many, at most.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="The `endCursor` of the page before.")
        ] = None,
    ) -> CaseTransferConnection:
        context = info.context
        try:
            transfers.caseworker(context.principal)
        except TransferProblem:
            context.access.refuse("FORBIDDEN")
            raise HubError(
                "Only civil-affairs caseworkers see transfers.", "FORBIDDEN", field="caseTransfers"
            ) from None
        limit = context.settings.max_page_size
        if not 1 <= first <= limit:
            raise bad_input("first", f"must be between 1 and {limit}")
        where = transfers.TransferFilter(direction=direction, state=state)
        position = _position(context, after) if after is not None else None
        found, more = await transfers.page(
            context.sessions,
            where,
            first=first,
            after=position,
            reach=context.reach,
            now=context.now,
        )
        total = await transfers.count(context.sessions, where, reach=context.reach, now=context.now)
        context.access.listed([], counted=True)
        for view in found:
            if view.row.household_id:
                context.access.saw(view.row.household_id, PART)
        edges = [
            CaseTransferEdge(cursor=_cursor(context, v.row), node=CaseTransfer(view=v))
            for v in found
        ]
        return CaseTransferConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=more,
                has_previous_page=after is not None,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
            total_count=total,
        )


def _cursor(context: Context, row: TransferRow) -> str:
    return seal_cursor(context, CURSORS, row.created_at.isoformat(), row.id)


def _position(context: Context, cursor: str) -> tuple[datetime, str]:
    at, transfer_id = open_cursor(context, CURSORS, cursor, parts=2)
    return moment(at), transfer_id


async def _changed(info: Info, change: Awaitable[TransferRow]) -> CaseTransferResult:
    access = info.context.access
    try:
        row = await change
    except TransferProblem as problem:
        access.noted(problem, PART, refused=problem.code is TransferErrorCode.NOT_ALLOWED)
        return CaseTransferError(code=problem.code, message=problem.message)
    if row.household_id:
        access.saw(row.household_id, PART)
    view = await transfers.read(info.context.sessions, row.id)
    assert view is not None
    return CaseTransferPayload(transfer=CaseTransfer(view=view))


@strawberry.type
class TransferMutation:
    @mutation(
        OPEN,
        description="跨区域转移: ask for a household in reach to be transferred to a partner "
        "region; delivered to its hub through the outbox (civil-affairs caseworkers).",
    )
    async def request_case_transfer(
        self, info: Info, input: RequestCaseTransferInput
    ) -> CaseTransferResult:
        context = info.context
        return await _changed(
            info,
            transfers.request(
                context.sessions,
                context.principal,
                household_id=arguments.household_id("householdId", input.household_id),
                to_region=input.to_region,
                reason=input.reason,
                moved_on=input.moved_on,
                reach=context.reach,
                own_region=context.settings.region,
                now=context.now,
            ),
        )

    @mutation(OPEN, description="Accept an incoming transfer; the sending hub is told.")
    async def accept_case_transfer(
        self, info: Info, input: DecideCaseTransferInput
    ) -> CaseTransferResult:
        return await _decide(info, input, accept=True)

    @mutation(OPEN, description="Decline an incoming transfer, saying why; the sender is told.")
    async def decline_case_transfer(
        self, info: Info, input: DecideCaseTransferInput
    ) -> CaseTransferResult:
        return await _decide(info, input, accept=False)


async def _decide(
    info: Info, input: DecideCaseTransferInput, *, accept: bool
) -> CaseTransferResult:
    context = info.context
    return await _changed(
        info,
        transfers.decide(
            context.sessions,
            context.principal,
            transfer_id=str(input.id),
            version=input.version,
            accept=accept,
            note=input.note,
            reach=context.reach,
            now=context.now,
        ),
    )
