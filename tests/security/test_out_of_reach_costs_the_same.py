"""Finding 4: out of reach is indistinguishable from nonexistent in time as well as body.

An out-of-reach household used to wait for a DENIED audit entry and an extra index query
that a nonexistent one skipped, so the time of the answer told them apart. Now both paths
run the same statements and both write an audit entry; ``bench`` measures the times.
"""

from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import event

from adapters import idnumber
from adapters.sandbox.population import Population
from adapters.vocabulary import District, Source
from hub.auth.principal import ClientKind
from tests.hubclient import GraphQL, audit_entries
from tests.partners.fake import fake_partner

MISSING_HOUSEHOLD = "H3101019999999"
MISSING_PERSON = idnumber.make("310101", date(1970, 1, 1), 999)
HOUSEHOLD = "query($id: ID!) { household(id: $id) { id members { name } } }"
LOOKUPS = {
    "person": "query($n: String!) { person(idNumber: $n) { name } }",
    "householdByMember": "query($n: String!) { householdByMember(idNumber: $n) { id } }",
}


@contextmanager
def statements(hub_app: Any) -> Iterator[list[str]]:
    """The SQL the hub runs meanwhile, with parameters left out."""
    seen: list[str] = []
    engine = hub_app.state.resources.engine.sync_engine

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def _work(hub_app: Any, hub_sessions: Any, ask: Any) -> tuple[Any, list[str], int]:
    await ask()  # the same state for both: the caller's token is known to the worker
    before = len(await audit_entries(hub_sessions))
    with statements(hub_app) as seen:
        answer = await ask()
    return answer, seen, len(await audit_entries(hub_sessions)) - before


def _mine_and_other(population: Population) -> tuple[District, District]:
    (mine, _), (other, _) = Counter(h.district for h in population.households).most_common(2)
    return mine, other


@pytest.mark.parametrize("kind", ["district caseworker", "charity", "partner"])
async def test_a_household_out_of_reach_costs_what_a_missing_one_costs(
    kind, as_client, hub_app, hub_client, hub_sessions, population: Population
):
    mine, other = _mine_and_other(population)
    callers: dict[str, Callable[[], Awaitable[Any]]] = {
        "district caseworker": lambda: as_client(
            ClientKind.AGENCY, department=Source.CIVIL_AFFAIRS, district=mine
        ),
        "charity": lambda: as_client(ClientKind.CHARITY, organisation_id="org-a"),
        # Through the partner API, the only door partners have.
        "partner": lambda: fake_partner(hub_app, hub_client),
    }
    caller: GraphQL = await callers[kind]()
    outside = next(h for h in population.households if h.district is other)
    await caller(HOUSEHOLD, id=MISSING_HOUSEHOLD)  # a partner registers its document first
    hidden = await _work(hub_app, hub_sessions, lambda: caller(HOUSEHOLD, id=outside.id))
    missing = await _work(hub_app, hub_sessions, lambda: caller(HOUSEHOLD, id=MISSING_HOUSEHOLD))
    assert hidden[0] == missing[0] == {"data": {"household": None}}
    assert hidden[1] == missing[1]  # the same statements, in the same order
    assert hidden[2] == missing[2] == 1  # an entry for each: both are attempts


@pytest.mark.parametrize("field", sorted(LOOKUPS))
async def test_a_person_out_of_reach_costs_what_a_missing_one_costs(
    field, as_client, hub_app, hub_sessions, population: Population
):
    mine, other = _mine_and_other(population)
    caller = await as_client(ClientKind.AGENCY, department=Source.CIVIL_AFFAIRS, district=mine)
    outside = next(h for h in population.households if h.district is other)
    query = LOOKUPS[field]
    hidden = await _work(
        hub_app, hub_sessions, lambda: caller(query, n=outside.members[0].id_number)
    )
    missing = await _work(hub_app, hub_sessions, lambda: caller(query, n=MISSING_PERSON))
    assert hidden[0] == missing[0] == {"data": {field: None}}
    assert hidden[1] == missing[1]
    assert hidden[2] == missing[2] == 1
