"""Routes for auditors: the whole département's case states as of a day and as known at a
moment, what changed since a moment and why, a case's history to file (JSON or HTML), and the
log of a recording-time window as JSON lines. Read only."""

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from adapters.eventlog.reading import case_history
from adapters.readmodels.quarantine import Quarantined
from adapters.render.audit_html import render
from api.http.access import check_case, folding, unknown_case
from api.http.auth import Role
from api.http.deps import Caller, Quarantine, Store, require
from api.http.params import AsOf, InWindow, KnownAt, Page, Paged, Then
from api.http.problems import ProblemError
from api.http.responses import MsgspecJSONResponse, content_disposition
from api.http.schemas import error_responses, json_response
from api.services.audit import (
    CaseChange,
    aware,
    case_at,
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


class AuditPage(Page[CaseRow], frozen=True, kw_only=True):
    position: int
    """The last log position folded (the prefix known at `known_at`)."""
    known_at: datetime | None
    as_of: date | None
    quarantaine: list[UUID] = msgspec.field(default_factory=list)
    """Cases left out of the listing: their history cannot be folded (see `parcours status`)."""


class DiffPage(Page[CaseChange], frozen=True, kw_only=True):
    """A page of the changes (`items`), with what they were compared between."""

    known_at: datetime
    as_of: date | None
    position_then: int
    position_now: int
    quarantaine: list[UUID] = msgspec.field(default_factory=list)
    """Cases left out of the comparison: their history, then or now, cannot be folded."""


class QuarantinePage(Page[Quarantined], frozen=True, kw_only=True):
    pass


@router.get(
    "/quarantaine",
    summary="Les dossiers qu'une projection tient en quarantaine (événement inapplicable)",
    responses={
        200: json_response(QuarantinePage, "Dossiers en quarantaine, par position", None),
        **error_responses(401, 403),
    },
)
def quarantine(held: Quarantine, paging: Paged) -> Response:
    """Which case each read model set aside, at which event and why: what to correct (void
    the step) so that the case is folded again."""
    entries = held.entries()
    return MsgspecJSONResponse(paging.cut(QuarantinePage, entries))


@router.get(
    "/dossiers",
    summary="Tous les dossiers tels qu'à une date d'effet, connus à un instant (paginés)",
    responses={
        200: json_response(AuditPage, "Page de dossiers", None),
        **error_responses(401, 403, 422),
    },
)
def audit_cases(
    app: Store,
    paging: Paged,
    known_at: KnownAt = None,
    as_of: AsOf = None,
    structure_id: str | None = None,
    referent_id: str | None = None,
    statut: Statut | None = None,
) -> Response:
    states = states_at(app, known_at, as_of)
    rows = [
        r
        for r in sorted_rows(states.rows)
        if (structure_id is None or r.structure_id == structure_id)
        and (referent_id is None or r.referent_id == referent_id)
        and (statut is None or r.statut is statut)
    ]
    page = paging.cut(
        AuditPage,
        rows,
        position=states.position,
        known_at=known_at,
        as_of=as_of,
        quarantaine=states.quarantaine,
    )
    return MsgspecJSONResponse(page)


@router.get(
    "/diff",
    summary="Dossiers dont l'état a changé depuis un instant: champs et événements en cause",
    responses={
        200: json_response(DiffPage, "Différences", None),
        **error_responses(401, 403, 422),
    },
)
def audit_diff(app: Store, known_at: Then, paging: Paged, as_of: AsOf = None) -> Response:
    result = diff(app, known_at, as_of)
    explained = [explain(app, change, result.known_at) for change in paging.window(result.changes)]
    page = paging.page(
        DiffPage,
        explained,
        len(result.changes),
        known_at=result.known_at,
        as_of=result.as_of,
        position_then=result.position_then,
        position_now=result.position_now,
        quarantaine=result.quarantaine,
    )
    return MsgspecJSONResponse(page)


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
    app: Store,
    case_id: UUID,
    caller: Caller,
    format: Literal["json", "html"] = "json",
    known_at: KnownAt = None,
    as_of: AsOf = None,
) -> Response:
    check_case(request, caller, case_id, AUDIT_ROLES, {}, "export d'audit du dossier")
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
    app: Store,
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
