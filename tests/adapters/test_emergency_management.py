import json
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

import httpx
import pytest

from adapters import idnumber
from adapters.base import BadUpstreamData
from adapters.emergency_management import (
    DisasterDamageLevel,
    DisasterEvent,
    DisasterRecord,
    DisasterReliefStage,
    DisasterType,
    EmergencyManagementAdapter,
    ReliefPayment,
)
from adapters.http import SourceClient
from adapters.sandbox.emergency_management import create_app
from adapters.sandbox.population import AS_OF, Population, generate
from adapters.vocabulary import District, Source
from schema.sections.disaster import DisasterSection

Damage = DisasterDamageLevel
Stage = DisasterReliefStage
BASE_URL = "http://127.0.0.1:8106"
COAST = {District.PUDONG, District.JINSHAN, District.FENGXIAN, District.CHONGMING, District.BAOSHAN}


class Recording(httpx.AsyncBaseTransport):
    """Passes requests to the stand-in and keeps their bodies."""

    def __init__(self, app) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self.bodies: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        return await self._inner.handle_async_request(request)


def _adapter(transport: httpx.AsyncBaseTransport) -> EmergencyManagementAdapter:
    client = httpx.AsyncClient(transport=transport)
    return EmergencyManagementAdapter(
        SourceClient(Source.EMERGENCY_MANAGEMENT, client, base_url=BASE_URL)
    )


def _answering(body) -> EmergencyManagementAdapter:
    return _adapter(httpx.MockTransport(lambda request: httpx.Response(200, json=body)))


@pytest.fixture(scope="module")
def large() -> Population:
    return generate(7, 1500)


async def _everyone(population: Population) -> dict[str, list[DisasterRecord]]:
    adapter = _adapter(httpx.ASGITransport(app=create_app(population)))
    result = await adapter.fetch([m.id_number for m in population.members()])
    return {key: list(records) for key, records in result.items()}


HEAD, SPOUSE, CHILD = "310115197001010013", "310115197205050028", "310115200808080035"
TYPHOON_EVENT: dict[str, Any] = {
    "eventNo": "ZH2024091601",
    "typeCode": "T",
    "eventName": "台风“贝碧嘉”",
    "occurDate": "2024/09/16",
    "regionCodes": ["310115", "310116"],
    "households": [
        {
            "headIdNo": HEAD,
            "memberIdNos": [SPOUSE, CHILD],
            "regionCode": "310115",
            "damageCode": "3",
            "relief": [
                {"stageCode": "01", "amount": "2650", "payDate": "2024/09/18"},
                {"stageCode": "02", "amount": "2250.5", "payDate": "2024/09/30"},
            ],
        }
    ],
}


def _with_household(**changes: Any) -> dict[str, Any]:
    return {
        "events": [{**TYPHOON_EVENT, "households": [{**TYPHOON_EVENT["households"][0], **changes}]}]
    }


async def test_a_household_event_becomes_one_record_under_each_requested_member():
    adapter = _answering({"events": [TYPHOON_EVENT]})
    result = await adapter.fetch([SPOUSE, HEAD])
    expected = DisasterRecord(
        event=DisasterEvent(
            "ZH2024091601",
            DisasterType.TYPHOON,
            "台风“贝碧嘉”",
            date(2024, 9, 16),
            (District.PUDONG, District.JINSHAN),
        ),
        head_id_number=HEAD,
        member_id_numbers=(HEAD, SPOUSE, CHILD),
        district=District.PUDONG,
        damage_level=Damage.SEVERE,
        relief=(
            ReliefPayment(Stage.EMERGENCY, Decimal(2650), date(2024, 9, 18)),
            ReliefPayment(Stage.TRANSITIONAL, Decimal("2250.5"), date(2024, 9, 30)),
        ),
    )
    assert result == {SPOUSE: [expected], HEAD: [expected]}
    assert expected.total_relief == Decimal("4900.5")


async def test_every_key_is_answered_and_unknown_persons_get_an_empty_list(population):
    everyone = await _everyone(population)
    hit = next(key for key, records in everyone.items() if records)
    unknown = idnumber.make("310101", date(1990, 1, 1), 11)
    result = await _adapter(httpx.ASGITransport(app=create_app(population))).fetch([hit, unknown])
    assert result == {hit: everyone[hit], unknown: []}


async def test_one_upstream_call_per_batch_of_at_most_500_persons(population):
    known = [m.id_number for m in population.members()]
    filler = [
        idnumber.make("310104", date(1980, 1, 1) + timedelta(days=i), 21)
        for i in range(1001 - len(known))
    ]
    transport = Recording(create_app(population))
    result = await _adapter(transport).fetch(known + filler + known[:5])
    assert [len(b["persons"]) for b in transport.bodies] == [500, 500, 1]
    assert len(result) == 1001


async def test_a_household_split_across_batches_is_listed_once_per_member():
    def answer(request: httpx.Request) -> httpx.Response:
        persons = json.loads(request.content)["persons"]
        return httpx.Response(
            200, json={"events": [TYPHOON_EVENT] if (HEAD in persons or SPOUSE in persons) else []}
        )

    filler = [idnumber.make("310104", date(1980, 1, 1) + timedelta(days=i), 21) for i in range(499)]
    result = await _adapter(httpx.MockTransport(answer)).fetch([HEAD, *filler, SPOUSE])
    assert len(result[HEAD]) == len(result[SPOUSE]) == 1
    assert result[HEAD][0].member_id_numbers == (HEAD, SPOUSE, CHILD)


@pytest.mark.parametrize(
    "body",
    [
        {"unexpected": []},
        {"events": [{**TYPHOON_EVENT, "typeCode": "Z"}]},
        {"events": [{**TYPHOON_EVENT, "occurDate": "2024-09-16"}]},
        {"events": [{**TYPHOON_EVENT, "regionCodes": ["999999"]}]},
        _with_household(damageCode="9"),
        _with_household(relief=[{"stageCode": "01", "amount": 2650, "payDate": "2024/09/18"}]),
    ],
    ids=["shape", "event-type", "date-format", "district", "damage-code", "numeric-amount"],
)
async def test_unreadable_answers_are_bad_upstream_data(body):
    with pytest.raises(BadUpstreamData) as caught:
        await _answering(body).fetch([HEAD])
    assert caught.value.source is Source.EMERGENCY_MANAGEMENT
    assert HEAD not in str(caught.value)


async def test_a_body_that_is_not_json_is_bad_upstream_data():
    adapter = _adapter(httpx.MockTransport(lambda r: httpx.Response(200, content=b"{oops")))
    with pytest.raises(BadUpstreamData):
        await adapter.fetch([HEAD])


async def test_the_stand_in_refuses_bad_requests_and_publishes_its_contract(population):
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(population)), base_url=BASE_URL
    ) as client:
        too_many = await client.post("/em/relief/query", json={"persons": [HEAD] * 501})
        wrong = await client.post("/em/relief/query", json={"idNumbers": [HEAD]})
        document = await client.get("/openapi.json")
    assert too_many.status_code == wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "BAD_REQUEST"
    assert "/em/relief/query" in document.json()["paths"]


async def test_records_agree_with_civil_affairs(large):
    everyone = await _everyone(large)
    for household in large.households:
        ids = tuple(m.id_number for m in household.members)
        for member in household.members:
            for record in everyone[member.id_number]:
                assert record.head_id_number == household.head.id_number
                assert record.member_id_numbers == ids
                assert record.district is household.district
                assert household.district in record.event.districts
                # Every member of an affected household sees the same record.
                assert all(record in everyone[i] for i in ids)


async def test_relief_follows_the_damage(large):
    records = {
        (r.event.id, r.head_id_number): r for rs in (await _everyone(large)).values() for r in rs
    }.values()
    levels = list(Damage)
    emergency: dict[Damage, list[Decimal]] = {level: [] for level in levels}
    window = AS_OF - timedelta(days=3 * 365)
    for r in records:
        assert window <= r.event.occurred_on <= AS_OF
        assert all(r.event.occurred_on < p.paid_on <= AS_OF for p in r.relief)
        stages = {p.stage for p in r.relief}
        assert Stage.EMERGENCY in stages
        if Stage.TRANSITIONAL in stages:
            assert r.damage_level in (Damage.SEVERE, Damage.TOTAL_LOSS)
        if Stage.RECONSTRUCTION in stages:
            assert r.damage_level is not Damage.MINOR
        emergency[r.damage_level] += [p.amount for p in r.relief if p.stage is Stage.EMERGENCY]
    for lower, higher in pairwise(levels):
        assert max(emergency[lower]) < min(emergency[higher])


async def test_about_one_household_in_twenty_is_hit_and_the_coast_most(large):
    everyone = await _everyone(large)
    hit = {h.id for h in large.households if everyone[h.head.id_number]}
    assert 0.03 <= len(hit) / len(large) <= 0.08
    coast = [h for h in large.households if h.district in COAST]
    inland = [h for h in large.households if h.district not in COAST]
    assert sum(h.id in hit for h in coast) / len(coast) > 1.5 * (
        sum(h.id in hit for h in inland) / len(inland)
    )
    typhoons = {
        r.district for rs in everyone.values() for r in rs if r.event.type is DisasterType.TYPHOON
    }
    assert typhoons
    assert typhoons <= COAST | {District.MINHANG, District.SONGJIANG}


async def test_a_fire_hits_a_single_household_in_its_own_district(large):
    fires: dict[str, set[str]] = {}
    for records in (await _everyone(large)).values():
        for r in records:
            if r.event.type is DisasterType.FIRE:
                fires.setdefault(r.event.id, set()).add(r.head_id_number)
                assert r.event.districts == (r.district,)
    assert fires, "expected some house fires in 1,500 households"
    assert all(len(heads) == 1 for heads in fires.values())


def test_the_section_lists_each_household_event_once_newest_first():
    event = DisasterEvent("E1", DisasterType.FLOOD, "洪涝", date(2024, 6, 21), (District.QINGPU,))
    later = DisasterEvent("E2", DisasterType.FIRE, "火灾", date(2025, 3, 2), (District.QINGPU,))
    flood = DisasterRecord(
        event,
        HEAD,
        (HEAD, SPOUSE),
        District.QINGPU,
        Damage.MINOR,
        (ReliefPayment(Stage.EMERGENCY, Decimal(500), date(2024, 6, 23)),),
    )
    fire = DisasterRecord(
        later,
        HEAD,
        (HEAD, SPOUSE),
        District.QINGPU,
        Damage.SEVERE,
        (
            ReliefPayment(Stage.EMERGENCY, Decimal(3000), date(2025, 3, 4)),
            ReliefPayment(Stage.TRANSITIONAL, Decimal(1500), date(2025, 3, 15)),
        ),
    )
    section = DisasterSection.from_records(
        [HEAD, SPOUSE, CHILD], {HEAD: [flood, fire], SPOUSE: [flood, fire], CHILD: []}
    )
    assert [i.event.id for i in section.impacts] == ["E2", "E1"]
    assert section.total_relief == Decimal(5000)
    assert section.last_disaster_on == date(2025, 3, 2)
    assert [p.stage for p in section.impacts[0].relief] == [
        Stage.EMERGENCY,
        Stage.TRANSITIONAL,
    ]
    empty = DisasterSection.from_records([CHILD], {CHILD: []})
    assert empty.impacts == []
    assert empty.total_relief == 0
    assert empty.last_disaster_on is None
