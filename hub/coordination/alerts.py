"""Alerts of proactive discovery: one active alert per household and rule.

Discovery opens an alert when a rule starts to hold, keeps its evidence current while it
holds, and resolves it when the rule no longer holds. In between, caseworkers
acknowledge it, dismiss it with a reason (it stays dismissed while the rule holds), or
turn it into a referral (``hub.coordination.referrals``).
"""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from hub.auth.principal import ClientKind, Principal
from hub.coordination.discovery import Evidence, Rule
from hub.db.coordination import Alert
from hub.db.models import IndexedHousehold
from hub.households.reach import Reach, flag
from hub.problems import Problem


class AlertState(enum.Enum):
    OPEN = "OPEN"  # found, nobody has looked yet
    ACKNOWLEDGED = "ACKNOWLEDGED"  # a caseworker is on it
    DISMISSED = "DISMISSED"  # looked at and set aside, with a reason
    REFERRED = "REFERRED"  # turned into a referral to another department
    RESOLVED = "RESOLVED"  # the rule no longer holds


# Who may move an alert from which state to which (RESOLVED is discovery's alone).
MOVES: dict[AlertState, frozenset[AlertState]] = {
    AlertState.OPEN: frozenset(
        {AlertState.ACKNOWLEDGED, AlertState.DISMISSED, AlertState.REFERRED}
    ),
    AlertState.ACKNOWLEDGED: frozenset({AlertState.DISMISSED, AlertState.REFERRED}),
    AlertState.DISMISSED: frozenset(),
    AlertState.REFERRED: frozenset(),
    AlertState.RESOLVED: frozenset(),
}


class AlertErrorCode(enum.Enum):
    NOT_ALLOWED = "NOT_ALLOWED"  # only agencies handle alerts
    ALERT_NOT_FOUND = "ALERT_NOT_FOUND"
    ILLEGAL_TRANSITION = "ILLEGAL_TRANSITION"
    REASON_REQUIRED = "REASON_REQUIRED"
    CONFLICT = "CONFLICT"


class AlertProblem(Problem[AlertErrorCode]):
    """A refusal of this module, with its code."""


@dataclass(frozen=True, slots=True)
class Found:
    """An alert as callers see it."""

    id: str
    household_id: str
    rule: Rule
    state: AlertState
    evidence: Evidence
    rules_version: str
    opened_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    dismissed_reason: str | None
    referral_id: str | None
    version: int


def found(row: Alert) -> Found:
    return Found(
        id=row.id,
        household_id=row.household_id,
        rule=Rule(row.rule),
        state=AlertState(row.state),
        evidence=Evidence.from_json(json.loads(row.evidence)),
        rules_version=row.rules_version,
        opened_at=row.opened_at,
        updated_at=row.updated_at,
        resolved_at=row.resolved_at,
        dismissed_reason=row.dismissed_reason,
        referral_id=row.referral_id,
        version=row.version,
    )


@dataclass
class Tally:
    """What one round of discovery did to the alerts."""

    opened: int = 0
    updated: int = 0
    resolved: int = 0
    kept: int = 0


async def apply(
    session: AsyncSession,
    judged: Sequence[tuple[str, dict[Rule, Evidence], set[Rule]]],
    *,
    now: datetime,
    rules_version: str,
) -> Tally:
    """Bring the alerts of the households judged in line with what holds (in ``session``).

    ``judged`` gives per household the rules that hold, with their evidence, and the
    rules judged at all; an alert of a rule not judged is left as it is.
    """
    tally = Tally()
    ids = [household_id for household_id, _, _ in judged]
    active: dict[tuple[str, str], Alert] = {
        (a.household_id, a.rule): a
        for a in await session.scalars(
            select(Alert).where(
                Alert.household_id.in_(ids), Alert.state != AlertState.RESOLVED.value
            )
        )
    }
    for household_id, holding, rules in judged:
        for rule in rules:
            alert = active.get((household_id, rule.value))
            evidence = holding.get(rule)
            if evidence is None:
                if alert is not None:
                    alert.state = AlertState.RESOLVED.value
                    alert.resolved_at = now
                    alert.updated_at = now
                    tally.resolved += 1
                continue
            text = json.dumps(evidence.as_json(), ensure_ascii=False, sort_keys=True)
            if alert is None:
                session.add(
                    Alert(
                        id=str(uuid.uuid4()),
                        household_id=household_id,
                        rule=rule.value,
                        state=AlertState.OPEN.value,
                        evidence=text,
                        rules_version=rules_version,
                        opened_at=now,
                        updated_at=now,
                    )
                )
                tally.opened += 1
            elif alert.evidence != text:
                alert.evidence = text
                alert.rules_version = rules_version
                alert.updated_at = now
                tally.updated += 1
            else:
                tally.kept += 1
    await session.flush()
    return tally


async def for_households(
    sessions: async_sessionmaker[AsyncSession], household_ids: Sequence[str]
) -> dict[str, list[Found]]:
    """Each household's alerts that are not resolved, newest first (reach checked)."""
    result: dict[str, list[Found]] = {h: [] for h in household_ids}
    if not household_ids:
        return result
    async with sessions() as session:
        for row in await session.scalars(
            select(Alert)
            .where(
                Alert.household_id.in_(list(household_ids)),
                Alert.state != AlertState.RESOLVED.value,
            )
            .order_by(Alert.opened_at.desc(), Alert.id)
        ):
            result[row.household_id].append(found(row))
    return result


@dataclass(frozen=True, slots=True)
class AlertFilter:
    rule: Rule | None = None
    state: AlertState | None = None
    district: str | None = None  # region code
    street: str | None = None


async def listing(
    sessions: async_sessionmaker[AsyncSession],
    *,
    where: AlertFilter,
    reach: Reach,
    now: datetime,
    first: int,
    after: tuple[datetime, str] | None,
) -> tuple[list[Found], bool]:
    """Alerts in reach, newest first, a page after the (opened at, id) ``after``."""
    query = (
        select(Alert)
        .join(IndexedHousehold, IndexedHousehold.household_id == Alert.household_id)
        .where(flag(reach, now))
        .order_by(Alert.opened_at.desc(), Alert.id.desc())
        .limit(first + 1)
    )
    if where.rule is not None:
        query = query.where(Alert.rule == where.rule.value)
    if where.state is not None:
        query = query.where(Alert.state == where.state.value)
    if where.district is not None:
        query = query.where(IndexedHousehold.district == where.district)
    if where.street is not None:
        query = query.where(IndexedHousehold.street == where.street)
    if after is not None:
        opened, alert_id = after
        query = query.where(
            (Alert.opened_at < opened) | ((Alert.opened_at == opened) & (Alert.id < alert_id))
        )
    async with sessions() as session:
        rows = list(await session.scalars(query))
    return [found(r) for r in rows[:first]], len(rows) > first


async def move(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    alert_id: str,
    to: AlertState,
    version: int | None,
    reason: str | None,
    reach: Reach,
    now: datetime,
) -> Found:
    """Acknowledge or dismiss an alert (one transaction; reach read with the alert)."""
    if principal.kind is not ClientKind.AGENCY:
        raise AlertProblem(AlertErrorCode.NOT_ALLOWED, "only agencies handle alerts")
    if to is AlertState.DISMISSED and not (reason or "").strip():
        raise AlertProblem(AlertErrorCode.REASON_REQUIRED, "a dismissal needs its reason")
    try:
        async with sessions.begin() as session:
            row = (
                await session.execute(
                    select(Alert, flag(reach, now).label("in_reach"))
                    .join(IndexedHousehold, IndexedHousehold.household_id == Alert.household_id)
                    .where(Alert.id == alert_id)
                )
            ).first()
            if row is None or not row.in_reach:
                raise AlertProblem(
                    AlertErrorCode.ALERT_NOT_FOUND,
                    "no such alert",
                    denied=row[0].household_id if row is not None else None,
                )
            alert: Alert = row[0]
            if version is not None and alert.version != version:
                raise AlertProblem(
                    AlertErrorCode.CONFLICT, f"the alert is at version {alert.version}"
                )
            state = AlertState(alert.state)
            if to not in MOVES[state]:
                raise AlertProblem(
                    AlertErrorCode.ILLEGAL_TRANSITION,
                    f"an alert that is {state.value} cannot become {to.value}",
                )
            alert.state = to.value
            alert.updated_at = now
            alert.handled_by = principal.client_id
            if to is AlertState.DISMISSED:
                alert.dismissed_reason = reason
            await session.flush()
            return found(alert)
    except StaleDataError:
        raise AlertProblem(AlertErrorCode.CONFLICT, "the alert changed meanwhile") from None
