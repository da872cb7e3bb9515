"""The screens' login through an OpenID Connect provider (ProConnect or compatible): discovery,
the authorization request (code flow, PKCE S256, `state`, `nonce`), the code exchange
(client_secret_post or client_secret_basic) and the ID token's checks (signature by the
provider's JWKS, `iss`, `aud`, `exp`, `nonce`). The provider says who the person is; what they
may do is the registry of rights' business (`api.services.agents`)."""

import base64
import hashlib
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from adapters.settings import Settings

DISCOVERY = "/.well-known/openid-configuration"
DISCOVERY_SECONDS = 3600
"""The provider's metadata is read again after this long (its keys follow their own cache)."""
TIMEOUT = 10.0


class OidcError(Exception):
    """The provider could not be reached, refused the exchange, or sent an ID token that does
    not hold (signature, issuer, audience, expiry, nonce)."""


class Flow(dict[str, str]):
    """One login under way: `state`, `nonce` and the PKCE `verifier`, kept by the browser in a
    short-lived signed cookie until the provider sends the person back."""

    @classmethod
    def start(cls) -> "Flow":
        return cls(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(64),
        )


def challenge(verifier: str) -> str:
    """PKCE S256 (RFC 7636 §4.2): base64url of the verifier's SHA-256, unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcClient:
    """The relying party's side of the code flow, for one configured provider."""

    def __init__(self, settings: Settings) -> None:
        if not settings.oidc_issuer or not settings.oidc_client_id:
            raise ValueError("PARCOURS_OIDC_ISSUER and PARCOURS_OIDC_CLIENT_ID are required")
        self.issuer = settings.oidc_issuer
        self.client_id = settings.oidc_client_id
        self.client_secret = settings.oidc_client_secret
        self.scopes = " ".join(settings.oidc_scopes)
        self.algorithms = [a for a in settings.jwt_algorithms if not a.upper().startswith("HS")]
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._read_at = 0.0
        self._jwks: jwt.PyJWKClient | None = None

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document, cached `DISCOVERY_SECONDS`."""
        with self._lock:
            if self._metadata is None or time.monotonic() - self._read_at > DISCOVERY_SECONDS:
                try:
                    response = httpx.get(self.issuer + DISCOVERY, timeout=TIMEOUT)
                    response.raise_for_status()
                    found: dict[str, Any] = response.json()
                except (httpx.HTTPError, ValueError) as e:
                    raise OidcError(f"découverte du fournisseur impossible: {e}") from None
                if found.get("issuer", "").rstrip("/") != self.issuer:
                    raise OidcError("le document de découverte annonce un autre émetteur")
                self._metadata, self._read_at = found, time.monotonic()
                self._jwks = jwt.PyJWKClient(found["jwks_uri"], cache_keys=True, lifespan=3600)
            return self._metadata

    def authorize_url(self, flow: Flow, redirect_uri: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "scope": self.scopes,
            "state": flow["state"],
            "nonce": flow["nonce"],
            "code_challenge": challenge(flow["verifier"]),
            "code_challenge_method": "S256",
        }
        return f"{self.metadata()['authorization_endpoint']}?{urlencode(query)}"

    def exchange(self, code: str, flow: Flow, redirect_uri: str) -> tuple[dict[str, Any], str]:
        """The code for tokens; returns the ID token's checked claims and the token itself."""
        meta = self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": flow["verifier"],
            "client_id": self.client_id,
        }
        methods = meta.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
        auth: httpx.BasicAuth | None = None
        if "client_secret_post" in methods:
            form["client_secret"] = self.client_secret
        else:
            auth = httpx.BasicAuth(self.client_id, self.client_secret)
        try:
            response = httpx.post(meta["token_endpoint"], data=form, auth=auth, timeout=TIMEOUT)
        except httpx.HTTPError as e:
            raise OidcError(f"fournisseur injoignable: {e}") from None
        if response.status_code != 200:
            raise OidcError(f"échange du code refusé ({response.status_code})")
        id_token = response.json().get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("pas de jeton d'identité dans la réponse")
        return self.verify(id_token, flow["nonce"]), id_token

    def verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims once signature, issuer, audience, expiry and nonce hold."""
        self.metadata()
        if self._jwks is None:
            raise OidcError("clés du fournisseur inconnues")
        try:
            key = self._jwks.get_signing_key_from_jwt(id_token).key
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key,
                algorithms=self.algorithms,
                audience=self.client_id,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud", "nonce"]},
                leeway=30,
            )
        except (jwt.PyJWTError, ValueError) as e:
            raise OidcError(f"jeton d'identité refusé: {e}") from None
        if not secrets.compare_digest(str(claims["nonce"]), nonce):
            raise OidcError("jeton d'identité refusé: nonce inattendu")
        return claims

    def logout_url(self, id_token: str | None, after: str) -> str | None:
        """The provider's end of session, when it has one (else None: the local logout is all)."""
        try:
            endpoint = self.metadata().get("end_session_endpoint")
        except OidcError:
            return None
        if not endpoint:
            return None
        query = {"post_logout_redirect_uri": after, "state": secrets.token_urlsafe(16)}
        if id_token:
            query["id_token_hint"] = id_token
        return f"{endpoint}?{urlencode(query)}"
