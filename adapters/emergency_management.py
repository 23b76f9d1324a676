"""Adapter for the emergency-management (应急管理) disaster relief system.

The bureau answers nested per event, with affected households inside (see
``adapters/sandbox/emergency_management.py`` for the contract); this module turns that
into one record per affected household and event, listed under each requested member.
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
from adapters.vocabulary import District, Source
from adapters.wire import chunks, reading, spread, yuan_text


class DisasterType(enum.Enum):
    """Kind of disaster (灾种)."""

    TYPHOON = "TYPHOON"
    FLOOD = "FLOOD"
    RAINSTORM = "RAINSTORM"
    FIRE = "FIRE"
    OTHER = "OTHER"


class DisasterDamageLevel(enum.Enum):
    """How badly a household's home was damaged (受灾程度)."""

    MINOR = "MINOR"
    MODERATE = "MODERATE"
    SEVERE = "SEVERE"
    TOTAL_LOSS = "TOTAL_LOSS"


class DisasterReliefStage(enum.Enum):
    """The stage of disaster relief a payment belongs to."""

    EMERGENCY = "EMERGENCY"
    TRANSITIONAL = "TRANSITIONAL"
    RECONSTRUCTION = "RECONSTRUCTION"


@dataclass(frozen=True, slots=True)
class DisasterEvent:
    """A disaster as the bureau catalogues it."""

    id: str
    type: DisasterType
    name: str
    occurred_on: date
    districts: tuple[District, ...]


@dataclass(frozen=True, slots=True)
class ReliefPayment:
    """One relief payment to an affected household."""

    stage: DisasterReliefStage
    amount: Decimal
    paid_on: date


@dataclass(frozen=True, slots=True)
class DisasterRecord:
    """One household's harm in one event and the relief paid to it.

    ``member_id_numbers`` is the whole household as the bureau recorded it, head first;
    the record is listed under each requested person among them.
    """

    event: DisasterEvent
    head_id_number: str
    member_id_numbers: tuple[str, ...]
    district: District
    damage_level: DisasterDamageLevel
    relief: tuple[ReliefPayment, ...]

    @property
    def total_relief(self) -> Decimal:
        return sum((p.amount for p in self.relief), Decimal(0))


_TYPE = {
    "T": DisasterType.TYPHOON,
    "L": DisasterType.FLOOD,
    "Y": DisasterType.RAINSTORM,
    "H": DisasterType.FIRE,
    "Q": DisasterType.OTHER,
}
_DAMAGE = {
    "1": DisasterDamageLevel.MINOR,
    "2": DisasterDamageLevel.MODERATE,
    "3": DisasterDamageLevel.SEVERE,
    "4": DisasterDamageLevel.TOTAL_LOSS,
}
_STAGE = {
    "01": DisasterReliefStage.EMERGENCY,
    "02": DisasterReliefStage.TRANSITIONAL,
    "03": DisasterReliefStage.RECONSTRUCTION,
}


class EmergencyManagementAdapter:
    """Disasters that hit a person's household, with the relief paid, per person."""

    source = Source.EMERGENCY_MANAGEMENT

    def __init__(self, http: SourceClient) -> None:
        self._http = http

    async def fetch(self, keys: Sequence[str]) -> Mapping[str, Sequence[DisasterRecord]]:
        result: dict[str, list[DisasterRecord]] = {key: [] for key in keys}
        for chunk in chunks(keys):
            body = await self._http.post("/em/relief/query", {"persons": chunk})
            with reading(self.source):
                records = [record for item in body["events"] for record in _records(item)]
            spread(records, lambda r: r.member_id_numbers, chunk, result)
        return result

    async def health(self) -> Health:
        return await self._http.health()


def _day(value: Any) -> date:
    return wire.day(value, "/")


def _id_numbers(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise TypeError("ID numbers are not a list of strings")
    return tuple(values)


def _event(item: dict[str, Any]) -> DisasterEvent:
    return DisasterEvent(
        id=str(item["eventNo"]),
        type=_TYPE[item["typeCode"]],
        name=str(item["eventName"]),
        occurred_on=_day(item["occurDate"]),
        districts=tuple(District.from_code(code) for code in item["regionCodes"]),
    )


def _records(item: dict[str, Any]) -> list[DisasterRecord]:
    """One record per household the event affected."""
    event = _event(item)
    return [_record(event, household) for household in item["households"]]


def _record(event: DisasterEvent, item: dict[str, Any]) -> DisasterRecord:
    head = str(item["headIdNo"])
    return DisasterRecord(
        event=event,
        head_id_number=head,
        member_id_numbers=(head, *_id_numbers(item["memberIdNos"])),
        district=District.from_code(item["regionCode"]),
        damage_level=_DAMAGE[item["damageCode"]],
        relief=tuple(
            ReliefPayment(
                stage=_STAGE[p["stageCode"]],
                amount=yuan_text(p["amount"]),
                paid_on=_day(p["payDate"]),
            )
            for p in item["relief"]
        ),
    )
