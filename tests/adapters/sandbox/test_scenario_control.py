"""Loading a scenario at run time through the control service, and civil affairs' change
feed reporting what it changed, so that ``hub sync`` follows."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import yaml  # type: ignore[import-untyped, unused-ignore]

from adapters.civil_affairs import CivilAffairsAdapter
from adapters.records import HouseholdChange
from adapters.sandbox.faults import FaultyApp
from adapters.sandbox.population import Population
from adapters.sandbox.scenario import EXAMPLE, Scenario
from adapters.sandbox.server import build_apps, control_app
from adapters.vocabulary import Source
from tests.adapters.conftest import adapter_over
from tests.adapters.sandbox.conftest import HEAD, in_process, minimal
from tests.conftest import SEED, SIZE


@pytest.fixture
def apps() -> dict[Source, FaultyApp]:
    return build_apps(SEED, SIZE)


@pytest.fixture
async def control(apps: dict[Source, FaultyApp]) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=control_app(apps))
    async with httpx.AsyncClient(transport=transport, base_url="http://control") as client:
        yield client


def _civil(apps: dict[Source, FaultyApp]) -> CivilAffairsAdapter:
    adapter = adapter_over(Source.CIVIL_AFFAIRS, in_process(apps))
    assert isinstance(adapter, CivilAffairsAdapter)
    return adapter


async def _changes(adapter: CivilAffairsAdapter, after: datetime) -> list[HouseholdChange]:
    """Every change after ``after`` (as ``hub sync`` reads the feed, page by page)."""
    seen: list[HouseholdChange] = []
    token = None
    while True:
        page = await adapter.changes(
            updated_since=after + timedelta(microseconds=1), page_token=token, page_size=50
        )
        seen.extend(page.changes)
        if (token := page.next_page_token) is None:
            return seen


def _stamp(summary: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(summary["feed"]["updatedAt"])


async def test_put_loads_a_yaml_scenario_into_every_stand_in(
    control: httpx.AsyncClient, apps: dict[Source, FaultyApp], example: Scenario
):
    response = await control.put("/scenario", content=EXAMPLE.read_bytes())
    assert response.status_code == 200
    summary = response.json()
    ids = [e.household.id for e in example.households]
    assert summary["households"] == ids
    assert summary["replacing"] == []
    assert summary["records"] == example.counts()
    assert summary["feed"]["added"] == sorted(ids)
    assert (await control.get("/scenario")).json() == {
        "description": example.description,
        "households": ids,
    }
    transport = in_process(apps)
    for source in Source:
        assert apps[source].app.scenario == example  # type: ignore[attr-defined]
    head = example.households[0].household.head.id_number
    found = await adapter_over(Source.HEALTH_INSURANCE, transport).fetch([head])
    assert list(found[head]) == list(example.households[0].health_insurance[:1])


async def test_put_takes_json_too(control: httpx.AsyncClient, example: Scenario):
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    body = json.dumps(data, default=str, ensure_ascii=False).encode()
    response = await control.put("/scenario", content=body)
    assert response.status_code == 200
    assert response.json()["records"] == example.counts()


async def test_a_scenario_that_is_not_valid_is_refused_and_changes_nothing(
    control: httpx.AsyncClient, apps: dict[Source, FaultyApp], population: Population
):
    await control.put("/scenario", content=EXAMPLE.read_bytes())
    bad = json.dumps(minimal(members=[{"id_number": HEAD + "0", "name": "x"}]))
    response = await control.put("/scenario", content=bad.encode())
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "BAD_SCENARIO"
    assert error["details"] == [
        "households[0].members[0].id_number: not a valid ID number (LENGTH)"
    ]
    taken = population.households[0].head.id_number
    clash = json.dumps(minimal(members=[{"id_number": taken, "name": "x"}]))
    response = await control.put("/scenario", content=clash.encode())
    assert response.status_code == 400
    assert "is already a member of household" in response.json()["error"]["details"][0]
    loaded = (await control.get("/scenario")).json()["households"]
    assert len(loaded) == 5


async def test_the_change_feed_reports_what_each_load_changed(
    control: httpx.AsyncClient, apps: dict[Source, FaultyApp], population: Population
):
    civil = _civil(apps)
    synced = max(h.updated_at for h in population.households)  # where ``hub sync`` stands
    assert await _changes(civil, synced) == []

    # Load: two new households and one replacing a synthetic household.
    replaced = population.households[7]
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["households"] = data["households"][:2]
    head = replaced.head
    data["households"].append(
        {"id": replaced.id, "members": [{"id_number": head.id_number, "name": head.name}]}
    )
    first = (await control.put("/scenario", content=json.dumps(data, default=str))).json()
    assert first["replacing"] == [replaced.id]
    assert (first["feed"]["added"], first["feed"]["replaced"]) == (
        sorted(data["households"][i]["id"] for i in (0, 1)),
        [replaced.id],
    )
    changes = await _changes(civil, synced)
    assert sorted(c.household_id for c in changes) == sorted(h["id"] for h in data["households"])
    assert {c.updated_at for c in changes} == {_stamp(first)}
    assert all(c.household is not None for c in changes)

    # Reload with one household changed and one dropped: only those two are reported.
    data["households"][1]["street"] = "新海镇"
    dropped = data["households"].pop(0)["id"]
    second = (await control.put("/scenario", content=json.dumps(data, default=str))).json()
    assert second["feed"]["replaced"] == [data["households"][0]["id"]]
    assert second["feed"]["removed"] == [dropped]
    changes = await _changes(civil, _stamp(first))
    assert {(c.household_id, c.removed) for c in changes} == {
        (data["households"][0]["id"], False),
        (dropped, True),
    }

    # Unload: the scenario's own household is removed, the synthetic one is back.
    third = (await control.delete("/scenario")).json()
    assert third["households"] == []
    assert (third["feed"]["removed"], third["feed"]["replaced"]) == (
        [data["households"][0]["id"]],
        [replaced.id],
    )
    last = {c.household_id: c for c in await _changes(civil, _stamp(second))}
    assert last[data["households"][0]["id"]].removed
    back = last[replaced.id].household
    assert back is not None
    assert back.members == replaced.members
    assert (await control.get("/scenario")).json() == {"description": None, "households": []}

    # Unloading again changes nothing.
    assert (await control.delete("/scenario")).json()["feed"]["updatedAt"] is None


async def test_a_scenario_alone_has_a_feed_of_its_own(example: Scenario):
    apps = build_apps(SEED, 0, scenario=example)
    changes = await _changes(_civil(apps), datetime(2000, 1, 1, tzinfo=UTC))
    assert sorted(c.household_id for c in changes) == sorted(example.by_id)
