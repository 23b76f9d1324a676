"""``make run``: the stand-ins, a migrated SQLite index of a demo population, and the hub.

The stand-ins run as a child process, so that the hub talks to them over real HTTP as it
would to the departments; Ctrl-C stops the hub and then the child.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import click
import httpx
import uvicorn

from adapters.sandbox.server import SERVED
from hub.db import migrate
from hub.db.session import create_engine
from hub.jobs import run_sync
from hub.settings import SANDBOX_PORTS, Settings

EXAMPLE = """\
{ households(first: 3) { totalCount edges { node { id district members { idNumber age }
  civilAffairs { enrollments { category since } } } } } }"""


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


async def _prepare(settings: Settings) -> None:
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


def run(settings: Settings) -> int:
    from hub.app import create_app

    click.echo(f"starting the stand-in departments ({settings.sandbox_size} households)…")
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
        ]
    )
    try:
        wait_healthy([SANDBOX_PORTS[source] for source in SERVED])
        asyncio.run(_prepare(settings))
        url = f"http://{settings.host}:{settings.port}/graphql"
        query = EXAMPLE.replace("\n", " ")
        click.echo(
            f"\nThe hub serves {url} (GraphiQL in a browser).\nTry:\n\n"
            f"curl -s {url} -H 'Content-Type: application/json' "
            f'-d \'{{"query": "{query}"}}\'\n'
        )
        uvicorn.run(
            create_app(settings),
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
