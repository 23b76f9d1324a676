"""Signed answers: a detached JWS over the exact bytes of a response body.

Every answer of the partner API carries ``Hub-Signature``: a JWS in compact form with the
payload left out (RFC 7515 appendix F) and not base64-encoded (RFC 7797, ``b64: false``),
so that the signature covers the body exactly as sent::

    Hub-Signature: <base64url(protected header)>..<base64url(signature)>

The protected header names the algorithm (EdDSA), the key (``kid``, one of the keys the
hub publishes at ``/.well-known/jwks.json``) and ``b64: false`` (critical). A partner
keeps the body, the header and the key set, and can prove later what it was told.
``verify`` is the check a partner (and this hub, of a partner's answers) makes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError
from joserfc.jwk import OKPKey

from hub.partners.tokens import ALGORITHMS, SIGNING_ALGORITHM, eddsa, private_key
from hub.signing import Ring

HEADER = "Hub-Signature"


class SignatureInvalid(Exception):
    """A signature that is missing, malformed, by an unknown key, or does not verify."""


def sign(ring: Ring, body: bytes) -> str:
    """The detached signature of ``body`` with the hub's current key."""
    protected = {
        "alg": SIGNING_ALGORITHM,
        "kid": ring.signer.kid,
        "b64": False,
        "crit": ["b64"],
    }
    with eddsa():
        signed = jws.serialize_compact(
            protected, body, private_key(ring), algorithms=[SIGNING_ALGORITHM]
        )
    return jws.detach_content(signed)


def verify(body: bytes, signature: str | None, jwks: Mapping[str, Any]) -> str:
    """Check a detached signature over ``body`` against a published key set (the JSON of
    ``/.well-known/jwks.json``); the key ID that signed it, or ``SignatureInvalid``."""
    if not signature:
        raise SignatureInvalid(f"the answer carries no {HEADER} header")
    parts = signature.split(".")
    if len(parts) != 3 or parts[1] != "":
        raise SignatureInvalid("the signature is not a detached compact JWS (header..signature)")
    try:
        header = jws.extract_compact(f"{parts[0]}.e30.{parts[2]}".encode()).headers()
    except (JoseError, ValueError):
        raise SignatureInvalid("the signature's header cannot be read") from None
    if header.get("b64") is not False or header.get("alg") not in ALGORITHMS:
        raise SignatureInvalid("the signature must be EdDSA over the raw body (b64: false)")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise SignatureInvalid("the signature names no key ('kid')")
    key = next(
        (k for k in jwks.get("keys", []) if isinstance(k, dict) and k.get("kid") == kid), None
    )
    if key is None or key.get("kty") != "OKP" or key.get("crv") != "Ed25519":
        raise SignatureInvalid(f"no published Ed25519 key {kid!r}")
    # Only what makes the key: a key set's ``alg`` names one spelling of the algorithm.
    x = key.get("x")
    if not isinstance(x, str):
        raise SignatureInvalid(f"the published key {kid!r} has no 'x'")
    verifier = OKPKey.import_key({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid})
    try:
        with eddsa():
            jws.deserialize_compact(signature, verifier, algorithms=list(ALGORITHMS), payload=body)
    except BadSignatureError:
        raise SignatureInvalid("the signature does not match the body") from None
    except (JoseError, ValueError):
        raise SignatureInvalid("the signature cannot be checked") from None
    return kid
