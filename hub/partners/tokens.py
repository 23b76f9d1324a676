"""Partner tokens: short-lived JWTs signed with Ed25519, single use.

A partner hub calls this hub with ``Authorization: Bearer <JWT>``, the JWT signed
(``alg`` EdDSA, or its RFC 9864 name Ed25519) with one of the partner's registered keys
(``kid``), carrying ``iss`` (the partner's region code), ``aud`` (this hub's
``HUB_PARTNER_AUDIENCE``, by default its ``HUB_REGION``), ``iat``, ``exp`` (at most
``HUB_PARTNER_TOKEN_MAX_LIFETIME`` after ``iat``) and a ``jti`` used once: every ``jti``
is stored until its token expires (``partner_seen_token``, its primary key the check), so
a replay is refused by any worker, also after a restart.

Each refusal is an ``AuthRefusal`` with a code; the caller audits it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from joserfc import jws, jwt
from joserfc.errors import BadSignatureError, DecodeError, JoseError, SecurityWarning
from joserfc.jwk import OKPKey
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hub.db.partners import SeenToken
from hub.partners import registry
from hub.signing import Ring

ALGORITHMS = ("EdDSA", "Ed25519")
SIGNING_ALGORITHM = "EdDSA"  # what the hub's published keys say (``hub.signing``)
LEEWAY = 30  # seconds of clock difference forgiven at either end
MAX_TOKEN_BYTES = 4096
ISSUED_LIFETIME = 60  # seconds: what this hub gives its own tokens to partner hubs


class AuthRefusal(Exception):
    """Why a partner request is refused at the door; audited by whoever catches it."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int = 401,
        client_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.client_id = client_id


@dataclass(frozen=True, slots=True)
class PartnerCaller:
    """A partner whose token was accepted."""

    client_id: str
    name: str
    region: str
    kid: str

    @property
    def key_id(self) -> str:
        """A short name of the key it signed with (16 characters), for rate limits and the
        audit log's token column."""
        return "pk_" + hashlib.sha256(f"{self.client_id}|{self.kid}".encode()).hexdigest()[:13]


@contextlib.contextmanager
def eddsa() -> Iterator[None]:
    """joserfc warns at every use of ``EdDSA``, which RFC 9864 renames ``Ed25519`` (the same
    signature). The hub publishes its keys as EdDSA, which partners' libraries know, and
    takes either name; the warning would only fill the log."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=SecurityWarning, message="EdDSA")
        yield


def private_key(ring: Ring) -> OKPKey:
    """The hub's signing key as joserfc wants it."""
    return OKPKey.import_key(ring.signer.private, parameters={"kid": ring.signer.kid})


def issue(ring: Ring, *, issuer: str, audience: str, lifetime: int = ISSUED_LIFETIME) -> str:
    """A token of this hub for a partner hub: signed with its current key, used once."""
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + lifetime,
        "jti": uuid.uuid4().hex,
    }
    header = {"alg": SIGNING_ALGORITHM, "kid": ring.signer.kid, "typ": "JWT"}
    with eddsa():
        return jwt.encode(header, claims, private_key(ring), algorithms=[SIGNING_ALGORITHM])


def bearer(authorization: str | None) -> str:
    scheme, _, raw = (authorization or "").partition(" ")
    token = raw.strip()
    if scheme.lower() != "bearer" or not token:
        raise AuthRefusal("UNAUTHENTICATED", "an 'Authorization: Bearer <JWT>' header is required")
    if len(token) > MAX_TOKEN_BYTES or token.count(".") != 2:
        raise AuthRefusal("BAD_TOKEN", "the token is not a signed JWT (header.claims.signature)")
    return token


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims before the signature is checked: only to find the key."""
    try:
        found = jws.extract_compact(token.encode())
        claims = json.loads(found.payload)
    except (JoseError, ValueError, UnicodeDecodeError):
        raise AuthRefusal("BAD_TOKEN", "the token cannot be read as a JWT") from None
    header = found.headers()
    if not isinstance(claims, dict):
        raise AuthRefusal("BAD_TOKEN", "the token's claims are not a JSON object")
    return header, claims


async def authenticate(
    sessions: async_sessionmaker[AsyncSession],
    authorization: str | None,
    *,
    audience: str,
    max_lifetime: int,
    http: httpx.AsyncClient | None = None,
    now: float | None = None,
) -> PartnerCaller:
    """The partner behind a bearer JWT, its ``jti`` now spent; or an ``AuthRefusal``."""
    token = bearer(authorization)
    header, claims = _unverified(token)
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not registry.REGION.fullmatch(issuer):
        raise AuthRefusal("UNKNOWN_PARTNER", "the token's issuer ('iss') is not a region code")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise AuthRefusal("UNKNOWN_KEY", "the token names no key ('kid')")
    partner = await registry.partner_hub(sessions, issuer, http=http, wanted_kid=kid)
    if partner is None:
        raise AuthRefusal("UNKNOWN_PARTNER", f"no partner is registered for region {issuer}")
    refuse = _refusing(partner.client_id)
    if header.get("alg") not in ALGORITHMS:
        raise refuse("BAD_TOKEN", "the token must be signed with Ed25519 (alg EdDSA)")
    key = partner.keys.get(kid)
    if key is None:
        raise refuse("UNKNOWN_KEY", f"partner {issuer} has no registered key {kid!r}")
    verifier = OKPKey.import_key(key, parameters={"kid": kid})
    try:
        with eddsa():
            verified = jwt.decode(token, verifier, algorithms=list(ALGORITHMS))
    except BadSignatureError:
        raise refuse("BAD_SIGNATURE", "the token's signature does not verify") from None
    except (DecodeError, JoseError, ValueError):
        raise refuse("BAD_TOKEN", "the token cannot be read as a JWT") from None
    claims = verified.claims
    moment = time.time() if now is None else now
    exp, iat = _seconds(claims.get("exp")), _seconds(claims.get("iat"))
    if exp is None or iat is None:
        raise refuse("BAD_TOKEN", "the token needs 'exp' and 'iat' (seconds since 1970)")
    nbf = _seconds(claims.get("nbf"))
    if moment >= exp + LEEWAY:
        raise refuse("TOKEN_EXPIRED", "the token has expired")
    if iat > moment + LEEWAY or (nbf is not None and nbf > moment + LEEWAY):
        raise refuse("BAD_TOKEN", "the token is not valid yet ('iat' or 'nbf' in the future)")
    if exp - iat > max_lifetime:
        raise refuse(
            "TOKEN_TOO_LONG_LIVED",
            f"the token lives {int(exp - iat)} s; at most {max_lifetime} s are accepted",
        )
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if audience not in audiences:
        raise refuse("WRONG_AUDIENCE", f"the token is not meant for this hub ('aud' {audience})")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not 1 <= len(jti) <= 128:
        raise refuse("BAD_TOKEN", "the token needs a 'jti' of 1-128 characters")
    if not partner.enabled:
        raise refuse("PARTNER_DISABLED", f"partner {issuer} is disabled")
    await _spend(sessions, partner.client_id, jti, exp + LEEWAY, moment)
    return PartnerCaller(partner.client_id, partner.name, partner.region, kid)


def _seconds(value: object) -> float | None:
    """A NumericDate claim, or None when it is missing or not a number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _refusing(client_id: str) -> Any:
    def refusal(code: str, message: str) -> AuthRefusal:
        return AuthRefusal(code, message, client_id=client_id)

    return refusal


_purged_at = 0.0


async def _spend(
    sessions: async_sessionmaker[AsyncSession],
    client_id: str,
    jti: str,
    kept_until: float,
    now: float,
) -> None:
    """Record a ``jti`` as used; a second use, in any worker, is a replay."""
    global _purged_at
    until = datetime.fromtimestamp(kept_until, UTC)
    try:
        async with sessions.begin() as session:
            session.add(SeenToken(client_id=client_id, jti=jti, expires_at=until))
    except IntegrityError:
        raise AuthRefusal(
            "TOKEN_REPLAYED",
            "the token was used before: each token is good once",
            client_id=client_id,
        ) from None
    if now - _purged_at > 60:
        # Tokens past their expiry are refused as expired anyway: their jti need not stay.
        _purged_at = now
        async with sessions.begin() as session:
            await session.execute(
                delete(SeenToken).where(
                    SeenToken.expires_at < datetime.fromtimestamp(now, UTC) - timedelta(seconds=1)
                )
            )
