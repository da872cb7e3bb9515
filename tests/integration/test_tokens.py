"""Token verification as production and development configure it: in oidc mode only the
identity provider's public key is trusted; in local mode a key file is generated once, readable
by its owner only; no secret is accepted where a public key is expected."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from adapters.settings import Settings
from adapters.tokens import InvalidToken, TokenVerifier, local_key_file, sign_local

ISSUER = "https://idp.departement.example/realms/rsa"


def _claims(**extra: object) -> dict[str, object]:
    now = int(time.time())
    return {"sub": "u1", "iss": ISSUER, "aud": "parcours", "iat": now, "exp": now + 60, **extra}


@pytest.fixture
def provider(tmp_path: Path) -> tuple[rsa.RSAPrivateKey, Settings]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = tmp_path / "idp.pem"
    pem.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    settings = Settings.from_env(
        {
            "PARCOURS_AUTH_MODE": "oidc",
            "PARCOURS_JWT_ISSUER": ISSUER,
            "PARCOURS_JWT_PUBLIC_KEY_FILE": str(pem),
            "PARCOURS_DATA_DIR": str(tmp_path),
        }
    )
    return key, settings


def test_oidc_mode_accepts_the_provider_s_signature_only(
    provider: tuple[rsa.RSAPrivateKey, Settings],
) -> None:
    key, settings = provider
    verifier = TokenVerifier(settings)
    good = jwt.encode(_claims(roles=["auditeur"]), key, algorithm="RS256")
    assert verifier.verify(good)["roles"] == ["auditeur"]
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(InvalidToken):
        verifier.verify(jwt.encode(_claims(), other, algorithm="RS256"))
    # A symmetric token is refused even if signed with the public key's text.
    with pytest.raises(InvalidToken):
        verifier.verify(jwt.encode(_claims(), "x" * 40, algorithm="HS256"))


def test_oidc_mode_refuses_a_local_secret_and_issues_no_token(
    provider: tuple[rsa.RSAPrivateKey, Settings], tmp_path: Path
) -> None:
    _, settings = provider
    with pytest.raises(ValueError, match="local mode only"):
        TokenVerifier(Settings.from_env({"PARCOURS_AUTH_MODE": "oidc", "PARCOURS_JWT_SECRET": "s"}))
    with pytest.raises(ValueError, match="JWKS_URL or"):
        TokenVerifier(Settings.from_env({"PARCOURS_AUTH_MODE": "oidc"}))
    with pytest.raises(ValueError, match="identity provider"):
        sign_local(settings, {"sub": "u1"})
    assert not local_key_file(settings).exists()


def test_local_mode_generates_its_key_once_readable_by_its_owner(tmp_path: Path) -> None:
    settings = Settings.from_env({"PARCOURS_DATA_DIR": str(tmp_path)})
    now = int(time.time())
    signed = sign_local(settings, {"sub": "dev", "iat": now, "exp": now + 60})
    path = local_key_file(settings)
    assert path.stat().st_mode & 0o777 == 0o600
    assert TokenVerifier(settings).verify(signed)["sub"] == "dev"
    assert TokenVerifier(Settings.from_env({"PARCOURS_DATA_DIR": str(tmp_path)})).verify(signed)
    elsewhere = Settings.from_env({"PARCOURS_DATA_DIR": str(tmp_path / "other")})
    with pytest.raises(InvalidToken):
        TokenVerifier(elsewhere).verify(signed)


def test_oidc_mode_fetches_the_provider_s_keys_from_its_jwks_url(tmp_path: Path) -> None:
    """The provider publishes its keys (JWKS); the token names its key by `kid`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    document = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Jwks)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/certs"
        settings = Settings.from_env(
            {
                "PARCOURS_AUTH_MODE": "oidc",
                "PARCOURS_JWT_ISSUER": ISSUER,
                "PARCOURS_JWT_JWKS_URL": url,
                "PARCOURS_DATA_DIR": str(tmp_path),
            }
        )
        verifier = TokenVerifier(settings)
        signed = jwt.encode(_claims(sub="agent-7"), key, algorithm="RS256", headers={"kid": "k1"})
        assert verifier.verify(signed)["sub"] == "agent-7"
        unknown = jwt.encode(_claims(), key, algorithm="RS256", headers={"kid": "k2"})
        with pytest.raises(InvalidToken):
            verifier.verify(unknown)
    finally:
        server.shutdown()
        thread.join(timeout=5)
