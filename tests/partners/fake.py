"""A partner region as a test drives it, token by token: registered with a hub, signing
tokens with a key of its own, running documents through the hub's partner API."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import OKPKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from hub.auth.clients import issue_token
from hub.partners import documents, registry, tokens


@dataclass
class FakePartner:
    """A partner region registered with a hub, whose tokens a test writes by hand."""

    region: str
    key: OKPKey
    client: httpx.AsyncClient
    client_id: str
    sessions: async_sessionmaker[AsyncSession]
    audience: str = "SH"
    registered: dict[str, str] = field(default_factory=dict)  # document → its ID

    def token(
        self,
        *,
        key: OKPKey | None = None,
        lifetime: int = 60,
        issued_ago: int = 0,
        **claims: Any,
    ) -> str:
        now = int(time.time()) - issued_ago
        body = {
            "iss": self.region,
            "aud": self.audience,
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        signer = key or self.key
        header = {"alg": "EdDSA", "kid": signer.kid, "typ": "JWT"}
        with tokens.eddsa():
            return jwt.encode(header, body, signer, algorithms=["EdDSA"])

    async def post(self, body: dict[str, Any], token: str | None = None) -> httpx.Response:
        return await self.client.post(
            "/partner/graphql",
            content=json.dumps(body),
            headers={
                "Authorization": f"Bearer {token or self.token()}",
                "Content-Type": "application/json",
            },
        )

    async def __call__(self, query: str, **variables: Any) -> dict[str, Any]:
        """Run ``query`` as a trusted document of this partner (registered at its first
        use), as ``tests.hubclient.GraphQL`` runs one on /graphql."""
        document_id = self.registered.get(query)
        if document_id is None:
            document_id = await documents.add(self.sessions, query, partner=self.region)
            self.registered[query] = document_id
        response = await self.post({"documentId": document_id, "variables": variables})
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def new_key(kid: str) -> OKPKey:
    return OKPKey.generate_key("Ed25519", parameters={"kid": kid})


async def fake_partner(
    hub_app: Starlette, client: httpx.AsyncClient, *, region: str = "JS"
) -> FakePartner:
    """``region`` registered as a partner of the hub app, holding one key of its own."""
    sessions: async_sessionmaker[AsyncSession] = hub_app.state.resources.sessions
    key = new_key(f"{region.lower()}-1")
    row = await registry.add(
        sessions,
        name=f"partner-{region.lower()}",
        region=region,
        url=f"http://hub-{region.lower()}",
    )
    await registry.add_keys(sessions, region, key.as_dict(private=False))
    return FakePartner(region, key, client, row.client_id, sessions)


async def bearer_for(sessions: async_sessionmaker[AsyncSession], client_id: str) -> str:
    """A hub bearer token for a client (as ``hub tokens issue`` gives one)."""
    issued = await issue_token(sessions, client_id, ttl=timedelta(days=1))
    return issued.secret
