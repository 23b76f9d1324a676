"""Every stand-in serves a scenario's households in its own wire format, beside or instead
of the synthetic population, and every adapter reads them back as the scenario wrote them."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import pytest

from adapters.registry import Adapters
from adapters.sandbox.loading import load_scenario, loaded_scenario, unload_scenario
from adapters.sandbox.population import Population, generate
from adapters.sandbox.scenario import Scenario, ScenarioError, scenario_from_data
from adapters.sandbox.server import build_apps
from adapters.sandbox.transport import InProcessTransport
from adapters.vocabulary import Source
from tests.adapters.conftest import adapter_over, holdings
from tests.adapters.sandbox.conftest import (
    HEAD,
    MINIMAL,
    PERSON_SOURCES,
    expected,
    in_process,
    minimal,
)
from tests.conftest import SEED, SIZE, stand_ins


async def _read(source: Source, transport: InProcessTransport, ids: list[str]) -> Any:
    result = await adapter_over(source, transport).fetch(ids)
    return {key: Counter(records) for key, records in result.items()}


def _members(scenario: Scenario) -> list[str]:
    return [m.id_number for e in scenario.households for m in e.household.members]


@pytest.mark.parametrize("source", PERSON_SOURCES, ids=[s.value for s in PERSON_SOURCES])
@pytest.mark.parametrize("size", [0, SIZE], ids=["instead", "beside"])
async def test_each_department_serves_the_scenario_as_written(
    source: Source, size: int, example: Scenario
):
    transport = in_process(build_apps(SEED, size, only=[source], scenario=example))
    assert await _read(source, transport, _members(example)) == expected(example, source)


@pytest.mark.parametrize("size", [0, SIZE], ids=["instead", "beside"])
async def test_civil_affairs_serves_the_households_as_written(size: int, example: Scenario):
    apps = build_apps(SEED, size, only=[Source.CIVIL_AFFAIRS], scenario=example)
    adapter = adapter_over(Source.CIVIL_AFFAIRS, in_process(apps))
    wanted = [e.household for e in example.households]
    found = await adapter.households([h.id for h in wanted])  # type: ignore[attr-defined]
    stamped = [found[h.id] for h in wanted]
    assert [replace(h, updated_at=w.updated_at) for h, w in zip(stamped, wanted, strict=True)] == (
        wanted
    )
    assert len({h.updated_at for h in stamped}) == 1  # stamped when loaded, all at once
    persons = await adapter.persons(_members(example))  # type: ignore[attr-defined]
    assert persons == {m.id_number: m for h in wanted for m in h.members}


async def test_the_synthetic_population_is_served_unchanged_beside_a_scenario(
    example: Scenario, population: Population
):
    transport = in_process(build_apps(SEED, SIZE, scenario=example))
    ids = [m.id_number for m in population.members()]
    for source in PERSON_SOURCES:
        held = await holdings(source, population)
        assert await _read(source, transport, ids) == {k: Counter(v) for k, v in held.items()}


def _replacing(population: Population) -> tuple[Scenario, Any]:
    """A scenario replacing a synthetic household: its head stays, the others leave."""
    replaced = next(h for h in population.households if len(h.members) >= 3)
    head = replaced.head
    data = {
        "households": [
            {
                "id": replaced.id,
                "members": [{"id_number": head.id_number, "name": head.name}],
                "human_resources": [{"id_number": head.id_number, "status": "RETIRED"}],
            }
        ]
    }
    return scenario_from_data(data), replaced


async def test_a_scenario_household_replaces_the_synthetic_one_everywhere(
    population: Population,
):
    scenario, replaced = _replacing(population)
    transport = in_process(build_apps(SEED, SIZE, scenario=scenario))
    ids = [m.id_number for m in replaced.members]
    for source in PERSON_SOURCES:
        assert await _read(source, transport, ids) == {
            i: expected(scenario, source).get(i, Counter()) for i in ids
        }, source
    civil = adapter_over(Source.CIVIL_AFFAIRS, transport)
    found = (await civil.fetch([replaced.id]))[replaced.id]
    assert [m.id_number for m in found[0].members] == [replaced.head.id_number]
    assert await civil.persons(ids) == {  # type: ignore[attr-defined]
        replaced.head.id_number: scenario.households[0].household.members[0]
    }


async def test_unloading_brings_the_synthetic_household_back(population: Population):
    scenario, replaced = _replacing(population)
    apps = build_apps(SEED, SIZE, scenario=scenario)
    transport = in_process(apps)
    unload_scenario(apps)
    assert loaded_scenario(apps) is None
    ids = [m.id_number for m in replaced.members]
    for source in PERSON_SOURCES:
        held = await holdings(source, population)
        assert await _read(source, transport, ids) == {i: Counter(held[i]) for i in ids}
    found = await adapter_over(Source.CIVIL_AFFAIRS, transport).fetch([replaced.id])
    assert replace(found[replaced.id][0], updated_at=replaced.updated_at) == replaced


def test_a_person_of_a_synthetic_household_left_in_place_cannot_join_a_scenario(
    population: Population, example: Scenario
):
    other = population.households[3]
    person = other.members[0]
    data = minimal(members=[{"id_number": person.id_number, "name": person.name}])
    scenario = scenario_from_data(data)
    with pytest.raises(ScenarioError) as caught:
        build_apps(SEED, SIZE, scenario=scenario)
    assert caught.value.errors == (
        f"households[0].members[0].id_number: {person.id_number} of household "
        f"H3101159000001 is already a member of household {other.id} (the synthetic population)",
    )
    apps = build_apps(SEED, SIZE, scenario=example)
    with pytest.raises(ScenarioError):
        load_scenario(apps, scenario)
    assert loaded_scenario(apps) is example  # nothing changed


async def test_a_new_scenario_replaces_the_one_loaded_before(example: Scenario):
    apps = build_apps(SEED, 0, scenario=example)
    transport = in_process(apps)
    other = scenario_from_data(minimal(human_resources=[{"id_number": HEAD, "status": "EMPLOYED"}]))
    summary = load_scenario(apps, other)
    assert summary.households == ("H3101159000001",)
    assert summary.records["human_resources"] == 1
    ids = [*_members(example), HEAD]
    for source in PERSON_SOURCES:
        assert await _read(source, transport, ids) == {
            i: expected(other, source).get(i, Counter()) for i in ids
        }
    civil = adapter_over(Source.CIVIL_AFFAIRS, transport)
    found = await civil.fetch([e.household.id for e in example.households])
    # The first has the ID of the other scenario's one household; the rest are gone.
    first, *rest = (found[e.household.id] for e in example.households)
    assert [m.id_number for h in first for m in h.members] == [HEAD]
    assert rest == [[], [], [], []]


async def test_the_test_fixtures_stand_ins_take_a_scenario_each(
    transport: InProcessTransport, adapters: Adapters, example: Scenario
):
    """As the hub's tests load a scenario: into the ``transport`` fixture's stand-ins, whose
    unchanging apps are shared with every other test's and must not see it."""
    load_scenario(transport.apps, example)
    ids = _members(example)
    for source in PERSON_SOURCES:
        result = await adapters[source].fetch(ids)
        assert {k: Counter(v) for k, v in result.items()} == expected(example, source)
    found = await adapters.civil_affairs.households([e.household.id for e in example.households])
    assert len(found) == len(example)
    other = stand_ins()
    for source in PERSON_SOURCES:
        assert all(not records for records in (await _read(source, other, ids)).values())


def test_a_scenario_alone_serves_nothing_else():
    apps = build_apps(SEED, 0, scenario=scenario_from_data(MINIMAL))
    assert {app.app.population.households for app in apps.values()} == {()}  # type: ignore[attr-defined]
    assert generate(SEED, 0).households == ()
