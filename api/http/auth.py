"""Who is calling: every route needs a valid bearer token (default deny) except the open ones,
and each route states the roles it admits (`api.http.deps.require`).

The token's claims carry the caller's id (`sub`); in local mode they also carry its roles
(`roles`) and, for agents, the structures they work for (`structures`); in oidc mode those come
from parcours' registry of rights (`api.services.agents`). docs/security.md has the whole
policy.
"""

from typing import Any
from uuid import UUID

import msgspec
import structlog
from fastapi import Request

from adapters.access_log import MOTIF_LENGTH, Acces, AccessLog, clean
from adapters.eventlog.store import Parcours
from api.http.problems import ProblemError
from domain.agents import Droits, RoleAgent

log = structlog.get_logger("access")

SCREENS = "/ecrans"
"""The browser screens' paths (`api.web`): a session cookie, not a token, says who calls."""
PUBLIC_SCREENS = frozenset(
    {
        "/",
        SCREENS,
        f"{SCREENS}/",
        f"{SCREENS}/connexion",
        f"{SCREENS}/connexion/oidc",
        f"{SCREENS}/connexion/retour",
        f"{SCREENS}/deconnexion",
    }
)
"""The screens reached without a session: the way in and out."""

OPEN_PATHS = frozenset(
    {"/health", "/health/live", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
    | {"/connecteurs/rdv-insertion"}  # authenticated by its HMAC signature
    | PUBLIC_SCREENS
)
"""The only paths answered without a token (the other screens need a session). The static
mounts (the documentation's `api.http.app.DOCS_STATIC`, the screens' styles) are open too: no
route dependency runs there."""


Role = RoleAgent
"""The roles a caller holds: one vocabulary with the registry of rights (`domain.agents`)."""


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    sub: str
    roles: frozenset[Role]
    structures: frozenset[str] = frozenset()

    def has(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)

    @property
    def primary_structure(self) -> str | None:
        """The structure recorded as the author's: the only one, or none when ambiguous."""
        return next(iter(self.structures)) if len(self.structures) == 1 else None


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    known = {r.value for r in Role}
    return Principal(
        sub=str(claims["sub"]),
        roles=frozenset(Role(r) for r in _strings(claims.get("roles")) if r in known),
        structures=frozenset(_strings(claims.get("structures"))),
    )


def principal_from_registry(claims: dict[str, Any], droits: Droits) -> Principal:
    """In oidc mode: the identity provider says who calls (`sub`), the registry of rights
    (`domain.agents`) what they may do; roles in the token are ignored."""
    return Principal(
        sub=str(claims["sub"]),
        roles=frozenset(Role(r.value) for r in droits.roles),
        structures=droits.structures,
    )


def unauthenticated(detail: str) -> ProblemError:
    return ProblemError(
        401,
        "authentification_requise",
        "Authentification requise",
        detail,
        "Authorization",
        headers={"WWW-Authenticate": 'Bearer realm="parcours"'},
    )


def forbidden(detail: str) -> ProblemError:
    return ProblemError(403, "acces_refuse", "Accès refusé", detail, "Authorization")


MOTIF_HEADERS = ("X-Motif-Acces", "X-Access-Reason")
"""The headers a caller gives the reason of its access in (the second, the earlier name)."""


def _utf8(header: str) -> str:
    """A header's value as the client wrote it: HTTP carries bytes, read here as latin-1; a
    reason typed in French is sent in UTF-8."""
    try:
        return header.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return header


def access_motif(request: Request) -> str | None:
    """The reason the caller gave: `X-Motif-Acces` (or `X-Access-Reason`), else the `motif`
    query parameter; None without one (a reason is optional)."""
    for header in MOTIF_HEADERS:
        if found := request.headers.get(header):
            return clean(_utf8(found))
    return clean(request.query_params.get("motif"))


def log_case_access(
    request: Request, caller: Principal, case_id: UUID, purpose: str, outcome: str
) -> None:
    """Every access to a case, granted or not: who, as what, which case, why; one row of the
    access log (`adapters.access_log`) and one log line. The row is written before the answer:
    when the store refuses it, the access fails with it (503, or 500) rather than going
    unrecorded."""
    motif = access_motif(request)
    log.info(
        "case.access",
        user=caller.sub,
        roles=sorted(r.value for r in caller.roles),
        structures=sorted(caller.structures),
        case_id=str(case_id),
        method=request.method,
        path=request.url.path,
        reason=motif or purpose[:MOTIF_LENGTH],
        outcome=outcome,
    )
    app: Parcours = request.app.state.parcours
    AccessLog.of(app).record(
        Acces(
            at=app.clock(),
            agent=caller.sub,
            roles=sorted(r.value for r in caller.roles),
            structures=sorted(caller.structures),
            case_id=case_id,
            method=request.method,
            path=request.url.path,
            purpose=purpose[:MOTIF_LENGTH],
            motif=motif,
            outcome=outcome,
            request_id=getattr(request.state, "request_id", None),
        )
    )
