"""Finding 9: one source of truth for limits, and household IDs parsed by one function.

The settings and the schema used to carry different defaults and bounds (``HUB_MAX_ALIASES=0``
passed the settings and failed at start); household IDs were matched with ``\\d`` and ``$``,
which let other scripts' digits and a trailing newline through.
"""

import pytest

import schema
from hub.settings import Settings
from tests.conftest import make_settings

BAD_HOUSEHOLD_IDS = ["H3101010000001\n", "H３１０１０１0000001", "H310101000001", " H3101010000001"]
ARGUMENTS = {
    "household": ("query($id: ID!) { household(id: $id) { id } }", "id"),
    "consents": ("query($id: ID!) { consents(householdId: $id) { id } }", "householdId"),
    "recordConsent": (
        """mutation($id: ID!) { recordConsent(input: {householdId: $id, expiresOn: "2099-01-01"})
        { __typename } }""",
        "householdId",
    ),
}


async def test_no_aliases_at_all_is_a_limit_the_schema_accepts():
    limits = Settings(max_aliases=0).query_limits()
    built = schema.build(limits=limits)
    assert (await built.execute("{ __typename }")).errors is None
    refused = (await built.execute("{ a: __typename }")).errors
    assert refused is not None
    assert refused[0].extensions == {"code": "TOO_MANY_ALIASES", "aliases": 1, "maxAliases": 0}


@pytest.mark.parametrize("name", ["max_depth", "max_tokens", "max_cost", "max_page_size"])
def test_a_limit_below_one_is_refused_where_it_is_set(name):
    with pytest.raises(ValueError, match=name):
        Settings.model_validate({name: 0})


@pytest.mark.parametrize("field", sorted(ARGUMENTS))
@pytest.mark.parametrize(
    "value", BAD_HOUSEHOLD_IDS, ids=["newline", "full-width", "short", "space"]
)
async def test_household_ids_are_parsed_strictly_everywhere(field, value, gql):
    query, argument = ARGUMENTS[field]
    result = await gql(query, id=value)
    assert result["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": argument}


async def test_id_numbers_take_ascii_digits_only(gql):
    full_width = "３１０１０１１９７００１０１９９９Ｘ"[:17] + "X"
    result = await gql("query($n: String!) { person(idNumber: $n) { name } }", n=full_width)
    assert result["errors"][0]["extensions"]["code"] == "INVALID_ID_NUMBER"
    assert result["errors"][0]["extensions"]["reason"] == "FORMAT"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)
