"""Case transfers between regions (跨区域转移): a household moves, its case goes with it.

A civil-affairs caseworker of this hub asks for a household in reach to be transferred to
a partner region (``request``): the transfer and the message that carries it to the
partner hub are written in one transaction (the outbox, ``hub.partners.outbox``), so
nothing is lost if the partner, or this hub, is down at that moment. The partner hub
takes the message once (``hub.partners.receipts``: by its message ID), and its
caseworkers accept or decline it (``decide``); the decision comes back the same way.

What crosses: the members' ID numbers (the key every region's systems already share),
the household's active categories and since when, the reason and the day of the move.
No names, amounts or addresses: the receiving region assesses the household itself.

Reach: an outgoing transfer is seen and made only by caseworkers whose reach holds its
household; incoming ones (which name no household of this hub) by city-level
civil-affairs caseworkers, those without an area limit. A transfer out of reach is not
found, exactly like one that does not exist. Changes carry the ``version`` read.
"""

from __future__ import annotations

import enum
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from adapters.vocabulary import AssistanceCategory, EnrollmentStatus, Source
from hub.auth.principal import ClientKind, Principal
from hub.db.models import IndexedEnrollment, IndexedHousehold
from hub.db.partners import CaseTransfer, OutboxMessage
from hub.households.reach import Reach, flag
from hub.partners import registry
from hub.problems import Problem

MAX_TEXT = 2000


class TransferState(enum.Enum):
    REQUESTED = "REQUESTED"  # sent (or on its way); waiting for the receiving region
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"


class TransferDirection(enum.Enum):
    OUTGOING = "OUTGOING"  # from this hub's households to a partner region
    INCOMING = "INCOMING"  # from a partner region to this one


class MessageKind(enum.Enum):
    TRANSFER_REQUEST = "TRANSFER_REQUEST"
    TRANSFER_DECISION = "TRANSFER_DECISION"


class DeliveryState(enum.Enum):
    PENDING = "PENDING"  # not yet taken by the partner hub: tried again after a backoff
    DELIVERED = "DELIVERED"
    REJECTED = "REJECTED"  # the partner hub read it and refused it for good


class TransferErrorCode(enum.Enum):
    NOT_ALLOWED = "NOT_ALLOWED"
    HOUSEHOLD_NOT_FOUND = "HOUSEHOLD_NOT_FOUND"
    TRANSFER_NOT_FOUND = "TRANSFER_NOT_FOUND"
    UNKNOWN_REGION = "UNKNOWN_REGION"
    ALREADY_REQUESTED = "ALREADY_REQUESTED"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    CONFLICT = "CONFLICT"
    INVALID_REASON = "INVALID_REASON"
    INVALID_NOTE = "INVALID_NOTE"


class TransferProblem(Problem[TransferErrorCode]):
    """A refusal of a transfer step."""


def caseworker(principal: Principal) -> None:
    """Transfers are civil affairs' work (民政), for its caseworkers only."""
    if principal.kind is not ClientKind.AGENCY or principal.department is not Source.CIVIL_AFFAIRS:
        raise TransferProblem(
            TransferErrorCode.NOT_ALLOWED, "only civil-affairs caseworkers handle transfers"
        )


def sees_incoming(reach: Reach) -> bool:
    """Incoming transfers name no household here: city-level caseworkers take them."""
    return not reach.nothing and reach.district is None and reach.street is None


def _text(value: str | None, code: TransferErrorCode, what: str, *, required: bool) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise TransferProblem(code, f"{what} is required")
    if len(text) > MAX_TEXT:
        raise TransferProblem(code, f"{what} is longer than {MAX_TEXT} characters")
    return text or None


@dataclass(frozen=True)
class TransferView:
    """A transfer as read, with the delivery of its messages."""

    row: CaseTransfer
    messages: tuple[OutboxMessage, ...]

    @property
    def member_id_numbers(self) -> list[str]:
        found: list[str] = json.loads(self.row.members)
        return found

    @property
    def categories(self) -> list[tuple[AssistanceCategory, date]]:
        return [
            (AssistanceCategory(c["category"]), date.fromisoformat(c["since"]))
            for c in json.loads(self.row.categories)
        ]


async def request(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    household_id: str,
    to_region: str,
    reason: str,
    moved_on: date | None,
    reach: Reach,
    own_region: str,
    now: datetime,
) -> CaseTransfer:
    """Ask for a household in reach to be transferred to ``to_region``: the transfer and
    its outbox message in one transaction. One query reads the household with its reach,
    so one out of reach costs what one that does not exist costs."""
    caseworker(principal)
    text = _text(reason, TransferErrorCode.INVALID_REASON, "the reason", required=True)
    query = select(
        IndexedHousehold.household_id,
        IndexedHousehold.member_ids,
        flag(reach, now).label("in_reach"),
    ).where(IndexedHousehold.household_id == household_id)
    async with sessions.begin() as session:
        found = (await session.execute(query)).first()
        if found is None or not found.in_reach:
            raise TransferProblem(
                TransferErrorCode.HOUSEHOLD_NOT_FOUND,
                "no such household",
                denied=household_id if found is not None else None,
                missing=household_id if found is None else None,
            )
        region = to_region.strip().upper()
        partner = (
            await registry.find(session, region) if registry.REGION.fullmatch(region) else None
        )
        if partner is None or region == own_region or not partner[0].url:
            raise TransferProblem(
                TransferErrorCode.UNKNOWN_REGION,
                f"{to_region!r} is not a partner region this hub sends to",
                seen=household_id,
            )
        open_already = await session.scalar(
            select(CaseTransfer.id).where(
                CaseTransfer.household_id == household_id,
                CaseTransfer.direction == TransferDirection.OUTGOING.value,
                CaseTransfer.state == TransferState.REQUESTED.value,
            )
        )
        if open_already is not None:
            raise TransferProblem(
                TransferErrorCode.ALREADY_REQUESTED,
                "the household has a transfer waiting for an answer",
                seen=household_id,
            )
        categories = [
            {"category": category, "since": since.isoformat()}
            for category, since in await session.execute(
                select(IndexedEnrollment.category, IndexedEnrollment.since)
                .where(
                    IndexedEnrollment.household_id == household_id,
                    IndexedEnrollment.status == EnrollmentStatus.ACTIVE.value,
                )
                .order_by(IndexedEnrollment.category)
            )
        ]
        members = [m for m in found.member_ids.split(",") if m]
        transfer = CaseTransfer(
            id=str(uuid.uuid4()),
            direction=TransferDirection.OUTGOING.value,
            partner_region=region,
            remote_id=None,
            household_id=household_id,
            partner_household_id=None,
            state=TransferState.REQUESTED.value,
            reason=text,
            moved_on=moved_on,
            members=json.dumps(members),
            categories=json.dumps(categories),
            note=None,
            requested_by=principal.client_id,
            decided_by=None,
            decided_at=None,
            created_at=now,
            updated_at=now,
        )
        session.add(transfer)
        session.add(
            _message(
                region,
                MessageKind.TRANSFER_REQUEST,
                transfer.id,
                {
                    "transferId": transfer.id,
                    "householdId": household_id,
                    "reason": text,
                    "movedOn": moved_on.isoformat() if moved_on else None,
                    "memberIdNumbers": members,
                    "categories": categories,
                },
                now,
            )
        )
    return transfer


def _message(
    region: str, kind: MessageKind, transfer_id: str, payload: dict[str, Any], now: datetime
) -> OutboxMessage:
    message_id = str(uuid.uuid4())
    return OutboxMessage(
        id=message_id,
        partner_region=region,
        kind=kind.value,
        transfer_id=transfer_id,
        payload=json.dumps({"messageId": message_id, **payload}, ensure_ascii=False),
        state=DeliveryState.PENDING.value,
        attempts=0,
        next_attempt_at=now,
        last_error=None,
        created_at=now,
        delivered_at=None,
    )


def _visible(reach: Reach, now: datetime) -> Any:
    """Transfers a caller sees: outgoing ones of households in reach, incoming ones if
    the caller takes them (``sees_incoming``)."""
    outgoing = and_(
        CaseTransfer.direction == TransferDirection.OUTGOING.value,
        select(IndexedHousehold.household_id)
        .where(IndexedHousehold.household_id == CaseTransfer.household_id, flag(reach, now))
        .exists(),
    )
    if sees_incoming(reach):
        return or_(outgoing, CaseTransfer.direction == TransferDirection.INCOMING.value)
    return outgoing


async def decide(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    transfer_id: str,
    version: int,
    accept: bool,
    note: str | None,
    reach: Reach,
    now: datetime,
) -> CaseTransfer:
    """Accept or decline an incoming transfer (a decline says why); the decision goes
    back to the sending hub through the outbox, in the same transaction."""
    caseworker(principal)
    text = _text(note, TransferErrorCode.INVALID_NOTE, "a decline's note", required=not accept)
    to = TransferState.ACCEPTED if accept else TransferState.DECLINED
    try:
        async with sessions.begin() as session:
            transfer = await session.scalar(
                select(CaseTransfer).where(
                    CaseTransfer.id == transfer_id,
                    CaseTransfer.direction == TransferDirection.INCOMING.value,
                    _visible(reach, now),
                )
            )
            if transfer is None:
                raise TransferProblem(TransferErrorCode.TRANSFER_NOT_FOUND, "no such transfer")
            if transfer.version != version:
                raise TransferProblem(
                    TransferErrorCode.CONFLICT, "the transfer changed since it was read"
                )
            if transfer.state != TransferState.REQUESTED.value:
                raise TransferProblem(
                    TransferErrorCode.ILLEGAL_TRANSITION,
                    f"the transfer is {transfer.state.lower()} already",
                )
            transfer.state = to.value
            transfer.note = text
            transfer.decided_by = principal.client_id
            transfer.decided_at = now
            transfer.updated_at = now
            assert transfer.remote_id is not None
            session.add(
                _message(
                    transfer.partner_region,
                    MessageKind.TRANSFER_DECISION,
                    transfer.id,
                    {
                        "transferId": transfer.remote_id,
                        "decision": to.value,
                        "note": text,
                        "decidedAt": now.isoformat(),
                    },
                    now,
                )
            )
    except StaleDataError:
        raise TransferProblem(
            TransferErrorCode.CONFLICT, "the transfer changed since it was read"
        ) from None
    return transfer


@dataclass(frozen=True)
class TransferFilter:
    direction: TransferDirection | None = None
    state: TransferState | None = None
    household_id: str | None = None


def _filtered(
    query: Select[Any], where: TransferFilter, reach: Reach, now: datetime
) -> Select[Any]:
    query = query.where(_visible(reach, now))
    if where.direction is not None:
        query = query.where(CaseTransfer.direction == where.direction.value)
    if where.state is not None:
        query = query.where(CaseTransfer.state == where.state.value)
    if where.household_id is not None:
        query = query.where(CaseTransfer.household_id == where.household_id)
    return query


async def page(
    sessions: async_sessionmaker[AsyncSession],
    where: TransferFilter,
    *,
    first: int,
    after: tuple[datetime, str] | None,
    reach: Reach,
    now: datetime,
) -> tuple[list[TransferView], bool]:
    """Transfers in reach, newest first, after ``after``; and whether more follow."""
    query = _filtered(select(CaseTransfer), where, reach, now)
    if after is not None:
        at, last_id = after
        query = query.where(
            or_(
                CaseTransfer.created_at < at,
                and_(CaseTransfer.created_at == at, CaseTransfer.id < last_id),
            )
        )
    query = query.order_by(CaseTransfer.created_at.desc(), CaseTransfer.id.desc()).limit(first + 1)
    async with sessions() as session:
        rows = list((await session.scalars(query)).all())
        more = len(rows) > first
        rows = rows[:first]
        messages = (
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.transfer_id.in_([r.id for r in rows]))
                .order_by(OutboxMessage.created_at)
            )
        ).all()
    by_transfer: dict[str, list[OutboxMessage]] = {}
    for message in messages:
        by_transfer.setdefault(message.transfer_id or "", []).append(message)
    return [TransferView(r, tuple(by_transfer.get(r.id, []))) for r in rows], more


async def count(
    sessions: async_sessionmaker[AsyncSession],
    where: TransferFilter,
    *,
    reach: Reach,
    now: datetime,
) -> int:
    query = _filtered(select(func.count()).select_from(CaseTransfer), where, reach, now)
    async with sessions() as session:
        return int(await session.scalar(query) or 0)


async def read(sessions: async_sessionmaker[AsyncSession], transfer_id: str) -> TransferView | None:
    """A transfer with its messages (the caller checked reach)."""
    async with sessions() as session:
        row = await session.get(CaseTransfer, transfer_id)
        if row is None:
            return None
        messages = (
            await session.scalars(
                select(OutboxMessage)
                .where(OutboxMessage.transfer_id == transfer_id)
                .order_by(OutboxMessage.created_at)
            )
        ).all()
    return TransferView(row, tuple(messages))
