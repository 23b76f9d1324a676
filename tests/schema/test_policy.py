"""The policy table, field by field: what each client kind and purpose is served of a household.

Every field of the schema says what it carries (``schema.policy.field``); the walk below
asks for each field reachable from a household as a caseworker managing cases (who sees
everything) and as another caller, and checks the other caller's answer is exactly what
``hub.auth.policy`` decides for what the field carries.
"""

from typing import Any

import pytest
import strawberry
from graphql import GraphQLObjectType, get_named_type

import schema
from adapters.vocabulary import Source
from hub.auth.policy import Decision, mask, view
from hub.auth.principal import ClientKind, Purpose
from schema.policy import Unclassified, classified, guard
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


# Household fields that open a department's whole section: withheld as null.
SECTION_FIELDS = frozenset(
    {"members", "civilAffairs", "medical", "education", "housing", "employment", "disaster",
     "charity", "crossRegion"}
)  # fmt: skip
CALLERS = [
    (ClientKind.CHARITY, Purpose.CHARITY_MATCHING),
    (ClientKind.AGENCY, Purpose.PROACTIVE_OUTREACH),
    (ClientKind.AGENCY, Purpose.CASE_MANAGEMENT),
]


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


@pytest.mark.parametrize(("kind", "purpose"), CALLERS)
async def test_every_field_is_served_as_the_table_says(
    gql, as_client, kind: ClientKind, purpose: Purpose
):
    household_id = await _rich_household(gql)
    await gql(
        """mutation($id: ID!) { recordConsent(input: {householdId: $id, expiresOn: "2099-12-31"})
        { __typename } }""",
        id=household_id,
    )
    # The reference: a caseworker reviewing eligibility sees everything as it is.
    gql = await as_client(
        ClientKind.AGENCY, Purpose.ELIGIBILITY_REVIEW, department=Source.CIVIL_AFFAIRS
    )
    extra: dict[str, Any] = (
        {"organisation_id": "org-a"}
        if kind is ClientKind.CHARITY
        else {"department": Source.CIVIL_AFFAIRS}
    )
    other = await as_client(kind, purpose, **extra)
    seeing = view(kind, purpose)
    carries = classified(schema.build()._schema)
    checked = {Decision.ALLOW: 0, Decision.MASK: 0, Decision.DENY: 0}
    for path, is_leaf in _fields():
        query = _query(household_id, path, is_leaf)
        full, seen = await gql(query), await other(query)
        assert "errors" not in full, (path, full)
        verdicts = [seeing.decide(carries[f"{t}.{name}"]) for t, name in path]
        denied_at = next((i for i, d in enumerate(verdicts) if d is Decision.DENY), None)
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
        decision = verdicts[-1]
        value = carries[f"{path[-1][0]}.{path[-1][1]}"].value
        if decision is Decision.MASK and value is not None:
            expected = [mask(value, v) for v in expected]
        if path[-1] in VOLATILE:
            assert len(_values(seen["data"], names)) == len(expected), path
            continue
        assert _values(seen["data"], names) == expected, path
        if expected and expected != [None]:
            checked[decision] += 1
    # The household is rich enough that each kind of verdict was really exercised.
    if kind is ClientKind.CHARITY:
        assert checked[Decision.DENY] > 20
        assert checked[Decision.MASK] > 5
    if purpose is Purpose.PROACTIVE_OUTREACH:
        assert checked[Decision.DENY] > 20  # the records behind the flags
        assert checked[Decision.MASK] > 3  # amounts, banded
    if purpose is Purpose.CASE_MANAGEMENT:
        assert checked[Decision.MASK] >= 1  # income, banded
    assert checked[Decision.ALLOW] > 20


def test_every_field_of_the_schema_says_what_it_carries():
    found = classified(schema.build()._schema)
    assert len(found) > 150
    # Personal values are classified as such wherever they are served.
    assert found["Person.idNumber"].value is not None
    assert found["Person.name"].value is not None
    assert found["CivilAffairsSection.address"].value is not None
    assert found["Enrollment.monthlyAmount"].value is not None
    assert found["PersonEmployment.monthlyPension"].value is not None
    assert found["Query.disclosures"].kinds == frozenset({ClientKind.AUDITOR})


def test_a_field_that_says_nothing_stops_the_schema_from_being_built():
    @strawberry.type
    class Query:
        plain: str = strawberry.field(default="x", description="A field without a mark.")

    built = strawberry.Schema(query=Query)
    with pytest.raises(Unclassified, match=r"Query\.plain"):
        guard(built._schema)


async def test_income_is_banded_when_managing_a_case_and_shown_when_reviewing_eligibility(
    gql, as_client
):
    query = """{ households(first: 100) { edges { node {
      employment { members { monthlyPension } } } } } }"""
    pensions = [
        m["monthlyPension"]
        for e in (await gql(query))["data"]["households"]["edges"]
        for m in (e["node"]["employment"] or {}).get("members", [])
        if m["monthlyPension"] is not None
    ]
    assert pensions
    assert all("-" in p for p in pensions)  # bands, such as 2500-3000
    review = await as_client(
        ClientKind.AGENCY, Purpose.ELIGIBILITY_REVIEW, department=Source.CIVIL_AFFAIRS
    )
    exact = [
        m["monthlyPension"]
        for e in (await review(query))["data"]["households"]["edges"]
        for m in (e["node"]["employment"] or {}).get("members", [])
        if m["monthlyPension"] is not None
    ]
    assert exact
    assert all("-" not in p for p in exact)


@pytest.mark.parametrize("kind", list(ClientKind))
def test_each_kind_has_a_row_for_every_section(kind: ClientKind):
    from hub.auth.policy import SECTIONS, VALUES, PersonalValue

    assert set(SECTIONS[kind]) == set(Source)
    assert set(VALUES[kind]) == set(PersonalValue)
