"""FastAPI application factory: wires the store, the projector, logging and error handling."""

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import APIRouter, Depends, FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline

from adapters import tracing
from adapters.connectors.rdv_insertion_store import RdviStore
from adapters.eventlog.store import STORE_ERRORS, Parcours
from adapters.identity import IdentityStore
from adapters.migrations import migrate
from adapters.readmodels.projector import Health, Projector
from adapters.readmodels.projector import health as projection_health
from adapters.readmodels.versions import upgrade_read_models
from adapters.settings import Settings
from adapters.tokens import TokenVerifier
from api.http import (
    agents,
    audit,
    cases,
    connectors_rdvi,
    evaluation,
    finance,
    flux,
    metrics,
    sanctions,
    search,
    statistics,
    structures,
    subscriptions,
    worklists,
)
from api.http.deps import ReadModel, authenticate, undeclared
from api.http.limits import Edge, check_parameters
from api.http.problems import HANDLERS
from api.http.responses import MsgspecJSONResponse
from api.http.schemas import COMPONENTS, json_response
from api.services.connectors_rdvi import RdviConnector
from api.web import administration as administration_screen
from api.web import audit as audit_screen
from api.web import corrections as corrections_screen
from api.web import ep as ep_screen
from api.web import finance as finance_screen
from api.web import rdv_insertion as rdvi_screen
from api.web import recherche as search_screen
from api.web import router as web
from api.web import statistiques as statistics_screen

log = structlog.get_logger("api")

ROUTERS: list[APIRouter] = [
    cases.router,
    sanctions.cases,
    sanctions.router,
    flux.router,
    evaluation.router,
    statistics.router,
    worklists.router,
    search.router,
    audit.router,
    audit.people,
    finance.router,
    structures.router,
    agents.router,
    subscriptions.router,
    connectors_rdvi.door,
    connectors_rdvi.router,
    metrics.router,
]
"""One router per user group (cases, worklists, statistics, finance, audit, evaluation, admin)."""

DOCS_STATIC = "/docs/static"
"""Swagger UI's and ReDoc's scripts and styles, served by parcours itself (from the
fastapi-offline package) rather than a CDN, so that `/docs` and `/redoc` work on an intranet
without internet. A static mount: no route dependency runs there, so it is open like `/docs`."""


def index_identities(app: FastAPI, store: Parcours) -> None:
    """Index for the search the identities stored before it existed (none once done): at
    start, so a server upgraded finds everyone; a store down now is said and left to
    `parcours identites indexer`."""
    try:
        vault = IdentityStore(store.settings)
        count = vault.index_missing()
    except STORE_ERRORS as e:
        log.warning("identities.index_skipped", error=type(e).__name__)
        return
    app.state.identities = vault
    if count:
        log.info("identities.indexed", count=count)


def follow(projector: Projector, stop: threading.Event) -> None:
    """The in-process projector: read models whose version changed rebuilt and swapped in
    (retried while the store fails; reads go on meanwhile), then the log followed."""
    wait = 0.5
    while not stop.is_set():
        try:
            upgrade_read_models(projector.app)
            break
        except STORE_ERRORS as e:
            log.warning("read_model.upgrade_failed", error=str(e))
            stop.wait(wait)
            wait = min(30.0, wait * 2)
    projector.run_forever(stop)


def create_app(
    settings: Settings | None = None,
    parcours: Parcours | None = None,
    *,
    run_projector: bool = False,
) -> FastAPI:
    """Build the API. With `run_projector`, the read model is kept up to date in a thread of
    this process (the demo); otherwise a separate `parcours project` worker does it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        migrate(resolved)  # the schema first; a database newer than this release stops here
        store = parcours or Parcours(resolved)
        projector = Projector(store)
        app.state.parcours = store
        app.state.projector = projector
        index_identities(app, store)
        stop = threading.Event()
        workers = []
        if store.settings.rdvi_secrets:  # its tables, before the first delivery
            app.state.rdvi = RdviConnector(store, RdviStore(store.settings, pooled=True))
        if run_projector:
            workers.append(threading.Thread(target=follow, args=(projector, stop)))
            if store.settings.rdvi_secrets:  # the rdv-insertion inbox, as the worker does
                workers.append(threading.Thread(target=app.state.rdvi.run_forever, args=(stop,)))
        for worker in workers:
            worker.daemon = True
            worker.start()
        try:
            yield
        finally:
            stop.set()
            for worker in workers:
                worker.join(timeout=5)
            vault = getattr(app.state, "identities", None)
            if vault is not None:
                vault.close()  # its pooled connections (`api.http.deps.identities`)
            connector = getattr(app.state, "rdvi", None)
            if connector is not None:
                connector.store.close()
            if parcours is None:
                store.close()

    resolved = settings or (parcours.settings if parcours else Settings.from_env())
    resolved.check_start()
    tracing.configure()
    app = FastAPIOffline(
        static_url=DOCS_STATIC,
        dependencies=[Depends(authenticate), Depends(check_parameters)],
        title="parcours",
        version="0.2.0",
        description="Le parcours d'insertion des allocataires du RSA, étape par étape.",
        lifespan=lifespan,
        default_response_class=MsgspecJSONResponse,
    )
    app.state.verifier = TokenVerifier(resolved)
    app.add_middleware(Edge)
    for exc, handler in HANDLERS.items():
        app.add_exception_handler(exc, handler)
    for router in ROUTERS:
        app.include_router(router)
    web.install(app)
    app.include_router(statistics_screen.router)
    app.include_router(administration_screen.router)
    app.include_router(finance_screen.router)
    app.include_router(audit_screen.router)
    app.include_router(corrections_screen.router)
    app.include_router(search_screen.router)
    app.include_router(rdvi_screen.router)
    app.include_router(ep_screen.router)

    @app.get(
        "/health",
        tags=["santé"],
        summary="Le stockage répond et chaque projection suit le journal, sans dossier en "
        "quarantaine (503 sinon, avec les raisons)",
        responses={
            200: json_response(Health, "Chaque projection suit le journal", None),
            503: json_response(
                Health, "Une projection est en retard ou tient des dossiers en quarantaine", None
            ),
        },
    )
    def health(model: ReadModel) -> MsgspecJSONResponse:
        report = projection_health(model).without_cases()
        return MsgspecJSONResponse(report, 200 if report.status == "ok" else 503)

    @app.get("/health/live", tags=["santé"], summary="Le processus répond (vivacité)")
    def live() -> dict[str, str]:
        return {"status": "ok"}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    if missing := undeclared(app):
        raise RuntimeError(f"routes without declared roles: {', '.join(missing)}")
    return app
