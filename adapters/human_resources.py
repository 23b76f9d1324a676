"""Adapter for the human resources and social security (人社) bureau's person query.

Owns the bureau's wire format (see ``adapters/sandbox/human_resources.py`` for the
contract): PascalCase fields, the bureau's numeric code tables, amounts in yuan as JSON
numbers with two decimals, dates as ``yyyy-MM-dd``.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from adapters import wire
from adapters.base import Health
from adapters.http import SourceClient
from adapters.vocabulary import Source
from adapters.wire import chunks, reading


class EmploymentStatus(enum.Enum):
    """A person's place in the labour market as the bureau records it (就业状态)."""

    EMPLOYED = "EMPLOYED"
    FLEXIBLE = "FLEXIBLE"
    REGISTERED_UNEMPLOYED = "REGISTERED_UNEMPLOYED"
    NOT_IN_LABOUR_FORCE = "NOT_IN_LABOUR_FORCE"
    RETIRED = "RETIRED"


class WageBand(enum.Enum):
    """Monthly wage relative to Shanghai's minimum wage (最低工资标准)."""

    BELOW_MINIMUM = "BELOW_MINIMUM"
    MINIMUM_TO_1_5X = "MINIMUM_TO_1_5X"
    FROM_1_5X_TO_2X = "FROM_1_5X_TO_2X"
    ABOVE_2X = "ABOVE_2X"


class EmploymentServiceKind(enum.Enum):
    """A public employment service (公共就业服务)."""

    VOCATIONAL_TRAINING = "VOCATIONAL_TRAINING"
    JOB_REFERRAL = "JOB_REFERRAL"
    PUBLIC_WELFARE_POST = "PUBLIC_WELFARE_POST"


@dataclass(frozen=True, slots=True)
class EmploymentService:
    """One public employment service a person received."""

    kind: EmploymentServiceKind
    provided_on: date


@dataclass(frozen=True, slots=True)
class EmploymentRecord:
    """What the bureau holds about one person: work, social insurance, pension, services.

    ``last_contribution_month`` is the first day of the last month paid for.
    ``wage_band`` and ``employed_since`` (the day the current employment or flexible
    work began) are set for the employed and flexibly employed, ``monthly_pension`` for
    retirees, ``unemployment_registered_on`` for the registered unemployed.
    ``employed_since`` is also None when the bureau does not say.
    """

    id_number: str
    status: EmploymentStatus
    wage_band: WageBand | None
    contribution_months: int
    last_contribution_month: date | None
    monthly_pension: Decimal | None
    unemployment_registered_on: date | None
    services: tuple[EmploymentService, ...]
    employed_since: date | None = None


_STATUS = {
    11: EmploymentStatus.EMPLOYED,
    12: EmploymentStatus.FLEXIBLE,
    21: EmploymentStatus.REGISTERED_UNEMPLOYED,
    31: EmploymentStatus.NOT_IN_LABOUR_FORCE,
    41: EmploymentStatus.RETIRED,
}
_WAGE_BAND = {
    1: WageBand.BELOW_MINIMUM,
    2: WageBand.MINIMUM_TO_1_5X,
    3: WageBand.FROM_1_5X_TO_2X,
    4: WageBand.ABOVE_2X,
}
_SERVICE = {
    1: EmploymentServiceKind.VOCATIONAL_TRAINING,
    2: EmploymentServiceKind.JOB_REFERRAL,
    3: EmploymentServiceKind.PUBLIC_WELFARE_POST,
}
_CENT = Decimal("0.01")


class HumanResourcesAdapter:
    """Employment status, social insurance, pensions and employment services per person."""

    source = Source.HUMAN_RESOURCES

    def __init__(self, http: SourceClient) -> None:
        self._http = http

    async def fetch(self, keys: Sequence[str]) -> Mapping[str, Sequence[EmploymentRecord]]:
        result: dict[str, list[EmploymentRecord]] = {key: [] for key in keys}
        for chunk in chunks(keys):
            body = await self._http.post("/rs/api/PersonQuery", {"IdCardNos": chunk})
            with reading(self.source):
                items = body["Result"]
                if not isinstance(items, list) or _int(body["Total"]) != len(items):
                    # A count that disagrees means a truncated or paged answer.
                    raise ValueError("Total does not match Result")
                records = [_record(item) for item in items]
            for record in records:
                if record.id_number in result:
                    result[record.id_number] = [record]
        return result

    async def health(self) -> Health:
        return await self._http.health()


def _int(value: Any) -> int:
    # bool is an int in Python, and True would otherwise read as code 1.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("expected an integer")
    return value


_date = wire.day


def _optional_date(value: Any) -> date | None:
    return None if value is None else _date(value)


def _yuan(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a number")
    amount = Decimal(str(value))
    if amount != amount.quantize(_CENT):
        raise ValueError("amount finer than a fen")
    return amount.quantize(_CENT)


def _record(item: dict[str, Any]) -> EmploymentRecord:
    band = item["WageBandCode"]
    pension = item["MonthlyPension"]
    last = _optional_date(item["LastContributionMonth"])
    services = item["Services"]
    if not isinstance(services, list):
        raise TypeError("Services is not a list")
    months = _int(item["ContributionMonths"])
    if months < 0:
        raise ValueError("negative contribution months")
    return EmploymentRecord(
        id_number=str(item["IdCardNo"]),
        status=_STATUS[_int(item["EmploymentStatusCode"])],
        wage_band=None if band is None else _WAGE_BAND[_int(band)],
        contribution_months=months,
        last_contribution_month=last.replace(day=1) if last else None,
        monthly_pension=None if pension is None else _yuan(pension),
        unemployment_registered_on=_optional_date(item["UnemploymentRegDate"]),
        services=tuple(
            EmploymentService(
                kind=_SERVICE[_int(s["ServiceTypeCode"])], provided_on=_date(s["ServiceDate"])
            )
            for s in services
        ),
        # A bureau that does not yet report it leaves the field out.
        employed_since=_optional_date(item.get("EmployedSince")),
    )
