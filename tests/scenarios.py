"""Hand-built households for tests: loaded into the in-process stand-ins, then synced.

``await given(hub_app, transport, YAML)`` puts a scenario beside the synthetic test
population and brings the hub's index up to date, as ``hub sync`` would.
"""

from __future__ import annotations

from typing import Any

from adapters.sandbox.loading import load_scenario
from adapters.sandbox.scenario import Scenario, parse_scenario
from adapters.sandbox.transport import InProcessTransport
from hub.index.sync import SyncReport, sync_households


async def given(hub_app: Any, transport: InProcessTransport, text: str) -> Scenario:
    """Load the scenario ``text`` (YAML) into the stand-ins and sync the hub's index."""
    scenario = parse_scenario(text)
    load_scenario(transport.apps, scenario)
    await sync(hub_app)
    return scenario


async def sync(hub_app: Any) -> SyncReport:
    resources = hub_app.state.resources
    return await sync_households(
        sessions=resources.sessions,
        adapter=resources.adapters.civil_affairs,
        rules=resources.rules,
    )
