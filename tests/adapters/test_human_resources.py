import json
from datetime import date
from decimal import Decimal
from statistics import mean

import httpx
import pytest

from adapters.cache import Freshness
from adapters.human_resources import (
    EmploymentRecord,
    EmploymentService,
    EmploymentServiceKind,
    EmploymentStatus,
)
from adapters.records import age_on
from adapters.registry import Adapters
from adapters.sandbox.human_resources import OPENAPI, build_records, record_json, retirement_age
from adapters.sandbox.population import AS_OF, AS_OF_TIME, Population
from adapters.vocabulary import AssistanceCategory, HukouType, Source, WorkAbility
from hub.households import facts
from hub.households.facts import Part
from hub.rules import load as load_rules
from tests.adapters.conftest import UNKNOWN, assert_bad_upstream_data, mocked
from tests.conftest import sandbox_url

SOURCE = Source.HUMAN_RESOURCES
A, B = "310110197505050013", "310110195808080025"
E = EmploymentStatus
WORKING = (E.EMPLOYED, E.FLEXIBLE)


# Written as the bureau writes it: amounts with two decimals, codes as bare integers.
WIRE = f"""{{"Result": [
  {{"IdCardNo": "{A}", "EmploymentStatusCode": 21, "WageBandCode": null,
    "ContributionMonths": 96, "LastContributionMonth": "2025-06-01", "MonthlyPension": null,
    "UnemploymentRegDate": "2025-07-14",
    "Services": [{{"ServiceTypeCode": 2, "ServiceDate": "2025-08-02"}},
                 {{"ServiceTypeCode": 1, "ServiceDate": "2025-10-20"}}]}},
  {{"IdCardNo": "{B}", "EmploymentStatusCode": 41, "WageBandCode": null,
    "ContributionMonths": 372, "LastContributionMonth": "2018-07-01", "MonthlyPension": 4120.50,
    "UnemploymentRegDate": null, "Services": []}}
], "Total": 2}}""".encode()


async def test_the_bureau_format_maps_to_hub_records():
    seen: list[httpx.Request] = []
    result = await mocked(SOURCE, WIRE, seen).fetch([A, B, UNKNOWN])
    assert result == {
        A: [
            EmploymentRecord(
                id_number=A,
                status=E.REGISTERED_UNEMPLOYED,
                wage_band=None,
                contribution_months=96,
                last_contribution_month=date(2025, 6, 1),
                monthly_pension=None,
                unemployment_registered_on=date(2025, 7, 14),
                services=(
                    EmploymentService(EmploymentServiceKind.JOB_REFERRAL, date(2025, 8, 2)),
                    EmploymentService(
                        EmploymentServiceKind.VOCATIONAL_TRAINING, date(2025, 10, 20)
                    ),
                ),
            )
        ],
        B: [
            EmploymentRecord(
                id_number=B,
                status=E.RETIRED,
                wage_band=None,
                contribution_months=372,
                last_contribution_month=date(2018, 7, 1),
                monthly_pension=Decimal("4120.50"),
                unemployment_registered_on=None,
                services=(),
            )
        ],
        UNKNOWN: [],
    }
    pension = result[B][0].monthly_pension
    assert str(pension) == "4120.50"  # exact yuan and fen, not a float's digits
    assert [r.url.path for r in seen] == ["/rs/api/PersonQuery"]
    assert json.loads(seen[0].read()) == {"IdCardNos": [A, B, UNKNOWN]}


def _person(**changes: object) -> dict[str, object]:
    person: dict[str, object] = {
        "IdCardNo": A,
        "EmploymentStatusCode": 11,
        "WageBandCode": 2,
        "ContributionMonths": 12,
        "LastContributionMonth": "2026-09-01",
        "MonthlyPension": None,
        "UnemploymentRegDate": None,
        "Services": [],
    }
    person.update(changes)
    return person


def _body(*people: dict[str, object], total: object = None) -> bytes:
    return json.dumps({"Result": people, "Total": len(people) if total is None else total}).encode()


@pytest.mark.parametrize(
    "body",
    [
        _body(_person(), total=2),
        b'{"Result": {"x": 1}, "Total": 1}',
        _body(_person(ContributionMonths="12")),
        _body(_person(LastContributionMonth="2026/09/01")),
        _body(_person(MonthlyPension=4120.505)),
        _body(_person(MonthlyPension="4120.50")),
        _body(_person(Services={"ServiceTypeCode": 1})),
        _body({"IdCardNo": A}),
    ],
    ids=[
        "total-disagrees",
        "result-not-list",
        "months-string",
        "date-slashes",
        "amount-below-fen",
        "amount-string",
        "services-not-list",
        "fields-missing",
    ],
)
async def test_a_body_outside_the_contract_is_bad_upstream_data(body: bytes):
    await assert_bad_upstream_data(SOURCE, body, A)


@pytest.mark.parametrize(
    "person",
    [
        _person(EmploymentStatusCode=99),
        _person(EmploymentStatusCode="11"),
        _person(WageBandCode=True),
        _person(WageBandCode=5),
        _person(Services=[{"ServiceTypeCode": 7, "ServiceDate": "2026-01-05"}]),
    ],
    ids=["status", "status-as-string", "band-as-bool", "band", "service"],
)
async def test_an_unknown_code_is_bad_upstream_data(person: dict[str, object]):
    await assert_bad_upstream_data(SOURCE, _body(person), A)


async def test_the_stand_in_writes_amounts_with_two_decimals(
    http: httpx.AsyncClient, population: Population
):
    # A pension such as 4120.50, which a plain JSON encoder would write as 4120.5.
    retiree = next(
        r
        for r in build_records(population).values()
        if r.monthly_pension is not None and (r.monthly_pension * 10) % 1 == 0
    )
    response = await http.post(
        sandbox_url(SOURCE) + "/rs/api/PersonQuery", json={"IdCardNos": [retiree.id_number]}
    )
    assert f'"MonthlyPension":{retiree.monthly_pension:.2f}' in response.text


async def test_records_agree_with_civil_affairs_across_the_population(
    adapters: Adapters, population: Population
):
    result = await adapters[SOURCE].fetch([m.id_number for m in population.members()])
    pensions: dict[HukouType, list[Decimal]] = {HukouType.URBAN: [], HukouType.RURAL: []}
    at_retirement_age = retired = 0
    for h in population.households:
        for m in h.members:
            age = age_on(m.birth_date, AS_OF)
            if age < 16:
                assert result[m.id_number] == []
                continue
            (r,) = result[m.id_number]
            pensionable = age >= retirement_age(m.sex)
            at_retirement_age += pensionable
            retired += r.status is E.RETIRED
            if r.status is E.RETIRED:
                assert pensionable
                assert r.monthly_pension is not None
                pensions[h.hukou_type].append(r.monthly_pension)
            else:
                assert r.monthly_pension is None
            if m.work_ability is WorkAbility.NONE and not pensionable:
                assert r.status is E.NOT_IN_LABOUR_FORCE
            assert (r.wage_band is not None) == (r.status in WORKING)
            assert (r.unemployment_registered_on is not None) == (
                r.status is E.REGISTERED_UNEMPLOYED
            )
            # Contributions fit inside a working life and never come from the future.
            assert (r.contribution_months > 0) == (r.last_contribution_month is not None)
            assert r.contribution_months <= (age - 15) * 12
            if r.last_contribution_month is not None:
                assert r.last_contribution_month.day == 1
                assert r.last_contribution_month < AS_OF.replace(day=1)
            for service in r.services:
                assert service.provided_on <= AS_OF
                if r.unemployment_registered_on and service.kind is not (
                    EmploymentServiceKind.PUBLIC_WELFARE_POST
                ):
                    assert service.provided_on >= r.unemployment_registered_on
    assert retired > 0.75 * at_retirement_age  # men 60+, women 55+ mostly retired
    # Rural residents draw the small 城乡居民 pension, urban retirees the 职工 one.
    assert mean(pensions[HukouType.RURAL]) < mean(pensions[HukouType.URBAN])


async def test_unstable_income_and_zero_employment_households_show_up(
    adapters: Adapters, population: Population
):
    result = await adapters[SOURCE].fetch([m.id_number for m in population.members()])
    rules = load_rules()
    rule = rules.zero_employment
    jobless: dict[bool, list[bool]] = {True: [], False: []}
    zero_employment = 0
    for h in population.households:
        unstable = any(
            e.category is AssistanceCategory.MINIMUM_LIVING and not e.income_stable
            for e in h.enrollments
        )
        for m in h.members:
            if m.work_ability is WorkAbility.FULL and age_on(m.birth_date, AS_OF) >= 18:
                (r,) = result[m.id_number]
                if r.status is not E.RETIRED:
                    jobless[unstable].append(r.status is not E.EMPLOYED)
        # 零就业家庭 as the rules define it: members of working age able to work (civil
        # affairs) and in the labour force (working or registered as seeking work), none
        # of them working.
        statuses = [
            r.status
            for m in h.members
            if m.work_ability is not WorkAbility.NONE
            and rule.working_age_from <= age_on(m.birth_date, AS_OF) <= rule.working_age_to
            for r in result[m.id_number]
            if r.status in (*rule.employed_statuses, E.REGISTERED_UNEMPLOYED)
        ]
        expected = bool(statuses) and not any(s in rule.employed_statuses for s in statuses)
        keys = tuple(m.id_number for m in h.members)
        part = Part(SOURCE, keys, {k: result[k] for k in keys}, Freshness.LIVE, AS_OF_TIME, 0.0)
        judged = facts.employment(part, h, rules, AS_OF)
        assert judged.zero_employment is expected, h.id
        zero_employment += expected
    assert mean(jobless[True]) > mean(jobless[False])
    assert 0 < zero_employment < len(population) / 2


# The day current work began (EmployedSince) ---------------------------------------------


async def test_the_day_work_began_is_read_and_a_bureau_without_it_reads_as_none():
    body = _body(
        _person(EmployedSince="2026-08-03"),
        _person(IdCardNo=B, EmploymentStatusCode=12),  # as an older bureau writes it: no field
    )
    result = await mocked(SOURCE, body).fetch([A, B])
    assert result[A][0].employed_since == date(2026, 8, 3)
    assert result[B][0].employed_since is None
    assert result[B][0].status is E.FLEXIBLE


@pytest.mark.parametrize("value", ["2026/08/03", "20260803", 20260803, "2026-02-30"])
async def test_a_day_work_began_outside_the_contract_is_bad_upstream_data(value: object):
    await assert_bad_upstream_data(SOURCE, _body(_person(EmployedSince=value)), A)


async def test_the_stand_in_writes_the_day_work_began_as_yyyy_mm_dd(
    http: httpx.AsyncClient, population: Population
):
    records = build_records(population).values()
    worker = next(r for r in records if r.employed_since is not None)
    retiree = next(r for r in records if r.status is E.RETIRED)
    response = await http.post(
        sandbox_url(SOURCE) + "/rs/api/PersonQuery",
        json={"IdCardNos": [worker.id_number, retiree.id_number]},
    )
    assert worker.employed_since is not None
    assert f'"EmployedSince":"{worker.employed_since:%Y-%m-%d}"' in response.text
    assert '"EmployedSince":null' in response.text


async def test_the_adapter_reads_the_day_work_began_from_the_stand_in(
    adapters: Adapters, population: Population
):
    built = build_records(population)
    workers = [r for r in built.values() if r.status in WORKING]
    result = await adapters[SOURCE].fetch([r.id_number for r in workers])
    assert [result[r.id_number][0].employed_since for r in workers] == [
        r.employed_since for r in workers
    ]
    assert all(r.employed_since is not None for r in workers)


def test_the_openapi_document_describes_every_field_the_stand_in_writes(population: Population):
    person = OPENAPI["components"]["schemas"]["Person"]["properties"]
    for record in build_records(population).values():
        assert set(record_json(record)) == set(person)
    assert person["EmployedSince"]["type"] == ["string", "null"]
    assert person["EmployedSince"]["pattern"] == person["UnemploymentRegDate"]["pattern"]
