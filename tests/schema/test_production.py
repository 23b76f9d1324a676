"""Production mode: the GraphQL-specific protections, on the hub app itself."""

import logging
from typing import Any

import pytest

from hub.settings import Settings
from tests.conftest import make_settings
from tests.hubclient import GraphQL


@pytest.fixture
def settings(database_url: str) -> Settings:
    production = make_settings(database_url)
    # A lower cost limit than the default, so that a page of rich households exceeds it.
    return production.model_copy(update={"env": "production", "max_cost": 5000})


def _code(result: dict[str, Any]) -> str:
    return str(result["errors"][0]["extensions"]["code"])


async def test_introspection_is_off_and_typename_still_works(gql: GraphQL):
    assert _code(await gql("{ __schema { types { name } } }")) == "INTROSPECTION_DISABLED"
    assert _code(await gql('{ __type(name: "Household") { name } }')) == "INTROSPECTION_DISABLED"
    assert (await gql("{ __typename }")) == {"data": {"__typename": "Query"}}


async def test_a_misspelt_field_gets_no_suggestion(gql: GraphQL):
    result = await gql('{ househol(id: "H3101010000001") { id } }')
    message = result["errors"][0]["message"]
    assert "Cannot query field" in message
    assert "Did you mean" not in message


async def test_a_deep_query_is_refused_even_through_fragments(gql: GraphQL):
    nested = "household { members { " * 7 + "name" + " } }" * 7
    deep = f'{{ person(idNumber: "x") {{ {nested} }} }}'
    assert _code(await gql(deep)) == "QUERY_TOO_DEEP"
    fragments = "".join(
        f"fragment F{i} on Person {{ household {{ members {{ ...F{i + 1} }} }} }}" for i in range(8)
    )
    hidden = f'{{ person(idNumber: "x") {{ ...F0 }} }} {fragments} fragment F8 on Person {{ name }}'
    assert _code(await gql(hidden)) == "QUERY_TOO_DEEP"


async def test_aliases_are_counted_through_fragments(gql: GraphQL):
    aliases = " ".join(f"a{i}: id" for i in range(20))
    query = (
        f'{{ household(id: "H3101010000001") {{ ...F }} }} fragment F on Household {{ {aliases} }}'
    )
    assert _code(await gql(query)) == "TOO_MANY_ALIASES"


async def test_an_oversized_document_is_refused(gql: GraphQL):
    huge = "{ " + " ".join("__typename" for _ in range(3000)) + " }"
    assert _code(await gql(huge)) == "TOO_MANY_TOKENS"


async def test_a_huge_page_is_refused(gql: GraphQL):
    result = await gql("{ households(first: 1000) { edges { node { id } } } }")
    assert {_code(result)} <= {"BAD_USER_INPUT", "QUERY_TOO_COSTLY"}


async def test_a_costly_query_is_refused_before_anything_runs(gql: GraphQL, transport):
    everything = """medical { insured { claims { totalCost } assistancePayments { amount } } }
      education { students { aid { amount } } } disaster { impacts { relief { amount } } }"""
    query = f"{{ households(first: 100) {{ edges {{ node {{ {everything} }} }} }} }}"
    for app in transport.apps.values():
        app.calls = 0
    result = await gql(query)
    assert _code(result) == "QUERY_TOO_COSTLY"
    assert result["errors"][0]["extensions"]["cost"] > result["errors"][0]["extensions"]["maxCost"]
    assert sum(app.calls for app in transport.apps.values()) == 0


async def test_graphiql_and_queries_over_get_are_off(hub_client, caseworker):
    page = await hub_client.get("/graphql", headers={**caseworker, "Accept": "text/html"})
    assert "graphiql" not in page.text.lower()
    query = await hub_client.get("/graphql", params={"query": "{ __typename }"}, headers=caseworker)
    assert query.status_code in (400, 405)


async def test_batched_requests_are_refused(hub_client, caseworker):
    batch = [{"query": "{ __typename }"}, {"query": "{ __typename }"}]
    response = await hub_client.post("/graphql", json=batch, headers=caseworker)
    assert response.status_code == 400


async def test_unexpected_errors_are_masked_and_logged_with_the_request_id(
    hub_client, caseworker, monkeypatch, caplog, population
):
    from hub.index import search

    async def broken(*args, **kwargs):
        raise RuntimeError("secret internal detail: 310101199001010011")

    monkeypatch.setattr(search, "entries_by_id", broken)
    caplog.set_level(logging.ERROR)
    response = await hub_client.post(
        "/graphql",
        json={"query": f'{{ household(id: "{population.households[0].id}") {{ id }} }}'},
        headers=caseworker,
    )
    body = response.json()
    assert body["errors"][0]["message"] == "Unexpected error."
    assert "secret" not in response.text
    request_id = response.headers["x-request-id"]
    assert any(request_id in r.getMessage() for r in caplog.records)


async def test_mutations_over_get_are_refused_in_development_too(hub_client, caseworker):
    response = await hub_client.get(
        "/graphql",
        params={"query": 'mutation { withdrawConsent(id: "x") { __typename } }'},
        headers=caseworker,
    )
    assert response.status_code in (400, 405)
