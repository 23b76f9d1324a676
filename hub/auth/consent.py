"""Households' consents to share their data with charities, recorded by civil affairs.

A consent names one charity organisation or any, a purpose and an expiry; withdrawal
takes effect on the next request, because every read of the index checks for a live
consent (``hub.households.reach``) rather than a cached list.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from hub.auth.principal import Principal, Purpose
from hub.db.models import Consent, IndexedHousehold
from hub.households.reach import Reach, flag
from hub.problems import Problem


class ConsentErrorCode(enum.Enum):
    NOT_ALLOWED = "NOT_ALLOWED"  # only civil-affairs caseworkers record consent
    HOUSEHOLD_NOT_FOUND = "HOUSEHOLD_NOT_FOUND"
    CONSENT_NOT_FOUND = "CONSENT_NOT_FOUND"
    INVALID_EXPIRY = "INVALID_EXPIRY"
    INVALID_PURPOSE = "INVALID_PURPOSE"
    ALREADY_WITHDRAWN = "ALREADY_WITHDRAWN"
    VERSION_CONFLICT = "VERSION_CONFLICT"  # someone else changed it since it was read


class ConsentProblem(Problem[ConsentErrorCode]):
    """A refusal of this module, with its code."""


# The purposes a household can consent to share for.
CONSENTABLE = frozenset({Purpose.CHARITY_MATCHING})


def is_live(consent: Consent, now: datetime) -> bool:
    return consent.withdrawn_at is None and consent.granted_at <= now < consent.expires_at


async def record(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    household_id: str,
    organisation_id: str | None,
    purpose: Purpose,
    expires_at: datetime,
    now: datetime,
) -> Consent:
    """Record a consent; the caller has checked that the household exists and is in reach."""
    if not principal.is_civil_affairs_caseworker:
        raise ConsentProblem(
            ConsentErrorCode.NOT_ALLOWED, "only civil-affairs caseworkers record consent"
        )
    if purpose not in CONSENTABLE:
        raise ConsentProblem(
            ConsentErrorCode.INVALID_PURPOSE, f"households consent only to {_names()}"
        )
    if expires_at <= now:
        raise ConsentProblem(ConsentErrorCode.INVALID_EXPIRY, "the expiry must be in the future")
    async with sessions.begin() as session:
        consent = Consent(
            id=str(uuid.uuid4()),
            household_id=household_id,
            organisation_id=organisation_id,
            purpose=purpose.value,
            granted_at=now,
            expires_at=expires_at,
            withdrawn_at=None,
            recorded_by=principal.client_id,
        )
        session.add(consent)
    return consent


async def withdraw(
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    *,
    consent_id: str,
    version: int | None,
    reach: Reach,
    now: datetime,
) -> Consent:
    """Withdraw a consent; with ``version``, only if nobody changed it since it was read.

    A consent of a household out of the caller's ``reach`` is not found, exactly like one
    that does not exist: one query reads the consent and its household's reach together,
    so the two cost the same, and nothing about the other is said or changed.
    """
    if not principal.is_civil_affairs_caseworker:
        raise ConsentProblem(
            ConsentErrorCode.NOT_ALLOWED, "only civil-affairs caseworkers withdraw consent"
        )
    try:
        async with sessions.begin() as session:
            found = (
                await session.execute(
                    select(Consent, flag(reach, now).label("in_reach"))
                    .outerjoin(
                        IndexedHousehold, IndexedHousehold.household_id == Consent.household_id
                    )
                    .where(Consent.id == consent_id)
                )
            ).first()
            if found is None or not found.in_reach:
                raise ConsentProblem(
                    ConsentErrorCode.CONSENT_NOT_FOUND,
                    "no such consent",
                    denied=found[0].household_id if found is not None else None,
                )
            consent = found[0]
            if version is not None and consent.version != version:
                raise ConsentProblem(
                    ConsentErrorCode.VERSION_CONFLICT,
                    f"the consent is at version {consent.version}, not {version}",
                )
            if consent.withdrawn_at is not None:
                raise ConsentProblem(
                    ConsentErrorCode.ALREADY_WITHDRAWN, "the consent was withdrawn already"
                )
            consent.withdrawn_at = now
    except StaleDataError:
        raise ConsentProblem(
            ConsentErrorCode.VERSION_CONFLICT, "the consent changed while being withdrawn"
        ) from None
    return consent


async def for_household(
    sessions: async_sessionmaker[AsyncSession], household_id: str
) -> list[Consent]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(Consent)
                .where(Consent.household_id == household_id)
                .order_by(Consent.granted_at.desc())
            )
        )


def _names() -> str:
    return ", ".join(sorted(p.value for p in CONSENTABLE))
