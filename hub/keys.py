"""Keys the hub derives from ``HUB_SECRET_KEY``: one per use, so that none serves two.

- ``lookup_hash``: a keyed hash (HMAC-SHA256) of an ID number someone looked up, for
  the audit log. ID numbers are few enough to hash them all, so a plain hash would
  give the number back to anyone who reads the log; without the key it does not.
- ``seal`` / ``unseal``: authenticated encryption (AES-GCM, random nonce) of short
  values such as the household ID behind a page cursor, bound to a context (the client
  it was issued to), so that cursors neither spell out household IDs nor link up across
  requests, and a cursor forged, altered or issued to another client is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12


def _derive(secret: bytes, purpose: str) -> bytes:
    return hmac.new(secret, b"hub key: " + purpose.encode(), hashlib.sha256).digest()


class Keys:
    """The hub's derived keys; build one per process from the settings' secret."""

    def __init__(self, secret: bytes) -> None:
        self._lookup = _derive(secret, "lookup hash")
        self._seal = AESGCM(_derive(secret, "seal"))

    def lookup_hash(self, value: str) -> str:
        """The keyed hash, 64 hex digits, of a value looked up (an ID number)."""
        return hmac.new(self._lookup, value.encode(), hashlib.sha256).hexdigest()

    def seal(self, value: str, *, context: str) -> str:
        """``value`` encrypted and authenticated for ``context``, URL-safe, unpadded."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = nonce + self._seal.encrypt(nonce, value.encode(), context.encode())
        return base64.urlsafe_b64encode(sealed).decode().rstrip("=")

    def unseal(self, token: str, *, context: str) -> str | None:
        """The value ``seal`` put in ``token`` for this ``context``, or None."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
            return self._seal.decrypt(nonce, sealed, context.encode()).decode()
        except (binascii.Error, ValueError, InvalidTag, UnicodeDecodeError):
            return None
