"""Serve the stand-in departments on loopback, each on its own port, in one process."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import uvicorn
from starlette.applications import Starlette

from adapters.sandbox import civil_affairs
from adapters.sandbox.population import generate
from adapters.vocabulary import Source

SERVED = (Source.CIVIL_AFFAIRS,)


def build_apps(seed: int, size: int) -> dict[Source, Starlette]:
    """One app per stand-in department, all over the same population."""
    population = generate(seed, size)
    return {Source.CIVIL_AFFAIRS: civil_affairs.create_app(population)}


async def serve(apps: Mapping[Source, Starlette], ports: Mapping[Source, int],
                host: str = "127.0.0.1", log_level: str = "warning") -> None:  # fmt: skip
    servers = [
        uvicorn.Server(
            uvicorn.Config(
                app,
                host=host,
                port=ports[source],
                log_level=log_level,
                access_log=False,
                lifespan="off",
            )
        )
        for source, app in apps.items()
    ]
    await asyncio.gather(*(server.serve() for server in servers))
