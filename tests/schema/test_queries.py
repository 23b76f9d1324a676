from collections import Counter
from datetime import date, datetime

import pytest

from adapters import idnumber
from adapters.records import age_on
from adapters.sandbox.population import Population
from adapters.vocabulary import AssistanceCategory, District, EnrollmentStatus, Source
from hub.households.service import SHANGHAI
from tests.conftest import SIZE, faults

EXAMPLE = """{ households(first: 3) { totalCount edges { node { id district members {
  idNumber age } civilAffairs { enrollments { category since } } } } } }"""

PAGE = """query($first: Int!, $after: String, $filter: HouseholdFilterInput) {
  households(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id district street categories } } } }"""

HOUSEHOLD = """query($id: ID!) { household(id: $id) { id district districtName street
  members { idNumber name sex birthDate age relation disabilityGrade ableToWork }
  civilAffairs { address enrollments { category status since monthlyAmount incomeStable
  lastReviewedOn } } } }"""


async def test_the_example_query_answers_with_valid_shanghai_households(gql):
    result = await gql(EXAMPLE)
    assert "errors" not in result
    connection = result["data"]["households"]
    assert connection["totalCount"] == SIZE
    assert len(connection["edges"]) == 3
    for edge in connection["edges"]:
        node = edge["node"]
        assert node["district"] in District.__members__
        assert node["members"]
        assert all(idnumber.is_valid(m["idNumber"]) for m in node["members"])
        assert node["civilAffairs"]["enrollments"]


async def test_a_household_is_read_whole_from_civil_affairs(gql, population: Population):
    household = population.households[12]
    result = await gql(HOUSEHOLD, id=household.id)
    assert "errors" not in result
    node = result["data"]["household"]
    assert node["district"] == household.district.name
    assert node["districtName"] == household.district.name_zh
    assert [m["idNumber"] for m in node["members"]] == [m.id_number for m in household.members]
    head = node["members"][0]
    assert head["name"] == household.members[0].name
    assert head["birthDate"] == household.members[0].birth_date.isoformat()
    enrollment = household.enrollments[0]
    assert node["civilAffairs"]["enrollments"][0] == {
        "category": enrollment.category.name,
        "status": enrollment.status.name,
        "since": enrollment.since.isoformat(),
        "monthlyAmount": f"{enrollment.monthly_amount:.2f}",
        "incomeStable": enrollment.income_stable,
        "lastReviewedOn": (
            enrollment.last_reviewed_on.isoformat() if enrollment.last_reviewed_on else None
        ),
    }


async def test_age_is_counted_in_full_years(gql, population: Population):
    household = population.households[0]
    result = await gql(HOUSEHOLD, id=household.id)
    today = datetime.now(SHANGHAI).date()
    ages = [m["age"] for m in result["data"]["household"]["members"]]
    assert ages == [age_on(m.birth_date, today) for m in household.members]


async def test_an_unknown_household_is_null_without_error(gql):
    result = await gql(HOUSEHOLD, id="H3101010009999")
    assert result == {"data": {"household": None}}


async def test_a_household_is_found_by_any_member(gql, population: Population):
    household = next(h for h in population.households if len(h.members) > 2)
    result = await gql(
        "query($n: String!) { householdByMember(idNumber: $n) { id } }",
        n=household.members[-1].id_number,
    )
    assert result["data"]["householdByMember"] == {"id": household.id}


async def test_a_person_is_read_live_with_their_household(gql, population: Population):
    member = population.households[20].members[0]
    result = await gql(
        "query($n: String!) { person(idNumber: $n) { name relation household { id } } }",
        n=member.id_number,
    )
    assert result["data"]["person"] == {
        "name": member.name,
        "relation": member.relation.name,
        "household": {"id": member.household_id},
    }


async def test_unknown_valid_id_numbers_are_null(gql):
    unknown = idnumber.make("310101", date(1970, 1, 1), 999)
    result = await gql(
        "query($n: String!) { person(idNumber: $n) { name } householdByMember(idNumber: $n)"
        " { id } }",
        n=unknown,
    )
    assert result == {"data": {"person": None, "householdByMember": None}}


@pytest.mark.parametrize("field", ["person", "householdByMember"])
@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("310101197001010010", "CHECKSUM"),
        ("31010119700230001X", "BIRTH_DATE"),
        ("12345", "LENGTH"),
        ("990101197001010012", "REGION"),
    ],
)
async def test_an_invalid_id_number_is_an_error_naming_the_argument(gql, field, value, reason):
    result = await gql(f"query($n: String!) {{ {field}(idNumber: $n) {{ __typename }} }}", n=value)
    assert result["data"] == {field: None}
    (error,) = result["errors"]
    assert error["path"] == [field]
    assert error["extensions"] == {
        "code": "INVALID_ID_NUMBER",
        "argument": "idNumber",
        "reason": reason,
    }
    assert "idNumber" in error["message"]


async def test_pages_are_complete_ordered_and_stable(gql):
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        result = await gql(PAGE, first=17, after=after)
        connection = result["data"]["households"]
        assert connection["totalCount"] == SIZE
        assert connection["pageInfo"]["hasPreviousPage"] is (after is not None)
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert pages == -(-SIZE // 17)
    assert len(seen) == len(set(seen)) == SIZE
    assert seen == sorted(seen)
    again = await gql(PAGE, first=17, after=None)
    assert [e["node"]["id"] for e in again["data"]["households"]["edges"]] == seen[:17]


async def test_filters_narrow_the_list_and_its_count(gql, population: Population):
    district = Counter(h.district for h in population.households).most_common(1)[0][0]
    in_district = [h for h in population.households if h.district is district]
    result = await gql(PAGE, first=100, filter={"district": district.name})
    connection = result["data"]["households"]
    assert connection["totalCount"] == len(in_district)
    assert {e["node"]["district"] for e in connection["edges"]} == {district.name}

    street = in_district[0].street
    result = await gql(PAGE, first=100, filter={"district": district.name, "street": street})
    expected = sorted(h.id for h in in_district if h.street == street)
    assert [e["node"]["id"] for e in result["data"]["households"]["edges"]] == expected

    category = AssistanceCategory.EXTREME_HARDSHIP
    active = {
        h.id
        for h in population.households
        if any(
            e.category is category and e.status is EnrollmentStatus.ACTIVE for e in h.enrollments
        )
    }
    result = await gql(PAGE, first=100, filter={"category": category.name})
    assert result["data"]["households"]["totalCount"] == len(active)
    assert {e["node"]["id"] for e in result["data"]["households"]["edges"]} == active


@pytest.mark.parametrize("first", [0, 101, -3])
async def test_page_size_is_capped(gql, first):
    result = await gql(PAGE, first=first)
    assert result["data"] is None
    (error,) = result["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "first"}
    assert "between 1 and 100" in error["message"]


async def test_a_forged_cursor_is_rejected(gql):
    result = await gql(PAGE, first=5, after="not-a-cursor")
    (error,) = result["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}


async def test_a_cursor_is_good_only_for_the_list_that_gave_it(gql):
    page = (await gql(PAGE, first=2))["data"]["households"]
    cursor = page["pageInfo"]["endCursor"]
    assert (await gql(PAGE, first=2, after=cursor))["data"]["households"]["edges"]
    other_lists = [
        "query($after: String) { alerts(first: 2, after: $after) { edges { cursor } } }",
        "query($after: String) { referrals(first: 2, after: $after) { edges { cursor } } }",
        """query($after: String) { reviewsDue(before: "2030-01-01", first: 2, after: $after) {
          edges { cursor } } }""",
    ]
    for query in other_lists:
        (error,) = (await gql(query, after=cursor))["errors"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}, query


async def test_a_malformed_household_id_is_rejected(gql):
    result = await gql(HOUSEHOLD, id="../etc/passwd")
    (error,) = result["errors"]
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": "id"}


async def test_a_malformed_query_gets_a_syntax_error(hub_client, caseworker):
    response = await hub_client.post(
        "/graphql", json={"query": "{ households(first: 3 { id }"}, headers=caseworker
    )
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["message"].startswith("Syntax Error")


async def test_an_unknown_field_is_a_validation_error(hub_client, caseworker):
    response = await hub_client.post(
        "/graphql", json={"query": '{ household(id: "H1") { x } }'}, headers=caseworker
    )
    body = response.json()
    assert "Cannot query field 'x'" in body["errors"][0]["message"]


async def test_civil_affairs_down_nulls_its_fields_and_names_the_source(
    gql, transport, population: Population
):
    faults(transport, Source.CIVIL_AFFAIRS).down = True
    household = population.households[1]
    result = await gql(
        "query($id: ID!) { household(id: $id) { id district civilAffairs { address } } }",
        id=household.id,
    )
    assert result["data"]["household"] == {
        "id": household.id,
        "district": household.district.name,
        "civilAffairs": None,
    }
    (error,) = result["errors"]
    assert error["path"] == ["household", "civilAffairs"]
    assert error["extensions"] == {
        "code": "SOURCE_UNAVAILABLE",
        "source": "CIVIL_AFFAIRS",
        "retryable": True,
    }
