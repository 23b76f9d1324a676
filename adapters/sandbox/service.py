"""What every stand-in department service shares: error bodies, JSON input, OpenAPI, health,
and the app that serves a population with a scenario laid over it."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from adapters.sandbox.population import Population
from adapters.sandbox.store import FeedChanges, KeyedStore, replaced_members

if TYPE_CHECKING:
    from adapters.sandbox.scenario import Scenario

V = TypeVar("V")


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


async def read_json_body(request: Request) -> Any:
    """The request's JSON body, or None when it is missing or not JSON."""
    try:
        return json.loads(await request.body())
    except ValueError:
        return None


def load_openapi(name: str) -> dict[str, Any]:
    """The OpenAPI document shipped as ``openapi/<name>.json`` beside these modules."""
    path = resources.files("adapters.sandbox") / "openapi" / f"{name}.json"
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict):
        raise TypeError(f"openapi/{name}.json does not hold a JSON object")
    return document


def openapi_route(document: dict[str, Any]) -> Route:
    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse(document)

    return Route("/openapi.json", openapi, methods=["GET"])


def health_route() -> Route:
    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "UP"})

    return Route("/health", health, methods=["GET"])


class StandInApp(Starlette):
    """A stand-in department's app over one population, and how it serves a scenario.

    ``with_scenario`` gives the app to serve from then on: the population with the
    scenario's households laid over it (``None``: the population alone). Most stand-ins
    give a new app over the same precomputed answers, so an app shared by several
    ``FaultyApp`` wrappers is never changed under another; civil affairs changes itself,
    since its change feed must report what the scenario changed.
    """

    def __init__(
        self,
        routes: Sequence[BaseRoute],
        *,
        population: Population,
        load: Callable[[Scenario | None], StandInApp],
        scenario: Scenario | None = None,
    ) -> None:
        super().__init__(routes=list(routes))
        self.population = population
        self.scenario = scenario
        self.feed_changes: FeedChanges | None = None  # civil affairs: what the last load did
        self._load = load

    def with_scenario(self, scenario: Scenario | None) -> StandInApp:
        return self._load(scenario)


def keyed_stand_in(
    population: Population,
    base: Mapping[str, V],
    entries: Callable[[Scenario], Mapping[str, V]],
    routes: Callable[[KeyedStore[V]], Sequence[BaseRoute]],
) -> StandInApp:
    """A stand-in answering from precomputed answers by ID number.

    ``base`` holds the population's answers, ``entries`` makes a scenario's and
    ``routes`` serves a store of them; a scenario hides the answers about the members
    of the households it replaces and adds its own.
    """

    def serve(store: KeyedStore[V], scenario: Scenario | None) -> StandInApp:
        def load(new: Scenario | None) -> StandInApp:
            if new is None:
                return serve(store.alone(), None)
            return serve(store.over(replaced_members(population, new), entries(new)), new)

        return StandInApp(routes(store), population=population, load=load, scenario=scenario)

    return serve(KeyedStore(base), None)
