"""Fault injection for the stand-ins: latency, errors, 5xx, malformed and slow bodies, down.

Every stand-in app is wrapped in a ``FaultyApp``. Its ``faults`` can be set at start
(``hub sandbox --fault education:latency_ms=50``) and at run time (``PUT
/_sandbox/faults`` on the service, or on the control port for all of them). ``down`` is
carried out by whoever serves the app: the in-process transport refuses connections,
the server closes the department's listening socket.
"""

from __future__ import annotations

import asyncio
import json
import random
from dataclasses import asdict, dataclass, fields
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTROL_PREFIX = "/_sandbox/"


@dataclass
class Faults:
    """What to do to each request; all off by default."""

    latency_ms: float = 0.0  # added before answering
    latency_jitter_ms: float = 0.0  # plus a uniform random 0..jitter
    error_rate: float = 0.0  # share of requests answered 500
    status: int | None = None  # answer every request with this status (e.g. 503)
    malformed: bool = False  # answer 200 with a body that breaks the contract
    slow_body_ms: float = 0.0  # send the body in pieces spread over this long
    down: bool = False  # refuse connections

    def update(self, changes: dict[str, Any]) -> None:
        """Apply ``changes`` (field name to value), rejecting unknown fields and bad values."""
        known = {f.name: f for f in fields(self)}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(known)}")
            if name in ("malformed", "down"):
                value = value if isinstance(value, bool) else str(value).lower() == "true"
            elif name == "status":
                value = None if value in (None, "", "none") else int(value)
            else:
                value = float(value)
                if value < 0 or (name == "error_rate" and value > 1):
                    raise ValueError(f"{name} out of range: {value}")
            setattr(self, name, value)

    def reset(self) -> None:
        self.update(asdict(Faults()))


def parse_assignment(text: str) -> dict[str, str]:
    """``latency_ms=50,error_rate=0.1`` → {"latency_ms": "50", "error_rate": "0.1"}."""
    result = {}
    for part in filter(None, text.split(",")):
        name, _, value = part.partition("=")
        result[name.strip()] = value.strip() if value else "true"
    return result


class FaultyApp:
    """Wraps a stand-in: applies its faults and counts the calls it serves."""

    def __init__(self, app: ASGIApp, faults: Faults | None = None, *, seed: int = 0) -> None:
        self.app = app
        self.faults = faults or Faults()
        self.calls = 0
        self._random = random.Random(seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(CONTROL_PREFIX + "faults"):
            await self._control(scope, receive, send)
            return
        if path.startswith(CONTROL_PREFIX) or path in ("/health", "/openapi.json"):
            if path == "/health" and (self.faults.status or self.faults.down):
                await _send_json(send, self.faults.status or 503, {"status": "DOWN"})
                return
            await self.app(scope, receive, send)
            return
        self.calls += 1
        f = self.faults
        delay = f.latency_ms + (
            self._random.uniform(0, f.latency_jitter_ms) if f.latency_jitter_ms else 0
        )
        if delay:
            await asyncio.sleep(delay / 1000)
        if f.status is not None:
            await _send_json(send, f.status, {"error": {"code": "INJECTED", "message": "fault"}})
            return
        if f.error_rate and self._random.random() < f.error_rate:
            await _send_json(send, 500, {"error": {"code": "INJECTED", "message": "fault"}})
            return
        if f.malformed:
            await _send_raw(send, 200, b'{"truncated": [1, 2')
            return
        if f.slow_body_ms:
            await self.app(scope, receive, _slow(send, f.slow_body_ms / 1000))
            return
        await self.app(scope, receive, send)

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "PUT":
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            try:
                changes = json.loads(body or b"{}")
                if not isinstance(changes, dict):
                    raise ValueError("body must be a JSON object")
                if changes.pop("reset", False):
                    self.faults.reset()
                self.faults.update(changes)
            except ValueError as exc:
                await _send_json(send, 400, {"error": {"code": "BAD_REQUEST", "message": str(exc)}})
                return
        await _send_json(send, 200, {**asdict(self.faults), "calls": self.calls})


async def _send_json(send: Send, status: int, body: Any) -> None:
    await _send_raw(send, status, json.dumps(body).encode())


async def _send_raw(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _slow(send: Send, spread: float) -> Send:
    """A ``send`` that delivers the body in ten pieces spread over ``spread`` seconds."""

    async def slow_send(message: Message) -> None:
        if message["type"] != "http.response.body" or not message.get("body"):
            await send(message)
            return
        body: bytes = message["body"]
        more = message.get("more_body", False)
        step = max(1, len(body) // 10)
        pieces = [body[i : i + step] for i in range(0, len(body), step)]
        for i, piece in enumerate(pieces):
            await asyncio.sleep(spread / len(pieces))
            last = i == len(pieces) - 1
            await send({"type": "http.response.body", "body": piece, "more_body": more or not last})

    return slow_send
