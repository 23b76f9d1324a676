from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import httpx
import pytest

from adapters.base import BadUpstreamData, HealthStatus, SourceTimeout, SourceUnavailable
from adapters.civil_affairs import CivilAffairsAdapter
from adapters.http import SourceClient
from adapters.records import Household, HouseholdChange
from adapters.registry import Adapters
from adapters.sandbox.civil_affairs import OPENAPI, household_json, member_json
from adapters.sandbox.population import Population
from adapters.vocabulary import Source
from tests.adapters.conftest import mocked
from tests.conftest import faults, sandbox_url


async def test_households_map_the_wire_format_back_to_the_same_records(
    adapters: Adapters, population: Population
):
    wanted = population.households[:40]
    found = await adapters.civil_affairs.households([h.id for h in wanted])
    assert [found[h.id] for h in wanted] == list(wanted)


async def test_persons_are_found_by_id_number_and_unknown_ones_left_out(
    adapters: Adapters, population: Population
):
    member = population.households[3].members[0]
    found = await adapters.civil_affairs.persons([member.id_number, "310101199001010011"])
    assert found == {member.id_number: member}


async def test_fetch_answers_every_key_with_an_empty_list_for_unknown_ones(
    adapters: Adapters, population: Population
):
    known = population.households[0]
    result = await adapters.civil_affairs.fetch([known.id, "H3101010009999"])
    assert result == {known.id: [known], "H3101010009999": []}


async def test_the_change_feed_pages_through_every_household_in_change_order(
    adapters: Adapters, population: Population
):
    seen: list[HouseholdChange] = []
    token = None
    while True:
        page = await adapters.civil_affairs.changes(
            updated_since=None, page_token=token, page_size=13
        )
        seen.extend(page.changes)
        token = page.next_page_token
        if token is None:
            break
    assert sorted(c.household_id for c in seen) == sorted(h.id for h in population.households)
    order = [(c.updated_at, c.household_id) for c in seen]
    assert order == sorted(order)


async def test_updated_since_is_inclusive(adapters: Adapters, population: Population):
    newest = max(population.households, key=lambda h: h.updated_at)
    page = await adapters.civil_affairs.changes(updated_since=newest.updated_at, page_token=None)
    assert [c.household_id for c in page.changes] == [newest.id]
    later = await adapters.civil_affairs.changes(
        updated_since=newest.updated_at + timedelta(seconds=1), page_token=None
    )
    assert later.changes == ()


def _adapter(handler) -> CivilAffairsAdapter:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return CivilAffairsAdapter(
        SourceClient(Source.CIVIL_AFFAIRS, client, base_url=sandbox_url(Source.CIVIL_AFFAIRS))
    )


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (httpx.Response(503), SourceUnavailable),
        (httpx.Response(200, content=b"{not json"), BadUpstreamData),
        (httpx.Response(200, json={"households": [{"householdId": "H1"}]}), BadUpstreamData),
        (httpx.Response(200, json={"unexpected": []}), BadUpstreamData),
    ],
)
async def test_upstream_failures_become_source_errors(response, error):
    adapter = _adapter(lambda request: response)
    with pytest.raises(error) as caught:
        await adapter.households(["H3101010000001"])
    assert caught.value.source is Source.CIVIL_AFFAIRS


async def test_a_refused_connection_is_unavailable_and_a_timeout_is_a_timeout():
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    def hang(request):
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(SourceUnavailable):
        await _adapter(refuse).persons(["310101199001010011"])
    with pytest.raises(SourceTimeout):
        await _adapter(hang).persons(["310101199001010011"])


async def test_health_reports_up_and_down(adapters: Adapters, transport):
    assert (await adapters.civil_affairs.health()).status is HealthStatus.UP
    faults(transport, Source.CIVIL_AFFAIRS).down = True
    health = await adapters.civil_affairs.health()
    assert health.status is HealthStatus.DOWN
    assert "cannot reach" in health.detail


async def test_the_stand_in_publishes_its_openapi_document(http: httpx.AsyncClient):
    response = await http.get(sandbox_url(Source.CIVIL_AFFAIRS) + "/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {
        "/api/v1/persons:batchGet",
        "/api/v1/households",
        "/api/v1/households/{householdId}",
    } <= set(paths)


async def test_the_stand_in_rejects_a_forged_page_token(http: httpx.AsyncClient):
    response = await http.get(
        sandbox_url(Source.CIVIL_AFFAIRS) + "/api/v1/households", params={"pageToken": "xx"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BAD_REQUEST"


# The part of the income earned from work, and the severe-disability care subsidy -------


def _with_care_and_earnings(population: Population) -> Household:
    return next(
        h
        for h in population.households
        if h.assessed_monthly_earnings and any(m.care_subsidy for m in h.members)
    )


async def test_the_adapter_reads_the_earnings_and_the_care_subsidies(
    adapters: Adapters, population: Population
):
    cared = [h for h in population.households if any(m.care_subsidy for m in h.members)][:5]
    earning = [h for h in population.households if h.assessed_monthly_earnings][:5]
    wanted = [*cared, *earning]
    found = await adapters.civil_affairs.households([h.id for h in wanted])
    assert [found[h.id] for h in wanted] == wanted
    assert {m.care_subsidy for h in cared for m in found[h.id].members} >= {Decimal(410)}
    assert all(found[h.id].assessed_monthly_earnings for h in earning)
    members = [m for h in cared for m in h.members]
    persons = await adapters.civil_affairs.persons([m.id_number for m in members])
    assert [persons[m.id_number].care_subsidy for m in members] == [m.care_subsidy for m in members]


def test_the_stand_in_writes_them_as_yuan_strings(population: Population):
    household = _with_care_and_earnings(population)
    body = household_json(household)
    assert body["assessedMonthlyEarnings"] == f"{household.assessed_monthly_earnings:.2f}"
    assert Decimal(body["assessedMonthlyEarnings"]) <= Decimal(body["assessedMonthlyIncome"])
    written = [m["careSubsidy"] for m in body["members"]]
    assert "410.00" in written
    assert set(written) <= {"410.00", None}
    assert member_json(household.members[0])["careSubsidy"] == written[0]


async def test_a_department_without_them_reads_them_as_none(population: Population):
    household = _with_care_and_earnings(population)
    body = household_json(household)
    del body["assessedMonthlyEarnings"]
    for member in body["members"]:
        del member["careSubsidy"]
    adapter = mocked(Source.CIVIL_AFFAIRS, {"households": [body], "notFound": []})
    assert isinstance(adapter, CivilAffairsAdapter)
    (found,) = (await adapter.fetch([household.id]))[household.id]
    assert found == replace(
        household,
        assessed_monthly_earnings=None,
        members=tuple(replace(m, care_subsidy=None) for m in household.members),
    )
    person = member_json(household.members[0])
    del person["careSubsidy"]
    persons = mocked(Source.CIVIL_AFFAIRS, {"persons": [person], "notFound": []})
    assert isinstance(persons, CivilAffairsAdapter)
    found_person = (await persons.persons([household.members[0].id_number]))[person["idNumber"]]
    assert found_person == replace(household.members[0], care_subsidy=None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("assessedMonthlyEarnings", "-1.00"),
        ("assessedMonthlyEarnings", "NaN"),
        ("careSubsidy", "-410.00"),
        ("careSubsidy", "四百一十"),
    ],
)
async def test_earnings_or_a_care_subsidy_that_is_not_an_amount_is_bad_upstream_data(
    field: str, value: str, population: Population
):
    household = _with_care_and_earnings(population)
    body = household_json(household)
    if field == "careSubsidy":
        body["members"][0][field] = value
    else:
        body[field] = value
    adapter = mocked(Source.CIVIL_AFFAIRS, {"households": [body], "notFound": []})
    with pytest.raises(BadUpstreamData):
        await adapter.fetch([household.id])


def test_the_openapi_document_describes_every_field_the_stand_in_writes(
    population: Population,
):
    schemas = OPENAPI["components"]["schemas"]
    household = _with_care_and_earnings(population)
    assert set(household_json(household)) == set(schemas["Household"]["properties"])
    assert set(member_json(household.members[0])) == set(schemas["Member"]["properties"])
    for name, schema in (
        ("assessedMonthlyEarnings", schemas["Household"]["properties"]),
        ("careSubsidy", schemas["Member"]["properties"]),
    ):
        assert schema[name]["type"] == ["string", "null"]
        assert "yuan" in schema[name]["description"]
