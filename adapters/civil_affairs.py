"""Adapter for the civil-affairs (民政) household system.

Owns the department's wire format (see ``adapters/sandbox/civil_affairs.py`` for the
contract); what leaves this module is the hub's records.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from adapters.base import Health
from adapters.http import SourceClient
from adapters.records import ChangePage, Enrollment, Household, HouseholdChange, Member
from adapters.vocabulary import (
    AssistanceCategory,
    District,
    EnrollmentStatus,
    HukouType,
    Relation,
    Sex,
    Source,
    WorkAbility,
)
from adapters.wire import chunks, reading

_SEX = {"1": Sex.MALE, "2": Sex.FEMALE}
_RELATION = {
    "01": Relation.HEAD,
    "02": Relation.HEAD,
    "10": Relation.SPOUSE,
    "11": Relation.SPOUSE,
    "12": Relation.SPOUSE,
    "20": Relation.CHILD,
    "30": Relation.CHILD,
    "40": Relation.GRANDCHILD,
    "50": Relation.PARENT,
    "60": Relation.GRANDPARENT,
    "70": Relation.SIBLING,
    "80": Relation.OTHER,
    "99": Relation.OTHER,
}
_CATEGORY = {
    "DB": AssistanceCategory.MINIMUM_LIVING,
    "TK": AssistanceCategory.EXTREME_HARDSHIP,
    "DSR": AssistanceCategory.LOW_INCOME,
    "ZCX": AssistanceCategory.EXPENDITURE_POVERTY,
    "LS": AssistanceCategory.TEMPORARY,
}
_STATUS = {
    "00": EnrollmentStatus.PENDING,
    "10": EnrollmentStatus.ACTIVE,
    "20": EnrollmentStatus.SUSPENDED,
    "90": EnrollmentStatus.TERMINATED,
}
_WORK_ABILITY = {"1": WorkAbility.FULL, "2": WorkAbility.PARTIAL, "3": WorkAbility.NONE}
_HUKOU = {"1": HukouType.URBAN, "2": HukouType.RURAL}


class CivilAffairsAdapter:
    """Households, members and enrollments, and the household change feed."""

    source = Source.CIVIL_AFFAIRS

    def __init__(self, http: SourceClient) -> None:
        self._http = http

    async def fetch(self, keys: Sequence[str]) -> Mapping[str, Sequence[Household]]:
        found = await self.households(keys)
        return {key: [found[key]] if key in found else [] for key in keys}

    async def households(self, household_ids: Sequence[str]) -> dict[str, Household]:
        result: dict[str, Household] = {}
        for chunk in chunks(household_ids):
            body = await self._http.post("/api/v1/households:batchGet", {"householdIds": chunk})
            with reading(self.source):
                for item in body["households"]:
                    household = _household(item)
                    result[household.id] = household
        return result

    async def persons(self, id_numbers: Sequence[str]) -> dict[str, Member]:
        result: dict[str, Member] = {}
        for chunk in chunks(id_numbers):
            body = await self._http.post("/api/v1/persons:batchGet", {"idNumbers": chunk})
            with reading(self.source):
                for item in body["persons"]:
                    member = _member(item)
                    result[member.id_number] = member
        return result

    async def changes(
        self, *, updated_since: datetime | None, page_token: str | None, page_size: int = 500
    ) -> ChangePage:
        """One page of households changed at or after ``updated_since`` (inclusive)."""
        params = {"pageSize": str(page_size)}
        if updated_since is not None:
            params["updatedSince"] = updated_since.astimezone(UTC).isoformat()
        if page_token is not None:
            params["pageToken"] = page_token
        body = await self._http.get("/api/v1/households", params)
        with reading(self.source):
            changes = tuple(
                HouseholdChange(
                    household_id=str(item["householdId"]),
                    updated_at=_datetime(item["updatedAt"]),
                    household=None if item["deleted"] else _household(item["household"]),
                )
                for item in body["items"]
            )
            token = body.get("nextPageToken")
            return ChangePage(changes=changes, next_page_token=str(token) if token else None)

    async def health(self) -> Health:
        return await self._http.health()


def _datetime(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("timestamp without time zone")
    return moment


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None


def _amount(value: Any) -> Decimal:
    amount = _decimal(value)
    if not amount.is_finite() or amount < 0:
        raise ValueError("not an amount")
    return amount


def _member(item: dict[str, Any]) -> Member:
    grade = item.get("disabilityGrade")
    care = item.get("careSubsidy")  # left out by a department that does not report it
    if grade is not None and int(grade) not in (1, 2, 3, 4):
        raise ValueError("disability grade out of range")
    return Member(
        id_number=str(item["idNumber"]),
        name=str(item["name"]),
        sex=_SEX[item["sexCode"]],
        birth_date=date.fromisoformat(item["birthDate"]),
        relation=_RELATION.get(item["relationCode"], Relation.OTHER),
        disability_grade=int(grade) if grade is not None else None,
        chronic_illness=bool(item["chronicIllness"]),
        work_ability=_WORK_ABILITY[item["workAbilityCode"]],
        household_id=str(item["householdId"]),
        care_subsidy=None if care is None else _amount(care),
    )


def _enrollment(item: dict[str, Any]) -> Enrollment:
    reviewed = item.get("lastReviewDate")
    return Enrollment(
        category=_CATEGORY[item["categoryCode"]],
        status=_STATUS[item["statusCode"]],
        since=date.fromisoformat(item["startDate"]),
        monthly_amount=_decimal(item["monthlyAmount"]),
        income_stable=bool(item["incomeStable"]),
        last_reviewed_on=date.fromisoformat(reviewed) if reviewed else None,
    )


def _household(item: dict[str, Any]) -> Household:
    # A department that does not yet report assessed income (or the part of it earned
    # from work) leaves the fields out.
    income = item.get("assessedMonthlyIncome")
    assessed_on = item.get("incomeAssessedOn")
    earnings = item.get("assessedMonthlyEarnings")
    return Household(
        id=str(item["householdId"]),
        district=District.from_code(item["regionCode"]),
        street=str(item["streetName"]),
        address=str(item["address"]),
        hukou_type=_HUKOU[item["hukouCode"]],
        members=tuple(_member(m) for m in item["members"]),
        enrollments=tuple(_enrollment(e) for e in item["assistance"]),
        updated_at=_datetime(item["updatedAt"]),
        assessed_monthly_income=None if income is None else _amount(income),
        income_assessed_on=None if assessed_on is None else date.fromisoformat(assessed_on),
        assessed_monthly_earnings=None if earnings is None else _amount(earnings),
    )
