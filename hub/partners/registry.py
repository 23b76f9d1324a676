"""Partner regions and their public keys: added, listed, rotated, fetched.

A partner is a hub client of kind PARTNER with a region code (its tokens' ``iss``), the
URL of its own hub's partner API (for this hub to ask it), and its Ed25519 public keys by
key ID. Keys are exchanged as JSON Web Keys: ``hub partners keys add JS jwks.json`` reads
the partner's published key set (as this hub publishes its own at
``/.well-known/jwks.json``); several keys are held at once, so that a partner rotating
its key is never refused meanwhile. A partner registered with ``--jwks-url`` has its key
set fetched and kept in the database, read again every ``JWKS_TTL`` and whenever a token
names a key not yet known (at most once per ``JWKS_RETRY``).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.auth import clients
from hub.auth.principal import ClientKind
from hub.db.models import Client
from hub.db.partners import Partner, PartnerKey

log = logging.getLogger(__name__)

REGION = re.compile(r"[A-Z]{2,8}")
KID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
JWKS_TTL = timedelta(minutes=5)
JWKS_RETRY = timedelta(seconds=30)
MANUAL, JWKS = "MANUAL", "JWKS"


class PartnerError(ValueError):
    """A partner request that cannot be carried out, with a message for the operator."""


@dataclass(frozen=True)
class PartnerHub:
    """A partner as this hub knows it."""

    client_id: str
    name: str
    region: str
    enabled: bool
    url: str | None
    audience: str  # the `aud` its hub expects (default: its region)
    jwks_url: str | None
    keys: Mapping[str, Ed25519PublicKey]


def region_code(value: str) -> str:
    code = value.strip().upper()
    if not REGION.fullmatch(code):
        raise PartnerError(f"{value!r} is not a region code (2-8 capital letters, e.g. JS)")
    return code


def _now() -> datetime:
    return datetime.now(UTC)


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_key(x: str) -> Ed25519PublicKey:
    """An Ed25519 public key from its JWK ``x`` (32 bytes, base64url)."""
    try:
        raw = _unb64(x)
    except (binascii.Error, ValueError):
        raise PartnerError("the key's 'x' is not base64url") from None
    if len(raw) != 32:
        raise PartnerError("the key's 'x' is not 32 bytes: not an Ed25519 public key")
    return Ed25519PublicKey.from_public_bytes(raw)


def read_jwks(document: Any) -> dict[str, str]:
    """kid → x of every Ed25519 key in a JWK or a JWK Set; a clear error for anything else."""
    items = document.get("keys") if isinstance(document, dict) and "keys" in document else None
    if items is None:
        items = [document]
    if not isinstance(items, list) or not items:
        raise PartnerError("expected a JSON Web Key or a key set {'keys': [...]}")
    found: dict[str, str] = {}
    for i, item in enumerate(items):
        where = f"key {i + 1}"
        if not isinstance(item, dict):
            raise PartnerError(f"{where} is not a JSON object")
        if "d" in item:
            raise PartnerError(f"{where} holds a private key: exchange only public keys")
        if item.get("kty") != "OKP" or item.get("crv") != "Ed25519":
            raise PartnerError(f"{where} is not an Ed25519 key (kty OKP, crv Ed25519)")
        kid, x = item.get("kid"), item.get("x")
        if not isinstance(kid, str) or not KID.fullmatch(kid):
            raise PartnerError(f"{where} has no usable 'kid' (1-128 of A-Z a-z 0-9 . _ : -)")
        if not isinstance(x, str):
            raise PartnerError(f"{where} has no 'x'")
        public_key(x)  # checks it
        found[kid] = x
    return found


async def add(
    sessions: async_sessionmaker[AsyncSession],
    *,
    name: str,
    region: str,
    url: str | None = None,
    audience: str | None = None,
    jwks_url: str | None = None,
) -> Partner:
    """Register a partner region: a PARTNER client and its partner record."""
    code = region_code(region)
    _check_urls(url, jwks_url)
    async with sessions() as session:
        if await session.scalar(select(Partner.client_id).where(Partner.region == code)):
            raise PartnerError(f"a partner for region {code} exists already")
    try:
        client = await clients.add_client(sessions, name=name, kind=ClientKind.PARTNER)
    except clients.ClientError as exc:
        raise PartnerError(str(exc)) from None
    row = Partner(
        client_id=client.id,
        region=code,
        url=url.rstrip("/") if url else None,
        audience=audience,
        jwks_url=jwks_url,
        jwks_fetched_at=None,
        created_at=_now(),
    )
    async with sessions.begin() as session:
        session.add(row)
    return row


def _check_urls(url: str | None, jwks_url: str | None) -> None:
    for given, what in ((url, "--url"), (jwks_url, "--jwks-url")):
        if given is not None and not given.startswith(("https://", "http://")):
            raise PartnerError(f"{what} must be an http(s) URL")


async def change(
    sessions: async_sessionmaker[AsyncSession],
    region: str,
    *,
    url: str | None = None,
    audience: str | None = None,
    jwks_url: str | None = None,
) -> Partner:
    """Change where this hub reaches a partner (its hub, the ``aud`` it expects, its key set);
    what is not given stays. A new key set is fetched on next need."""
    _check_urls(url, jwks_url)
    async with sessions.begin() as session:
        partner = await _partner(session, region)
        if url is not None:
            partner.url = url.rstrip("/")
        if audience is not None:
            partner.audience = audience
        if jwks_url is not None and jwks_url != partner.jwks_url:
            partner.jwks_url = jwks_url
            partner.jwks_fetched_at = None
    return partner


async def listing(sessions: async_sessionmaker[AsyncSession]) -> list[PartnerHub]:
    async with sessions() as session:
        rows = (
            await session.execute(select(Partner, Client).join(Client).order_by(Partner.region))
        ).all()
        keys = (await session.scalars(select(PartnerKey).order_by(PartnerKey.added_at))).all()
    by_client: dict[str, dict[str, Ed25519PublicKey]] = {}
    for key in keys:
        by_client.setdefault(key.client_id, {})[key.kid] = public_key(key.public_key)
    return [_hub(p, c, by_client.get(p.client_id, {})) for p, c in rows]


def _hub(partner: Partner, client: Client, keys: Mapping[str, Ed25519PublicKey]) -> PartnerHub:
    return PartnerHub(
        client_id=partner.client_id,
        name=client.name,
        region=partner.region,
        enabled=client.enabled,
        url=partner.url,
        audience=partner.audience or partner.region,
        jwks_url=partner.jwks_url,
        keys=dict(keys),
    )


async def find(session: AsyncSession, region: str) -> tuple[Partner, Client] | None:
    found = (
        await session.execute(select(Partner, Client).join(Client).where(Partner.region == region))
    ).first()
    return (found[0], found[1]) if found is not None else None


async def _partner(session: AsyncSession, region: str) -> Partner:
    found = await find(session, region_code(region))
    if found is None:
        raise PartnerError(f"no partner for region {region!r} (see hub partners list)")
    return found[0]


async def add_keys(
    sessions: async_sessionmaker[AsyncSession],
    region: str,
    document: Any,
    *,
    only: str | None = None,
) -> list[str]:
    """Add a partner's public keys from a JWK or key set (only the key ``only``, if given);
    a key ID it has already is replaced. The kids added."""
    found = read_jwks(document)
    if only is not None:
        if only not in found:
            raise PartnerError(f"no key {only!r} in the file")
        found = {only: found[only]}
    async with sessions.begin() as session:
        partner = await _partner(session, region)
        for kid, x in found.items():
            await session.merge(
                PartnerKey(
                    client_id=partner.client_id,
                    kid=kid,
                    public_key=x,
                    source=MANUAL,
                    added_at=_now(),
                )
            )
    return sorted(found)


async def remove_key(sessions: async_sessionmaker[AsyncSession], region: str, kid: str) -> None:
    """Stop accepting a partner key: its tokens and signatures are refused from now on."""
    async with sessions.begin() as session:
        partner = await _partner(session, region)
        removed = await session.execute(
            delete(PartnerKey).where(
                PartnerKey.client_id == partner.client_id, PartnerKey.kid == kid
            )
        )
        if getattr(removed, "rowcount", 0) == 0:
            raise PartnerError(f"partner {partner.region} has no key {kid!r}")


async def partner_hub(
    sessions: async_sessionmaker[AsyncSession],
    region: str,
    *,
    http: httpx.AsyncClient | None = None,
    wanted_kid: str | None = None,
) -> PartnerHub | None:
    """A partner with its keys, its key set fetched first when it is due (or lacks
    ``wanted_kid``) and ``http`` is given; None for an unknown region."""
    async with sessions() as session:
        found = await find(session, region)
        if found is None:
            return None
        partner, client = found
        rows = (
            await session.scalars(
                select(PartnerKey).where(PartnerKey.client_id == partner.client_id)
            )
        ).all()
    keys = {row.kid: public_key(row.public_key) for row in rows}
    if http is not None and partner.jwks_url and _due(partner, wanted_kid, keys):
        fetched = await _fetch_jwks(sessions, http, partner)
        if fetched is not None:
            keys = {r.kid: public_key(r.public_key) for r in rows if r.source == MANUAL}
            keys.update({kid: public_key(x) for kid, x in fetched.items()})
    return _hub(partner, client, keys)


def _due(partner: Partner, wanted_kid: str | None, keys: Mapping[str, Any]) -> bool:
    fetched = partner.jwks_fetched_at
    if fetched is None:
        return True
    age = _now() - fetched
    return age > JWKS_TTL or (
        wanted_kid is not None and wanted_kid not in keys and age > JWKS_RETRY
    )


async def _fetch_jwks(
    sessions: async_sessionmaker[AsyncSession], http: httpx.AsyncClient, partner: Partner
) -> dict[str, str] | None:
    """The partner's published keys, stored in place of those fetched before; None (and the
    keys kept as they were) when the key set cannot be read."""
    assert partner.jwks_url is not None
    try:
        response = await http.get(partner.jwks_url, timeout=5.0)
        if response.status_code != 200:
            raise PartnerError(f"answered {response.status_code}")
        found = read_jwks(json.loads(response.content))
    except (httpx.HTTPError, PartnerError, ValueError) as exc:
        log.warning("key set of partner %s not read: %s", partner.region, type(exc).__name__)
        found = None
    async with sessions.begin() as session:
        row = await session.get(Partner, partner.client_id)
        if row is not None:
            row.jwks_fetched_at = _now()
        if found is not None:
            await session.execute(
                delete(PartnerKey).where(
                    PartnerKey.client_id == partner.client_id, PartnerKey.source == JWKS
                )
            )
            for kid, x in found.items():
                await session.merge(
                    PartnerKey(
                        client_id=partner.client_id,
                        kid=kid,
                        public_key=x,
                        source=JWKS,
                        added_at=_now(),
                    )
                )
    return found


async def by_regions(
    sessions: async_sessionmaker[AsyncSession], regions: Sequence[str] | None = None
) -> list[PartnerHub]:
    """The partners this hub asks (those with a URL and enabled), by region."""
    found = await listing(sessions)
    return [p for p in found if p.url and p.enabled and (regions is None or p.region in regions)]
