"""Finding 7, last part: in production a variable that does not coerce is the caller's
mistake (``BAD_USER_INPUT`` naming the variable and its type), never "Unexpected error."
with a traceback, and its value is neither echoed nor logged."""

import logging

import pytest

from hub.settings import Settings
from tests.conftest import make_settings

SECRET_VALUE = "310101199001011237"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url).model_copy(update={"env": "production"})


@pytest.mark.parametrize(
    ("query", "variables", "expected"),
    [
        ("query($n: Int!) { households(first: $n) { totalCount } }", {"n": None}, "Int!"),
        ("query($n: Int!) { households(first: $n) { totalCount } }", {"n": SECRET_VALUE}, "Int!"),
        (
            "query($f: HouseholdFilterInput) { households(filter: $f) { totalCount } }",
            {"f": {SECRET_VALUE: 1}},
            "HouseholdFilterInput",
        ),
        (
            "query($f: HouseholdFilterInput) { households(filter: $f) { totalCount } }",
            {"f": {"district": SECRET_VALUE}},
            "HouseholdFilterInput",
        ),
    ],
    ids=["null for Int!", "text for Int!", "unknown input field", "bad enum value"],
)
async def test_a_variable_that_does_not_coerce_is_bad_user_input(
    query, variables, expected, gql, caplog
):
    with caplog.at_level(logging.INFO):
        result = await gql(query, **variables)
    error = result["errors"][0]
    name = next(iter(variables))
    assert result["data"] is None
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "variable": name}
    assert error["message"] == f"Variable '${name}' got an invalid value; expected {expected}."
    assert SECRET_VALUE not in str(result)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert SECRET_VALUE not in caplog.text
