"""Laying a scenario over built stand-ins: at start, from a test, or through the control port.

``load_scenario(apps, scenario)`` takes the stand-ins as ``build_apps`` gives them (or as an
``InProcessTransport`` holds them: ``transport.apps``) and makes each serve the synthetic
population with the scenario's households laid over it, replacing any scenario loaded
before; ``load_scenario(apps, None)`` (or ``unload_scenario``) goes back to the synthetic
population alone. Each ``FaultyApp`` is given a new app to wrap, so stand-ins that share
their precomputed answers with other wrappers (as the test fixtures build them) never see
another's scenario; civil affairs changes its own data, and its change feed reports every
household added, replaced or removed, so that ``hub sync`` follows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.sandbox.faults import FaultyApp
from adapters.sandbox.scenario import Scenario, check_population
from adapters.sandbox.service import StandInApp
from adapters.sandbox.store import FeedChanges

Apps = Mapping[Any, FaultyApp] | Iterable[FaultyApp]


@dataclass(frozen=True)
class LoadSummary:
    """What the stand-ins serve after a load, and what civil affairs' feed now reports."""

    households: tuple[str, ...]  # the scenario's, in file order
    replacing: tuple[str, ...]  # synthetic households the scenario replaces
    records: dict[str, int]  # per department, how many records about the scenario's
    feed: FeedChanges | None  # None when civil affairs is not among the apps
    description: str | None = None

    def to_json(self) -> dict[str, Any]:
        feed = self.feed
        return {
            "description": self.description,
            "households": list(self.households),
            "replacing": list(self.replacing),
            "records": self.records,
            "feed": None
            if feed is None
            else {
                "updatedAt": feed.updated_at.isoformat() if feed.updated_at else None,
                "added": list(feed.added),
                "replaced": list(feed.replaced),
                "removed": list(feed.removed),
            },
        }


def _stand_ins(apps: Apps) -> list[tuple[FaultyApp, StandInApp]]:
    wrappers = list(apps.values()) if isinstance(apps, Mapping) else list(apps)
    result = []
    for wrapper in wrappers:
        inner = wrapper.app
        if not isinstance(inner, StandInApp):
            raise TypeError(f"not a stand-in department: {inner!r}")
        result.append((wrapper, inner))
    return result


def load_scenario(apps: Apps, scenario: Scenario | None) -> LoadSummary:
    """Serve ``scenario`` (None: none) from every stand-in of ``apps``, instead of the one
    loaded before. Raises ``ScenarioError`` (changing nothing) when one of its people is a
    member of a synthetic household it does not replace."""
    stand_ins = _stand_ins(apps)
    populations = {id(inner.population): inner.population for _, inner in stand_ins}
    if scenario is not None:
        for population in populations.values():
            check_population(scenario, population)
    feed: FeedChanges | None = None
    for wrapper, inner in stand_ins:
        loaded = inner.with_scenario(scenario)
        wrapper.app = loaded
        feed = loaded.feed_changes or feed
    if scenario is None:
        return LoadSummary((), (), {}, feed)
    ids = tuple(entry.household.id for entry in scenario.households)
    synthetic = {hid for p in populations.values() for hid in ids if hid in p.by_id}
    return LoadSummary(
        households=ids,
        replacing=tuple(hid for hid in ids if hid in synthetic),
        records=scenario.counts(),
        feed=feed,
        description=scenario.description,
    )


def unload_scenario(apps: Apps) -> LoadSummary:
    """Back to the synthetic population alone."""
    return load_scenario(apps, None)


def loaded_scenario(apps: Apps) -> Scenario | None:
    """The scenario the stand-ins serve, if any."""
    return next((inner.scenario for _, inner in _stand_ins(apps)), None)
