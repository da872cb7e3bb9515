"""Routes for auditors: the whole département's case states as of a day and as known at a
moment, what changed since a moment and why, a case's history to file (JSON or HTML), the
log of a recording-time window as JSON lines, the access log (who opened which case, and
for a person, who consulted their file), and the log's signed checkpoints. Read only, but for
a checkpoint signed on demand."""

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from adapters.access_log import Acces, AccessFilter
from adapters.eventlog.chain import PointDeControle
from adapters.eventlog.reading import case_history
from adapters.eventlog.store import Parcours
from adapters.readmodels.quarantine import Quarantined
from adapters.render.audit_html import render
from adapters.render.csv import access_csv
from api.http.access import check_case, folding, unknown_case
from api.http.auth import Role
from api.http.deps import Caller, Quarantine, Store, require
from api.http.params import (
    AccessMotif,
    AccessReason,
    AsOf,
    InWindow,
    KnownAt,
    Page,
    Paged,
    Paging,
    Then,
)
from api.http.problems import ProblemError
from api.http.responses import (
    MsgspecJSONResponse,
    content_disposition,
    csv_response,
    wants_csv,
)
from api.http.schemas import error_responses, json_response
from api.services import ledger
from api.services.audit import (
    CaseChange,
    access_filter,
    accesses,
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
    reason: AccessReason = None,
    motif: AccessMotif = None,
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


# --- the access log ---------------------------------------------------------------------------

MAX_CSV_ROWS = 100_000
"""The most accesses one CSV download holds: a longer selection is narrowed (`du`, `au`)."""


class AccessPage(Page[Acces], frozen=True, kw_only=True):
    pass


DuQ = Annotated[date | None, Query(description="Premier jour (heure du département)"), InWindow]
AuQ = Annotated[
    date | None, Query(description="Dernier jour inclus (heure du département)"), InWindow
]
_ACCESS_DOC = (
    "Une ligne par accès à un dossier (état, chronologie, identité, écran, export, étape), "
    "accordé ou non: quand (UTC), qui (`sub`), rôles, structures, route, objet, motif donné "
    "(`X-Motif-Acces` ou `motif`), issue (`granted`, `refused`, `hidden`). Les plus récents "
    "d'abord; une page en JSON, toute la sélection en CSV (Accept: text/csv)."
)


def _period(du: date | None, au: date | None) -> None:
    if du is not None and au is not None and au < du:
        raise ProblemError(
            422, "periode_invalide", "Période invalide", f"`au` ({au}) précède `du` ({du}).", "au"
        )


def _access_answer(
    request: Request, app: Parcours, f: AccessFilter, paging: Paging, name: str
) -> Response:
    if wants_csv(request):
        rows, total = accesses(app, f, MAX_CSV_ROWS + 1)
        if total > MAX_CSV_ROWS:
            raise ProblemError(
                422,
                "trop_de_lignes",
                "Trop de lignes",
                f"{total} accès: un fichier en compte au plus {MAX_CSV_ROWS}; réduire la "
                "période (du, au).",
                "du",
            )
        return csv_response(access_csv(rows), f"{name}.csv")
    rows, total = accesses(app, f, paging.limit, paging.offset)
    return MsgspecJSONResponse(paging.page(AccessPage, rows, total))


_ACCESS_RESPONSES = {
    200: {
        **json_response(AccessPage, "Page du journal d'accès", None),
        "content": {
            **json_response(AccessPage, "", None)["content"],
            "text/csv": {"schema": {"type": "string"}},
        },
    },
    **error_responses(401, 403, 422),
}


@router.get(
    "/acces",
    summary="Le journal d'accès aux dossiers: par dossier, par agent, par période (paginé)",
    description=_ACCESS_DOC,
    responses=_ACCESS_RESPONSES,
)
def audit_accesses(
    request: Request,
    app: Store,
    paging: Paged,
    case_id: Annotated[UUID | None, Query(description="Le dossier")] = None,
    agent: Annotated[str | None, Query(max_length=200, description="L'agent (`sub`)")] = None,
    du: DuQ = None,
    au: AuQ = None,
) -> Response:
    _period(du, au)
    f = access_filter(app, case_id, agent, du, au)
    return _access_answer(request, app, f, paging, "journal-acces")


people = APIRouter(
    prefix="/personnes",
    tags=["personnes"],
    dependencies=[Depends(require(Role.AUDITEUR))],
)


@people.get(
    "/{case_id}/consultations",
    summary="Qui a consulté le dossier d'une personne (droit d'accès): les accès accordés",
    description="Les accès accordés au dossier (état, chronologie, identité, écran, export), "
    "les plus récents d'abord: quand, qui, rôles, structures, route, motif. Pour répondre à "
    "la demande d'accès d'une personne. JSON paginé, ou CSV (Accept: text/csv).",
    responses={**_ACCESS_RESPONSES, **error_responses(404)},
)
def person_consultations(
    request: Request,
    app: Store,
    case_id: UUID,
    paging: Paged,
    du: DuQ = None,
    au: AuQ = None,
) -> Response:
    _period(du, au)
    if not case_history(app, case_id):
        raise unknown_case(case_id)
    f = access_filter(app, case_id, None, du, au, outcome="granted")
    return _access_answer(request, app, f, paging, f"consultations-{case_id}")


class PointsPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[PointDeControle]
    """The latest checkpoints, newest first."""
    cle_publique: str
    """The département's Ed25519 public key: every checkpoint verifies against it."""


POINT_EXAMPLE = {
    "position": 945,
    "racine": "521f85f3def551c55aca8fa9cf5fc1abd17bf371b603ad348f87246557b3de41",
    "horodatage": "2026-12-01T20:54:12+00:00",
    "motif": "demande",
    "cle": "5af1c9dfd999789bc7b51cd8b8a6a7a0a7ff8aee306fb71a4d42a62c8000f87a",
    "signature": "cb77e578…1903",
}


@router.get(
    "/points-de-controle",
    summary="Les points de contrôle signés du journal (position, racine de la chaîne, heure)",
    responses={
        200: json_response(PointsPage, "Points de contrôle, du plus récent", None),
        **error_responses(401, 403),
    },
)
def list_checkpoints(app: Store, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
    """What a later reader keeps to prove the log unchanged up to a position (`parcours audit
    verify --point FICHIER`), and the public key they verify against."""
    return MsgspecJSONResponse(
        PointsPage(items=ledger.checkpoints(app, limit), cle_publique=ledger.trusted_key(app))
    )


@router.post(
    "/points-de-controle",
    status_code=201,
    summary="Signer un point de contrôle du journal maintenant",
    responses={
        201: json_response(PointDeControle, "Le point signé et conservé", POINT_EXAMPLE),
        **error_responses(401, 403),
    },
)
def create_checkpoint(app: Store) -> Response:
    """The chain's last link (position, root hash) and the time, signed with the département's
    key and stored; the answer is the file to keep."""
    return MsgspecJSONResponse(ledger.checkpoint(app, "demande"), status_code=201)
