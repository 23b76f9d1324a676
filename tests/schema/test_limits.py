"""The production limits, against a small schema of their own (not the hub's, which moves).

Each attack is tried with and without Strawberry's parser and validation caches (the
hub runs with both, and a refusal must not depend on which path an error takes), and
with the limits before or after the hub's other extensions.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from typing import Any

import pytest
import strawberry
from pydantic import ValidationError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    ParserCache,
    SchemaExtension,
)
from strawberry.types import ExecutionResult

from hub.settings import Settings
from schema.limits import Limits, production_config, production_extensions
from schema.validation import ValidationByText

LIMITS = Limits(
    max_depth=4, max_aliases=3, max_tokens=200, max_cost=500, max_page_size=50, max_id_lookups=10
)


@strawberry.enum
class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


@strawberry.type
class Item:
    id: int

    @strawberry.field
    def name(self) -> str:
        return f"item {self.id}"

    @strawberry.field
    def parent(self) -> Item | None:
        return Item(id=self.id + 1)

    @strawberry.field
    def children(self, first: int | None = None) -> list[Item]:
        return [Item(id=self.id * 10 + i) for i in range(min(first or 2, 3))]


@strawberry.type
class ItemEdge:
    node: Item


@strawberry.type
class ItemConnection:
    edges: list[ItemEdge]
    total: int


@strawberry.type
class Query:
    @strawberry.field
    def item(self) -> Item:
        return Item(id=1)

    @strawberry.field
    def items(self, first: int = 20) -> list[Item]:
        return [Item(id=i) for i in range(min(first, 3))]

    @strawberry.field
    def page(self, first: int = 20) -> ItemConnection:
        return ItemConnection(edges=[ItemEdge(node=Item(id=i)) for i in range(2)], total=2)

    @strawberry.field
    def colour(self, c: Colour) -> Colour:
        return c


def build(
    limits: Limits = LIMITS, *, cached: bool = True, limits_first: bool = False
) -> strawberry.Schema:
    """As the hub builds its schema, with the production extensions added at either end."""
    extensions: list[Callable[[], SchemaExtension]] = []
    if cached:
        extensions += [lambda: ParserCache(maxsize=64), lambda: ValidationByText(maxsize=64)]
    extensions.append(lambda: MaskErrors(should_mask_error=lambda e: e.original_error is not None))
    if limits_first:
        extensions = production_extensions(limits) + extensions
    else:
        extensions += production_extensions(limits)
    return strawberry.Schema(query=Query, extensions=extensions, config=production_config())


@pytest.fixture(
    params=[(True, False), (False, False), (True, True)],
    ids=["cached", "uncached", "cached-limits-first"],
)
def schema(request: pytest.FixtureRequest) -> strawberry.Schema:
    cached, limits_first = request.param
    return build(cached=cached, limits_first=limits_first)


async def run(schema: strawberry.Schema, query: str, **variables: Any) -> ExecutionResult:
    return await schema.execute(query, variable_values=variables)


def refusal(result: ExecutionResult, code: str) -> dict[str, Any]:
    """The one error with ``code``, as a client would see it."""
    assert result.data is None
    assert result.errors, "expected a refusal"
    found = [e.formatted for e in result.errors if (e.extensions or {}).get("code") == code]
    assert len(found) == 1, [e.formatted for e in result.errors]
    return dict(found[0])


def nested(field: str, levels: int, leaf: str = "id") -> str:
    return f"{field} {{ " * levels + leaf + " }" * levels


# --- ordinary queries ----------------------------------------------------------------


async def test_an_ordinary_query_passes(schema):
    result = await run(
        schema,
        """
        query Ordinary($n: Int) {
          __typename
          item { id name children(first: $n) { id ...Named } }
          items(first: 2) { id }
          page(first: 2) { total edges { node { id } } }
          a: colour(c: RED)
        }
        fragment Named on Item { name }
        """,
        n=2,
    )
    assert result.errors is None
    assert result.data is not None
    assert result.data["item"]["children"] == [
        {"id": 10, "name": "item 10"},
        {"id": 11, "name": "item 11"},
    ]
    assert result.data["__typename"] == "Query"


async def test_the_same_query_twice_passes_both_times(schema):
    query = "{ item { " + nested("parent", 3) + " } }"
    for _ in range(2):
        assert (await run(schema, query)).errors is None


# --- depth ---------------------------------------------------------------------------


async def test_a_query_at_the_depth_limit_passes(schema):
    # item + 3 parents = 4 levels with a selection set
    assert (await run(schema, "{ item { " + nested("parent", 3) + " } }")).errors is None


async def test_a_too_deep_query_is_refused(schema):
    error = refusal(
        await run(schema, "query Deep { item { " + nested("parent", 4) + " } }"), "QUERY_TOO_DEEP"
    )
    assert error["message"] == "Operation 'Deep' is nested 5 levels deep; at most 4 are allowed."
    assert error["extensions"] == {"code": "QUERY_TOO_DEEP", "depth": 5, "maxDepth": 4}


async def test_depth_hidden_in_fragments_counts(schema):
    query = """
    { item { ...A } }
    fragment A on Item { parent { ...B } }
    fragment B on Item { parent { ... on Item { ...C } } }
    fragment C on Item { parent { parent { id } } }
    """
    error = refusal(await run(schema, query), "QUERY_TOO_DEEP")
    assert error["extensions"]["depth"] == 5


# --- aliases -------------------------------------------------------------------------


async def test_aliases_up_to_the_limit_pass(schema):
    assert (await run(schema, "{ a: item { id } b: item { id } c: item { id } }")).errors is None


async def test_too_many_aliases_are_refused(schema):
    query = "{ a: item { id } b: item { id } c: item { id } d: item { id } }"
    error = refusal(await run(schema, query), "TOO_MANY_ALIASES")
    assert error["extensions"] == {"code": "TOO_MANY_ALIASES", "aliases": 4, "maxAliases": 3}


async def test_aliases_in_fragments_count_at_every_spread(schema):
    query = """
    { item { ...Twice parent { ...Twice } } }
    fragment Twice on Item { x: id y: name }
    """
    assert refusal(await run(schema, query), "TOO_MANY_ALIASES")["extensions"]["aliases"] == 4


# --- tokens --------------------------------------------------------------------------


async def test_an_oversized_document_is_refused(schema):
    query = "{ item { " + "id " * 300 + "} }"
    error = refusal(await run(schema, query), "TOO_MANY_TOKENS")
    assert "more than 200 tokens" in error["message"]
    assert error["extensions"] == {"code": "TOO_MANY_TOKENS", "maxTokens": 200}


async def test_comments_count_as_tokens(schema):
    query = "{ item { id } }" + "\n#" * 300
    refusal(await run(schema, query), "TOO_MANY_TOKENS")


# --- cost ----------------------------------------------------------------------------


async def test_huge_pages_of_nested_lists_are_refused(schema):
    query = "{ items(first: 100000) { children(first: 50) { children(first: 9999) { id } } } }"
    error = refusal(await run(schema, query), "QUERY_TOO_COSTLY")
    # every first is capped at 50: 1 + 50 × (1 + 50 × (1 + 50 × 1))
    assert error["extensions"] == {"code": "QUERY_TOO_COSTLY", "cost": 127551, "maxCost": 500}
    assert "would cost 127551, more than the 500 allowed" in error["message"]


async def test_page_sizes_in_variables_are_counted(schema):
    query = "query Q($n: Int) { items(first: $n) { children(first: $n) { id } } }"
    assert (await run(schema, query, n=2)).errors is None
    # 1 + 50 × (1 + 50 × 1)
    assert refusal(await run(schema, query, n=50), "QUERY_TOO_COSTLY")["extensions"]["cost"] == 2551


async def test_a_variable_left_out_takes_its_declared_default(schema):
    query = "query Q($n: Int = 40) { items(first: $n) { children(first: $n) { id } } }"
    assert refusal(await run(schema, query), "QUERY_TOO_COSTLY")["extensions"]["cost"] == 1641


async def test_lists_without_first_count_their_default(schema):
    # items defaults to first: 20; children has no default, so 10 is assumed:
    # 1 + 20 × (1 + 10 × (1 + 10 × 1)) = 2221
    query = "{ items { children { children { id } } } }"
    assert refusal(await run(schema, query), "QUERY_TOO_COSTLY")["extensions"]["cost"] == 2221


async def test_cost_hidden_in_fragments_counts(schema):
    query = """
    { items(first: 50) { ...Kids } }
    fragment Kids on Item { children(first: 50) { ... on Item { ...Leaf } } }
    fragment Leaf on Item { id name }
    """
    # 1 + 50 × (1 + 50 × 2)
    assert refusal(await run(schema, query), "QUERY_TOO_COSTLY")["extensions"]["cost"] == 5051


async def test_a_connection_counts_its_edges_as_first_items(schema):
    small = "{ page(first: 5) { total edges { node { id children(first: 10) { id } } } } }"
    assert (await run(schema, small)).errors is None
    large = small.replace("first: 5", "first: 50")
    # page 1 + total 1 + edges (1 + 50 × (node 1 + id 1 + children (1 + 10)))
    assert refusal(await run(schema, large), "QUERY_TOO_COSTLY")["extensions"]["cost"] == 653


async def test_fragments_that_fan_out_are_refused_quickly():
    # Each fragment spreads the next one twice: 2**60 fields in some 600 tokens. A walk
    # that expands every spread would never finish; this must answer at once.
    schema = build(Settings().query_limits())
    levels = 60
    fragments = " ".join(
        f"fragment F{i} on Item {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    )
    for leaf, code in (("id", "QUERY_TOO_COSTLY"), ("x: id", "TOO_MANY_ALIASES")):
        query = f"{{ item {{ ...F0 }} }} {fragments} fragment F{levels} on Item {{ {leaf} }}"
        started = time.monotonic()
        result = await run(schema, query)
        assert time.monotonic() - started < 2
        refusal(result, code)


async def test_an_unknown_fragment_is_an_ordinary_validation_error(schema):
    result = await run(schema, "{ item { ...Nowhere } }")
    assert result.errors is not None
    assert [e.message for e in result.errors] == ["Unknown fragment 'Nowhere'."]


async def test_a_fragment_cycle_is_an_ordinary_validation_error(schema):
    query = "{ item { ...A } } fragment A on Item { parent { ...B } } fragment B on Item { ...A }"
    result = await run(schema, query)
    assert result.errors is not None
    assert all("Cannot spread fragment" in e.message for e in result.errors)


# --- introspection and suggestions ----------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "{ __schema { queryType { name } } }",
        '{ __type(name: "Item") { fields { name } } }',
        "{ ...Sneaky } fragment Sneaky on Query { __schema { types { name } } }",
    ],
)
async def test_introspection_is_refused(schema, query):
    error = refusal(await run(schema, query), "INTROSPECTION_DISABLED")
    assert error["message"].startswith("Introspection is disabled")


async def test_typename_still_works(schema):
    result = await run(schema, "{ __typename item { __typename id } }")
    assert result.errors is None
    assert result.data == {"__typename": "Query", "item": {"__typename": "Item", "id": 1}}


MISSPELT = [
    ("{ item { nmae } }", {}),
    ("{ item { children(frist: 2) { id } } }", {}),
    ("{ colour(c: REDD) }", {}),
    ("query Q($c: Colour!) { colour(c: $c) }", {"c": "REDD"}),
    ("query Q($c: Colur!) { colour(c: $c) }", {"c": "RED"}),
]


@pytest.mark.parametrize(("query", "variables"), MISSPELT)
async def test_no_suggestions_in_production(schema, query, variables):
    result = await run(schema, query, **variables)
    assert result.errors
    for error in result.errors:
        assert "Did you mean" not in error.message
        assert "'name'" not in error.message
        assert "'first'" not in error.message
        assert "RED'" not in error.message.replace("REDD'", "")


@pytest.mark.parametrize(("query", "variables"), MISSPELT)
async def test_suggestions_are_there_without_the_production_setup(query, variables):
    # So the test above proves something: graphql-core does suggest these names.
    plain = strawberry.Schema(query=Query)
    result = await plain.execute(query, variable_values=variables)
    assert result.errors
    assert any("Did you mean" in e.message for e in result.errors)


# --- the pieces themselves -------------------------------------------------------------


def test_limits_are_checked_once_where_they_are_set():
    with pytest.raises(ValidationError, match="max_cost"):
        Settings(max_cost=0)
    # No aliases at all is a limit, not an error, for the settings and the schema alike.
    assert Settings(max_aliases=0).query_limits().max_aliases == 0
    build(Settings(max_aliases=0).query_limits())


def test_every_request_gets_the_same_rules_so_validation_is_cached():
    factories = production_extensions(LIMITS)
    first = [f() for f in factories]
    again = [f() for f in factories]
    rules = [e.validation_rules for e in first if isinstance(e, AddValidationRules)]
    assert rules
    assert rules == [e.validation_rules for e in again if isinstance(e, AddValidationRules)]
    # fresh instances every time: extensions keep per-request state
    assert all(a is not b for a, b in zip(first, again, strict=True))
