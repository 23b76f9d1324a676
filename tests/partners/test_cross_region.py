"""Shanghai asks Jiangsu about its households' members: two hubs over HTTP."""

from __future__ import annotations

import dataclasses

from adapters.sandbox.population import Population
from tests.hubclient import GraphQL, audit_entries, details
from tests.partners.conftest import JS_HOST, JS_SINCE, Hub, moved_person

CROSS_REGION = """
query Household($id: ID!) {
  household(id: $id) {
    id
    crossRegion {
      members { idNumber region receivesAssistance categories { category since } stale }
      regions { region state asOf errorCode }
    }
  }
}
"""


async def test_an_enrollment_in_the_partner_region_shows_in_shanghai(
    sh: Hub, js: Hub, gql: GraphQL, population: Population
):
    household_id, id_number, _ = moved_person(population)

    found = await gql(CROSS_REGION, id=household_id)

    assert "errors" not in found, found
    cross = found["data"]["household"]["crossRegion"]
    assert {k: v for k, v in cross["regions"][0].items() if k != "asOf"} == {
        "region": "JS",
        "state": "OK",
        "errorCode": None,
    }
    assert {
        "idNumber": id_number,
        "region": "JS",
        "receivesAssistance": True,
        "categories": [{"category": "MINIMUM_LIVING", "since": JS_SINCE}],
        "stale": False,
    } in cross["members"]
    others = [m for m in cross["members"] if m["idNumber"] != id_number]
    assert all(not m["receivesAssistance"] and m["categories"] == [] for m in others)
    # Jiangsu recorded Shanghai's question: the members asked about, as keyed hashes.
    (entry,) = [e for e in await audit_entries(js.sessions) if e.operation == "CrossRegionStatus"]
    assert entry.client_kind == "PARTNER"
    assert entry.outcome == "GRANTED"
    js_keys = js.app.state.resources.keys
    assert js_keys.lookup_hash(id_number) in details(entry)["lookups"]


async def test_a_partner_down_costs_only_its_part_with_an_error_naming_it(
    sh: Hub, js: Hub, gql: GraphQL, population: Population
):
    household_id, _, _ = moved_person(population)
    sh.transport.down.add(JS_HOST)

    found = await gql(CROSS_REGION, id=household_id)

    assert found["data"]["household"]["id"] == household_id
    assert found["data"]["household"]["crossRegion"] is None
    (error,) = found["errors"]
    assert error["extensions"]["code"] == "PARTNER_UNAVAILABLE"
    assert error["extensions"]["region"] == "JS"
    assert error["path"] == ["household", "crossRegion"]


async def test_with_stale_answers_allowed_the_last_answer_stands_in_labelled(
    sh: Hub, js: Hub, gql: GraphQL, population: Population
):
    household_id, id_number, _ = moved_person(population)
    partners = sh.app.state.resources.partners
    partners._policy = dataclasses.replace(partners._policy, stale_ttl=600)
    fresh = await gql(CROSS_REGION, id=household_id)
    assert "errors" not in fresh
    sh.transport.down.add(JS_HOST)

    found = await gql(CROSS_REGION, id=household_id)

    cross = found["data"]["household"]["crossRegion"]
    assert cross["regions"][0]["state"] == "STALE"
    moved = next(m for m in cross["members"] if m["idNumber"] == id_number)
    assert moved["stale"] is True
    assert moved["receivesAssistance"] is True
    (error,) = found["errors"]
    assert error["extensions"]["code"] == "PARTNER_UNAVAILABLE"
    assert error["extensions"]["stale"] is True
