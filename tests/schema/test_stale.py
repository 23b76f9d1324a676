"""Degraded mode: a department that fails yields its last known data, labelled stale."""

import pytest

from adapters.sandbox.population import Population
from adapters.vocabulary import Source
from hub.settings import Settings
from tests.conftest import faults, make_settings
from tests.schema.test_household_view import HOUSEHOLD


@pytest.fixture
def database_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Always ask the departments, but keep an hour of records to stand in."""
    return make_settings(database_url, timeout=0.15, stale_ttl=3600)


async def test_a_failed_department_is_served_stale_beside_an_error_naming_it(
    gql, transport, population: Population
):
    household = population.households[4]
    first = await gql(HOUSEHOLD, id=household.id)
    as_of = next(
        s["asOf"] for s in first["data"]["household"]["sources"] if s["source"] == "CHARITY"
    )
    faults(transport, Source.CHARITY).down = True
    second = await gql(HOUSEHOLD, id=household.id)
    node = second["data"]["household"]
    assert node["charity"] == first["data"]["household"]["charity"]
    status = {s["source"]: s for s in node["sources"]}
    assert status["CHARITY"]["state"] == "STALE"
    assert status["CHARITY"]["asOf"] == as_of
    assert {s["state"] for n, s in status.items() if n != "CHARITY"} == {"OK"}
    (error,) = second["errors"]
    assert error["path"] == ["household", "charity"]
    assert error["extensions"] == {
        "code": "SOURCE_UNAVAILABLE",
        "source": "CHARITY",
        "retryable": True,
        "stale": True,
        "asOf": error["extensions"]["asOf"],
    }
    assert error["extensions"]["asOf"].startswith(as_of[:19])


async def test_with_nothing_cached_the_section_is_null(gql, transport, population: Population):
    faults(transport, Source.HOUSING).down = True
    result = await gql(HOUSEHOLD, id=population.households[9].id)
    assert result["data"]["household"]["housing"] is None
    (error,) = result["errors"]
    assert "stale" not in error["extensions"]


async def test_a_recovered_department_is_live_again(gql, transport, population: Population):
    household = population.households[4]
    await gql(HOUSEHOLD, id=household.id)
    faults(transport, Source.CHARITY).down = True
    await gql(HOUSEHOLD, id=household.id)
    faults(transport, Source.CHARITY).down = False
    again = await gql(HOUSEHOLD, id=household.id)
    assert "errors" not in again
    status = {s["source"]: s["state"] for s in again["data"]["household"]["sources"]}
    assert status["CHARITY"] == "OK"
