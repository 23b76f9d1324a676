"""Adapter for the housing (住房) bureau's dwelling register.

Owns the bureau's wire format (see ``adapters/sandbox/housing.py`` for the contract): the
bureau answers per dwelling, under its own dwelling ID, with the occupants' ID numbers
inside; this module lists each dwelling under every requested occupant.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from adapters.base import Health
from adapters.http import SourceClient
from adapters.vocabulary import District, Source
from adapters.wire import chunks, reading, spread


class HousingTenure(enum.Enum):
    """How a household holds the dwelling it lives in (住房性质)."""

    OWNED = "OWNED"
    PUBLIC_RENTAL = "PUBLIC_RENTAL"
    PRIVATE_RENTAL = "PRIVATE_RENTAL"
    RURAL_HOMESTEAD = "RURAL_HOMESTEAD"


@dataclass(frozen=True, slots=True)
class LowRentHousing:
    """廉租住房: low-rent housing assistance paid as a monthly rent subsidy."""

    since: date
    monthly_rent_subsidy: Decimal


@dataclass(frozen=True, slots=True)
class RuralRenovation:
    """农村危旧房改造: a one-off subsidy to renovate a dilapidated rural house."""

    year: int
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Dwelling:
    """A dwelling as the housing bureau records it, with who lives there.

    ``dwelling_id`` is the bureau's own key; it has nothing to do with the civil-affairs
    household ID. ``floor_area`` is in square metres.
    """

    dwelling_id: str
    district: District
    address: str
    floor_area: Decimal
    tenure: HousingTenure
    occupants: tuple[str, ...]
    low_rent: LowRentHousing | None
    renovations: tuple[RuralRenovation, ...]


_TENURE = {
    "owned": HousingTenure.OWNED,
    "publicRental": HousingTenure.PUBLIC_RENTAL,
    "privateRental": HousingTenure.PRIVATE_RENTAL,
    "ruralHomestead": HousingTenure.RURAL_HOMESTEAD,
}
_LOW_RENT = "lowRentHousing"
_RENOVATION = "ruralRenovation"


class HousingAdapter:
    """Dwellings, tenure and housing assistance, listed under each requested occupant."""

    source = Source.HOUSING

    def __init__(self, http: SourceClient) -> None:
        self._http = http

    async def fetch(self, keys: Sequence[str]) -> Mapping[str, Sequence[Dwelling]]:
        result: dict[str, list[Dwelling]] = {key: [] for key in keys}
        for chunk in chunks(keys):
            body = await self._http.post(
                "/housing/v1/dwellings:search", {"occupantIdNumbers": chunk}
            )
            with reading(self.source):
                dwellings = [_dwelling(item) for item in _list(body["dwellings"])]
            # A dwelling, or an occupant, repeated inside one answer is still listed once.
            spread(dict.fromkeys(dwellings), lambda d: dict.fromkeys(d.occupants), chunk, result)
        return result

    async def health(self) -> Health:
        return await self._http.health()


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError("expected a list")
    return value


def _number(value: Any) -> Decimal:
    """A JSON number as the exact decimal it was written as."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("expected a number")
    return Decimal(str(value))


def _dwelling(item: dict[str, Any]) -> Dwelling:
    low_rent: LowRentHousing | None = None
    renovations: list[RuralRenovation] = []
    for aid in _list(item["assistance"]):
        scheme = aid["scheme"]
        if scheme == _LOW_RENT:
            if low_rent is not None:
                raise ValueError("low-rent housing listed twice for one dwelling")
            low_rent = LowRentHousing(
                since=date.fromisoformat(aid["since"]),
                monthly_rent_subsidy=_number(aid["monthlyRentSubsidy"]),
            )
        elif scheme == _RENOVATION:
            year = aid["year"]
            if isinstance(year, bool) or not isinstance(year, int):
                raise TypeError("renovation year is not an integer")
            renovations.append(RuralRenovation(year=year, amount=_number(aid["amount"])))
        else:
            raise ValueError("unknown assistance scheme")
    area = _number(item["floorArea"])
    if area <= 0:
        raise ValueError("floor area must be positive")
    return Dwelling(
        dwelling_id=str(item["dwellingId"]),
        district=District.from_code(item["districtCode"]),
        address=str(item["address"]),
        floor_area=area,
        tenure=_TENURE[item["tenure"]],
        occupants=tuple(str(o) for o in _list(item["occupants"])),
        low_rent=low_rent,
        renovations=tuple(renovations),
    )
