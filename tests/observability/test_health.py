"""/healthz and /readyz, as a load balancer or an orchestrator reads them."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, text

from adapters.vocabulary import Source
from hub.db import migrate
from hub.db.models import AuditEntry
from hub.db.session import create_engine, session_factory
from tests.conftest import faults

WHOLE = """
{ households(first: 2) { edges { node {
  civilAffairs { address } medical { totalOutOfPocket } education { difficulty }
  housing { dwellings { tenure } } employment { zeroEmployment }
  disaster { impacts { damageLevel } } charity { totalAmount }
} } } }
"""


async def test_healthz_says_the_process_answers(hub_client):
    response = await hub_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_a_hub_at_head_with_its_departments_is_ready_and_writes_nothing(
    hub_client, hub_sessions
):
    async with hub_sessions() as session:
        before = await session.scalar(select(func.count()).select_from(AuditEntry))

    response = await hub_client.get("/readyz")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["reasons"] == []
    assert body["database"] == body["audit"] == "ok"
    assert body["migrations"]["current"] == body["migrations"]["head"] == migrate.head()
    assert body["departmentsDown"] == []
    assert set(body["departments"]) == {source.value for source in Source}
    assert response.headers["cache-control"] == "no-store"
    # The trial append was rolled back: the chain is as it was.
    async with hub_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == before


async def test_one_department_down_is_still_ready(hub_client, gql, transport):
    faults(transport, Source.CHARITY).status = 503
    await gql(WHOLE)

    response = await hub_client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["departmentsDown"] == ["charity"]
    assert body["departments"]["charity"]["last"] == "SOURCE_UNAVAILABLE"
    assert body["departments"]["education"]["last"] == "ok"


async def test_every_department_down_is_unready_until_one_comes_back(hub_client, gql, transport):
    for source in Source:
        faults(transport, source).status = 503
    await gql(WHOLE)

    down = await hub_client.get("/readyz")

    assert down.status_code == 503
    assert down.json()["reasons"] == ["every department is down"]
    assert sorted(down.json()["departmentsDown"]) == sorted(s.value for s in Source)

    # Nothing sends the hub traffic while it is unready: it asks the departments itself.
    faults(transport, Source.HOUSING).status = None
    back = await hub_client.get("/readyz")
    assert back.status_code == 200
    assert back.json()["departments"]["housing"]["probe"] == "UP"
    assert "housing" not in back.json()["departmentsDown"]


async def test_a_database_behind_the_code_is_unready(hub_client, hub_app):
    async with hub_app.state.resources.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))

    response = await hub_client.get("/readyz")

    assert response.status_code == 503
    (reason,) = response.json()["reasons"]
    assert "at migration 0001" in reason
    assert "run `hub db upgrade`" in reason


async def test_a_database_that_does_not_answer_is_unready(hub_client, hub_app, tmp_path):
    resources = hub_app.state.resources
    engine, sessions = resources.engine, resources.sessions
    # A database file in a directory that does not exist cannot be opened.
    gone = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gone' / 'hub.db'}")
    resources.engine, resources.sessions = gone, session_factory(gone)
    try:
        response = await hub_client.get("/readyz")
    finally:
        resources.engine, resources.sessions = engine, sessions
        await gone.dispose()

    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "unavailable"
    assert body["reasons"] == ["the database does not answer"]


async def test_probes_that_arrive_together_share_one_check(hub_client, hub_app, monkeypatch):
    from hub.observability import health

    checks = 0
    real = health.readiness

    async def counted(resources):
        nonlocal checks
        checks += 1
        await asyncio.sleep(0.05)
        return await real(resources)

    monkeypatch.setattr(health, "readiness", counted)
    answers = await asyncio.gather(*(hub_client.get("/readyz") for _ in range(8)))
    assert [a.status_code for a in answers] == [200] * 8
    assert checks == 1
