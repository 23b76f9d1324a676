"""One question, the whole household: seven departments, batched, robust to failures."""

import gc
from collections import Counter
from datetime import date
from typing import Any

import pytest

from adapters.sandbox.population import AS_OF, Population
from adapters.sandbox.transport import InProcessTransport
from adapters.vocabulary import Source
from hub.settings import Settings
from tests.conftest import faults, make_settings

SECTIONS = {
    Source.CIVIL_AFFAIRS: "civilAffairs",
    Source.HEALTH_INSURANCE: "medical",
    Source.EDUCATION: "education",
    Source.HOUSING: "housing",
    Source.HUMAN_RESOURCES: "employment",
    Source.EMERGENCY_MANAGEMENT: "disaster",
    Source.CHARITY: "charity",
}

WHOLE = """
  id
  members { idNumber age relation disabilityGrade }
  civilAffairs { enrollments { category status monthlyAmount } }
  medical { insured { idNumber scheme claims { totalCost outOfPocket } } totalOutOfPocket }
  education { students { idNumber stage schoolName aid { kind amount } } difficulty }
  housing { dwellings { tenure floorArea occupantIdNumbers lowRentHousing { since } } }
  employment { members { idNumber status monthlyPension } zeroEmployment }
  disaster { impacts { event { type occurredOn } damageLevel totalRelief } }
  charity { aid { organisationName kind amount givenOn } totalAmount }
  sources { source state asOf latencyMs errorCode }
"""
HOUSEHOLD = f"query($id: ID!) {{ household(id: $id) {{ {WHOLE} }} }}"
LIST = f"query {{ households(first: 50) {{ edges {{ node {{ {WHOLE} }} }} }} }}"


def calls(transport: InProcessTransport) -> dict[str, int]:
    return {address: app.calls for address, app in transport.apps.items() if app.calls}


def reset_calls(transport: InProcessTransport) -> None:
    for app in transport.apps.values():
        app.calls = 0


async def test_one_query_returns_all_seven_sections(gql, population: Population):
    household = population.households[4]
    result = await gql(HOUSEHOLD, id=household.id)
    assert "errors" not in result
    node = result["data"]["household"]
    for field in SECTIONS.values():
        assert node[field] is not None, field
    assert [s["source"] for s in node["sources"]] == [s.name for s in SECTIONS]
    assert {s["state"] for s in node["sources"]} == {"OK"}
    assert all(s["asOf"] and s["latencyMs"] is not None for s in node["sources"])


async def test_a_list_of_fifty_makes_one_call_per_department(gql, transport):
    reset_calls(transport)
    result = await gql(LIST)
    assert "errors" not in result
    assert len(result["data"]["households"]["edges"]) == 50
    assert sorted(calls(transport).values()) == [1] * 7


FAULTS: dict[str, tuple[dict[str, Any], str]] = {
    "down": ({"down": True}, "SOURCE_UNAVAILABLE"),
    "5xx": ({"status": 503}, "SOURCE_UNAVAILABLE"),
    "slow": ({"latency_ms": 2000}, "SOURCE_TIMEOUT"),
    "slow body": ({"slow_body_ms": 2000}, "SOURCE_TIMEOUT"),
    "malformed": ({"malformed": True}, "SOURCE_BAD_DATA"),
}


@pytest.fixture
def database_url(tmp_path) -> str:
    """These tests are about departments, not the database: SQLite is enough."""
    return f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Quick to give up on a slow department, so that the matrix runs fast."""
    return make_settings(database_url, timeout=0.15)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("source", list(SECTIONS), ids=lambda s: s.name)
async def test_a_failing_department_nulls_only_its_own_section(
    gql, transport, population: Population, source: Source, fault: str
):
    household = population.households[4]
    injected, code = FAULTS[fault]
    faults(transport, source).update(injected)
    result = await gql(HOUSEHOLD, id=household.id)
    node = result["data"]["household"]
    failed = {SECTIONS[source]} | ({"members"} if source is Source.CIVIL_AFFAIRS else set())
    for field in set(SECTIONS.values()) - failed:
        assert node[field] is not None, field
    for field in failed:
        assert node[field] is None
    assert {tuple(e["path"]) for e in result["errors"]} == {("household", f) for f in failed}
    for error in result["errors"]:
        assert error["extensions"] == {
            "code": code,
            "source": source.name,
            "retryable": code != "SOURCE_BAD_DATA",
        }
        assert "127.0.0.1" not in error["message"]
        assert "Traceback" not in error["message"]
    status = {s["source"]: s for s in node["sources"]}
    assert status[source.name]["state"] == "UNAVAILABLE"
    assert status[source.name]["errorCode"] == code
    assert {s["state"] for n, s in status.items() if n != source.name} == {"OK"}


async def test_by_default_a_department_stopped_after_a_good_answer_leaves_its_section_null(
    gql, transport, population: Population
):
    household = population.households[4]
    first = await gql(HOUSEHOLD, id=household.id)
    assert first["data"]["household"]["charity"] is not None
    faults(transport, Source.CHARITY).down = True
    second = await gql(HOUSEHOLD, id=household.id)
    assert second["data"]["household"]["charity"] is None
    (error,) = second["errors"]
    assert error["extensions"]["code"] == "SOURCE_UNAVAILABLE"
    assert error["extensions"]["source"] == "CHARITY"


async def test_query_sources_shows_health_and_the_breaker(gql, transport):
    healthy = await gql("{ sources { source status breaker latencyMs detail } }")
    assert {(s["status"], s["breaker"]) for s in healthy["data"]["sources"]} == {("UP", "CLOSED")}

    faults(transport, Source.HOUSING).status = 503
    for _ in range(5):  # the default breaker opens after five failed calls
        await gql('{ household(id: "H3101150000005") { housing { dwellings { tenure } } } }')
    result = await gql("{ sources { source status breaker detail } }")
    housing = next(s for s in result["data"]["sources"] if s["source"] == "HOUSING")
    assert housing["status"] == "DOWN"
    assert housing["breaker"] == "OPEN"
    assert "503" in housing["detail"]


async def test_one_persons_records_agree_across_departments(gql, population: Population):
    """A student in education is a school-age member of the same civil-affairs household;
    the dwelling houses every member; employment records belong to members aged 16+."""
    household = next(
        h
        for h in population.households
        if len(h.members) >= 3 and any(6 <= AS_OF.year - m.birth_date.year <= 14 for m in h.members)
    )
    node = (await gql(HOUSEHOLD, id=household.id))["data"]["household"]
    born = {m.id_number: m.birth_date for m in household.members}
    students = node["education"]["students"]
    assert students
    for student in students:
        assert _age(born[student["idNumber"]]) in STAGE_AGES[student["stage"]]
    (dwelling,) = node["housing"]["dwellings"]
    assert set(dwelling["occupantIdNumbers"]) == set(born)
    for person in node["employment"]["members"]:
        assert _age(born[person["idNumber"]]) >= 16
    insured = {p["idNumber"] for p in node["medical"]["insured"]}
    assert insured <= set(born)


STAGE_AGES = {
    "PRESCHOOL": range(3, 6),
    "PRIMARY": range(6, 12),
    "JUNIOR_SECONDARY": range(12, 15),
    "SENIOR_SECONDARY": range(15, 18),
    "VOCATIONAL": range(15, 19),
    "HIGHER": range(18, 23),
}


def _age(birth: date) -> int:
    return AS_OF.year - birth.year - ((AS_OF.month, AS_OF.day) < (birth.month, birth.day))


async def test_a_full_view_leaves_nothing_to_the_garbage_collector(gql, population: Population):
    # What a request reached (its loaders, the households, the department records) is
    # freed by reference counting when it ends; a cycle through it would leave hundreds
    # of objects per request to the collector, whose passes cost the hub's CPU.
    household = population.households[4]
    assert "errors" not in await gql(HOUSEHOLD, id=household.id)  # warm every cache
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # keep what a collection finds, to look at it
    try:
        assert "errors" not in await gql(HOUSEHOLD, id=household.id)
        gc.collect()
        left = Counter(
            f"{type(o).__module__}.{type(o).__qualname__}"
            for o in gc.garbage
            # The in-process stand-ins and test client (httpx) leave cycles of their own.
            if type(o).__module__.split(".")[0]
            in {"hub", "schema", "adapters", "strawberry", "graphql"}
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert not left, f"left in reference cycles: {left.most_common(5)}"
