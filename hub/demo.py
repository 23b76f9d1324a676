"""``make run``: the stand-ins, a migrated SQLite index of a demo population, and the hub.

The stand-ins run as a child process, so that the hub talks to them over real HTTP as it
would to the departments; Ctrl-C stops the hub and then the child.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import httpx
import uvicorn

from adapters import sandbox as sandbox_package
from adapters.sandbox.server import SERVED
from hub.db import migrate
from hub.db.session import create_engine
from hub.demo_access import DemoAccess, prepare
from hub.jobs import run_sync
from hub.resources import Resources
from hub.runtime import tune_gc
from hub.settings import SANDBOX_PORTS, Settings

EXAMPLE = """{ households(first: 3) { totalCount edges { node { id district members { idNumber age }
  civilAffairs { enrollments { category since } } } } } }"""
WHOLE = """{ household(id: "%s") { id district street members { idNumber name age }
  civilAffairs { address enrollments { category status monthlyAmount } }
  medical { seriousIllness totalOutOfPocket } education { difficulty students { stage } }
  housing { dwellings { tenure } } employment { zeroEmployment members { status } }
  disaster { impacts { damageLevel } } charity { totalAmount aid { organisationName amount } }
  sources { source state } } }"""
ALERTS = """{ alerts(filter: { state: OPEN }, first: 5) { edges { node { id rule
  household { id street } evidence { department summary } } } } }"""
REFER = """mutation { referHousehold(input: { householdId: "%s", toDepartment: HUMAN_RESOURCES,
  reason: "零就业家庭: 请协助就业援助" }) { ... on ReferralPayload { referral { id state version } }
  ... on ReferralError { code message } } }"""
INCOMING = """{ referrals(direction: INCOMING, first: 5) { edges { node { id householdId reason
  state version history { at department fromState toState note } } } } }"""
DISCLOSURES = """{ disclosures(householdId: "%s") { at clientName clientKind purpose operation
  sections outcome } }"""


def wait_healthy(ports: list[int], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    pending = list(ports)
    while pending:
        port = pending[0]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0).status_code == 200:
                pending.pop(0)
                continue
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise click.ClickException(f"stand-in on port {port} did not start")
        time.sleep(0.2)


async def _prepare(settings: Settings) -> DemoAccess:
    engine = create_engine(settings.database_url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    report = await run_sync(settings)
    click.echo(
        f"synced the index: {report.inserted} new, {report.updated} updated, "
        f"{report.removed} removed, {report.unchanged} unchanged"
    )
    resources = Resources.open(settings)
    try:
        return await prepare(resources)
    finally:
        await resources.aclose()


def _curl(url: str, token: str, purpose: str, query: str) -> str:
    body = json.dumps({"query": " ".join(query.split())}, ensure_ascii=False)
    return (
        f"curl -s {url} -H 'Content-Type: application/json' "
        f"-H 'Authorization: Bearer {token}' -H 'X-Purpose: {purpose}' -d '{body}'"
    )


def _explain(url: str, demo: DemoAccess) -> str:
    whole = WHOLE % demo.consented_household
    base = url.removesuffix("/graphql")
    metrics = f"curl -s {base}/metrics -H 'Authorization: Bearer {demo.operator_token}'"
    return f"""
The hub serves {url} (GraphiQL in a browser; add the headers below in its Headers tab).

Demo tokens (valid 7 days; new ones on every start):
  caseworker (civil affairs, whole city): {demo.caseworker_token}
  charity ({demo.charity_name}):          {demo.charity_token}
  auditor:                                {demo.auditor_token}
  human resources (referrals):            {demo.human_resources_token}
  operator (metrics):                     {demo.operator_token}

A caseworker lists households and sees one whole:
{_curl(url, demo.caseworker_token, "CASE_MANAGEMENT", EXAMPLE)}
{_curl(url, demo.caseworker_token, "CASE_MANAGEMENT", whole)}

The charity sees {demo.consented_household} (it consented), masked and summarised:
{_curl(url, demo.charity_token, "CHARITY_MATCHING", whole)}
and {demo.unconsented_household} (no consent) exactly as if it did not exist:
{_curl(url, demo.charity_token, "CHARITY_MATCHING", WHOLE % demo.unconsented_household)}

The auditor sees who saw {demo.consented_household}, and why:
{_curl(url, demo.auditor_token, "AUDIT", DISCLOSURES % demo.consented_household)}

Stop one department to see the others carry on (its section null, an error naming it):
  curl -X PUT http://127.0.0.1:8100/faults/charity -d '{{"down": true}}'
  curl -X PUT http://127.0.0.1:8100/faults/charity -d '{{"down": false}}'
and watch its calls, errors and breaker (0 closed, 2 open) as an operator sees them:
  {metrics} | grep -E '^hub_department_(breaker_state|errors_total)'
Is the hub ready (database, migrations, audit log, departments)?
  curl -s {base}/readyz

Check the audit log's hash chain with: .venv/bin/hub audit verify
Look for households in need (主动发现), then list the alerts as the caseworker:
  .venv/bin/hub discover
{_curl(url, demo.caseworker_token, "CASE_MANAGEMENT", ALERTS)}

Refer a household to human resources, and see it arrive there (accept it with
respondToReferral, close it with completeReferral; README: the work between departments):
{_curl(url, demo.caseworker_token, "CASE_MANAGEMENT", REFER % demo.consented_household)}
{_curl(url, demo.human_resources_token, "CASE_MANAGEMENT", INCOMING)}
"""


# The demo's hand-built households, beside the synthetic ones, unless a scenario is given.
DEMO_SCENARIO = Path(sandbox_package.__file__).resolve().parent / "scenarios" / "demo.yaml"


def exit_on_sigterm() -> None:
    """SIGTERM (``timeout``, a service manager) unwinds as ``SystemExit``. uvicorn shuts
    down on it and then raises it again; with the default action the process would end
    right there, skipping the clean-up that stops the stand-ins' process."""
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))


def run(settings: Settings, *, scenario: Path | None = None) -> int:
    from hub.app import create_app

    click.echo(f"starting the stand-in departments ({settings.sandbox_size} households)…")
    extra = ["--scenario", str(scenario or DEMO_SCENARIO)]
    child = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
        [
            sys.executable,
            "-m",
            "hub.cli",
            "sandbox",
            "--seed",
            str(settings.sandbox_seed),
            "--size",
            str(settings.sandbox_size),
            *extra,
        ]
    )
    try:
        wait_healthy([SANDBOX_PORTS[source] for source in SERVED])
        demo = asyncio.run(_prepare(settings))
        click.echo(_explain(f"http://{settings.host}:{settings.port}/graphql", demo))
        app = create_app(settings)
        tune_gc()
        exit_on_sigterm()
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
        )
    finally:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    return 0
