"""Referrals between departments (转介, 一门受理、协同办理): the types and the inbox.

The state machine, reach and versions are ``hub.coordination.referrals``'s, reading is
``hub.coordination.referral_lists``'s, the mutations are in ``referral_mutations``.
Referral data is coordination data kept with civil affairs: its fields are marked in that
section, flags, states and dates at ``SUMMARY``, free text (reasons, notes, outcomes,
which may carry personal details) at ``FULL``, and for agencies only, so that the policy
table, purpose included, decides what is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

import strawberry

from adapters.vocabulary import Source
from hub.auth.principal import ClientKind
from hub.coordination import referral_lists, referrals
from hub.coordination.referral_lists import Position, ReferralFilter, ReferralPage, Step
from hub.coordination.referrals import ReferralDirection, ReferralState
from hub.db.coordination import Referral as ReferralRow
from schema.context import Context, Info
from schema.enums import described
from schema.errors import HubError, bad_input
from schema.pagination import PageInfo, moment, open_cursor, read_once, seal_cursor
from schema.policy import OPEN, F, Mark, S, field, section

AGENCIES = frozenset({ClientKind.AGENCY})
_S = Mark(level=S, kinds=AGENCIES)
_F = Mark(level=F, kinds=AGENCIES)
# What ``Household.referrals`` carries: referral data, for agencies only.
REFERRALS = _S
CURSORS = "referrals"  # its cursors' kind: good for no other list
PART = "referrals"  # the part of a household the audit log names

described(
    ReferralState,
    "Where a referral stands (转介状态).",
    {
        "REQUESTED": "待受理: made, waiting for the receiving department's answer.",
        "ACCEPTED": "已受理: accepted by the receiving department, being handled.",
        "DECLINED": "不予受理: declined by the receiving department, with a note.",
        "COMPLETED": "已办结: handled, with an outcome.",
        "WITHDRAWN": "已撤回: withdrawn by the referring department before an answer.",
    },
)
described(
    ReferralDirection,
    "Referrals as the caller's department sees them.",
    {
        "INCOMING": "Referred to the caller's department.",
        "OUTGOING": "Referred by the caller's department.",
    },
)


@dataclass
class Batch:
    """The referrals of one answer: their histories are read together, when first asked."""

    context: Context
    ids: list[str]

    @read_once
    async def history(self) -> dict[str, list[Step]]:
        return await referral_lists.history(self.context.sessions, self.ids)


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(description="One step of a referral: who moved it, when, from which state.")
class ReferralEvent:
    step: strawberry.Private[Step]

    @field(_S, description="When.")
    def at(self) -> datetime:
        return self.step.at

    @field(_S, description="The client that took the step.")
    def client_id(self) -> strawberry.ID:
        return strawberry.ID(self.step.client_id)

    @field(_S, description="That client's name; null once the client is deleted.")
    def client_name(self) -> str | None:
        return self.step.client_name

    @field(_S, description="The department it acted for.")
    def department(self) -> Source | None:
        return self.step.department

    @field(_S, description="The state before; null for the step that made the referral.")
    def from_state(self) -> ReferralState | None:
        return self.step.from_state

    @field(_S, description="The state after.")
    def to_state(self) -> ReferralState:
        return self.step.to_state

    @field(_F, description="What the department said (free text).")
    def note(self) -> str | None:
        return self.step.note


@section(Source.CIVIL_AFFAIRS)
@strawberry.type(description="转介: one department asking another to act for a household.")
class Referral:
    row: strawberry.Private[ReferralRow]
    batch: strawberry.Private[Batch]

    @field(_S, description="Referral ID.")
    def id(self) -> strawberry.ID:
        return strawberry.ID(self.row.id)

    @field(_S, description="The household referred.")
    def household_id(self) -> strawberry.ID:
        return strawberry.ID(self.row.household_id)

    @field(_S, description="The department that referred it.")
    def from_department(self) -> Source:
        return Source(self.row.from_department)

    @field(_S, description="The department asked to act.")
    def to_department(self) -> Source:
        return Source(self.row.to_department)

    @field(_F, description="Why it was referred (free text).")
    def reason(self) -> str | None:
        return self.row.reason

    @field(_S, description="The proactive-discovery alert it answers (主动发现), if any.")
    def alert_id(self) -> strawberry.ID | None:
        return strawberry.ID(self.row.alert_id) if self.row.alert_id else None

    @field(_S, description="Where it stands.")
    def state(self) -> ReferralState:
        return ReferralState(self.row.state)

    @field(_S, description="The day by which the receiving department answers (working days).")
    def response_due_on(self) -> date:
        return self.row.response_due_on

    @field(_S, description="The day by which an accepted referral is completed.")
    def completion_due_on(self) -> date | None:
        return self.row.completion_due_on

    @field(_S, description="Whether the answer or the completion it waits for is late today.")
    def overdue(self, info: Info) -> bool:
        return referrals.is_overdue(self.row, info.context.today)

    @field(_F, description="What came of it, once completed (free text).")
    def outcome(self) -> str | None:
        return self.row.outcome

    @field(_S, description="When it was made.")
    def created_at(self) -> datetime:
        return self.row.created_at

    @field(_S, description="When it last changed.")
    def updated_at(self) -> datetime:
        return self.row.updated_at

    @field(_S, description="Version, to change only what was read (乐观锁).")
    def version(self) -> int:
        return self.row.version

    @field(
        _S,
        description="Every step it took, oldest first (at most three, so not a connection).",
    )
    async def history(self) -> list[ReferralEvent]:
        steps = (await self.batch.history()).get(self.row.id, [])
        return [ReferralEvent(step=s) for s in steps]


@strawberry.type(description="A referral in a list, with its cursor.")
class ReferralEdge:
    cursor: str = field(
        OPEN,
        description="Pass as `after` to continue after this one; opaque, and good only for "
        "the client it was given to.",
    )
    node: Referral = field(OPEN, description="The referral.")


@dataclass
class ReferralListing:
    """One list of referrals: its filter and page, each read once, when first asked."""

    context: Context
    where: ReferralFilter
    first: int
    after: Position | None

    @read_once
    async def page(self) -> ReferralPage:
        context = self.context
        found = await referral_lists.page(
            context.sessions,
            self.where,
            first=self.first,
            after=self.after,
            reach=context.reach,
            now=context.now,
        )
        for row in found.referrals:
            context.access.saw(row.household_id, PART)
        return found

    @read_once
    async def count(self) -> int:
        context = self.context
        if self.where.household_id is None:  # an inbox's count: an aggregate access
            _listed(context, counted=True)
        return await referral_lists.count(
            context.sessions, self.where, reach=context.reach, now=context.now
        )


@strawberry.type(description="A page of referrals, newest first (Relay connection).")
class ReferralConnection:
    listing: strawberry.Private[ReferralListing]

    @field(OPEN, description="The referrals of this page.")
    async def edges(self, info: Info) -> list[ReferralEdge]:
        found = await self.listing.page()
        batch = Batch(info.context, [row.id for row in found.referrals])
        return [
            ReferralEdge(cursor=_cursor(info.context, row), node=Referral(row=row, batch=batch))
            for row in found.referrals
        ]

    @field(OPEN, description="Where this page stands.")
    async def page_info(self, info: Info) -> PageInfo:
        found = await self.listing.page()
        cursors = [_cursor(info.context, row) for row in found.referrals]
        return PageInfo(
            has_next_page=found.has_next_page,
            has_previous_page=self.listing.after is not None,
            start_cursor=cursors[0] if cursors else None,
            end_cursor=cursors[-1] if cursors else None,
        )

    @field(OPEN, description="How many referrals the list holds.")
    async def total_count(self) -> int:
        return await self.listing.count()


def household_referrals(
    info: Info, household_id: str, *, first: int, after: str | None
) -> ReferralConnection | None:
    """``Household.referrals``: those to or from the caller's department, newest first."""
    context = info.context
    department = context.principal.department
    if context.principal.kind is not ClientKind.AGENCY or department is None:
        return None  # the policy withholds the field from everyone else first
    where = ReferralFilter(department, household_id=household_id)
    listing = _listing(context, where, first, after)
    context.access.saw(household_id, PART)
    return ReferralConnection(listing=listing)


@strawberry.type
class ReferralQuery:
    @field(
        OPEN,
        description="转介: the referrals of the caller's department, newest first (agencies only).",
    )
    async def referrals(
        self,
        info: Info,
        direction: Annotated[
            ReferralDirection | None,
            strawberry.argument(description="To or from the caller's department; omit for both."),
        ] = None,
        state: Annotated[
            ReferralState | None, strawberry.argument(description="Only those in this state.")
        ] = None,
        first: Annotated[int, strawberry.argument(description="How many, at most.")] = 20,
        after: Annotated[
            str | None, strawberry.argument(description="The `endCursor` of the page before.")
        ] = None,
    ) -> ReferralConnection:
        context = info.context
        department = context.principal.department
        if context.principal.kind is not ClientKind.AGENCY or department is None:
            context.access.refuse("FORBIDDEN")
            raise HubError("Only agencies have referrals.", "FORBIDDEN", field="referrals")
        where = ReferralFilter(department, direction=direction, state=state)
        listing = _listing(context, where, first, after)
        _listed(context)
        return ReferralConnection(listing=listing)


def _listing(
    context: Context, where: ReferralFilter, first: int, after: str | None
) -> ReferralListing:
    limit = context.settings.max_page_size
    if not 1 <= first <= limit:
        raise bad_input("first", f"must be between 1 and {limit}")
    position = _position(context, after) if after is not None else None
    return ReferralListing(context=context, where=where, first=first, after=position)


def _listed(context: Context, *, counted: bool = False) -> None:
    """A list of referrals: recorded as a listing, keeping a filter another list set."""
    access = context.access
    access.listed(list((access.listing or {}).items()), counted=counted)


def _cursor(context: Context, row: ReferralRow) -> str:
    """An opaque cursor, sealed for this client: it names no referral."""
    return seal_cursor(context, CURSORS, row.created_at.isoformat(), row.id)


def _position(context: Context, cursor: str) -> Position:
    at, referral_id = open_cursor(context, CURSORS, cursor, parts=2)
    return moment(at), referral_id
