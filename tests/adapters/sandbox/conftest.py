"""What the scenario tests share: scenarios, stand-ins over them, what each department holds."""

from __future__ import annotations

import copy
from collections import Counter
from datetime import date
from typing import Any

import pytest

from adapters import idnumber
from adapters.sandbox.faults import FaultyApp
from adapters.sandbox.scenario import EXAMPLE, Scenario, parse_scenario
from adapters.sandbox.transport import InProcessTransport
from adapters.vocabulary import Source
from tests.conftest import sandbox_url

# People of the hand-built households below (born before 2000, in Shanghai's districts).
HEAD = idnumber.make("310115", date(1960, 1, 1), 123)
SPOUSE = idnumber.make("310115", date(1962, 5, 4), 244)
CHILD = idnumber.make("310115", date(2016, 9, 30), 17)
OTHER = idnumber.make("310104", date(1975, 3, 3), 88)

MINIMAL: dict[str, Any] = {
    "households": [
        {"id": "H3101159000001", "members": [{"id_number": HEAD, "name": "张伟"}]},
    ]
}


def minimal(**household: Any) -> dict[str, Any]:
    """The minimal scenario with ``household``'s fields added to (or replacing) its one's."""
    data = copy.deepcopy(MINIMAL)
    data["households"][0].update(household)
    return data


def minimal_household(**household: Any) -> dict[str, Any]:
    """The minimal scenario's one household, with ``household``'s fields."""
    entry: dict[str, Any] = minimal(**household)["households"][0]
    return entry


@pytest.fixture(scope="session")
def example() -> Scenario:
    return parse_scenario(EXAMPLE)


def in_process(apps: dict[Source, FaultyApp]) -> InProcessTransport:
    """The transport the hub's tests use, over ``apps``, each at its sandbox address."""
    return InProcessTransport(
        {sandbox_url(source).removeprefix("http://"): app for source, app in apps.items()}
    )


def concerned(source: Source, record: Any) -> tuple[str, ...]:
    """Whom a department's record is listed under when the hub asks for people."""
    if source is Source.HOUSING:
        return tuple(record.occupants)
    if source is Source.EMERGENCY_MANAGEMENT:
        return tuple(record.member_id_numbers)
    if source is Source.CHARITY:
        return tuple(record.concerns)
    return (record.id_number,)


def expected(scenario: Scenario, source: Source) -> dict[str, Counter[Any]]:
    """What the department holds about each member of the scenario's households."""
    result: dict[str, Counter[Any]] = {
        m.id_number: Counter() for e in scenario.households for m in e.household.members
    }
    for entry in scenario.households:
        for record in entry.records(source):
            for person in concerned(source, record):
                result[person][record] += 1
    return result


PERSON_SOURCES = [s for s in Source if s is not Source.CIVIL_AFFAIRS]
