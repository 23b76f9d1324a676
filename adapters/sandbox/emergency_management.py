"""The emergency-management (应急管理) stand-in: disaster events and relief to households.

Its contract is the bureau's own: the answer is nested per event, each event listing the
affected households (head's ID number, the other members' ID numbers, damage level) and
the relief paid to each. Event types are single letters (``T`` 台风 typhoon, ``L`` 洪涝
flood, ``Y`` 暴雨 rainstorm, ``H`` 火灾 fire, ``Q`` 其他 other), damage levels digits
(``1`` minor to ``4`` total loss), relief stages ``01`` 应急救助, ``02`` 过渡期生活救助,
``03`` 恢复重建; dates are ``yyyy/MM/dd`` and amounts whole yuan as strings.

The events are a fixed catalogue over the three years before ``AS_OF``; names and dates
are illustrative. Typhoons reach the coastal districts most, rural households are more
exposed, and a fire hits one household.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from adapters.emergency_management import (
    DisasterDamageLevel,
    DisasterEvent,
    DisasterRecord,
    DisasterReliefStage,
    DisasterType,
    ReliefPayment,
)
from adapters.records import Household
from adapters.sandbox.population import AS_OF, Population, rng_for
from adapters.sandbox.service import (
    StandInApp,
    error,
    health_route,
    keyed_stand_in,
    load_openapi,
    openapi_route,
    read_json_body,
)
from adapters.sandbox.store import KeyedStore
from adapters.vocabulary import District, HukouType

if TYPE_CHECKING:
    from adapters.sandbox.scenario import Scenario

MAX_BATCH = 500
TYPHOON, FLOOD, RAINSTORM, FIRE, OTHER = "T", "L", "Y", "H", "Q"
EMERGENCY, TRANSITIONAL, RECONSTRUCTION = "01", "02", "03"
DAMAGE_LEVELS = ("1", "2", "3", "4")  # minor, moderate, severe, total loss
TYPE_CODES = {
    DisasterType.TYPHOON: TYPHOON,
    DisasterType.FLOOD: FLOOD,
    DisasterType.RAINSTORM: RAINSTORM,
    DisasterType.FIRE: FIRE,
    DisasterType.OTHER: OTHER,
}
DAMAGE_CODES = dict(zip(DisasterDamageLevel, DAMAGE_LEVELS, strict=True))
STAGE_CODES = {
    DisasterReliefStage.EMERGENCY: EMERGENCY,
    DisasterReliefStage.TRANSITIONAL: TRANSITIONAL,
    DisasterReliefStage.RECONSTRUCTION: RECONSTRUCTION,
}
_TYPES = {code: kind for kind, code in TYPE_CODES.items()}
_DAMAGES = {code: level for level, code in DAMAGE_CODES.items()}
_STAGES = {code: stage for stage, code in STAGE_CODES.items()}
WINDOW_START = AS_OF.replace(year=AS_OF.year - 3) + timedelta(days=1)
# A household's chance of a house fire over the three years.
FIRE_CHANCE = 0.008
RURAL_EXPOSURE = 1.5

_D = District
_COAST = (_D.PUDONG, _D.JINSHAN, _D.FENGXIAN, _D.CHONGMING, _D.BAOSHAN)


@dataclass(frozen=True)
class Event:
    """One disaster; ``reach`` is a household's chance of harm in each district it hit."""

    number: str
    type_code: str
    name: str
    day: date
    districts: tuple[District, ...]
    reach: float


CATALOGUE: tuple[Event, ...] = (
    Event(
        "ZH2024012201",
        OTHER,
        "2024年1月低温雨雪冰冻",
        date(2024, 1, 22),
        (_D.CHONGMING, _D.JINSHAN, _D.FENGXIAN, _D.QINGPU, _D.SONGJIANG),
        0.008,
    ),
    Event(
        "ZH2024062101",
        FLOOD,
        "2024年梅汛期强降雨洪涝",
        date(2024, 6, 21),
        (_D.QINGPU, _D.SONGJIANG, _D.JINSHAN, _D.MINHANG, _D.JIADING),
        0.012,
    ),
    Event(
        "ZH2024091601",
        TYPHOON,
        "台风“贝碧嘉”",
        date(2024, 9, 16),
        (*_COAST, _D.MINHANG, _D.SONGJIANG),
        0.02,
    ),
    Event(
        "ZH2024092001",
        TYPHOON,
        "台风“普拉桑”",
        date(2024, 9, 20),
        (_D.FENGXIAN, _D.JINSHAN, _D.PUDONG, _D.SONGJIANG),
        0.008,
    ),
    Event(
        "ZH2025031801",
        OTHER,
        "2025年3月强对流大风冰雹",
        date(2025, 3, 18),
        (_D.QINGPU, _D.SONGJIANG, _D.JIADING),
        0.006,
    ),
    Event(
        "ZH2025062301",
        RAINSTORM,
        "2025年6月23日暴雨",
        date(2025, 6, 23),
        (_D.BAOSHAN, _D.JIADING, _D.PUTUO, _D.YANGPU, _D.HONGKOU, _D.JINGAN),
        0.01,
    ),
    Event("ZH2025073001", TYPHOON, "台风“竹节草”", date(2025, 7, 30), _COAST, 0.01),
    Event(
        "ZH2025081401",
        RAINSTORM,
        "2025年8月14日特大暴雨",
        date(2025, 8, 14),
        (_D.XUHUI, _D.MINHANG, _D.HUANGPU, _D.CHANGNING, _D.PUDONG),
        0.006,
    ),
    Event(
        "ZH2026061801",
        FLOOD,
        "2026年梅汛期洪涝",
        date(2026, 6, 18),
        (_D.QINGPU, _D.SONGJIANG, _D.JINSHAN, _D.JIADING, _D.MINHANG),
        0.01,
    ),
    Event("ZH2026080501", TYPHOON, "2026年第9号台风", date(2026, 8, 5), _COAST, 0.012),
    Event(
        "ZH2026091201",
        RAINSTORM,
        "2026年9月12日暴雨",
        date(2026, 9, 12),
        (_D.HONGKOU, _D.YANGPU, _D.PUTUO, _D.JINGAN, _D.HUANGPU, _D.XUHUI),
        0.008,
    ),
    Event(
        "ZH2026100301",
        TYPHOON,
        "2026年第18号台风",
        date(2026, 10, 3),
        (_D.PUDONG, _D.FENGXIAN, _D.JINSHAN, _D.CHONGMING),
        0.008,
    ),
)

# Damage level weights per event type: fires burn homes out far more often than storms.
DAMAGE_WEIGHTS = {
    TYPHOON: (55, 30, 12, 3),
    FLOOD: (60, 30, 9, 1),
    RAINSTORM: (65, 28, 6, 1),
    FIRE: (20, 35, 30, 15),
    OTHER: (70, 25, 5, 0),
}
# Emergency aid per household by damage level (yuan, inclusive range, steps of 50): the
# ranges do not overlap, so more damage always means more emergency aid.
EMERGENCY_AID = {"1": (300, 800), "2": (1000, 2000), "3": (2500, 4000), "4": (5000, 8000)}
# Repair (moderate, severe) or rebuilding (total loss) subsidy, yuan in steps of 100.
RECONSTRUCTION_AID = {"2": (3000, 8000), "3": (10000, 30000), "4": (40000, 80000)}
# Transitional living aid: yuan per person per month, and months paid, for the homeless.
TRANSITIONAL_MONTHLY = 750
TRANSITIONAL_MONTHS = {"3": (1, 2), "4": (3, 3)}


@dataclass(frozen=True)
class Impact:
    """One household's harm in one event, with the relief paid so far."""

    event: Event
    household: Household
    damage: str
    relief: tuple[tuple[str, int, date], ...]  # (stage code, yuan, paid on)


def _steps(rng: random.Random, low: int, high: int, step: int) -> int:
    return rng.randrange(low, high + 1, step)


def _relief(rng: random.Random, day: date, damage: str, size: int) -> list[tuple[str, int, date]]:
    paid = [
        (
            EMERGENCY,
            _steps(rng, *EMERGENCY_AID[damage], 50),
            day + timedelta(days=rng.randint(1, 7)),
        )
    ]
    if damage in TRANSITIONAL_MONTHS:
        first = day + timedelta(days=rng.randint(10, 20))
        for month in range(rng.randint(*TRANSITIONAL_MONTHS[damage])):
            paid.append(
                (TRANSITIONAL, TRANSITIONAL_MONTHLY * size, first + timedelta(days=30 * month))
            )
    if damage in RECONSTRUCTION_AID:
        paid.append(
            (
                RECONSTRUCTION,
                _steps(rng, *RECONSTRUCTION_AID[damage], 100),
                day + timedelta(days=rng.randint(60, 180)),
            )
        )
    # Relief falling due after AS_OF has not been paid yet.
    return [p for p in paid if p[2] <= AS_OF]


def _impact(seed: int, event: Event, household: Household) -> Impact:
    rng = rng_for(seed, "emergency_management", household.id, event.number)
    damage = rng.choices(DAMAGE_LEVELS, weights=DAMAGE_WEIGHTS[event.type_code])[0]
    relief = _relief(rng, event.day, damage, len(household.members))
    return Impact(event, household, damage, tuple(relief))


def _fire(rng: random.Random, household: Household) -> Event:
    day = WINDOW_START + timedelta(days=rng.randint(0, (AS_OF - WINDOW_START).days - 2))
    number = f"ZH{day:%Y%m%d}H{household.id[-7:]}"
    return Event(number, FIRE, f"{household.street}居民住宅火灾", day, (household.district,), 1.0)


def impacts(population: Population) -> list[Impact]:
    """Every household harmed in every event, in event date order."""
    found: list[Impact] = []
    for household in population.households:
        rng = rng_for(population.seed, "emergency_management", household.id)
        exposure = RURAL_EXPOSURE if household.hukou_type is HukouType.RURAL else 1.0
        for event in CATALOGUE:
            hit = rng.random() < event.reach * exposure
            if hit and household.district in event.districts:
                found.append(_impact(population.seed, event, household))
        if rng.random() < FIRE_CHANCE:
            found.append(_impact(population.seed, _fire(rng, household), household))
    found.sort(key=lambda i: (i.event.day, i.event.number, i.household.id))
    return found


def disaster_event(event: Event) -> DisasterEvent:
    """A catalogued (or fire) event as the hub reads it."""
    return DisasterEvent(
        id=event.number,
        type=_TYPES[event.type_code],
        name=event.name,
        occurred_on=event.day,
        districts=event.districts,
    )


def disaster_record(impact: Impact) -> DisasterRecord:
    """One household's harm in one event as the hub reads it."""
    head = impact.household.head
    return DisasterRecord(
        event=disaster_event(impact.event),
        head_id_number=head.id_number,
        member_id_numbers=(
            head.id_number,
            *(m.id_number for m in impact.household.members if m is not head),
        ),
        district=impact.household.district,
        damage_level=_DAMAGES[impact.damage],
        relief=tuple(
            ReliefPayment(_STAGES[stage], Decimal(amount), paid)
            for stage, amount, paid in impact.relief
        ),
    )


def _event_json(event: DisasterEvent) -> dict[str, Any]:
    return {
        "eventNo": event.id,
        "typeCode": TYPE_CODES[event.type],
        "eventName": event.name,
        "occurDate": f"{event.occurred_on:%Y/%m/%d}",
        "regionCodes": [d.code for d in event.districts],
    }


def _household_json(record: DisasterRecord) -> dict[str, Any]:
    return {
        "headIdNo": record.head_id_number,
        "memberIdNos": list(record.member_id_numbers[1:]),
        "regionCode": record.district.code,
        "damageCode": DAMAGE_CODES[record.damage_level],
        "relief": [
            {
                "stageCode": STAGE_CODES[p.stage],
                "amount": f"{p.amount:.0f}",
                "payDate": f"{p.paid_on:%Y/%m/%d}",
            }
            for p in record.relief
        ],
    }


@dataclass(frozen=True)
class _Hit:
    """One household's harm in one event, answered to a query for any of its members."""

    order: tuple[date, str, str]  # event date, event number, household ID
    event_number: str
    event: dict[str, Any]
    household: dict[str, Any]


def _hits(records: Iterable[tuple[str, DisasterRecord]]) -> dict[str, tuple[_Hit, ...]]:
    """The hits of (household ID, record) pairs by member ID number."""
    result: dict[str, tuple[_Hit, ...]] = {}
    for household_id, r in records:
        order = (r.event.occurred_on, r.event.id, household_id)
        hit = _Hit(order, r.event.id, _event_json(r.event), _household_json(r))
        for member in r.member_id_numbers:
            result[member] = (*result.get(member, ()), hit)
    return result


def _scenario_entries(scenario: Scenario) -> dict[str, tuple[_Hit, ...]]:
    return _hits(
        (entry.household.id, r) for entry in scenario.households for r in entry.emergency_management
    )


def _routes(by_person: KeyedStore[tuple[_Hit, ...]]) -> list[BaseRoute]:
    async def relief_query(request: Request) -> JSONResponse:
        body = await read_json_body(request)
        persons = body.get("persons") if isinstance(body, dict) else None
        if (
            not isinstance(persons, list)
            or len(persons) > MAX_BATCH
            or not all(isinstance(p, str) for p in persons)
        ):
            return error(
                400, "BAD_REQUEST", f"persons must be a list of at most {MAX_BATCH} ID numbers"
            )
        selected = {hit.order: hit for p in persons for hit in by_person.get(p) or ()}
        events: dict[str, dict[str, Any]] = {}
        for order in sorted(selected):
            hit = selected[order]
            entry = events.get(hit.event_number)
            if entry is None:
                entry = events[hit.event_number] = {**hit.event, "households": []}
            entry["households"].append(hit.household)
        return JSONResponse({"events": list(events.values())})

    return [
        Route("/em/relief/query", relief_query, methods=["POST"]),
        openapi_route(OPENAPI),
        health_route(),
    ]


def create_app(population: Population) -> StandInApp:
    base = _hits((i.household.id, disaster_record(i)) for i in impacts(population))
    return keyed_stand_in(population, base, _scenario_entries, _routes)


OPENAPI = load_openapi("emergency_management")
