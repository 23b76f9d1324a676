"""What the reliability suite shares: its duration, the stand-ins process, a prepared hub
database with its callers, and the report of figures.

Short by default (``make test``: a few seconds of load per run); ``HUB_SOAK_SECONDS``
lengthens every load run (``make soak``: 60), and ``HUB_SOAK_REPORT`` names a file that
collects each run's figures as JSON lines.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.sandbox.population import Population
from adapters.vocabulary import Source
from hub.auth.principal import ClientKind, Purpose
from hub.db.session import session_factory
from hub.jobs import run_sync
from hub.settings import Settings
from tests.conftest import SEED, SIZE
from tests.hubclient import credentials
from tests.reliability.harness import HubProcess, StandIns
from tests.reliability.load import Load, today

ORGANISATION = "org-soak"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "soak: the reliability suite (hurts the hub on purpose; HUB_SOAK_SECONDS)"
    )


def soak_seconds(short: float = 2.0) -> float:
    """How long each load run lasts: ``HUB_SOAK_SECONDS``, else ``short``."""
    given = os.environ.get("HUB_SOAK_SECONDS")
    return float(given) if given else short


@pytest.fixture(scope="session")
def standins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandIns]:
    """The stand-ins over the tests' population, in a process of their own, for the session
    (each test heals them first)."""
    served = StandIns(SEED, SIZE, tmp_path_factory.mktemp("standins") / "standins.log")
    try:
        asyncio.run(served.started())
        yield served
    finally:
        served.stop()


@pytest.fixture
async def healthy(standins: StandIns) -> StandIns:
    """The stand-ins with no fault left by a test before."""
    await standins.heal()
    return standins


Serve = Callable[..., Awaitable[HubProcess]]


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Serve]:
    """Start ``hub serve`` processes: ``await serve(database_url, departments, workers=N,
    settings={...})`` answers once the hub (and its N workers) do; every one is stopped
    when the test ends, whatever happened."""
    started: list[HubProcess] = []

    async def start(
        database_url: str,
        departments: Mapping[str, str],
        *,
        workers: int = 1,
        settings: Mapping[str, str] | None = None,
    ) -> HubProcess:
        log = tmp_path / f"hub-{len(started)}.log"
        hub = HubProcess(database_url, departments, log, workers=workers, settings=settings)
        started.append(hub)
        await hub.started(workers if workers > 1 else 0)
        return hub

    try:
        yield start
    finally:
        for hub in started:
            await hub.stopped()


@dataclass
class Prepared:
    """A migrated database synced from the stand-ins, and the suite's callers."""

    database_url: str  # as the hub is given it (with its password)
    sessions: async_sessionmaker[AsyncSession]
    caseworker: dict[str, str]  # a city-wide civil-affairs caseworker managing cases
    charity: dict[str, str]  # a charity (``ORGANISATION``) matching aid
    households: list[str]
    consented: list[str]  # households that consented to share with the charity

    def load(self, url: str, *, writes: bool = True) -> Load:
        """Readers (and writers) of the hub at ``url`` as the suite's callers."""
        return Load(
            url,
            caseworker=self.caseworker,
            charity=self.charity,
            households=self.households,
            consented=self.consented if writes else [],
        )


@pytest.fixture
async def prepared(engine: AsyncEngine, healthy: StandIns, population: Population) -> Prepared:
    url = engine.url.render_as_string(hide_password=False)
    departments = {s.value: {"base_url": healthy.url(s)} for s in Source}
    report = await run_sync(Settings.model_validate({"database_url": url, **departments}))
    assert report.inserted == len(population.households)
    sessions = session_factory(engine)
    return Prepared(
        database_url=url,
        sessions=sessions,
        caseworker=await credentials(
            sessions,
            ClientKind.AGENCY,
            Purpose.CASE_MANAGEMENT,
            department=Source.CIVIL_AFFAIRS,
        ),
        charity=await credentials(
            sessions,
            ClientKind.CHARITY,
            Purpose.CHARITY_MATCHING,
            organisation_id=ORGANISATION,
        ),
        households=sorted(population.by_id),
        consented=sorted(population.by_id)[:8],
    )


CONSENT = """mutation Consent($input: RecordConsentInput!) {
  recordConsent(input: $input) { ... on ConsentPayload { consent { id } }
    ... on ConsentError { code message } } }"""


async def record_consents(url: str, prepared: Prepared) -> None:
    """The consents the charity writer needs, recorded through the hub as a caseworker."""
    expires = (today() + timedelta(days=30)).isoformat()
    async with aiohttp.ClientSession() as session:
        for household in prepared.consented:
            variables = {
                "input": {
                    "householdId": household,
                    "organisationId": ORGANISATION,
                    "purpose": "CHARITY_MATCHING",
                    "expiresOn": expires,
                }
            }
            async with session.post(
                f"{url}/graphql",
                json={"query": CONSENT, "variables": variables},
                headers=prepared.caseworker,
            ) as response:
                body = await response.json()
            assert body["data"]["recordConsent"]["consent"]["id"], body


Report = Callable[[str, dict[str, Any]], None]


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Report:
    """Keep a run's figures: printed (``-s``), and added to ``HUB_SOAK_REPORT`` if set."""

    def keep(name: str, figures: dict[str, Any]) -> None:
        line = {"run": name, "test": request.node.nodeid, **figures}
        print(json.dumps(line, ensure_ascii=False))
        target = os.environ.get("HUB_SOAK_REPORT")
        if target:
            with open(target, "a", encoding="utf-8") as out:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")

    return keep
