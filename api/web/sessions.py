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
FLOW_COOKIE = "parcours_connexion"
FLOW_SECONDS = 10 * 60
"""A login at the provider not back within this long starts over."""
FLOW_SALT = "parcours/ecrans/connexion-oidc"


class Session(msgspec.Struct, frozen=True, kw_only=True):
    """What the cookie carries: the CSRF token, and the principal once logged in."""

    csrf: str
    sub: str | None = None
    roles: list[str] = []
    structures: list[str] = []
    email: str | None = None
    name: str | None = None
    """Who the provider says the person is (oidc mode), shown in the header."""
    id_token: str | None = None
    """The provider's ID token, kept for its logout (`id_token_hint`)."""

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


def opened(principal: Principal, **person: str | None) -> Session:
    """A new session for `principal`, with a new CSRF token (none survives a login);
    `person`: the provider's `email`, `name` and `id_token` in oidc mode."""
    return Session(
        csrf=secrets.token_urlsafe(32),
        sub=principal.sub,
        roles=sorted(r.value for r in principal.roles),
        structures=sorted(principal.structures),
        email=person.get("email"),
        name=person.get("name"),
        id_token=person.get("id_token"),
    )


class Sessions:
    """Signs and reads the session cookie, and the login flow's. Local mode signs with the
    development key; oidc mode with `PARCOURS_SESSION_SECRET` (one key for every process),
    else with a key of this process."""

    def __init__(self, settings: Settings) -> None:
        self.local = settings.auth_mode == "local"
        if self.local:
            secret = local_secret(settings)
        else:
            secret = settings.session_secret or secrets.token_hex(32)
        self._signer = URLSafeTimedSerializer(secret, salt=SALT)
        self._flows = URLSafeTimedSerializer(secret, salt=FLOW_SALT)

    def read_flow(self, request: Request) -> dict[str, str] | None:
        """The login under way (`adapters.oidc.Flow`'s fields), unless absent, forged or old."""
        raw = request.cookies.get(FLOW_COOKIE)
        if not raw:
            return None
        try:
            data: Any = self._flows.loads(raw, max_age=FLOW_SECONDS)
            return msgspec.convert(data, dict[str, str])
        except (BadSignature, msgspec.ValidationError):
            return None

    def write_flow(self, response: Response, flow: dict[str, str] | None) -> None:
        """Set the login flow's cookie, or clear it (once used: a code is good for one try)."""
        if flow is None:
            response.delete_cookie(FLOW_COOKIE, path="/", httponly=True, samesite="lax")
            return
        response.set_cookie(
            FLOW_COOKIE,
            self._flows.dumps(dict(flow)),
            max_age=FLOW_SECONDS,
            path="/",
            httponly=True,
            samesite="lax",
            secure=not self.local,
        )

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
