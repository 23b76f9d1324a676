"""Finding 5: the cost limit reads variables as execution coerces them.

``households(first: $n)`` with ``{"n": 100.0}`` or ``1e2`` used to be estimated at a tenth
of its cost (a float was not read as a page size) and ran.
"""

import json

import pytest

from hub.settings import Settings
from tests.conftest import make_settings

QUERY = """query($n: Int!) { households(first: $n) { edges { node { id
  members { name age } civilAffairs { enrollments { category status } } } } } }"""


@pytest.fixture
def settings(database_url: str) -> Settings:
    # 100 households of this selection cost 1,604; 10 of them 164.
    production = make_settings(database_url)
    return production.model_copy(update={"env": "production", "max_cost": 1000})


@pytest.mark.parametrize("body", ['{"n": 100.0}', '{"n": 1e2}', '{"n": 100}'])
async def test_a_float_page_size_is_costed_as_the_integer_it_coerces_to(
    body, hub_client, caseworker
):
    raw = f'{{"query": {json.dumps(QUERY)}, "variables": {body}}}'
    response = await hub_client.post(
        "/graphql", content=raw, headers={**caseworker, "Content-Type": "application/json"}
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert error["extensions"]["cost"] > 1000


async def test_a_small_page_passes(gql):
    result = await gql(QUERY, n=10.0)
    assert "errors" not in result
    assert len(result["data"]["households"]["edges"]) == 10
