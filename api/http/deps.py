"""What a route needs, as typed dependencies: the application (the event store), its settings,
the projector and its quarantine, the identity vault, the flux reports, the finance and
statistics services, and the caller with the roles the route admits. Routes name these types
(`store: Store`, `caller: Caller`) and never read `request.app.state` themselves.

Every route but the open ones declares the roles it admits, on the route or on its router:

    router = APIRouter(dependencies=[Depends(require(Role.FINANCE, Role.AUDITEUR))])

`create_app` refuses to build an application with a route that declares none."""

from collections.abc import Callable, Iterator
from typing import Annotated, NamedTuple, TypeVar

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.connectors.rdv_insertion_store import RdviStore
from adapters.eventlog.store import Parcours
from adapters.flux.reports import ReportStore
from adapters.identity import IdentityStore
from adapters.metrics.stored import StoreCollector
from adapters.readmodels.projector import Projector
from adapters.readmodels.quarantine import QuarantineStore
from adapters.settings import Settings
from adapters.tokens import InvalidToken, TokenVerifier
from adapters.webhooks.state import DeliveryState
from api.http.auth import (
    OPEN_PATHS,
    SCREENS,
    Principal,
    Role,
    forbidden,
    principal_from_claims,
    principal_from_registry,
    unauthenticated,
)
from api.http.problems import ProblemError
from api.services.agents import rights_of
from api.services.commands import Author
from api.services.connectors_rdvi import RdviConnector
from api.services.finance import Finance
from api.services.statistics import Statistiques

log = structlog.get_logger("access")
T = TypeVar("T")

# --- the application's parts ----------------------------------------------------------------


def parcours(request: Request) -> Parcours:
    store: Parcours = request.app.state.parcours
    return store


Store = Annotated[Parcours, Depends(parcours)]


def settings(store: Store) -> Settings:
    return store.settings


AppSettings = Annotated[Settings, Depends(settings)]


def projector(request: Request) -> Projector:
    found: Projector = request.app.state.projector
    return found


ReadModel = Annotated[Projector, Depends(projector)]


def quarantine(model: ReadModel) -> QuarantineStore:
    return model.quarantine


Quarantine = Annotated[QuarantineStore, Depends(quarantine)]


def _once(request: Request, name: str, make: Callable[[Parcours], T]) -> T:
    """One per application, made on first use from the store."""
    state = request.app.state
    found: T | None = getattr(state, name, None)
    if found is None:
        found = make(request.app.state.parcours)
        setattr(state, name, found)
    return found


def identities(request: Request) -> IdentityStore:
    return _once(request, "identities", lambda app: IdentityStore(app.settings, pooled=True))


Identities = Annotated[IdentityStore, Depends(identities)]
"""The identity vault: who each person is, kept apart from the log so it can be erased."""


def rdvi(request: Request) -> RdviConnector:
    return _once(
        request, "rdvi", lambda app: RdviConnector(app, RdviStore(app.settings, pooled=True))
    )


Rdvi = Annotated[RdviConnector, Depends(rdvi)]
"""rdv-insertion's connector: its inbox, processing and review queue."""


def flux_reports(request: Request) -> ReportStore:
    return _once(request, "flux_reports", lambda app: ReportStore(app.settings))


FluxReports = Annotated[ReportStore, Depends(flux_reports)]


def store_metrics(request: Request, model: ReadModel, reports: FluxReports) -> StoreCollector:
    """The figures `/metrics` reads from the stores, one reader per application."""
    return _once(
        request,
        "store_metrics",
        lambda app: StoreCollector(model, DeliveryState(app.settings), reports),
    )


StoreMetrics = Annotated[StoreCollector, Depends(store_metrics)]


def finance(request: Request) -> Finance:
    return _once(request, "finance", Finance)


Financing = Annotated[Finance, Depends(finance)]


def statistiques(request: Request) -> Statistiques:
    """The rule book is read once per application."""
    return _once(request, "statistiques", Statistiques)


Statistics = Annotated[Statistiques, Depends(statistiques)]


def under_rules(stats: Statistiques, regles: str | None) -> Statistiques:
    """The statistics, once the rule set asked for (`regles`) is known to exist."""
    if regles is not None and regles not in stats.reglement.noms:
        known = ", ".join(stats.reglement.noms)
        raise ProblemError(
            422,
            "regles_inconnues",
            "Règles inconnues",
            f"{regles!r}: choisir parmi {known}.",
            "regles",
        )
    return stats


def verifier(request: Request) -> TokenVerifier:
    found: TokenVerifier = request.app.state.verifier
    return found


Verifier = Annotated[TokenVerifier, Depends(verifier)]

# --- the caller -----------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="Jeton JWT du fournisseur d'identité")


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    tokens: Verifier,
) -> None:
    """App-level dependency: every route but the open ones needs a valid token (the screens
    and `/` check their session themselves). In oidc mode the caller's roles and structures
    are those the registry of rights gives it today, by `sub` or `email`: a revocation holds
    from the next request."""
    path = request.url.path
    if path in OPEN_PATHS or path.startswith(f"{SCREENS}/"):
        return
    if credentials is None:
        raise unauthenticated("Un jeton Bearer est requis (en-tête Authorization).")
    try:
        claims = tokens.verify(credentials.credentials)
    except InvalidToken as e:
        log.warning("auth.refused", path=request.url.path, reason=str(e))
        raise unauthenticated(f"Jeton refusé: {e}.") from None
    store: Parcours = request.app.state.parcours
    if store.settings.auth_mode == "oidc":
        email = claims.get("email")
        droits = rights_of(
            store, str(claims["sub"]), email if isinstance(email, str) else None, store.today()
        )
        principal = principal_from_registry(claims, droits)
    else:
        principal = principal_from_claims(claims)
    request.state.principal = principal
    structlog.contextvars.bind_contextvars(user=principal.sub)


def principal(request: Request) -> Principal:
    found: Principal | None = getattr(request.state, "principal", None)
    if found is None:  # an open route asking for a caller
        raise unauthenticated("Un jeton Bearer est requis (en-tête Authorization).")
    return found


Caller = Annotated[Principal, Depends(principal)]


def author(request: Request, caller: Caller) -> Author:
    """Who records a write: the caller, its structure when it has only one, the request."""
    return Author(
        user=caller.sub, structure_id=caller.primary_structure, request_id=request.state.request_id
    )


Authored = Annotated[Author, Depends(author)]


class Require:
    """A dependency admitting callers with at least one of `roles`; 403 otherwise. The roles
    stay readable on the route, so that a route without any is found (`undeclared`)."""

    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles

    def __call__(self, caller: Caller) -> Principal:
        if caller.roles.isdisjoint(self.roles):
            names = ", ".join(sorted(self.roles))
            raise forbidden(f"Réservé aux rôles: {names}.")
        return caller


class CheckedOnCase(Require):
    """The roles a case route admits, declared on the route but checked by the route itself
    (`api.http.access.check_case`) once the case is known, so that a refusal is written to the
    access log with the case it was about, as every access to a case is."""

    def __call__(self, caller: Caller) -> Principal:
        return caller


def require(*roles: Role) -> Require:
    if not roles:
        raise ValueError("a route admits at least one role")
    return Require(frozenset(roles))


def checked_on_case(*roles: Role) -> CheckedOnCase:
    if not roles:
        raise ValueError("a route admits at least one role")
    return CheckedOnCase(frozenset(roles))


def declared_roles(dependant: Dependant) -> list[frozenset[Role]]:
    """The role sets a route's dependencies (its own and its router's) declare."""
    found = [d.call.roles for d in dependant.dependencies if isinstance(d.call, Require)]
    for sub in dependant.dependencies:
        found.extend(declared_roles(sub))
    return found


class Route(NamedTuple):
    method: str
    path: str
    dependant: Dependant
    """Its dependencies with its routers' (those of the route alone when not included)."""


def api_routes(app: FastAPI) -> Iterator[Route]:
    """Every operation of the application, routers included."""
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, APIRoute):
            dependant = context.dependant or context.original_route.dependant
            for method in sorted(context.methods or ()):
                yield Route(method, context.path or "", dependant)


def undeclared(app: FastAPI) -> list[str]:
    """The routes, other than the open ones, that declare no roles."""
    return [
        f"{route.method} {route.path}"
        for route in api_routes(app)
        if route.path not in OPEN_PATHS and not declared_roles(route.dependant)
    ]
