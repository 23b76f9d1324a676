from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

import pytest

from adapters.emergency_management import (
    DisasterDamageLevel,
    DisasterEvent,
    DisasterRecord,
    DisasterReliefStage,
    DisasterType,
    ReliefPayment,
)
from adapters.sandbox.population import AS_OF, Population
from adapters.vocabulary import District, Source
from tests.adapters.conftest import assert_bad_upstream_data, holdings, mocked

SOURCE = Source.EMERGENCY_MANAGEMENT
Damage = DisasterDamageLevel
Stage = DisasterReliefStage
COAST = {District.PUDONG, District.JINSHAN, District.FENGXIAN, District.CHONGMING, District.BAOSHAN}


async def _everyone(population: Population) -> dict[str, list[DisasterRecord]]:
    return await holdings(SOURCE, population)


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
    result = await mocked(SOURCE, {"events": [TYPHOON_EVENT]}).fetch([SPOUSE, HEAD])
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


@pytest.mark.parametrize(
    "body",
    [
        {"events": [{**TYPHOON_EVENT, "typeCode": "Z"}]},
        {"events": [{**TYPHOON_EVENT, "occurDate": "2024-09-16"}]},
        {"events": [{**TYPHOON_EVENT, "regionCodes": ["999999"]}]},
        _with_household(damageCode="9"),
        _with_household(relief=[{"stageCode": "01", "amount": 2650, "payDate": "2024/09/18"}]),
    ],
    ids=["event-type", "date-format", "district", "damage-code", "numeric-amount"],
)
async def test_unreadable_answers_are_bad_upstream_data(body):
    await assert_bad_upstream_data(SOURCE, body, HEAD)


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
