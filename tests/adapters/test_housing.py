import json
from collections.abc import AsyncIterator
from datetime import date
from decimal import Decimal
from statistics import mean

import httpx
import pytest
from starlette.applications import Starlette

from adapters.base import BadUpstreamData
from adapters.housing import (
    Dwelling,
    HousingAdapter,
    HousingTenure,
    LowRentHousing,
    RuralRenovation,
)
from adapters.http import SourceClient
from adapters.sandbox import housing as stand_in
from adapters.sandbox.population import AS_OF, Population
from adapters.vocabulary import (
    AssistanceCategory,
    District,
    EnrollmentStatus,
    HukouType,
    Source,
)
from schema.sections.housing import HousingSection

URL = "http://127.0.0.1:8104"  # the housing stand-in's port (tests.conftest.sandbox_url)
UNKNOWN = "310101199001010011"


@pytest.fixture(scope="module")
def app(population: Population) -> Starlette:
    return stand_in.create_app(population)


class Counting(httpx.AsyncBaseTransport):
    """The stand-in in-process, counting the calls that reach it."""

    def __init__(self, app: Starlette) -> None:
        self._app = httpx.ASGITransport(app=app)
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return await self._app.handle_async_request(request)


@pytest.fixture
def counting(app: Starlette) -> Counting:
    return Counting(app)


@pytest.fixture
async def adapter(counting: Counting) -> AsyncIterator[HousingAdapter]:
    async with httpx.AsyncClient(transport=counting) as client:
        yield HousingAdapter(SourceClient(Source.HOUSING, client, base_url=URL))


def _mocked(body: bytes, seen: list[httpx.Request] | None = None) -> HousingAdapter:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return HousingAdapter(SourceClient(Source.HOUSING, client, base_url=URL))


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
    result = await _mocked(WIRE, seen).fetch([A, B, C, D])
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


@pytest.mark.parametrize(
    "body",
    [
        b'{"unexpected": []}',
        b'{"dwellings": {"FW1": {}}}',
        _item(floorArea="30.5"),
        _item(floorArea=0),
        _item(occupants=A),
        _item(districtCode="320102"),
        _item(assistance=[{"scheme": "ruralRenovation", "year": "2019", "amount": 1}]),
        _item(assistance=[{"scheme": "lowRentHousing", "since": "2023-04-01"}]),
    ],
    ids=[
        "no-dwellings",
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
    with pytest.raises(BadUpstreamData) as caught:
        await _mocked(body).fetch([A])
    assert caught.value.source is Source.HOUSING
    assert A not in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [_item(tenure="cooperative"), _item(assistance=[{"scheme": "shantyTownRedevelopment"}])],
    ids=["tenure", "assistance-scheme"],
)
async def test_an_unknown_code_is_bad_upstream_data(body: bytes):
    with pytest.raises(BadUpstreamData):
        await _mocked(body).fetch([A])


async def test_the_stand_in_answers_what_it_built_for_every_member(
    adapter: HousingAdapter, population: Population
):
    built = {o: d for d in stand_in.build_dwellings(population) for o in d.occupants}
    ids = [m.id_number for m in population.members()]
    result = await adapter.fetch([*ids, UNKNOWN])
    assert result == {**{i: [built[i]] for i in ids}, UNKNOWN: []}


async def test_one_call_per_500_keys_and_a_dwelling_split_across_calls_is_listed_once_each(
    adapter: HousingAdapter, counting: Counting, population: Population
):
    household = next(h for h in population.households if len(h.members) >= 2)
    first, second = (m.id_number for m in household.members[:2])
    fillers = [f"3101151990010{i:05d}" for i in range(998)]
    keys = [first, *fillers[:499], second, *fillers[499:], first]  # 1,000 distinct keys
    result = await adapter.fetch(keys)
    assert counting.calls == 2
    assert len(result[first]) == len(result[second]) == 1
    assert result[first] == result[second]
    assert result[first][0].occupants == tuple(m.id_number for m in household.members)
    assert all(result[f] == [] for f in fillers)


async def test_the_stand_in_refuses_oversized_and_misshapen_requests(app: Starlette):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        too_many = await client.post(
            URL + "/housing/v1/dwellings:search", json={"occupantIdNumbers": [UNKNOWN] * 501}
        )
        wrong_key = await client.post(
            URL + "/housing/v1/dwellings:search", json={"idNumbers": [UNKNOWN]}
        )
        not_json = await client.post(URL + "/housing/v1/dwellings:search", content=b"[")
        exactly_500 = await client.post(
            URL + "/housing/v1/dwellings:search", json={"occupantIdNumbers": [UNKNOWN] * 500}
        )
    assert [too_many.status_code, wrong_key.status_code, not_json.status_code] == [400] * 3
    assert too_many.json()["error"]["code"] == "BAD_REQUEST"
    assert exactly_500.json() == {"dwellings": []}


async def test_the_stand_in_publishes_its_openapi_document(app: Starlette):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        response = await client.get(URL + "/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert set(document["paths"]) == {"/housing/v1/dwellings:search"}
    assert "Dwelling" in document["components"]["schemas"]


async def test_dwellings_agree_with_civil_affairs_across_the_population(
    adapter: HousingAdapter, population: Population
):
    result = await adapter.fetch([m.id_number for m in population.members()])
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
            per_capita[h.district in stand_in.CENTRAL].append(area)
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


def test_the_section_shows_a_shared_dwelling_once_in_member_order():
    def dwelling(dwelling_id: str, *occupants: str) -> Dwelling:
        return Dwelling(
            dwelling_id=dwelling_id,
            district=District.HONGKOU,
            address="x",
            floor_area=Decimal("41.5"),
            tenure=HousingTenure.PRIVATE_RENTAL,
            occupants=occupants,
            renovations=(),
            low_rent=LowRentHousing(date(2024, 1, 1), Decimal("960.00")),
        )

    home, lodging, elsewhere = dwelling("FW2", A, B), dwelling("FW1", C), dwelling("FW9", OTHER)
    section = HousingSection.from_records(
        [A, B, C, D], {A: [home], B: [home], C: [lodging], D: [], OTHER: [elsewhere]}
    )
    assert [d.dwelling_id for d in section.dwellings] == ["FW2", "FW1"]
    assert section.dwellings[0].occupant_id_numbers == [A, B]
    assert section.dwellings[0].floor_area == Decimal("41.5")
    assert section.dwellings[0].low_rent_housing is not None
    assert section.dwellings[0].low_rent_housing.monthly_rent_subsidy == Decimal("960.00")
    assert HousingSection.from_records([D], {D: []}).dwellings == []
