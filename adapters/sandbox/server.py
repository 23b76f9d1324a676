"""Serve the stand-in departments on loopback, each on its own port, in one process.

A control service (port 8100 by default) sets faults at run time, including ``down``,
which closes a department's listening socket until it is set back, counts the calls
each department served (the benchmarks read it), and loads a scenario of hand-built
households into every stand-in (``PUT /scenario``) or unloads it (``DELETE /scenario``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.sandbox import (
    charity,
    civil_affairs,
    education,
    emergency_management,
    health_insurance,
    housing,
    human_resources,
)
from adapters.sandbox.faults import FaultyApp
from adapters.sandbox.loading import load_scenario, loaded_scenario, unload_scenario
from adapters.sandbox.population import Population, generate
from adapters.sandbox.scenario import Scenario, ScenarioError, parse_scenario
from adapters.sandbox.service import StandInApp, error, read_json_body
from adapters.vocabulary import Source

log = logging.getLogger(__name__)

SERVICES: dict[Source, Callable[[Population], StandInApp]] = {
    Source.CIVIL_AFFAIRS: civil_affairs.create_app,
    Source.HEALTH_INSURANCE: health_insurance.create_app,
    Source.EDUCATION: education.create_app,
    Source.HOUSING: housing.create_app,
    Source.HUMAN_RESOURCES: human_resources.create_app,
    Source.EMERGENCY_MANAGEMENT: emergency_management.create_app,
    Source.CHARITY: charity.create_app,
}
SERVED = tuple(SERVICES)


def build_apps(
    seed: int,
    size: int,
    *,
    only: Iterable[Source] | None = None,
    scenario: Scenario | None = None,
) -> dict[Source, FaultyApp]:
    """One app per stand-in department (or those in ``only``), over one population.

    The population is the synthetic one of ``size`` households (0: none) for ``seed``,
    with ``scenario``'s households laid over it: a scenario household replaces the
    synthetic one with its ID. Raises ``ScenarioError`` when a person of the scenario is
    a member of a synthetic household it does not replace.
    """
    population = generate(seed, size)
    wanted = set(only) if only is not None else set(SERVICES)
    apps = {
        source: FaultyApp(make(population), seed=seed)
        for source, make in SERVICES.items()
        if source in wanted
    }
    if scenario is not None:
        load_scenario(apps, scenario)
    return apps


def control_app(apps: Mapping[Source, FaultyApp]) -> Starlette:
    """Faults, call counts and the scenario of every stand-in, reachable even while one
    is down.

    ``PUT /scenario`` takes a scenario file (YAML or JSON) as the body and loads it into
    every stand-in instead of the one loaded before; it answers what is loaded and what
    civil affairs' change feed now reports (400 with every problem when the file is not
    valid). ``DELETE /scenario`` goes back to the synthetic population alone; ``GET
    /scenario`` lists the households loaded.
    """

    def _source(request: Request) -> Source | None:
        try:
            return Source[request.path_params["source"].upper()]
        except KeyError:
            return None

    async def all_faults(request: Request) -> JSONResponse:
        return JSONResponse(
            {s.name: {**asdict(a.faults), "calls": a.calls} for s, a in apps.items()}
        )

    async def set_faults(request: Request) -> JSONResponse:
        source = _source(request)
        if source is None or source not in apps:
            return error(404, "NOT_FOUND", "no such department")
        body = await read_json_body(request)
        if not isinstance(body, dict):
            return error(400, "BAD_REQUEST", "body must be a JSON object of faults")
        faults = apps[source].faults
        try:
            if body.pop("reset", False):
                faults.reset()
            faults.update(body)
        except ValueError as exc:
            return error(400, "BAD_REQUEST", str(exc))
        return JSONResponse(asdict(faults))

    async def stats(request: Request) -> JSONResponse:
        if request.method == "DELETE":
            for app in apps.values():
                app.calls = 0
        return JSONResponse({s.name: a.calls for s, a in apps.items()})

    async def scenario(request: Request) -> JSONResponse:
        if request.method == "GET":
            loaded = loaded_scenario(apps)
            households = [e.household.id for e in loaded.households] if loaded else []
            description = loaded.description if loaded else None
            return JSONResponse({"description": description, "households": households})
        if request.method == "DELETE":
            return JSONResponse(unload_scenario(apps).to_json())
        try:
            summary = load_scenario(apps, parse_scenario(await request.body()))
        except ScenarioError as exc:
            body = {"code": "BAD_SCENARIO", "message": str(exc), "details": list(exc.errors)}
            return JSONResponse({"error": body}, status_code=400)
        return JSONResponse(summary.to_json())

    return Starlette(
        routes=[
            Route("/faults", all_faults, methods=["GET"]),
            Route("/faults/{source}", set_faults, methods=["PUT"]),
            Route("/stats", stats, methods=["GET", "DELETE"]),
            Route("/scenario", scenario, methods=["GET", "PUT", "DELETE"]),
        ]
    )


async def _supervise(app: FaultyApp, host: str, port: int, log_level: str) -> None:
    """Keep the department served while it is not ``down``; close its socket while it is."""
    server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = None
    try:
        while True:
            if app.faults.down and server is not None and task is not None:
                server.should_exit = True
                await task
                server = task = None
            elif not app.faults.down and server is None:
                config = uvicorn.Config(
                    app, host=host, port=port, log_level=log_level, access_log=False, lifespan="off"
                )
                server = uvicorn.Server(config)
                task = asyncio.create_task(server.serve())
            await asyncio.sleep(0.1)
    finally:
        if server is not None and task is not None:
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def serve(
    apps: Mapping[Source, FaultyApp],
    ports: Mapping[Source, int],
    *,
    control_port: int | None,
    host: str = "127.0.0.1",
    log_level: str = "warning",
) -> None:
    """Serve ``apps`` until cancelled; ``control_port`` None serves no control service."""
    services = [_supervise(app, host, ports[source], log_level) for source, app in apps.items()]
    if control_port is not None:
        control = uvicorn.Server(
            uvicorn.Config(
                control_app(apps),
                host=host,
                port=control_port,
                log_level=log_level,
                access_log=False,
                lifespan="off",
            )
        )
        services.append(control.serve())
    await asyncio.gather(*services)
