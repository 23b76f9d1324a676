"""Every department hurt in every way a department fails, one at a time, under a listing
of households with every section: the answer is partial and labelled.

Seven departments times five faults (down, slow beyond the timeout, 5xx, a malformed body,
a body that dribbles out past the timeout). For each, over the batched path (a page of
households, one call per department): HTTP 200; the hurt department's section null on
every household, with an error at its path naming the department and the fault's code,
and ``sources`` saying so; every other section there; the answer in the time the hub
gives the department, not in the time the fault takes; the audit entry naming only the
sections actually shown; and, the departments healed, the next answer whole.

In-process (the stand-ins behind ``httpx`` transports), so that all 35 run in seconds.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.sandbox.transport import InProcessTransport
from adapters.vocabulary import Source
from hub.db.models import AuditEntry
from hub.settings import Settings
from tests.conftest import faults, make_settings
from tests.reliability.load import SECTIONS, WHOLE, violations
from tests.reliability.load import Answer as Seen

pytestmark = pytest.mark.soak

TIMEOUT = 0.2  # what the hub gives a department in this test
SLOW_MS = 3000  # what the slow faults take: far beyond the timeout
FAULTS: dict[str, tuple[dict[str, Any], str]] = {
    "down": ({"down": True}, "SOURCE_UNAVAILABLE"),
    "slow": ({"latency_ms": SLOW_MS}, "SOURCE_TIMEOUT"),
    "5xx": ({"status": 503}, "SOURCE_UNAVAILABLE"),
    "malformed": ({"malformed": True}, "SOURCE_BAD_DATA"),
    "slow body": ({"slow_body_ms": SLOW_MS}, "SOURCE_TIMEOUT"),
}
PAGE = 10
LISTING = f"query Page {{ households(first: {PAGE}) {{ edges {{ node {{ {WHOLE} }} }} }} }}"
SECTION_OF = {source: name for name, source in SECTIONS.items()}


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """About departments, not the database: SQLite is enough."""
    return f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}"


@pytest.fixture
def settings(database_url: str) -> Settings:
    """No retry: a retry asks the same hurt stand-in again, doubling the matrix's time
    and proving nothing more about the labels (the retries have tests of their own)."""
    return make_settings(database_url, timeout=TIMEOUT, retries=0)


async def ask(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> tuple[httpx.Response, dict[str, Any], float]:
    started = time.monotonic()
    response = await client.post("/graphql", json={"query": LISTING}, headers=headers)
    return response, response.json(), time.monotonic() - started


async def audited_sections(sessions: async_sessionmaker[AsyncSession], request_id: str) -> set[str]:
    async with sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.request_id == request_id))
    assert entry is not None, f"request {request_id} is not audited"
    return set(json.loads(entry.sections))


@pytest.mark.parametrize("fault", FAULTS)
async def test_every_department_failing_each_way_gives_a_labelled_partial_answer(
    hub_client: httpx.AsyncClient,
    caseworker: dict[str, str],
    transport: InProcessTransport,
    hub_sessions: async_sessionmaker[AsyncSession],
    fault: str,
):
    injected, code = FAULTS[fault]
    first, whole, _ = await ask(hub_client, caseworker)
    assert "errors" not in whole
    all_sections = await audited_sections(hub_sessions, first.headers["x-request-id"])
    for source in Source:
        faults(transport, source).update(injected)
        response, body, seconds = await ask(hub_client, caseworker)
        faults(transport, source).reset()
        where = f"{source.name} {fault}"

        assert response.status_code == 200, where
        seen = Seen("listing", 0.0, seconds, 200, (), response.headers["x-request-id"], body)
        assert violations(seen) == [], where
        failed = {SECTION_OF[source]} | ({"members"} if source is Source.CIVIL_AFFAIRS else set())
        nodes = [edge["node"] for edge in body["data"]["households"]["edges"]]
        assert len(nodes) == PAGE, where
        for node in nodes:
            assert {name for name in (*SECTIONS, "members") if node[name] is None} == failed
            states = {s["source"]: (s["state"], s["errorCode"]) for s in node["sources"]}
            assert states.pop(source.name) == ("UNAVAILABLE", code), where
            assert set(states.values()) == {("OK", None)}, where
        assert {e["extensions"]["code"] for e in body["errors"]} == {code}, where
        assert {e["extensions"]["source"] for e in body["errors"]} == {source.name}, where
        assert len(body["errors"]) == PAGE * len(failed), where
        # The hub gave up on the department in its own time, not the fault's.
        assert seconds < SLOW_MS / 1000 - 0.5, f"{where}: {seconds:.2f} s"
        # What the audit entry says was shown is what was shown.
        shown = await audited_sections(hub_sessions, response.headers["x-request-id"])
        assert shown == all_sections - failed, where
    # Each department, healed, answers again at once (one failure opens no breaker).
    _, healed, _ = await ask(hub_client, caseworker)
    assert "errors" not in healed
