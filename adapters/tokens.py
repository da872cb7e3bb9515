"""Bearer tokens: verify the JWT a request carries, and (in local mode only) sign tokens.

Production (`PARCOURS_AUTH_MODE=oidc`) trusts only the département's identity provider: its
issuer, its audience, and its public keys (a JWKS URL or a PEM file), asymmetric algorithms only.
Development and tests (`local`) sign with a secret from `PARCOURS_JWT_SECRET`, or with a key file
generated once under the data directory; no secret is built into the code.
"""

import secrets
from pathlib import Path
from typing import Any

import jwt

from adapters.private_files import read_or_create_secret
from adapters.settings import Settings

LOCAL_ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "iss", "aud"]


class InvalidToken(Exception):
    """The token is missing, malformed, expired, or not signed by the trusted issuer."""


def local_key_file(settings: Settings) -> Path:
    return settings.data_dir / "auth" / "local-signing.key"


def local_secret(settings: Settings) -> str:
    """The development signing secret: the environment's, else the data directory's key file,
    generated (readable by its owner only) on first use."""
    if settings.jwt_secret:
        return settings.jwt_secret
    return read_or_create_secret(local_key_file(settings), lambda: secrets.token_hex(32))


class TokenVerifier:
    """Checks signature, expiry, issuer and audience; returns the claims."""

    def __init__(self, settings: Settings) -> None:
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self._jwks: jwt.PyJWKClient | None = None
        self._key: Any = None
        if settings.auth_mode == "local":
            self.algorithms = [LOCAL_ALGORITHM]
            self._key = local_secret(settings)
            return
        if settings.jwt_secret:
            msg = "PARCOURS_JWT_SECRET is for local mode only: oidc mode trusts public keys"
            raise ValueError(msg)
        self.algorithms = [a for a in settings.jwt_algorithms if not a.startswith("HS")]
        if not self.algorithms:
            raise ValueError("oidc mode needs asymmetric algorithms (RS256, ES256…)")
        if settings.jwt_jwks_url:
            self._jwks = jwt.PyJWKClient(settings.jwt_jwks_url, cache_keys=True, lifespan=3600)
        elif settings.jwt_public_key_file is not None:
            self._key = settings.jwt_public_key_file.read_text()
        else:
            msg = "oidc mode needs PARCOURS_JWT_JWKS_URL or PARCOURS_JWT_PUBLIC_KEY_FILE"
            raise ValueError(msg)

    def verify(self, token: str) -> dict[str, Any]:
        try:
            key = self._jwks.get_signing_key_from_jwt(token).key if self._jwks else self._key
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                options={"require": REQUIRED_CLAIMS},
                leeway=30,
            )
        except (jwt.PyJWTError, ValueError) as e:
            raise InvalidToken(str(e)) from None
        return claims


def sign_local(settings: Settings, claims: dict[str, Any]) -> str:
    """A token for development and tests; refused outside local mode."""
    if settings.auth_mode != "local":
        raise ValueError("tokens are issued by the identity provider in oidc mode")
    payload = {"iss": settings.jwt_issuer, "aud": settings.jwt_audience, **claims}
    return jwt.encode(payload, local_secret(settings), algorithm=LOCAL_ALGORITHM)
