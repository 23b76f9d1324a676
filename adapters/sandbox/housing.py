"""The housing (住房) stand-in: the bureau's dwelling register and housing assistance.

Its contract is the bureau's own: records nested per dwelling under the bureau's dwelling
ID (not civil affairs' household ID), lowerCamel field names, tenure codes ``owned``,
``publicRental``, ``privateRental``, ``ruralHomestead``, floor areas in square metres and
subsidies in yuan as JSON numbers, ISO dates. A search by occupants answers each dwelling
that houses at least one of them, once.

Every civil-affairs household lives in one dwelling with all its members. Rural-hukou
households mostly live on a homestead (宅基地); central districts and the poorest
households have less room; a share of urban 低保/特困 renters get 廉租住房 rent subsidies
and a share of rural homesteads got a 农村危旧房改造 renovation subsidy.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from adapters.housing import Dwelling, HousingTenure, LowRentHousing, RuralRenovation
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
from adapters.vocabulary import AssistanceCategory, District, EnrollmentStatus, HukouType

if TYPE_CHECKING:
    from adapters.sandbox.scenario import Scenario

TENURE_CODES = {
    HousingTenure.OWNED: "owned",
    HousingTenure.PUBLIC_RENTAL: "publicRental",
    HousingTenure.PRIVATE_RENTAL: "privateRental",
    HousingTenure.RURAL_HOMESTEAD: "ruralHomestead",
}
MAX_BATCH = 500

CENTRAL = frozenset(
    {
        District.HUANGPU,
        District.XUHUI,
        District.CHANGNING,
        District.JINGAN,
        District.PUTUO,
        District.HONGKOU,
        District.YANGPU,
    }
)
# Categories whose households get the least room and qualify for low-rent housing.
_POOREST = (AssistanceCategory.MINIMUM_LIVING, AssistanceCategory.EXTREME_HARDSHIP)
_RENTED = (HousingTenure.PUBLIC_RENTAL, HousingTenure.PRIVATE_RENTAL)
LOW_RENT_SHARE = 0.45  # of urban 低保/特困 renters
RENOVATION_SHARE = {True: 0.3, False: 0.08}  # of rural homesteads, by whether assisted


def build_dwellings(population: Population) -> tuple[Dwelling, ...]:
    """One dwelling per household, in household order, the same for the same population."""
    numbers: Counter[District] = Counter()
    result = []
    for household in population.households:
        # Per-district numbering in household order keeps a larger population's
        # dwelling IDs a superset of a smaller one's, as with the households themselves.
        numbers[household.district] += 1
        dwelling_id = f"FW{household.district.code}{numbers[household.district]:06d}"
        result.append(
            _dwelling(rng_for(population.seed, "housing", household.id), household, dwelling_id)
        )
    return tuple(result)


def _dwelling(rng: random.Random, household: Household, dwelling_id: str) -> Dwelling:
    poor_since = [
        e.since
        for e in household.enrollments
        if e.category in _POOREST and e.status is EnrollmentStatus.ACTIVE
    ]
    poorest = bool(poor_since)
    tenure = _tenure(rng, household)
    size = len(household.members)
    if tenure is HousingTenure.RURAL_HOMESTEAD:
        area = rng.uniform(70, 160)  # a farmhouse, often on two floors
    else:
        per_person = rng.uniform(9, 18) if household.district in CENTRAL else rng.uniform(14, 28)
        area = (10 + per_person * size) * (0.75 if poorest else 1.0)
    low_rent = None
    if (
        household.hukou_type is HukouType.URBAN
        and tenure in _RENTED
        and poorest
        and rng.random() < LOW_RENT_SHARE
    ):
        start = max(poor_since)  # low-rent housing follows the 低保/特困 decision
        since = start + timedelta(days=rng.randint(0, max(0, (AS_OF - start).days)))
        subsidy = Decimal(rng.randint(30000, 90000) + 25000 * min(size, 4)) / 100
        low_rent = LowRentHousing(since=since, monthly_rent_subsidy=subsidy)
    renovations: tuple[RuralRenovation, ...] = ()
    assisted = any(e.status is EnrollmentStatus.ACTIVE for e in household.enrollments)
    if tenure is HousingTenure.RURAL_HOMESTEAD and rng.random() < RENOVATION_SHARE[assisted]:
        year = rng.randint(2012, AS_OF.year - 1)
        renovations = (
            RuralRenovation(year=year, amount=Decimal(rng.randrange(15000, 80001, 500))),
        )
    return Dwelling(
        dwelling_id=dwelling_id,
        district=household.district,
        address=f"上海市{household.district.name_zh}{household.address}",
        floor_area=Decimal(f"{area:.1f}"),
        tenure=tenure,
        occupants=tuple(m.id_number for m in household.members),
        low_rent=low_rent,
        renovations=renovations,
    )


def _tenure(rng: random.Random, household: Household) -> HousingTenure:
    if household.hukou_type is HukouType.RURAL:
        weights = {
            HousingTenure.RURAL_HOMESTEAD: 80,
            HousingTenure.OWNED: 8,
            HousingTenure.PRIVATE_RENTAL: 12,
        }
    else:
        weights = {
            HousingTenure.OWNED: 40,
            HousingTenure.PUBLIC_RENTAL: 25,
            HousingTenure.PRIVATE_RENTAL: 35,
        }
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def dwelling_json(d: Dwelling) -> dict[str, Any]:
    assistance: list[dict[str, Any]] = []
    if (aid := d.low_rent) is not None:
        assistance.append(
            {
                "scheme": "lowRentHousing",
                "since": aid.since.isoformat(),
                "monthlyRentSubsidy": float(aid.monthly_rent_subsidy),
            }
        )
    for r in d.renovations:
        assistance.append({"scheme": "ruralRenovation", "year": r.year, "amount": float(r.amount)})
    return {
        "dwellingId": d.dwelling_id,
        "districtCode": d.district.code,
        "address": d.address,
        "floorArea": float(d.floor_area),
        "tenure": TENURE_CODES[d.tenure],
        "occupants": list(d.occupants),
        "assistance": assistance,
    }


# Each occupant's dwellings, precomputed: (dwelling ID, the dwelling's JSON).
_Held = tuple[tuple[str, dict[str, Any]], ...]


def _by_occupant(dwellings: Iterable[Dwelling]) -> dict[str, _Held]:
    result: dict[str, _Held] = {}
    for d in dwellings:
        held = (d.dwelling_id, dwelling_json(d))
        for occupant in d.occupants:
            result[occupant] = (*result.get(occupant, ()), held)
    return result


def _scenario_entries(scenario: Scenario) -> dict[str, _Held]:
    return _by_occupant(d for entry in scenario.households for d in entry.housing)


def _routes(by_occupant: KeyedStore[_Held]) -> list[BaseRoute]:
    async def search(request: Request) -> JSONResponse:
        body = await read_json_body(request)
        ids = body.get("occupantIdNumbers") if isinstance(body, dict) else None
        if (
            not isinstance(ids, list)
            or len(ids) > MAX_BATCH
            or not all(isinstance(i, str) for i in ids)
        ):
            message = f"occupantIdNumbers must be a list of at most {MAX_BATCH} strings"
            return error(400, "BAD_REQUEST", message)
        found = {key: d for i in ids for key, d in by_occupant.get(i) or ()}
        return JSONResponse({"dwellings": list(found.values())})

    return [
        Route("/housing/v1/dwellings:search", search, methods=["POST"]),
        openapi_route(OPENAPI),
        health_route(),
    ]


def create_app(population: Population) -> StandInApp:
    base = _by_occupant(build_dwellings(population))
    return keyed_stand_in(population, base, _scenario_entries, _routes)


OPENAPI = load_openapi("housing")
