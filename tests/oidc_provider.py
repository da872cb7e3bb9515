"""A small OpenID Connect provider shaped like ProConnect, served over real HTTP on a free port
of 127.0.0.1 for the tests: discovery, JWKS (an RSA key made at start), /authorize that sends
the configured person straight back with a code (no form), /token that checks the client's
secret (post or basic) and the PKCE verifier and returns an ID token carrying the nonce and no
roles, /userinfo, and end_session. `tamper` makes it spoil the ID token's signature."""

import base64
import hashlib
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, Header, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from tests.e2e.helpers import free_port, wait_until

CLIENT_ID = "parcours-test"
CLIENT_SECRET = secrets.token_hex(16)
KID = "cle-test-1"


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class Provider:
    """The provider's state and its app; `start()` serves it, `stop()` ends it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.user: dict[str, Any] = {}
        """The person /authorize logs in: `sub`, `email`, `given_name`, `usual_name`…"""
        self.tamper = False
        self.codes: dict[str, dict[str, str]] = {}
        self.ended: list[dict[str, str]] = []
        self.app = self._app()
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> "Provider":
        self.thread.start()
        wait_until(lambda: self.server.started, 30, "the test OIDC provider", pause=0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 60,
            "nonce": nonce,
            "idp_id": "fia1v2",
            **self.user,
        }
        token = jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": KID})
        if self.tamper:
            head, _, signature = token.split(".")
            forged = {**claims, "sub": "quelqu-un-d-autre"}
            body = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=")
            token = f"{head}.{body.decode()}.{signature}"
        return token

    def _app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, Any]:
            return {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "userinfo_endpoint": f"{self.issuer}/userinfo",
                "jwks_uri": f"{self.issuer}/jwks",
                "end_session_endpoint": f"{self.issuer}/session/end",
                "response_types_supported": ["code"],
                "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "code_challenge_methods_supported": ["S256"],
            }

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return {"keys": [{**jwk, "kid": KID, "use": "sig", "alg": "RS256"}]}

        @app.get("/authorize")
        def authorize(request: Request) -> Response:
            q = request.query_params
            if (
                q.get("client_id") != CLIENT_ID
                or q.get("response_type") != "code"
                or q.get("code_challenge_method") != "S256"
                or "openid" not in q.get("scope", "").split()
            ):
                return JSONResponse({"error": "invalid_request"}, status_code=400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = {
                "challenge": q["code_challenge"],
                "nonce": q["nonce"],
                "redirect_uri": q["redirect_uri"],
            }
            query = urlencode({"code": code, "state": q["state"]})
            return RedirectResponse(f"{q['redirect_uri']}?{query}", status_code=302)

        @app.post("/token")
        def token(
            grant_type: str = Form(),
            code: str = Form(),
            redirect_uri: str = Form(),
            code_verifier: str = Form(),
            client_id: str = Form(),
            client_secret: str = Form(""),
            authorization: str | None = Header(None),
        ) -> Response:
            if authorization and authorization.startswith("Basic "):
                basic = base64.b64decode(authorization.removeprefix("Basic ")).decode()
                client_id, _, client_secret = basic.partition(":")
            if client_id != CLIENT_ID or client_secret != CLIENT_SECRET:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            issued = self.codes.pop(code, None)
            if (
                grant_type != "authorization_code"
                or issued is None
                or issued["redirect_uri"] != redirect_uri
                or _s256(code_verifier) != issued["challenge"]
            ):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            return JSONResponse(
                {
                    "access_token": secrets.token_urlsafe(16),
                    "token_type": "Bearer",
                    "expires_in": 60,
                    "id_token": self.id_token(issued["nonce"]),
                }
            )

        @app.get("/userinfo")
        def userinfo() -> dict[str, Any]:
            return dict(self.user)

        @app.get("/session/end")
        def end_session(request: Request) -> Response:
            self.ended.append(dict(request.query_params))
            after = request.query_params.get("post_logout_redirect_uri")
            return RedirectResponse(after, status_code=302) if after else Response("Déconnecté")

        return app
