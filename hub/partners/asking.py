"""This hub asking partner hubs: one client per partner region, kept while the hub runs.

The partners asked are those registered with a URL (``hub partners add ... --url``) and
enabled. Each call carries a token of this hub (``tokens.issue``, audience the partner's)
and each answer must be signed by one of the partner's registered keys, or nothing of it
is used. Breakers and last answers are kept per region for the life of the process.
"""

from __future__ import annotations

import asyncio
import binascii
import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.partner import (
    CallPolicy,
    CrossRegionRecord,
    PartnerAnswer,
    PartnerError,
    PartnerHubClient,
    PartnerSignatureInvalid,
)
from adapters.resilience import CircuitBreaker
from hub.partners import registry, signature, tokens
from hub.partners.registry import PartnerHub
from hub.settings import Settings
from hub.signing import KeyRing, b64url, unb64url

LIST_TTL = 10.0  # seconds the list of partners is reused


class PartnerHubs:
    """Clients to the partner hubs, by region."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        signing: KeyRing,
        http: httpx.AsyncClient,
    ) -> None:
        calls = settings.partner_calls
        self._policy = CallPolicy(
            timeout=calls.timeout,
            retries=calls.retries,
            backoff=calls.backoff,
            breaker_failures=calls.breaker_failures,
            breaker_reset=calls.breaker_reset,
            stale_ttl=calls.stale_ttl,
        )
        self._region = settings.region
        self._sessions = sessions
        self._signing = signing
        self._http = http
        self._breakers: dict[str, CircuitBreaker] = {}
        self._caches: dict[str, dict[str, tuple[CrossRegionRecord, float]]] = {}
        self._listed: tuple[float, list[PartnerHub]] | None = None

    async def partners(self) -> list[PartnerHub]:
        """The partner hubs this hub asks, read again after ``LIST_TTL`` seconds."""
        if self._listed is None or time.monotonic() - self._listed[0] > LIST_TTL:
            self._listed = (time.monotonic(), await registry.by_regions(self._sessions))
        return self._listed[1]

    def forget(self) -> None:
        """Read the partners again at the next use (after a change in this process)."""
        self._listed = None

    def client(self, partner: PartnerHub) -> PartnerHubClient:
        assert partner.url is not None
        region = partner.region
        breaker = self._breakers.setdefault(
            region,
            CircuitBreaker(
                failures=self._policy.breaker_failures, reset=self._policy.breaker_reset
            ),
        )

        async def authorize() -> str:
            ring = await self._signing.current()
            return tokens.issue(ring, issuer=self._region, audience=partner.audience)

        async def verify(body: bytes, header: str | None) -> None:
            await self._verify(region, body, header)

        return PartnerHubClient(
            region,
            partner.url,
            self._http,
            authorize=authorize,
            verify=verify,
            policy=self._policy,
            breaker=breaker,
            cache=self._caches.setdefault(region, {}),
        )

    async def _verify(self, region: str, body: bytes, header: str | None) -> None:
        kid = _kid(header)
        partner = await registry.partner_hub(
            self._sessions, region, http=self._http, wanted_kid=kid
        )
        keys = partner.keys if partner is not None else {}
        jwks: dict[str, Any] = {
            "keys": [
                {"kty": "OKP", "crv": "Ed25519", "kid": k, "x": b64url(_raw(v))}
                for k, v in keys.items()
            ]
        }
        try:
            signature.verify(body, header, jwks)
        except signature.SignatureInvalid as exc:
            raise PartnerSignatureInvalid(region, str(exc)) from None

    async def status(
        self, id_numbers: Sequence[str]
    ) -> list[tuple[PartnerHub, PartnerAnswer | PartnerError]]:
        """Every partner's answer about these people, asked side by side."""
        partners = await self.partners()
        if not partners or not id_numbers:
            return [(p, PartnerAnswer(p.region, {}, _now(), 0.0)) for p in partners]
        answers = await asyncio.gather(
            *(self.client(p).status(id_numbers) for p in partners), return_exceptions=True
        )
        result: list[tuple[PartnerHub, PartnerAnswer | PartnerError]] = []
        for partner, answer in zip(partners, answers, strict=True):
            if isinstance(answer, BaseException) and not isinstance(answer, PartnerError):
                raise answer
            result.append((partner, answer))
        return result


def _kid(header: str | None) -> str | None:
    """The key ID a detached signature names (unverified: only to find the key)."""
    try:
        found = json.loads(unb64url((header or "").split(".")[0]))
    except (ValueError, binascii.Error):
        return None
    kid = found.get("kid") if isinstance(found, dict) else None
    return kid if isinstance(kid, str) else None


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _now() -> datetime:
    return datetime.now(UTC)
