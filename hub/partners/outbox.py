"""Delivering the outbox: messages to partner hubs, again and again until taken.

A message is written in the transaction of the change it reports
(``hub.partners.transfers``), so it exists exactly when the change does. ``deliver_due``
sends each message whose time has come; a partner hub that takes it (or says it took it
before: receipt is idempotent by message ID) marks it DELIVERED; one that cannot be
reached, fails or refuses this hub's token leaves it PENDING, tried again after an
exponential backoff (``HUB_OUTBOX_BACKOFF`` doubled per attempt, at most
``HUB_OUTBOX_BACKOFF_MAX``, with jitter) with its attempts, next attempt and last error
on show; one the partner read and refused for good (its error names why) is REJECTED.

Several workers may deliver at once: each claims a message by moving its next attempt
forward (``LEASE``) in a conditional update, so that one message is sent by one worker
at a time; a worker that dies holding one leaves it to be tried again after the lease.
The sender runs in the app (``OutboxSender``, every ``HUB_OUTBOX_INTERVAL`` seconds) and
by hand (``hub partners deliver``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters import partner as partner_adapter
from adapters.partner import PartnerError
from hub.db.partners import OutboxMessage
from hub.partners.asking import PartnerHubs
from hub.partners.transfers import DeliveryState, MessageKind
from hub.settings import Settings

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
BATCH = 50
DOCUMENTS = {
    MessageKind.TRANSFER_REQUEST: (
        partner_adapter.RECEIVE_CASE_TRANSFER,
        "receiveCaseTransfer",
    ),
    MessageKind.TRANSFER_DECISION: (
        partner_adapter.RECEIVE_TRANSFER_DECISION,
        "receiveTransferDecision",
    ),
}


@dataclass
class Delivery:
    """What one round did."""

    delivered: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # message ID → error code
    rejected: dict[str, str] = field(default_factory=dict)


def backoff(settings: Settings, attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: doubled each time, capped, and
    drawn between half and all of that (jitter), so that retries do not come in waves."""
    ceiling = min(settings.outbox_backoff_max, settings.outbox_backoff * 2 ** (attempts - 1))
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


def _now() -> datetime:
    return datetime.now(UTC)


async def deliver_due(
    sessions: async_sessionmaker[AsyncSession],
    partners: PartnerHubs,
    settings: Settings,
    *,
    now: datetime | None = None,
) -> Delivery:
    """Send every message whose time has come, once each."""
    moment = now or _now()
    report = Delivery()
    async with sessions() as session:
        due = (
            await session.scalars(
                select(OutboxMessage)
                .where(
                    OutboxMessage.state == DeliveryState.PENDING.value,
                    OutboxMessage.next_attempt_at <= moment,
                )
                .order_by(OutboxMessage.next_attempt_at, OutboxMessage.created_at)
                .limit(BATCH)
            )
        ).all()
    by_region = {p.region: p for p in await partners.partners()}
    for message in due:
        if not await _claim(sessions, message, moment):
            continue  # another worker has it
        partner = by_region.get(message.partner_region)
        if partner is None:
            await _failed(sessions, message, settings, "UNKNOWN_REGION", moment, report)
            continue
        document, field_name = DOCUMENTS[MessageKind(message.kind)]
        try:
            data = await partners.client(partner).run(
                document, {"input": json.loads(message.payload)}, read=False
            )
            answer = data[field_name]
        except PartnerError as exc:
            await _failed(sessions, message, settings, exc.code, moment, report)
            continue
        except (KeyError, TypeError):
            await _failed(sessions, message, settings, "PARTNER_BAD_ANSWER", moment, report)
            continue
        await _answered(sessions, message, answer, report)
    return report


async def pending(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    """Messages not delivered yet, and those refused, oldest first (for operators)."""
    async with sessions() as session:
        return list(
            (
                await session.scalars(
                    select(OutboxMessage)
                    .where(OutboxMessage.state != DeliveryState.DELIVERED.value)
                    .order_by(OutboxMessage.created_at)
                )
            ).all()
        )


async def _claim(
    sessions: async_sessionmaker[AsyncSession], message: OutboxMessage, now: datetime
) -> bool:
    async with sessions.begin() as session:
        claimed = await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id == message.id,
                OutboxMessage.state == DeliveryState.PENDING.value,
                OutboxMessage.next_attempt_at == message.next_attempt_at,
            )
            .values(next_attempt_at=now + LEASE)
        )
    return int(getattr(claimed, "rowcount", 0) or 0) == 1


async def _failed(
    sessions: async_sessionmaker[AsyncSession],
    message: OutboxMessage,
    settings: Settings,
    code: str,
    now: datetime,
    report: Delivery,
) -> None:
    attempts = message.attempts + 1
    async with sessions.begin() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id)
            .values(
                attempts=attempts,
                next_attempt_at=now + backoff(settings, attempts),
                last_error=code,
            )
        )
    report.failed[message.id] = code
    log.info(
        "outbox message to %s not delivered (%s), attempt %d",
        message.partner_region,
        code,
        attempts,
    )


async def _answered(
    sessions: async_sessionmaker[AsyncSession],
    message: OutboxMessage,
    answer: Any,
    report: Delivery,
) -> None:
    code = answer.get("code") if isinstance(answer, dict) else None
    state = DeliveryState.REJECTED if code else DeliveryState.DELIVERED
    async with sessions.begin() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id)
            .values(
                state=state.value,
                attempts=message.attempts + 1,
                last_error=str(code) if code else None,
                delivered_at=_now() if state is DeliveryState.DELIVERED else None,
            )
        )
    if code:
        report.rejected[message.id] = str(code)
    else:
        report.delivered.append(message.id)


class OutboxSender:
    """Delivers the outbox every ``interval`` seconds while the app runs."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        partners: PartnerHubs,
        settings: Settings,
    ) -> None:
        self._sessions = sessions
        self._partners = partners
        self._settings = settings
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._settings.outbox_interval)
            try:
                await deliver_due(self._sessions, self._partners, self._settings)
            except Exception:
                # The next round tries again; the messages wait in the database meanwhile.
                log.exception("outbox round failed")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
