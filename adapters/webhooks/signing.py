"""Standard Webhooks signatures, and the subscriptions' secrets sealed for the log.

A secret is `whsec_` + base64 of 24 to 64 random bytes (the convention of Standard Webhooks);
`webhook-signature` is `v1,` + base64(HMAC-SHA256(secret bytes, "{id}.{timestamp}.{body}")).
The log holds each secret sealed with AES-GCM under a key derived from the département's master
key (`PARCOURS_IDENTITY_MASTER_KEY`, HKDF with its own `info`): readers of the log (auditors,
exports) never see it, and the deliverer opens it in memory only.
"""

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from adapters.identity import derive
from adapters.settings import Settings

PREFIX = "whsec_"
SECRET_BYTES = 32
"""Bytes of a secret parcours generates."""
SECRET_MIN, SECRET_MAX = 24, 64
"""Bytes a given secret may have."""
SEAL_INFO = b"parcours/webhooks/secret/v1"
SEALED_V1 = "v1:"
TOLERANCE = 5 * 60
"""Seconds a receiver accepts between a delivery's timestamp and its clock (replay guard)."""


class InvalidSecret(ValueError):
    """A secret that is not `whsec_` + base64 of 24 to 64 bytes."""


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_key(secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for."""
    if not secret.startswith(PREFIX):
        raise InvalidSecret(f"le secret commence par {PREFIX}")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError) as e:
        raise InvalidSecret("le secret suit whsec_ en base64") from e
    if not SECRET_MIN <= len(key) <= SECRET_MAX:
        raise InvalidSecret(f"le secret fait de {SECRET_MIN} à {SECRET_MAX} octets")
    return key


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header's value."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(key: bytes, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(key, msg_id, timestamp, body),
    }


def verify(secret: str, received: Mapping[str, str], body: bytes, now: int) -> bool:
    """What a receiver checks: one of the `v1` signatures matches, the timestamp is recent."""
    try:
        msg_id = received["webhook-id"]
        timestamp = int(received["webhook-timestamp"])
        signatures = received["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > TOLERANCE:
        return False
    expected = sign(secret_key(secret), msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, s) for s in signatures)


class Sealer:
    """Seals a secret for the log, opens it for the deliverer."""

    def __init__(self, settings: Settings) -> None:
        self._aead = AESGCM(derive(settings.identity_master_key, SEAL_INFO))

    def seal(self, secret: str, subscription: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), subscription.encode())
        return SEALED_V1 + base64.b64encode(nonce + sealed).decode()

    def open(self, sealed: str, subscription: str) -> str:
        if not sealed.startswith(SEALED_V1):
            raise InvalidSecret("secret scellé inconnu")
        raw = base64.b64decode(sealed[len(SEALED_V1) :])
        try:
            return self._aead.decrypt(raw[:12], raw[12:], subscription.encode()).decode()
        except InvalidTag as e:
            raise InvalidSecret("secret scellé sous une autre clé maîtresse") from e
