"""What every stand-in department service shares: error bodies, JSON input, OpenAPI, health."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


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
