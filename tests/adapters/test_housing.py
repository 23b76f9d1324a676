import json
from datetime import date
from decimal import Decimal
from statistics import mean

import httpx
import pytest

from adapters.housing import Dwelling, HousingTenure, LowRentHousing, RuralRenovation
from adapters.registry import Adapters
from adapters.sandbox.housing import CENTRAL
from adapters.sandbox.population import AS_OF, Population
from adapters.vocabulary import (
    AssistanceCategory,
    District,
    EnrollmentStatus,
    HukouType,
    Source,
)
from tests.adapters.conftest import UNKNOWN, assert_bad_upstream_data, mocked

SOURCE = Source.HOUSING
A, B, C, D = "310115198001010012", "310115198202020021", "310151195003030034", UNKNOWN
OTHER = "310104197001010019"
WIRE = f"""{{"dwellings": [
  {{"dwellingId": "FW310115000042", "districtCode": "310115",
    "address": "上海市浦东新区塘桥街道浦东南路12弄3号401室", "floorArea": 36.8,
    "tenure": "publicRental", "occupants": ["{A}", "{B}", "310115201505050040"],
    "assistance": [{{"scheme": "lowRentHousing", "since": "2023-04-01",
                     "monthlyRentSubsidy": 1180.35}}]}},
  {{"dwellingId": "FW310151000007", "districtCode": "310151", "address": "上海市崇明区堡镇",
    "floorArea": 120, "tenure": "ruralHomestead", "occupants": ["{C}"],
    "assistance": [{{"scheme": "ruralRenovation", "year": 2019, "amount": 42000}}]}}
]}}""".encode()


async def test_dwellings_are_listed_under_each_requested_occupant_in_hub_terms():
    seen: list[httpx.Request] = []
    result = await mocked(SOURCE, WIRE, seen).fetch([A, B, C, D])
    shared = Dwelling(
        dwelling_id="FW310115000042",
        district=District.PUDONG,
        address="上海市浦东新区塘桥街道浦东南路12弄3号401室",
        floor_area=Decimal("36.8"),
        tenure=HousingTenure.PUBLIC_RENTAL,
        occupants=(A, B, "310115201505050040"),
        low_rent=LowRentHousing(since=date(2023, 4, 1), monthly_rent_subsidy=Decimal("1180.35")),
        renovations=(),
    )
    homestead = Dwelling(
        dwelling_id="FW310151000007",
        district=District.CHONGMING,
        address="上海市崇明区堡镇",
        floor_area=Decimal(120),
        tenure=HousingTenure.RURAL_HOMESTEAD,
        occupants=(C,),
        low_rent=None,
        renovations=(RuralRenovation(year=2019, amount=Decimal(42000)),),
    )
    # The unrequested child occupant gets no entry; the unknown person an empty list.
    assert result == {A: [shared], B: [shared], C: [homestead], D: []}
    assert [r.url.path for r in seen] == ["/housing/v1/dwellings:search"]
    assert seen[0].read() == f'{{"occupantIdNumbers":["{A}","{B}","{C}","{D}"]}}'.encode()


def _item(**changes: object) -> bytes:
    item: dict[str, object] = {
        "dwellingId": "FW1",
        "districtCode": "310115",
        "address": "x",
        "floorArea": 30.5,
        "tenure": "owned",
        "occupants": [A],
        "assistance": [],
    }
    item.update(changes)
    return json.dumps({"dwellings": [item]}).encode()


async def test_a_dwelling_or_occupant_repeated_in_one_answer_is_listed_once():
    repeated = _item(occupants=[A, B, A])
    twice = json.dumps({"dwellings": json.loads(repeated)["dwellings"] * 2}).encode()
    result = await mocked(SOURCE, twice).fetch([A, B])
    assert [len(result[A]), len(result[B])] == [1, 1]
    assert result[A] == result[B]
    assert result[A][0].occupants == (A, B, A)


@pytest.mark.parametrize(
    "body",
    [
        b'{"dwellings": {"FW1": {}}}',
        _item(floorArea="30.5"),
        _item(floorArea=0),
        _item(occupants=A),
        _item(districtCode="320102"),
        _item(assistance=[{"scheme": "ruralRenovation", "year": "2019", "amount": 1}]),
        _item(assistance=[{"scheme": "lowRentHousing", "since": "2023-04-01"}]),
    ],
    ids=[
        "not-a-list",
        "area-string",
        "area-zero",
        "occupants-string",
        "district-outside-shanghai",
        "year-string",
        "subsidy-missing",
    ],
)
async def test_a_body_outside_the_contract_is_bad_upstream_data(body: bytes):
    await assert_bad_upstream_data(SOURCE, body, A)


@pytest.mark.parametrize(
    "body",
    [_item(tenure="cooperative"), _item(assistance=[{"scheme": "shantyTownRedevelopment"}])],
    ids=["tenure", "assistance-scheme"],
)
async def test_an_unknown_code_is_bad_upstream_data(body: bytes):
    await assert_bad_upstream_data(SOURCE, body, A)


async def test_dwellings_agree_with_civil_affairs_across_the_population(
    adapters: Adapters, population: Population
):
    result = await adapters[SOURCE].fetch([m.id_number for m in population.members()])
    per_capita: dict[bool, list[float]] = {True: [], False: []}
    rural_homesteads = 0
    for h in population.households:
        members = tuple(m.id_number for m in h.members)
        (dwelling,) = {d.dwelling_id: d for i in members for d in result[i]}.values()
        # One dwelling per household, with all of its members and nobody else.
        assert dwelling.occupants == members
        assert dwelling.district is h.district
        assert dwelling.address.endswith(h.address)
        assert dwelling.dwelling_id != h.id
        if dwelling.tenure is HousingTenure.RURAL_HOMESTEAD:
            assert h.hukou_type is HukouType.RURAL
            rural_homesteads += 1
        else:
            area = float(dwelling.floor_area) / len(members)
            per_capita[h.district in CENTRAL].append(area)
        if dwelling.low_rent is not None:
            # 廉租住房 goes to urban renters on active 低保 or 特困, after they got it.
            assert h.hukou_type is HukouType.URBAN
            assert dwelling.tenure in (HousingTenure.PUBLIC_RENTAL, HousingTenure.PRIVATE_RENTAL)
            starts = [
                e.since
                for e in h.enrollments
                if e.status is EnrollmentStatus.ACTIVE
                and e.category
                in (AssistanceCategory.MINIMUM_LIVING, AssistanceCategory.EXTREME_HARDSHIP)
            ]
            assert starts
            assert max(starts) <= dwelling.low_rent.since <= AS_OF
            assert dwelling.low_rent.monthly_rent_subsidy > 0
        for renovation in dwelling.renovations:
            assert dwelling.tenure is HousingTenure.RURAL_HOMESTEAD
            assert renovation.year < AS_OF.year
            assert renovation.amount > 0
    rural = sum(h.hukou_type is HukouType.RURAL for h in population.households)
    assert rural_homesteads > rural / 2  # rural-hukou households mostly live on homesteads
    assert mean(per_capita[True]) < mean(per_capita[False])  # central flats are smaller
    dwellings = {d.dwelling_id: d for ds in result.values() for d in ds}.values()
    low_rent = sum(d.low_rent is not None for d in dwellings)
    assert 0 < low_rent < len(population) / 3  # assistance is the exception
    assert any(d.renovations for d in dwellings)
