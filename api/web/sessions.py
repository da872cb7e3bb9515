"""Browser sessions: who is logged in, kept in a signed cookie (HttpOnly, SameSite=Lax, Secure
outside local mode) that lapses after `IDLE_SECONDS` without a request, and the CSRF token every
form posts back. The JSON API keeps its bearer tokens; this is for the screens only."""

import hmac
import secrets
from typing import Any

import msgspec
from fastapi import Request
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from adapters.settings import Settings
from adapters.tokens import local_secret
from api.http.auth import Principal, Role

COOKIE = "parcours_session"
IDLE_SECONDS = 30 * 60
"""A session unused for this long is over: the next request goes back to the login page."""
SALT = "parcours/ecrans/session"


class Session(msgspec.Struct, frozen=True, kw_only=True):
    """What the cookie carries: the CSRF token, and the principal once logged in."""

    csrf: str
    sub: str | None = None
    roles: list[str] = []
    structures: list[str] = []

    @property
    def principal(self) -> Principal | None:
        if self.sub is None:
            return None
        return Principal(
            sub=self.sub,
            roles=frozenset(Role(r) for r in self.roles),
            structures=frozenset(self.structures),
        )


def anonymous() -> Session:
    return Session(csrf=secrets.token_urlsafe(32))


def opened(principal: Principal) -> Session:
    """A new session for `principal`, with a new CSRF token (none survives a login)."""
    return Session(
        csrf=secrets.token_urlsafe(32),
        sub=principal.sub,
        roles=sorted(r.value for r in principal.roles),
        structures=sorted(principal.structures),
    )


class Sessions:
    """Signs and reads the session cookie. Local mode signs with the development key; elsewhere,
    until OIDC login exists, with a key of this process (no one can log in anyway)."""

    def __init__(self, settings: Settings) -> None:
        self.local = settings.auth_mode == "local"
        secret = local_secret(settings) if self.local else secrets.token_hex(32)
        self._signer = URLSafeTimedSerializer(secret, salt=SALT)

    def read(self, request: Request) -> Session | None:
        """The request's session, unless absent, forged or idle past `IDLE_SECONDS`."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data: Any = self._signer.loads(raw, max_age=IDLE_SECONDS)
            return msgspec.convert(data, Session)
        except (BadSignature, msgspec.ValidationError):
            return None

    def write(self, response: Response, session: Session | None) -> None:
        """Set (again: the idle time restarts) or clear the cookie on `response`."""
        if session is None:
            response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax")
            return
        response.set_cookie(
            COOKIE,
            self._signer.dumps(msgspec.to_builtins(session)),
            max_age=IDLE_SECONDS,
            path="/",
            httponly=True,
            samesite="lax",
            secure=not self.local,
        )


def csrf_matches(session: Session | None, posted: object) -> bool:
    return (
        session is not None
        and isinstance(posted, str)
        and hmac.compare_digest(session.csrf.encode(), posted.encode())
    )
