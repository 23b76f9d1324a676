"""Adapter for the charity federation's (慈善) aid records.

The federation speaks snake_case with pinyin kind codes, epoch-second dates and yuan
strings (see ``adapters/sandbox/charity.py`` for the contract). Aid to a household is
recorded against its head; this adapter lists it under every requested member.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from adapters.base import Health
from adapters.http import SourceClient
from adapters.vocabulary import District, Source
from adapters.wire import chunks, reading, spread, yuan_text

# The federation's dates are Shanghai calendar days; Shanghai has had no DST since 1991.
_SHANGHAI = timezone(timedelta(hours=8))


class CharityAidKind(enum.Enum):
    """What a charity gave."""

    CASH = "CASH"
    GOODS = "GOODS"
    MEDICAL = "MEDICAL"
    EDUCATION = "EDUCATION"
    SERVICE = "SERVICE"


class CharityRecipient(enum.Enum):
    """Whether aid went to one person or to the whole household."""

    PERSON = "PERSON"
    HOUSEHOLD = "HOUSEHOLD"


class CharityOrganisationKind(enum.Enum):
    """Kind of charity organisation."""

    FOUNDATION = "FOUNDATION"
    BRANCH = "BRANCH"
    CHARITY_SUPERMARKET = "CHARITY_SUPERMARKET"


@dataclass(frozen=True, slots=True)
class CharityOrganisation:
    """A charity organisation known to the federation."""

    id: str
    name: str
    kind: CharityOrganisationKind
    district: District | None
    street: str | None


@dataclass(frozen=True, slots=True)
class CharityProject:
    """A charity project, run by one organisation."""

    id: str
    name: str
    organisation_id: str
    kind: CharityAidKind


@dataclass(frozen=True, slots=True)
class CharityAid:
    """One grant of charity aid.

    ``beneficiary_id_number`` is the person, or the head for household aid; then
    ``household_member_ids`` holds everyone in the household (empty for personal aid).
    """

    id: str
    beneficiary_id_number: str
    recipient: CharityRecipient
    household_member_ids: tuple[str, ...]
    organisation_id: str
    organisation_name: str
    project_id: str
    project_name: str
    kind: CharityAidKind
    amount: Decimal
    given_on: date

    @property
    def concerns(self) -> tuple[str, ...]:
        """ID numbers of everyone the aid concerns."""
        return tuple(dict.fromkeys((self.beneficiary_id_number, *self.household_member_ids)))


_AID_KIND = {
    "xj": CharityAidKind.CASH,
    "wz": CharityAidKind.GOODS,
    "yl": CharityAidKind.MEDICAL,
    "jy": CharityAidKind.EDUCATION,
    "fw": CharityAidKind.SERVICE,
}
_RECIPIENT = {"individual": CharityRecipient.PERSON, "household": CharityRecipient.HOUSEHOLD}
_ORGANISATION_KIND = {
    "jjh": CharityOrganisationKind.FOUNDATION,
    "dbc": CharityOrganisationKind.BRANCH,
    "cscs": CharityOrganisationKind.CHARITY_SUPERMARKET,
}


class CharityAdapter:
    """Charity aid per person (household aid under each member), organisations, projects."""

    source = Source.CHARITY

    def __init__(self, http: SourceClient) -> None:
        self._http = http

    async def fetch(self, keys: Sequence[str]) -> Mapping[str, Sequence[CharityAid]]:
        result: dict[str, list[CharityAid]] = {key: [] for key in keys}
        for chunk in chunks(keys):
            body = await self._http.post("/charity/aid/lookup", {"beneficiary_ids": chunk})
            with reading(self.source):
                aid = [_aid(item) for item in body["aid"]]
            spread(aid, lambda a: a.concerns, chunk, result)
        return result

    async def organisations(self) -> list[CharityOrganisation]:
        body = await self._http.get("/charity/organisations")
        with reading(self.source):
            return [_organisation(item) for item in body["organisations"]]

    async def projects(self) -> list[CharityProject]:
        body = await self._http.get("/charity/projects")
        with reading(self.source):
            return [_project(item) for item in body["projects"]]

    async def health(self) -> Health:
        return await self._http.health()


def _day(value: Any) -> date:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("date is not epoch seconds")
    return datetime.fromtimestamp(value, _SHANGHAI).date()


def _aid(item: dict[str, Any]) -> CharityAid:
    recipient = _RECIPIENT[item["recipient_type"]]
    members = item.get("household_member_ids") or []
    if recipient is CharityRecipient.PERSON:
        members = []
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        raise TypeError("household_member_ids is not a list of ID numbers")
    return CharityAid(
        id=str(item["aid_id"]),
        beneficiary_id_number=str(item["beneficiary_id_no"]),
        recipient=recipient,
        household_member_ids=tuple(members),
        organisation_id=str(item["org_id"]),
        organisation_name=str(item["org_name"]),
        project_id=str(item["project_id"]),
        project_name=str(item["project_name"]),
        kind=_AID_KIND[item["kind_code"]],
        amount=yuan_text(item["amount"]),
        given_on=_day(item["granted_at"]),
    )


def _organisation(item: dict[str, Any]) -> CharityOrganisation:
    region, street = item.get("region_code"), item.get("street_name")
    return CharityOrganisation(
        id=str(item["org_id"]),
        name=str(item["org_name"]),
        kind=_ORGANISATION_KIND[item["kind_code"]],
        district=District.from_code(region) if region is not None else None,
        street=str(street) if street is not None else None,
    )


def _project(item: dict[str, Any]) -> CharityProject:
    return CharityProject(
        id=str(item["project_id"]),
        name=str(item["project_name"]),
        organisation_id=str(item["org_id"]),
        kind=_AID_KIND[item["kind_code"]],
    )
