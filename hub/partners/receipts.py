"""Messages from partner hubs, each taken once (by the sender's region and message ID):
a transfer to this region, which becomes an incoming transfer for its caseworkers
(``receive_transfer``), and the decision on a transfer this hub sent (``receive_decision``).

A message is the sender's: its message and transfer IDs are looked up within the sender's
region only, so one partner can neither replay nor probe another's. A message that is not
whole is refused with a code the sender's outbox keeps (``MessageCode``).
"""

from __future__ import annotations

import enum
import json
import re
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.vocabulary import AssistanceCategory, is_household_id
from hub.db.partners import CaseTransfer, ReceivedMessage
from hub.partners.transfers import MAX_TEXT, TransferDirection, TransferState
from hub.problems import Problem

MAX_MEMBERS = 50  # members of one household in a message from a partner hub
# A partner hub's message and transfer IDs (UUIDs in this software): kept as given.
MESSAGE_KEY = re.compile(r"[A-Za-z0-9_-]{1,36}")


class MessageCode(enum.Enum):
    """Why a partner hub's message was not taken (answered to the partner)."""

    INVALID_MESSAGE = "INVALID_MESSAGE"
    TRANSFER_NOT_FOUND = "TRANSFER_NOT_FOUND"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"


class MessageProblem(Problem[MessageCode]):
    pass


async def _take(session: AsyncSession, region: str, message_id: str, now: datetime) -> bool:
    """Note a partner's message as taken; False if it was taken before (nothing to do)."""
    try:
        async with session.begin_nested():
            session.add(
                ReceivedMessage(partner_region=region, message_id=message_id, received_at=now)
            )
    except IntegrityError:
        return False
    return True


async def receive_transfer(
    sessions: async_sessionmaker[AsyncSession],
    region: str,
    *,
    message_id: str,
    transfer_id: str,
    household_id: str,
    reason: str,
    moved_on: date | None,
    member_id_numbers: list[str],
    categories: list[tuple[AssistanceCategory, date]],
    now: datetime,
) -> bool:
    """Take a partner's transfer request as an incoming transfer, once per message ID;
    False for a message taken before."""
    if (
        not MESSAGE_KEY.fullmatch(message_id)
        or not MESSAGE_KEY.fullmatch(transfer_id)
        or not is_household_id(household_id)
        or not reason.strip()
        or len(reason) > MAX_TEXT
        or not 1 <= len(member_id_numbers) <= MAX_MEMBERS
        or len(categories) > len(AssistanceCategory)
    ):
        raise MessageProblem(MessageCode.INVALID_MESSAGE, "the transfer is not complete")
    async with sessions.begin() as session:
        if not await _take(session, region, message_id, now):
            return False
        known = await session.scalar(
            select(CaseTransfer.id).where(
                CaseTransfer.partner_region == region, CaseTransfer.remote_id == transfer_id
            )
        )
        if known is not None:
            return False  # the same transfer in another message: taken already
        session.add(
            CaseTransfer(
                id=str(uuid.uuid4()),
                direction=TransferDirection.INCOMING.value,
                partner_region=region,
                remote_id=transfer_id,
                household_id=None,
                partner_household_id=household_id,
                state=TransferState.REQUESTED.value,
                reason=reason.strip(),
                moved_on=moved_on,
                members=json.dumps(member_id_numbers),
                categories=json.dumps(
                    [{"category": c.value, "since": s.isoformat()} for c, s in categories]
                ),
                note=None,
                requested_by=None,
                decided_by=None,
                decided_at=None,
                created_at=now,
                updated_at=now,
            )
        )
    return True


async def receive_decision(
    sessions: async_sessionmaker[AsyncSession],
    region: str,
    *,
    message_id: str,
    transfer_id: str,
    decision: TransferState,
    note: str | None,
    decided_at: datetime | None = None,
    now: datetime,
) -> tuple[bool, str | None]:
    """Take a partner's decision on a transfer this hub sent it, once per message ID:
    (whether it was new, the household it concerns)."""
    if decision is TransferState.REQUESTED or (note is not None and len(note) > MAX_TEXT):
        raise MessageProblem(MessageCode.INVALID_MESSAGE, "the decision is not complete")
    if not MESSAGE_KEY.fullmatch(message_id) or not MESSAGE_KEY.fullmatch(transfer_id):
        raise MessageProblem(MessageCode.INVALID_MESSAGE, "the decision is not complete")
    async with sessions.begin() as session:
        transfer = await session.scalar(
            select(CaseTransfer).where(
                CaseTransfer.id == transfer_id,
                CaseTransfer.direction == TransferDirection.OUTGOING.value,
            )
        )
        if transfer is None or transfer.partner_region != region:
            # A transfer sent to another region answers as one that does not exist; the
            # audit log names its household as refused.
            raise MessageProblem(
                MessageCode.TRANSFER_NOT_FOUND,
                "no such transfer sent to you",
                denied=transfer.household_id if transfer is not None else None,
            )
        if not await _take(session, region, message_id, now):
            return False, transfer.household_id
        if transfer.state == decision.value:
            return False, transfer.household_id
        if transfer.state != TransferState.REQUESTED.value:
            raise MessageProblem(
                MessageCode.ILLEGAL_TRANSITION, f"the transfer is {transfer.state.lower()}"
            )
        transfer.state = decision.value
        transfer.note = note
        # When the partner's caseworker decided, as it says, but never in the future.
        if decided_at is not None and decided_at.tzinfo is None:
            decided_at = decided_at.replace(tzinfo=UTC)
        transfer.decided_at = min(decided_at, now) if decided_at is not None else now
        transfer.updated_at = now
    return True, transfer.household_id
