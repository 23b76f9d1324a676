"""Finding 2: every read that touches a household is audited, whatever was selected.

``__typename`` alone, cursors alone and ``totalCount`` alone used to confirm existence and
reach, or list household IDs, without an entry, even under break-glass. Cursors spelled
out household IDs.
"""

import base64
import binascii
import contextlib
import json
from collections import Counter

import pytest

from adapters.sandbox.population import Population
from adapters.vocabulary import District, Source
from hub.auth.principal import ClientKind, Purpose
from tests.hubclient import GraphQL, audit_entries, credentials, details


def _district(population: Population) -> District:
    return Counter(h.district for h in population.households).most_common(1)[0][0]


async def test_a_household_asked_for_its_typename_alone_is_audited(
    gql, hub_sessions, population: Population
):
    household = population.households[2]
    result = await gql("query($id: ID!) { household(id: $id) { __typename } }", id=household.id)
    assert result == {"data": {"household": {"__typename": "Household"}}}
    entry = (await audit_entries(hub_sessions))[-1]
    assert (entry.outcome, entry.households, entry.sections) == (
        "GRANTED",
        f'["{household.id}"]',
        '["household"]',
    )


@pytest.mark.parametrize("field", ["person", "householdByMember"])
async def test_a_lookup_asked_for_its_typename_alone_is_audited(
    field, gql, hub_sessions, population: Population
):
    household = population.households[2]
    query = f"query($n: String!) {{ {field}(idNumber: $n) {{ __typename }} }}"
    assert (await gql(query, n=household.members[0].id_number))["data"][field] is not None
    entry = (await audit_entries(hub_sessions))[-1]
    assert entry.households == f'["{household.id}"]'
    assert entry.outcome == "GRANTED"


async def test_a_count_alone_is_an_aggregate_access_with_its_filter(
    gql, hub_sessions, population: Population
):
    district = _district(population)
    query = """query($d: District) { households(filter: {district: $d,
      category: MINIMUM_LIVING, street: "310101199001011234"}) { totalCount } }"""
    result = await gql(query, d=district.name)
    assert result["data"]["households"]["totalCount"] == 0
    entry = (await audit_entries(hub_sessions))[-1]
    assert entry.households == "[]"
    assert details(entry) == {
        # A filter value that is not a street name is not kept: it might be anything.
        "filter": {"district": district.code, "category": "MINIMUM_LIVING", "street": "*"},
        "aggregate": True,
    }
    assert "310101199001011234" not in str(vars(entry))


async def test_cursors_alone_record_the_households_of_the_page(gql, hub_sessions):
    result = await gql("{ households(first: 3) { edges { cursor } } }")
    cursors = [e["cursor"] for e in result["data"]["households"]["edges"]]
    entry = (await audit_entries(hub_sessions))[-1]
    listed = details(entry)
    assert listed == {"filter": {}}
    households = json.loads(entry.households)
    assert len(households) == 3
    assert len(cursors) == 3
    # Cursors are opaque: no household ID in them, however they are decoded.
    for cursor in cursors:
        for household in households:
            assert household not in cursor
            with contextlib.suppress(binascii.Error):
                assert household.encode() not in base64.urlsafe_b64decode(cursor + "==")


async def test_page_info_alone_records_the_page_too(gql, hub_sessions):
    await gql("{ households(first: 2) { pageInfo { endCursor hasNextPage } } }")
    entry = (await audit_entries(hub_sessions))[-1]
    assert entry.households.count("H") == 2


async def test_a_cursor_works_only_for_the_client_it_was_given_to(gql, as_client, hub_sessions):
    first = await gql("{ households(first: 2) { pageInfo { endCursor } edges { node { id } } } }")
    cursor = first["data"]["households"]["pageInfo"]["endCursor"]
    query = (
        "query($after: String) { households(first: 2, after: $after) { edges { node { id } } } }"
    )
    following = await gql(query, after=cursor)
    ids = [e["node"]["id"] for e in first["data"]["households"]["edges"]]
    assert following["data"]["households"]["edges"][0]["node"]["id"] > ids[-1]
    other = await as_client(ClientKind.AGENCY, department=Source.CIVIL_AFFAIRS)
    refused = await other(query, after=cursor)
    assert refused["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "after"}
    tampered = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    assert (await gql(query, after=tampered))["errors"][0]["extensions"]["code"] == (
        "BAD_USER_INPUT"
    )


async def test_every_break_glass_request_is_recorded_and_listed(
    hub_client, hub_sessions, as_client, population: Population
):
    headers = await credentials(
        hub_sessions,
        ClientKind.AGENCY,
        Purpose.CASE_MANAGEMENT,
        department=Source.CIVIL_AFFAIRS,
        district=_district(population),
    )
    justification = "Flooding on the street; checking who needs to be moved tonight."
    glass = GraphQL(hub_client, {**headers, "X-Break-Glass": justification})
    assert await glass("{ __typename }") == {"data": {"__typename": "Query"}}
    entry = (await audit_entries(hub_sessions))[-1]
    assert (entry.break_glass, entry.justification, entry.households) == (
        True,
        justification,
        "[]",
    )
    auditor = await as_client(ClientKind.AUDITOR)
    listed = await auditor("{ breakGlassAccesses { justification households requestId } }")
    assert listed["data"]["breakGlassAccesses"][0]["justification"] == justification
    assert listed["data"]["breakGlassAccesses"][0]["requestId"] == entry.request_id


async def test_the_auditor_reads_what_an_entry_concerns(
    gql, as_client, hub_sessions, population: Population
):
    household = population.households[2]
    await gql(
        "query($n: String!) { householdByMember(idNumber: $n) { id } }",
        n=household.members[0].id_number,
    )
    auditor = await as_client(ClientKind.AUDITOR)
    query = """query($id: ID!) { disclosures(householdId: $id) { lookups refused
      listing { district counted } } }"""
    found = (await auditor(query, id=household.id))["data"]["disclosures"]
    assert found[0] == {"lookups": 1, "refused": None, "listing": None}
