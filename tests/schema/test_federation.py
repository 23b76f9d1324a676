"""The hub as an Apollo Federation v2 subgraph: ``_entities`` goes the way ``household(id)``
goes (reach, policy, audit, limits), and the plain schema stays as it is."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from graphql import parse, validate
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import schema
from adapters.sandbox.population import Population
from adapters.vocabulary import Source
from hub import cli
from hub.app import create_app
from hub.auth.principal import ClientKind, Purpose
from hub.cli import main
from hub.settings import Settings
from tests.conftest import make_settings
from tests.hubclient import GraphQL, audit_entries, credentials, details

FEDERATION_SDL = Path(schema.__file__).with_name("federation.graphql")
README = Path(schema.__file__).resolve().parents[1] / "README.md"
MISSING_HOUSEHOLD = "H3101019999999"
ENTITIES = """query Router($refs: [_Any!]!) {
  _entities(representations: $refs) { ... on Household { id street members { idNumber name } } }
}"""
HOUSEHOLD = """query Router($id: ID!) {
  household(id: $id) { id street members { idNumber name } }
}"""
RECORD_CONSENT = """mutation($id: ID!, $org: String, $until: Date!) {
  recordConsent(input: {householdId: $id, organisationId: $org, expiresOn: $until}) {
    __typename } }"""


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url).model_copy(update={"federation": True})


def ref(household_id: str) -> dict[str, str]:
    return {"__typename": "Household", "id": household_id}


def other_district(population: Population) -> tuple[Any, Any]:
    inside = population.households[0]
    outside = next(h for h in population.households if h.district is not inside.district)
    return inside, outside


async def test_the_subgraph_sdl_has_the_household_key_and_is_checked_in(gql: GraphQL):
    sdl = (await gql("{ _service { sdl } }"))["data"]["_service"]["sdl"]
    assert 'type Household @key(fields: "id", resolvable: true) {' in sdl
    assert '@link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])' in sdl
    assert "_entities(representations: [_Any!]!): [_Entity]!" in sdl
    assert sdl == FEDERATION_SDL.read_text(encoding="utf-8"), (
        "schema/federation.graphql is out of date: run `hub schema export --federation`"
    )


def test_the_command_line_checks_the_subgraph_sdl(tmp_path: Path, monkeypatch):
    runner = CliRunner()
    result = runner.invoke(main, ["schema", "export", "--federation", "--check"])
    assert (result.exit_code, result.output) == (0, "federation.graphql is up to date\n")
    stale = tmp_path / "federation.graphql"
    stale.write_text("type Query { old: Int }\n", encoding="utf-8")
    monkeypatch.setattr(cli, "FEDERATION_SDL_PATH", stale)
    result = runner.invoke(main, ["schema", "export", "--federation", "--check"])
    assert result.exit_code == 1
    assert "run 'hub schema export --federation'" in result.output
    assert runner.invoke(main, ["schema", "export", "--federation"]).exit_code == 0
    assert stale.read_text(encoding="utf-8") == FEDERATION_SDL.read_text(encoding="utf-8")


def test_every_subgraph_example_in_the_readme_validates():
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```graphql subgraph\n(.*?)```", text, re.S)
    assert blocks, "README.md shows no subgraph example (```graphql subgraph)"
    subgraph = schema.build(federation=True)._schema
    for block in blocks:
        assert validate(subgraph, parse(block)) == [], block


def test_the_plain_schema_stays_without_federation():
    before = schema.sdl()
    schema.federation_sdl()  # built in between: the key must not stay on the shared type
    plain = schema.sdl()
    assert plain == before
    assert "@key" not in plain
    assert "_entities" not in plain
    assert "_service" not in plain


async def test_entities_serves_an_in_reach_household_as_household_would(
    gql: GraphQL, as_client, hub_sessions, population: Population
):
    household = population.households[4]
    entities = await gql(ENTITIES, refs=[ref(household.id)])
    by_entities = (await audit_entries(hub_sessions))[-1]
    direct = await gql(HOUSEHOLD, id=household.id)
    assert entities == {"data": {"_entities": [direct["data"]["household"]]}}
    by_household = (await audit_entries(hub_sessions))[-1]
    assert (by_entities.operation, by_entities.outcome) == ("Router", "GRANTED")
    assert by_entities.households == f'["{household.id}"]'
    assert by_entities.sections == by_household.sections
    members = entities["data"]["_entities"][0]["members"]
    assert [m["idNumber"] for m in members] == [m.id_number for m in household.members]

    # A charity with the household's consent: the same masks as on every other path.
    until = (date.today() + timedelta(days=30)).isoformat()
    consent = await gql(RECORD_CONSENT, id=household.id, org="org-f", until=until)
    assert consent["data"]["recordConsent"]["__typename"] == "ConsentPayload"
    charity = await as_client(ClientKind.CHARITY, organisation_id="org-f")
    masked = await charity(ENTITIES, refs=[ref(household.id)])
    assert masked == {
        "data": {"_entities": [(await charity(HOUSEHOLD, id=household.id))["data"]["household"]]}
    }
    (seen,) = masked["data"]["_entities"]
    for shown, member in zip(seen["members"], household.members, strict=True):
        assert shown["idNumber"] != member.id_number
        assert "*" in shown["idNumber"]
        assert shown["name"].startswith(member.name[0])
        assert shown["name"] != member.name or len(member.name) == 1


async def test_an_out_of_reach_household_is_not_fetched_and_the_attempt_is_audited(
    as_client, hub_sessions: async_sessionmaker[AsyncSession], population: Population
):
    inside, outside = other_district(population)
    caseworker = await as_client(
        ClientKind.AGENCY, department=Source.CIVIL_AFFAIRS, district=inside.district
    )
    hidden = await caseworker(ENTITIES, refs=[ref(outside.id)])
    missing = await caseworker(ENTITIES, refs=[ref(MISSING_HOUSEHOLD)])
    assert hidden == missing == {"data": {"_entities": [None]}}
    both = await caseworker(ENTITIES, refs=[ref(inside.id), ref(outside.id)])
    assert [e and e["id"] for e in both["data"]["_entities"]] == [inside.id, None]

    # The same entries as for household(id): who, which households, what outcome.
    await caseworker(HOUSEHOLD, id=outside.id)
    entries = await audit_entries(hub_sessions)
    by_entities, by_missing, by_both, by_household = entries[-4:]
    assert (by_entities.operation, by_entities.outcome) == ("Router", "DENIED")
    assert by_entities.households == f'["{outside.id}"]'
    assert by_missing.outcome == "NOT_FOUND"
    assert by_both.outcome == "PARTIAL"
    assert by_both.households == str([inside.id, outside.id]).replace("'", '"')
    assert [by_household.outcome, by_household.households, by_household.sections] == [
        by_entities.outcome,
        by_entities.households,
        by_entities.sections,
    ]


@pytest.mark.parametrize("kind", [ClientKind.CHARITY, ClientKind.AUDITOR, ClientKind.OPERATOR])
async def test_callers_without_reach_get_nothing_through_entities(
    as_client, hub_sessions, population: Population, transport, kind: ClientKind
):
    household = population.households[9]
    extra = {"organisation_id": "org-z"} if kind is ClientKind.CHARITY else {}
    caller = await as_client(kind, **extra)
    for app in transport.apps.values():
        app.calls = 0
    result = await caller(ENTITIES, refs=[ref(household.id)])
    assert result == {"data": {"_entities": [None]}}
    assert sum(app.calls for app in transport.apps.values()) == 0  # no department asked
    entry = (await audit_entries(hub_sessions))[-1]
    assert (entry.client_kind, entry.outcome) == (kind.value, "DENIED")
    assert entry.households == f'["{household.id}"]'


async def test_a_typename_alone_through_entities_is_audited(
    gql: GraphQL, hub_sessions, population: Population
):
    household = population.households[3]
    query = """query Router($refs: [_Any!]!) {
      _entities(representations: $refs) { __typename } }"""
    result = await gql(query, refs=[ref(household.id), ref(MISSING_HOUSEHOLD)])
    assert result == {"data": {"_entities": [{"__typename": "Household"}, None]}}
    entry = (await audit_entries(hub_sessions))[-1]
    assert entry.outcome == "PARTIAL"
    assert entry.households == f'["{household.id}", "{MISSING_HOUSEHOLD}"]'


async def test_a_malformed_reference_is_an_error_at_its_own_place(
    gql: GraphQL, population: Population
):
    household = population.households[2]
    refs: list[Any] = [{"__typename": "Person", "id": household.id}, ref("H31"), ref(household.id)]
    result = await gql(ENTITIES, refs=refs)
    first, second, third = result["data"]["_entities"]
    assert (first, second, third["id"]) == (None, None, household.id)
    errors = {tuple(e["path"]): e for e in result["errors"]}
    assert errors[("_entities", 0)]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "argument": "representations[0]",
    }
    assert errors[("_entities", 1)]["extensions"]["argument"] == "representations[1].id"
    assert "H followed by 13 digits" in errors[("_entities", 1)]["message"]


async def test_more_references_than_a_page_are_refused_as_a_whole_and_audited(
    gql: GraphQL, hub_sessions, population: Population
):
    ids = [h.id for h in population.households[:100]]
    assert len((await gql(ENTITIES, refs=[ref(i) for i in ids]))["data"]["_entities"]) == 100
    aliased = f"""query Router($refs: [_Any!]!) {{
      a: _entities(representations: $refs) {{ __typename }}
      b: _entities(representations: [{{__typename: "Household", id: "{ids[0]}"}}]) {{
        __typename }} }}"""
    result = await gql(aliased, refs=[ref(i) for i in ids])
    assert result["data"] is None
    (error,) = result["errors"]
    assert error["extensions"] == {
        "code": "TOO_MANY_REPRESENTATIONS",
        "representations": 101,
        "maxRepresentations": 100,
    }
    entry = (await audit_entries(hub_sessions))[-1]
    assert entry.outcome == "REFUSED"
    assert details(entry) == {"refused": "TOO_MANY_REPRESENTATIONS"}


@contextlib.asynccontextmanager
async def production(database_url: str, transport: Any) -> AsyncIterator[GraphQL]:
    """The subgraph in production mode, and a caseworker calling it."""
    settings = make_settings(database_url).model_copy(
        update={
            "env": "production",
            "secret_key": SecretStr("a production secret of at least 32 characters"),
            "federation": True,
            "max_cost": 2000,
        }
    )
    app = create_app(settings, transport=transport)
    async with app.router.lifespan_context(app):
        headers = await credentials(
            app.state.resources.sessions,
            ClientKind.AGENCY,
            Purpose.CASE_MANAGEMENT,
            department=Source.CIVIL_AFFAIRS,
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub"
        ) as client:
            yield GraphQL(client, headers)


async def test_production_limits_count_each_reference_and_hide_the_sdl(
    database_url: str, engine, transport
):
    rich = """query Router($refs: [_Any!]!) { _entities(representations: $refs) {
      ... on Household { id members { idNumber name age relation } } } }"""
    # Each household costs 1 + 1 + 10 members x 4 fields = 42 (plus 1 for _entities).
    few = [ref(f"H310101{n:07d}") for n in range(10)]
    many = [ref(f"H310101{n:07d}") for n in range(60)]
    async with production(database_url, transport) as gql:
        assert (await gql(rich, refs=few)) == {"data": {"_entities": [None] * 10}}
        refused = await gql(rich, refs=many)
        assert refused["data"] is None
        assert refused["errors"][0]["extensions"] == {
            "code": "QUERY_TOO_COSTLY",
            "cost": 1 + 60 * 42,
            "maxCost": 2000,
        }
        hidden = await gql("{ _service { sdl } }")
        assert hidden["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
        deep = "members { household { " * 6 + "id" + " } }" * 6
        nested = await gql(
            f"query Router($refs: [_Any!]!) {{ _entities(representations: $refs) "
            f"{{ ... on Household {{ {deep} }} }} }}",
            refs=few,
        )
        assert nested["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
