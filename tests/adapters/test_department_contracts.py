"""What every department's adapter and stand-in promise alike, checked once per department.

Each department has its own wire format (tested in its own module); the batch contract is
the same for all: every key answered, at most 500 keys a call, a body outside the contract
refused as BadUpstreamData, and a stand-in that publishes its OpenAPI document and refuses
requests outside it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

import httpx
import pytest

from adapters.sandbox.education import students
from adapters.sandbox.health_insurance import insured_persons
from adapters.sandbox.housing import build_dwellings
from adapters.sandbox.human_resources import build_records
from adapters.sandbox.population import Population
from adapters.vocabulary import Source
from tests.adapters.conftest import (
    UNKNOWN,
    StandIn,
    assert_bad_upstream_data,
    holdings,
    strangers,
)
from tests.conftest import sandbox_url


def _by_occupant(population: Population) -> dict[str, object]:
    return {o: d for d in build_dwellings(population) for o in d.occupants}


@dataclass(frozen=True)
class Department:
    """One department's batch lookup, as its stand-in serves it."""

    source: Source
    path: str  # the batch lookup, POSTed
    field: str  # the request body's list of ID numbers
    schema: str  # the record's schema in the OpenAPI document
    nothing: object  # the answer to a lookup of UNKNOWN 500 times
    refusal: str  # the error code of a request outside the contract
    too_many: str = ""  # the error code of a request for over 500 keys, if not ``refusal``
    more_paths: tuple[str, ...] = ()  # what else the OpenAPI document lists
    # Each person's one record as the stand-in built it (persons without one left out).
    built: Callable[[Population], Mapping[str, object]] | None = None
    shared: bool = False  # one record can concern several people (a household)
    universal: bool = False  # every member of the population has a record

    @property
    def url(self) -> str:
        return sandbox_url(self.source) + self.path

    @property
    def too_many_code(self) -> str:
        return self.too_many or self.refusal

    def body(self, ids: object) -> bytes:
        return json.dumps({self.field: ids}).encode()


DEPARTMENTS = [
    Department(
        Source.HEALTH_INSURANCE,
        path="/v2/insured/query",
        field="id_card_nos",
        schema="Insured",
        nothing={"insured": []},
        refusal="BAD_REQUEST",
        too_many="TOO_MANY",
        built=insured_persons,
    ),
    Department(
        Source.EDUCATION,
        path="/api/students/lookup",
        field="sfzhList",
        schema="Student",
        nothing={"students": [], "missing": [UNKNOWN]},
        refusal="PARAM_ERROR",
        built=students,
    ),
    Department(
        Source.HOUSING,
        path="/housing/v1/dwellings:search",
        field="occupantIdNumbers",
        schema="Dwelling",
        nothing={"dwellings": []},
        refusal="BAD_REQUEST",
        built=_by_occupant,
        shared=True,
        universal=True,
    ),
    Department(
        Source.HUMAN_RESOURCES,
        path="/rs/api/PersonQuery",
        field="IdCardNos",
        schema="Person",
        nothing={"Result": [], "Total": 0},
        refusal="BAD_REQUEST",
        built=build_records,
    ),
    Department(
        Source.EMERGENCY_MANAGEMENT,
        path="/em/relief/query",
        field="persons",
        schema="Event",
        nothing={"events": []},
        refusal="BAD_REQUEST",
        shared=True,
    ),
    Department(
        Source.CHARITY,
        path="/charity/aid/lookup",
        field="beneficiary_ids",
        schema="aid",
        nothing={"aid": []},
        refusal="bad_request",
        more_paths=("/charity/organisations", "/charity/projects"),
        shared=True,
    ),
]


def each(departments: Iterable[Department]) -> pytest.MarkDecorator:
    chosen = list(departments)
    return pytest.mark.parametrize("department", chosen, ids=[d.source.value for d in chosen])


def _members(population: Population) -> list[str]:
    return [m.id_number for m in population.members()]


@each(DEPARTMENTS)
async def test_every_key_is_answered_and_unknown_ones_with_an_empty_list(
    department: Department, stand_in: Callable[[Source], StandIn], population: Population
):
    held = await holdings(department.source, population)
    known = next(key for key, records in held.items() if records)
    if department.universal:
        assert all(held.values())
        without: list[str] = []
    else:
        without = [next(key for key, records in held.items() if not records)]
    result = await stand_in(department.source).adapter.fetch([UNKNOWN, known, *without])
    assert result == {UNKNOWN: [], known: held[known], **{key: [] for key in without}}


@each(d for d in DEPARTMENTS if d.built)
async def test_the_stand_in_round_trips_what_it_built_for_every_member(
    department: Department, stand_in: Callable[[Source], StandIn], population: Population
):
    assert department.built is not None
    built = department.built(population)
    ids = _members(population)
    assert set(built) <= set(ids)
    result = await stand_in(department.source).adapter.fetch(ids)
    assert result == {i: [built[i]] if i in built else [] for i in ids}


@each(DEPARTMENTS)
async def test_one_upstream_call_per_batch_of_at_most_500(
    department: Department, stand_in: Callable[[Source], StandIn], population: Population
):
    held = await holdings(department.source, population)
    known = _members(population)
    unknown = strangers(1001 - len(known))
    keys = known + unknown + known[:10]  # repeated keys are asked once
    served = stand_in(department.source)
    result = await served.adapter.fetch(keys)
    batches = served.batches(department.field)
    assert [len(b) for b in batches] == [500, 500, 1]
    assert [k for b in batches for k in b] == list(dict.fromkeys(keys))
    assert set(result) == set(keys)
    assert {k: result[k] for k in known} == held  # nothing lost, nothing listed twice
    assert all(result[k] == [] for k in unknown)


@each(d for d in DEPARTMENTS if d.shared)
async def test_a_record_split_across_batches_is_listed_once_under_each_person(
    department: Department, stand_in: Callable[[Source], StandIn], population: Population
):
    """Two people of one household asked in different calls: both answers carry their
    shared record, and each of them still gets it once."""
    held = await holdings(department.source, population)
    first, second, record = next(
        (a, b, r)
        for h in population.households
        for a, b in combinations([m.id_number for m in h.members], 2)
        for r in held[a]
        if r in held[b]
    )
    fillers = strangers(998)
    served = stand_in(department.source)
    result = await served.adapter.fetch([first, *fillers[:499], second, *fillers[499:]])
    batches = served.batches(department.field)
    assert [(first in b, second in b) for b in batches] == [(True, False), (False, True)]
    assert result[first] == held[first]
    assert result[second] == held[second]
    assert list(result[first]).count(record) == list(result[second]).count(record) == 1
    assert all(result[f] == [] for f in fillers)


@pytest.mark.parametrize(
    "body",
    [b"{oops", b'{"records": [', b"[]", b'{"unexpected": []}'],
    ids=["not-json", "cut-short", "not-an-object", "records-missing"],
)
@each(DEPARTMENTS)
async def test_a_body_outside_every_contract_is_bad_upstream_data(
    department: Department, body: bytes
):
    await assert_bad_upstream_data(department.source, body, UNKNOWN)


@each(DEPARTMENTS)
async def test_the_stand_in_publishes_its_openapi_document(
    department: Department, http: httpx.AsyncClient
):
    response = await http.get(sandbox_url(department.source) + "/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert set(document["paths"]) == {department.path, *department.more_paths}
    assert department.schema in document["components"]["schemas"]
    request = document["paths"][department.path]["post"]["requestBody"]
    schema = request["content"]["application/json"]["schema"]
    assert schema["required"] == [department.field]
    assert schema["properties"][department.field]["maxItems"] == 500


@each(DEPARTMENTS)
async def test_the_stand_in_refuses_more_than_500_keys_and_takes_500(
    department: Department, http: httpx.AsyncClient
):
    too_many = await http.post(department.url, content=department.body([UNKNOWN] * 501))
    exactly_500 = await http.post(department.url, content=department.body([UNKNOWN] * 500))
    assert too_many.status_code == 400
    assert too_many.json()["error"]["code"] == department.too_many_code
    assert exactly_500.status_code == 200
    assert exactly_500.json() == department.nothing


MISSHAPEN: dict[str, Callable[[Department], bytes]] = {
    "other-key": lambda d: json.dumps({"idNumbers": [UNKNOWN]}).encode(),
    "miscased-key": lambda d: json.dumps({d.field[0].swapcase() + d.field[1:]: [UNKNOWN]}).encode(),
    "not-a-list": lambda d: d.body(UNKNOWN),
    "not-strings": lambda d: d.body([310101199001010011]),
    "not-json": lambda d: b"[",
}


@pytest.mark.parametrize("shape", list(MISSHAPEN))
@each(DEPARTMENTS)
async def test_the_stand_in_refuses_a_misshapen_request(
    department: Department, shape: str, http: httpx.AsyncClient
):
    response = await http.post(department.url, content=MISSHAPEN[shape](department))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == department.refusal
