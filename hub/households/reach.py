"""Which households a caller may see at all: one function, used by every path.

Everything out of reach looks exactly like a household that does not exist: the index
applies ``conditions`` wherever it is read, and department records are only ever
fetched for households the index returned in reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, false, or_, true

from adapters.vocabulary import District
from hub.auth.principal import ClientKind, Principal, Purpose
from hub.db.models import Consent, IndexedHousehold


@dataclass(frozen=True, slots=True)
class Reach:
    """The households one caller may see."""

    nothing: bool = False
    district: District | None = None
    street: str | None = None
    consent_organisation: str | None = None  # charities: a live consent for this one, or any
    consent_purpose: Purpose | None = None


EVERYTHING = Reach()  # jobs of the hub itself, and break-glass


def reach_of(principal: Principal) -> Reach:
    """The reach of one caller."""
    if principal.kind is ClientKind.AGENCY:
        if principal.break_glass:
            return EVERYTHING  # an emergency, justified in writing and flagged for review
        return Reach(district=principal.district, street=principal.street)
    if principal.kind is ClientKind.CHARITY:
        return Reach(
            consent_organisation=principal.organisation_id, consent_purpose=principal.purpose
        )
    return Reach(nothing=True)  # partners, auditors and operators browse no households


def conditions(reach: Reach, now: datetime) -> list[ColumnElement[bool]]:
    """What a row of the household index must meet to be in ``reach`` at ``now``."""
    if reach.nothing:
        return [false()]
    found: list[ColumnElement[bool]] = []
    if reach.district is not None:
        found.append(IndexedHousehold.district == reach.district.code)
    if reach.street is not None:
        found.append(IndexedHousehold.street == reach.street)
    if reach.consent_organisation is not None:
        found.append(
            exists().where(
                Consent.household_id == IndexedHousehold.household_id,
                or_(
                    Consent.organisation_id.is_(None),
                    Consent.organisation_id == reach.consent_organisation,
                ),
                Consent.purpose == (reach.consent_purpose.value if reach.consent_purpose else ""),
                Consent.granted_at <= now,
                Consent.expires_at > now,
                Consent.withdrawn_at.is_(None),
            )
        )
    return found


def flag(reach: Reach, now: datetime) -> ColumnElement[bool]:
    """``conditions`` as one boolean column, so that one query tells in reach from out."""
    return and_(true(), *conditions(reach, now))
