"""Routes for auditors: the whole département's case states as of a day and as known at a
moment, what changed since a moment and why, a case's history to file (JSON or HTML), and the
log of a recording-time window as JSON lines. Read only."""

from datetime import date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from adapters.eventlog.store import Parcours
from adapters.readmodels.quarantine import Quarantined
from adapters.render.audit_html import render
from api.http.access import check_case, folding, unknown_case
from api.http.auth import Caller, Role, require
from api.http.limits import content_disposition
from api.http.problems import ProblemError
from api.http.schemas import AsOf, InWindow, KnownAt, Offset, error_responses, json_response
from api.services.audit import (
    Diff,
    aware,
    case_at,
    case_history,
    diff,
    explain,
    export,
    export_json,
    log_lines,
    log_window,
    sorted_rows,
    states_at,
)
from domain.dossier import Statut
from projections.case_state import CaseRow
from projections.timeline import CaseExport

AUDIT_ROLES = frozenset({Role.AUDITEUR, Role.ADMIN})

router = APIRouter(
    prefix="/audit",
    tags=["audit"],
    dependencies=[Depends(require(*AUDIT_ROLES))],
)

Limit = Annotated[int, Query(ge=1, le=1000)]


class AuditPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[CaseRow]
    total: int
    limit: int
    offset: int
    position: int
    """The last log position folded (the prefix known at `known_at`)."""
    known_at: datetime | None
    as_of: date | None
    quarantaine: list[UUID] = []
    """Cases left out of the listing: their history cannot be folded (see `parcours status`)."""


class DiffPage(msgspec.Struct, frozen=True, kw_only=True):
    diff: Diff
    total: int
    limit: int
    offset: int


def _json(payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(msgspec.json.encode(payload), media_type="application/json", headers=headers)


def _app(request: Request) -> Parcours:
    app: Parcours = request.app.state.parcours
    return app


class QuarantinePage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[Quarantined]
    total: int


@router.get(
    "/quarantaine",
    summary="Les dossiers qu'une projection tient en quarantaine (événement inapplicable)",
    responses={
        200: json_response(QuarantinePage, "Dossiers en quarantaine, par position", None),
        **error_responses(401, 403),
    },
)
def quarantine(request: Request) -> Response:
    """Which case each read model set aside, at which event and why: what to correct (void
    the step) so that the case is folded again."""
    entries = request.app.state.projector.quarantine.entries()
    return _json(QuarantinePage(items=entries, total=len(entries)))


@router.get(
    "/dossiers",
    summary="Tous les dossiers tels qu'à une date d'effet, connus à un instant (paginés)",
    responses={
        200: json_response(AuditPage, "Page de dossiers", None),
        **error_responses(401, 403, 422),
    },
)
def audit_cases(
    request: Request,
    caller: Caller,
    known_at: KnownAt = None,
    as_of: AsOf = None,
    structure_id: str | None = None,
    referent_id: str | None = None,
    statut: Statut | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    app = _app(request)
    states = states_at(app, known_at, as_of)
    rows = [
        r
        for r in sorted_rows(states.rows)
        if (structure_id is None or r.structure_id == structure_id)
        and (referent_id is None or r.referent_id == referent_id)
        and (statut is None or r.statut is statut)
    ]
    return _json(
        AuditPage(
            items=rows[offset : offset + limit],
            total=len(rows),
            limit=limit,
            offset=offset,
            position=states.position,
            known_at=known_at,
            as_of=as_of,
            quarantaine=states.quarantaine,
        )
    )


@router.get(
    "/diff",
    summary="Dossiers dont l'état a changé depuis un instant: champs et événements en cause",
    responses={
        200: json_response(DiffPage, "Différences", None),
        **error_responses(401, 403, 422),
    },
)
def audit_diff(
    request: Request,
    caller: Caller,
    known_at: Annotated[
        datetime, Query(description="L'instant comparé à maintenant (ISO 8601)"), InWindow
    ],
    as_of: AsOf = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    app = _app(request)
    result = diff(app, known_at, as_of)
    page = [
        explain(app, change, result.known_at) for change in result.changes[offset : offset + limit]
    ]
    return _json(
        DiffPage(
            diff=msgspec.structs.replace(result, changes=page),
            total=len(result.changes),
            limit=limit,
            offset=offset,
        )
    )


@router.get(
    "/dossiers/{case_id}/export",
    summary="Historique complet d'un dossier à classer (JSON ou HTML)",
    responses={
        200: {
            "description": "L'historique, l'état et la chronologie avec les corrections",
            "content": {
                "application/json": {"schema": {"type": "object"}},
                "text/html": {"schema": {"type": "string"}},
            },
        },
        **error_responses(401, 403, 404, 409, 422),
    },
)
def audit_export(
    request: Request,
    case_id: UUID,
    caller: Caller,
    format: Literal["json", "html"] = "json",
    known_at: KnownAt = None,
    as_of: AsOf = None,
) -> Response:
    app = _app(request)
    check_case(request, caller, case_id, AUDIT_ROLES, None, "export d'audit du dossier")
    history = case_history(app, case_id)
    if not history:
        raise unknown_case(case_id)
    with folding(case_id):
        at = case_at(app, case_id, as_of, known_at, history)
    document: CaseExport = export(app, at, caller.sub)
    name = f"dossier-{case_id}"
    if format == "html":
        return Response(
            render(document),
            media_type="text/html; charset=utf-8",
            headers={"Content-Disposition": content_disposition(f"{name}.html", "inline")},
        )
    return Response(
        export_json(document),
        media_type="application/json",
        headers={"Content-Disposition": content_disposition(f"{name}.json")},
    )


@router.get(
    "/journal",
    summary="Le journal d'une fenêtre de temps d'enregistrement, en lignes JSON (flux)",
    responses={
        200: {
            "description": "Une ligne par événement, dans l'ordre du journal: position, dossier, "
            "version, type, date d'effet, date d'enregistrement, contenu",
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        },
        **error_responses(401, 403, 422),
    },
)
async def audit_log(
    request: Request,
    caller: Caller,
    start: Annotated[
        datetime | None,
        Query(alias="from", description="Connus après cet instant (défaut: le début)"),
        InWindow,
    ] = None,
    end: Annotated[
        datetime | None,
        Query(alias="to", description="Connus à cet instant au plus tard (défaut: maintenant)"),
        InWindow,
    ] = None,
) -> StreamingResponse:
    app = _app(request)
    if start is not None and end is not None and aware(app, end) < aware(app, start):
        raise ProblemError(
            422, "fenetre_inversee", "Fenêtre inversée", "`to` précède `from`.", "to"
        )
    window = await run_in_threadpool(log_window, app, start, end)
    return StreamingResponse(
        log_lines(app, window),
        media_type="application/x-ndjson",
        headers={"X-Log-After": str(window.after), "X-Log-Until": str(window.stop)},
    )
