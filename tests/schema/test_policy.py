"""The policy table, field by field: what each client kind is served of a household."""

from typing import Any

import pytest
from graphql import GraphQLObjectType, get_named_type

import schema
from hub.auth.policy import FIELDS, Decision, decide, mask
from hub.auth.principal import ClientKind, Principal, Purpose
from schema.permissions import SECTION_FIELDS
from tests.hubclient import GraphQL

RICH = """{ households(first: 100) { edges { node { id
  education { students { idNumber aid { kind } } }
  disaster { impacts { relief { amount } } }
  charity { aid { id } }
  medical { insured { claims { totalCost } assistancePayments { amount } } }
  employment { members { services { kind } } }
  housing { dwellings { lowRentHousing { since } ruralRenovations { year } } } } } } }"""


# Provenance differs from one request to the next; only its presence is compared.
VOLATILE = {("SourceStatus", "asOf"), ("SourceStatus", "latencyMs")}


def _principal(kind: ClientKind) -> Principal:
    return Principal(
        client_id="-", client_name="-", kind=kind, token_id="-", purpose=Purpose.CASE_MANAGEMENT
    )


def _fields() -> list[tuple[tuple[tuple[str, str], ...], bool]]:
    """Every (type, field) reachable from Household, with the path that reaches it first."""
    graphql_schema = schema.build()._schema
    found: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
    leaf: dict[tuple[str, str], bool] = {}
    queue: list[tuple[GraphQLObjectType, tuple[tuple[str, str], ...]]] = [
        (graphql_schema.type_map["Household"], ())  # type: ignore[list-item]
    ]
    while queue:
        kind, path = queue.pop(0)
        for name, definition in kind.fields.items():
            key = (kind.name, name)
            if key in found or (kind.name, name) == ("Person", "household"):
                continue
            found[key] = (*path, key)
            target = get_named_type(definition.type)
            leaf[key] = not isinstance(target, GraphQLObjectType)
            if isinstance(target, GraphQLObjectType):
                queue.append((target, found[key]))
    return [(path, leaf[path[-1]]) for path in found.values()]


def _query(household_id: str, path: tuple[tuple[str, str], ...], is_leaf: bool) -> str:
    inner = "" if is_leaf else " { __typename }"
    for _, name in reversed(path):
        inner = f"{name}{inner}" if inner.startswith(" ") or not inner else f"{name} {{ {inner} }}"
    return f'{{ household(id: "{household_id}") {{ {inner} }} }}'


def _values(data: Any, names: list[str]) -> list[Any]:
    """The values at ``names`` below ``data``, lists flattened."""
    if not names:
        return list(data) if isinstance(data, list) else [data]
    if isinstance(data, list):
        return [v for item in data for v in _values(item, names)]
    if data is None:
        return []
    return _values(data.get(names[0]), names[1:])


async def _rich_household(gql: GraphQL) -> str:
    nodes = [e["node"] for e in (await gql(RICH))["data"]["households"]["edges"]]

    def richness(node: dict[str, Any]) -> int:
        return sum(1 for leaf in _leaves(node) if leaf not in (None, [], {}))

    return str(max(nodes, key=richness)["id"])


def _leaves(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [leaf for value in node.values() for leaf in _leaves(value)] or [node]
    if isinstance(node, list):
        return [leaf for value in node for leaf in _leaves(value)] or [node]
    return [node]


@pytest.mark.parametrize("kind", [ClientKind.CHARITY])
async def test_every_field_is_served_as_the_table_says(gql, as_client, kind: ClientKind):
    household_id = await _rich_household(gql)
    await gql(
        """mutation($id: ID!) { recordConsent(input: {householdId: $id, expiresOn: "2099-12-31"})
        { __typename } }""",
        id=household_id,
    )
    other = await as_client(kind, organisation_id="org-a")
    principal = _principal(kind)
    checked = {Decision.ALLOW: 0, Decision.MASK: 0, Decision.DENY: 0}
    for path, is_leaf in _fields():
        query = _query(household_id, path, is_leaf)
        full, seen = await gql(query), await other(query)
        assert "errors" not in full, (path, full)
        verdicts = [decide(principal, type_name, name) for type_name, name in path]
        denied_at = next((i for i, (d, _) in enumerate(verdicts) if d is Decision.DENY), None)
        names = ["household", *(name for _, name in path)]
        if denied_at is not None:
            blocked = path[denied_at]
            if not _values(full["data"], names[: denied_at + 1]):
                continue  # nothing of that type in this household: nothing to withhold
            if denied_at == 0 and blocked[1] in SECTION_FIELDS:
                assert "errors" not in seen
                assert seen["data"]["household"][blocked[1]] is None
            else:
                codes = {e["extensions"].get("field") for e in seen["errors"]}
                assert codes == {f"{blocked[0]}.{blocked[1]}"}, (path, seen)
            checked[Decision.DENY] += 1
            continue
        assert "errors" not in seen, (path, seen)
        expected = _values(full["data"], names)
        decision, rule = verdicts[-1]
        if decision is Decision.MASK and rule is not None and rule.mask is not None:
            expected = [mask(rule.mask, v) for v in expected]
        if path[-1] in VOLATILE:
            assert len(_values(seen["data"], names)) == len(expected), path
            continue
        assert _values(seen["data"], names) == expected, path
        if expected and expected != [None]:
            checked[decision] += 1
    # The household is rich enough that each kind of verdict was really exercised.
    assert checked[Decision.DENY] > 20
    assert checked[Decision.MASK] > 5
    assert checked[Decision.ALLOW] > 20


def test_every_field_of_the_schema_is_named_in_the_table():
    graphql_schema = schema.build()._schema
    unnamed = [
        f"{name}.{field}"
        for name, kind in graphql_schema.type_map.items()
        if isinstance(kind, GraphQLObjectType) and not name.startswith("__")
        for field in kind.fields
        if f"{name}.{field}" not in FIELDS
    ]
    assert unnamed == []


async def test_a_field_the_table_does_not_name_is_not_served(gql, monkeypatch, population):
    monkeypatch.delitem(FIELDS, "Household.street")
    result = await gql(f'{{ household(id: "{population.households[0].id}") {{ id street }} }}')
    assert result["data"] is None or result["data"]["household"] is None
    assert result["errors"][0]["extensions"] == {
        "code": "FIELD_WITHHELD",
        "field": "Household.street",
    }


@pytest.mark.parametrize("kind", list(ClientKind))
def test_each_kind_has_a_row_for_every_section(kind: ClientKind):
    from adapters.vocabulary import Source
    from hub.auth.policy import MASKED, SECTIONS

    assert set(SECTIONS[kind]) == set(Source)
    assert kind in MASKED
