"""Referrals from one department to another (一门受理、协同办理).

A department refers a household to another, by hand or from a proactive-discovery alert,
with a reason; the receiving department accepts or declines it with a note, and completes
an accepted one with an outcome; the referring department may withdraw it while it waits
for an answer. ``TRANSITIONS`` is the whole state machine: anything else is an
``ILLEGAL_TRANSITION``. Every step is appended to the referral's history (who, which
department, when, from which state to which) in the transaction that takes it.

Only agency clients act, each for its own department, and only on referrals of its own
department. A referral is seen by its two departments only, and only while its household
is in the caller's reach: otherwise it is not found, exactly like one that does not
exist (one query reads a referral with its household's reach, as consent withdrawal
does). Changes carry the ``version`` the caller read: a change made against an older
version, or racing another, is a ``CONFLICT`` and changes nothing.

The response is due ``rules.referral.response_working_days`` working days after the day
it was made (``hub.coordination.calendar``: Monday to Friday, public holidays not
modelled); an accepted referral is due ``rules.referral.completion_days`` calendar days
after the day it was accepted.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from adapters.vocabulary import Source
from hub.auth.principal import ClientKind, Principal
from hub.coordination import idempotency
from hub.coordination.calendar import add_working_days
from hub.db.coordination import Alert, Referral, ReferralEvent
from hub.db.models import IndexedHousehold
from hub.households.reach import Reach, flag
from hub.problems import Problem
from hub.rules import Rules

MAX_TEXT = 2000  # characters of a reason, note or outcome

# Alert states (``hub.coordination.alerts.AlertState``) from which an alert may become a
# referral (its ``MOVES`` to REFERRED), and the state the referral puts it in.
ALERT_REFERABLE = frozenset({"OPEN", "ACKNOWLEDGED"})
ALERT_REFERRED = "REFERRED"


class ReferralState(enum.Enum):
    """Where a referral stands."""

    REQUESTED = "REQUESTED"  # waiting for the receiving department's answer
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    COMPLETED = "COMPLETED"
    WITHDRAWN = "WITHDRAWN"  # by the referring department, before an answer


class ReferralDirection(enum.Enum):
    """Referrals as one department sees them."""

    INCOMING = "INCOMING"  # referred to it
    OUTGOING = "OUTGOING"  # referred by it


class Side(enum.Enum):
    """Which of a referral's two departments takes a step."""

    REFERRING = "REFERRING"
    RECEIVING = "RECEIVING"


_R = ReferralState
# Every step a referral may take, and which department takes it (None: it is made).
TRANSITIONS: dict[tuple[ReferralState | None, ReferralState], Side] = {
    (None, _R.REQUESTED): Side.REFERRING,
    (_R.REQUESTED, _R.ACCEPTED): Side.RECEIVING,
    (_R.REQUESTED, _R.DECLINED): Side.RECEIVING,
    (_R.REQUESTED, _R.WITHDRAWN): Side.REFERRING,
    (_R.ACCEPTED, _R.COMPLETED): Side.RECEIVING,
}
# Each state is reached by one side only, whatever state it is reached from.
_SIDE_OF = {to: side for (_, to), side in TRANSITIONS.items()}


class ReferralErrorCode(enum.Enum):
    NOT_ALLOWED = "NOT_ALLOWED"  # not an agency, or not the department that takes this step
    HOUSEHOLD_NOT_FOUND = "HOUSEHOLD_NOT_FOUND"
    REFERRAL_NOT_FOUND = "REFERRAL_NOT_FOUND"
    ALERT_NOT_FOUND = "ALERT_NOT_FOUND"  # no such alert on this household
    ALERT_NOT_ACTIVE = "ALERT_NOT_ACTIVE"  # resolved, dismissed or referred already
    SAME_DEPARTMENT = "SAME_DEPARTMENT"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    CONFLICT = "CONFLICT"  # someone else changed it since it was read
    INVALID_REASON = "INVALID_REASON"
    INVALID_NOTE = "INVALID_NOTE"
    INVALID_OUTCOME = "INVALID_OUTCOME"
    INVALID_IDEMPOTENCY_KEY = "INVALID_IDEMPOTENCY_KEY"
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"  # the same key with another request


class ReferralProblem(Problem[ReferralErrorCode]):
    """A refusal of a referral step; ``from_state`` and ``to_state`` name an illegal
    transition."""

    def __init__(
        self,
        code: ReferralErrorCode,
        message: str,
        *,
        denied: str | None = None,
        missing: str | None = None,
        seen: str | None = None,
        from_state: ReferralState | None = None,
        to_state: ReferralState | None = None,
    ) -> None:
        super().__init__(code, message, denied=denied, missing=missing, seen=seen)
        self.from_state = from_state
        self.to_state = to_state


def department_of(principal: Principal) -> Source:
    """The department a caller acts for; only agencies act on referrals."""
    if principal.kind is not ClientKind.AGENCY or principal.department is None:
        raise ReferralProblem(
            ReferralErrorCode.NOT_ALLOWED, "only agencies refer households and answer referrals"
        )
    return principal.department


def is_overdue(referral: Referral, today: date) -> bool:
    """Whether the step the referral waits for is late on ``today``."""
    state = ReferralState(referral.state)
    if state is ReferralState.REQUESTED:
        return today > referral.response_due_on
    if state is ReferralState.ACCEPTED and referral.completion_due_on is not None:
        return today > referral.completion_due_on
    return False


async def refer(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    household_id: str,
    to_department: Source,
    reason: str,
    alert_id: str | None = None,
    idempotency_key: str | None = None,
    reach: Reach,
    rules: Rules,
    now: datetime,
    today: date,
) -> Referral:
    """Refer a household in the caller's reach to another department, from the caller's.

    With ``alert_id``, the referral answers that alert, which must be open and of the same
    household: it is marked referred in the same transaction. One query reads the
    household with its reach (and the alert), so a household out of reach costs what one
    that does not exist costs. With ``idempotency_key``, a retry answers the referral the
    key made first (``hub.coordination.idempotency``).
    """
    department = department_of(principal)
    if to_department is department:
        raise ReferralProblem(
            ReferralErrorCode.SAME_DEPARTMENT, "a department does not refer to itself"
        )
    text = _text(reason, ReferralErrorCode.INVALID_REASON, "the reason", required=True)
    if idempotency_key is not None and not idempotency.valid(idempotency_key):
        raise ReferralProblem(ReferralErrorCode.INVALID_IDEMPOTENCY_KEY, idempotency.PROBLEM)
    asked = idempotency.digest(household_id, to_department.value, text, alert_id)
    query: Select[str, bool, Alert] = (
        select(IndexedHousehold.household_id, flag(reach, now).label("in_reach"), Alert)
        .outerjoin(
            Alert,
            and_(Alert.id == alert_id, Alert.household_id == IndexedHousehold.household_id),
        )
        .where(IndexedHousehold.household_id == household_id)
    )
    try:
        async with sessions.begin() as session:
            found = (await session.execute(query)).first()
            if found is None or not found.in_reach:
                raise ReferralProblem(
                    ReferralErrorCode.HOUSEHOLD_NOT_FOUND,
                    "no such household",
                    denied=household_id if found is not None else None,
                    missing=household_id if found is None else None,
                )
            if idempotency_key is not None:
                made = await _made(session, principal.client_id, idempotency_key)
                if made is not None:
                    return _replayed(made, asked, household_id)
            alert = found[2] if alert_id is not None else None
            if alert_id is not None and alert is None:
                raise ReferralProblem(
                    ReferralErrorCode.ALERT_NOT_FOUND,
                    "no such alert on this household",
                    seen=household_id,
                )
            if alert is not None and alert.state not in ALERT_REFERABLE:
                raise ReferralProblem(
                    ReferralErrorCode.ALERT_NOT_ACTIVE,
                    f"the alert is {alert.state.lower()}",
                    seen=household_id,
                )
            referral = Referral(
                id=str(uuid.uuid4()),
                household_id=household_id,
                from_department=department.value,
                to_department=to_department.value,
                reason=text,
                alert_id=alert_id,
                state=ReferralState.REQUESTED.value,
                response_due_on=add_working_days(today, rules.referral.response_working_days),
                completion_due_on=None,
                outcome=None,
                created_by=principal.client_id,
                created_at=now,
                updated_at=now,
                idempotency_key=idempotency_key,
                request_hash=asked if idempotency_key is not None else None,
            )
            session.add(referral)
            session.add(_step(referral, principal, None, ReferralState.REQUESTED, None, now))
            if alert is not None:
                alert.state = ALERT_REFERRED
                alert.referral_id = referral.id
                alert.handled_by = principal.client_id
                alert.updated_at = now
    except StaleDataError:
        raise ReferralProblem(
            ReferralErrorCode.CONFLICT,
            "the alert changed while the referral was made",
            seen=household_id,
        ) from None
    except IntegrityError:
        if idempotency_key is None:
            raise
        # A concurrent retry with the same key made it first: answer that one.
        async with sessions() as session:
            made = await _made(session, principal.client_id, idempotency_key)
        if made is None:  # pragma: no cover - the database refused for another reason
            raise
        return _replayed(made, asked, household_id)
    return referral


async def _made(session: AsyncSession, client_id: str, key: str) -> Referral | None:
    """The referral this client made under ``key``."""
    return await session.scalar(
        select(Referral).where(Referral.created_by == client_id, Referral.idempotency_key == key)
    )


def _replayed(made: Referral, asked: str, household_id: str) -> Referral:
    """The referral made first under the key, if this is a retry of the same request."""
    if made.request_hash != asked:
        raise ReferralProblem(
            ReferralErrorCode.IDEMPOTENCY_KEY_REUSED, idempotency.REUSED, seen=household_id
        )
    return made


async def respond(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    referral_id: str,
    version: int,
    accept: bool,
    note: str | None,
    reach: Reach,
    rules: Rules,
    now: datetime,
    today: date,
) -> Referral:
    """Accept or decline a referral to the caller's department (a decline says why)."""
    to = ReferralState.ACCEPTED if accept else ReferralState.DECLINED
    text = _text(note, ReferralErrorCode.INVALID_NOTE, "a decline's note", required=not accept)
    due = today + timedelta(days=rules.referral.completion_days)

    def change(referral: Referral) -> None:
        if accept:
            referral.completion_due_on = due

    return await _move(sessions, principal, referral_id, version, to, text, reach, now, change)


async def complete(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    referral_id: str,
    version: int,
    outcome: str,
    note: str | None = None,
    reach: Reach,
    now: datetime,
) -> Referral:
    """Complete an accepted referral to the caller's department with its outcome."""
    result = _text(outcome, ReferralErrorCode.INVALID_OUTCOME, "the outcome", required=True)
    text = _text(note, ReferralErrorCode.INVALID_NOTE, "the note", required=False)

    def change(referral: Referral) -> None:
        referral.outcome = result

    to = ReferralState.COMPLETED
    return await _move(sessions, principal, referral_id, version, to, text, reach, now, change)


async def withdraw(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    referral_id: str,
    version: int,
    note: str | None = None,
    reach: Reach,
    now: datetime,
) -> Referral:
    """Withdraw a referral the caller's department made, while it waits for an answer."""
    text = _text(note, ReferralErrorCode.INVALID_NOTE, "the note", required=False)
    to = ReferralState.WITHDRAWN
    return await _move(sessions, principal, referral_id, version, to, text, reach, now, _same)


async def _move(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    referral_id: str,
    version: int,
    to: ReferralState,
    note: str | None,
    reach: Reach,
    now: datetime,
    change: Callable[[Referral], None],
) -> Referral:
    """Take one step of the state machine, if the caller's department may take it now."""
    department = department_of(principal).value
    household_id = None
    try:
        async with sessions.begin() as session:
            found = (
                await session.execute(
                    select(Referral, flag(reach, now).label("in_reach"))
                    .outerjoin(
                        IndexedHousehold,
                        IndexedHousehold.household_id == Referral.household_id,
                    )
                    .where(Referral.id == referral_id)
                )
            ).first()
            parties = (found[0].from_department, found[0].to_department) if found else ()
            if found is None or not found.in_reach or department not in parties:
                raise ReferralProblem(
                    ReferralErrorCode.REFERRAL_NOT_FOUND,
                    "no such referral",
                    denied=found[0].household_id if found is not None else None,
                )
            referral: Referral = found[0]
            household_id = referral.household_id
            side = Side.REFERRING if department == referral.from_department else Side.RECEIVING
            if side is not _SIDE_OF[to]:
                raise ReferralProblem(
                    ReferralErrorCode.NOT_ALLOWED,
                    f"only the {_SIDE_OF[to].value.lower()} department moves a referral "
                    f"to {to.value}",
                    seen=referral.household_id,
                )
            if referral.version != version:
                raise ReferralProblem(
                    ReferralErrorCode.CONFLICT,
                    f"the referral is at version {referral.version}, not {version}",
                    seen=referral.household_id,
                )
            state = ReferralState(referral.state)
            if (state, to) not in TRANSITIONS:
                raise ReferralProblem(
                    ReferralErrorCode.ILLEGAL_TRANSITION,
                    f"a referral cannot go from {state.value} to {to.value}",
                    seen=referral.household_id,
                    from_state=state,
                    to_state=to,
                )
            referral.state = to.value
            referral.updated_at = now
            change(referral)
            session.add(_step(referral, principal, state, to, note, now))
    except StaleDataError:
        raise ReferralProblem(
            ReferralErrorCode.CONFLICT,
            "the referral changed while this change was made",
            seen=household_id,
        ) from None
    return referral


def _same(referral: Referral) -> None:
    """No change beyond the state."""


def _step(
    referral: Referral,
    principal: Principal,
    from_state: ReferralState | None,
    to_state: ReferralState,
    note: str | None,
    now: datetime,
) -> ReferralEvent:
    return ReferralEvent(
        referral_id=referral.id,
        at=now,
        client_id=principal.client_id,
        department=principal.department.value if principal.department else None,
        from_state=from_state.value if from_state else None,
        to_state=to_state.value,
        note=note,
    )


def _text(value: str | None, code: ReferralErrorCode, what: str, *, required: bool) -> str | None:
    """``value`` trimmed, None if empty (refused when ``required``), and not too long."""
    text = (value or "").strip() or None
    if text is None and required:
        raise ReferralProblem(code, f"{what} must not be empty")
    if text is not None and len(text) > MAX_TEXT:
        raise ReferralProblem(code, f"{what} must be at most {MAX_TEXT} characters")
    return text
