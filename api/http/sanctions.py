"""Routes of the EP procedure and the sanctions: a person's situation on a date, the EP's
worklist, the sanction indicators (as known at an instant where it applies), and the EP's
sessions with their agenda and minutes as HTML."""

from datetime import date
from typing import Annotated, Any
from uuid import UUID

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from adapters.render.ep_html import Document, html, ordre_du_jour, proces_verbal
from api.http.access import READ_ROLES, folding
from api.http.auth import Role
from api.http.cases import admitted_history
from api.http.deps import Authored, Caller, Store, require
from api.http.limits import read_json
from api.http.params import AccessMotif, AccessReason, AsOf, KnownAt
from api.http.problems import ProblemError
from api.http.responses import MsgspecJSONResponse
from api.http.schemas import error_responses, json_response, request_body
from api.services import sanctions as service
from api.services.ep_sessions import (
    hold_session,
    programme_session,
    session_of,
    session_with_points,
)
from domain.ep import Session
from projections.ep_seances import Seance
from projections.sanctions import IndicateursSanctions, LigneEp, MotifEp, SituationDossier

EP_READERS = frozenset({Role.ORIENTATION, Role.AUDITEUR})
"""Who reads the EP's worklist, indicators and sessions (and its screen, `api.web.ep`)."""

cases = APIRouter(prefix="/dossiers", tags=["dossiers"])
router = APIRouter(
    prefix="/ep",
    tags=["EP et sanctions"],
    dependencies=[Depends(require(*EP_READERS))],
)

_SITUATION_EXAMPLE: dict[str, Any] = {
    "case_id": "0b7c3a9e-4f7e-4c8e-9d4a-2f1e6b5c7d80",
    "jour": "2025-08-15",
    "sanctions": {
        "jour": "2025-08-15",
        "pourcentage_suspendu": 0,
        "radie": False,
        "sanctions": [
            {
                "numero": 1,
                "type_sanction": "suspension_remobilisation",
                "regime": "suspension-remobilisation-2025",
                "decidee_le": "2025-07-25",
                "date_debut": "2025-08-01",
                "date_fin": "2025-08-10",
                "pourcentage": 50,
                "duree_mois": 2,
                "montant_mensuel_suspendu": 32315,
                "en_vigueur": False,
                "mois_suspendus": 1,
                "montant_suspendu": 32315,
                "remobilise_le": "2025-08-10",
                "montant_rembourse": 32315,
                "montant_perdu": 0,
            }
        ],
    },
    "saisines": [],
    "contrat_engagement": None,
}


@cases.get(
    "/{case_id}/sanctions",
    summary="Sanctions en vigueur à une date (part, mois, montants suspendus, reversés, perdus), "
    "saisines de l'EP et contrat d'engagement, tels que connus à un instant",
    responses={
        200: json_response(SituationDossier, "Situation à la date", _SITUATION_EXAMPLE),
        **error_responses(401, 403, 404, 409, 422),
    },
    dependencies=[Depends(require(*READ_ROLES))],
)
def get_situation(
    request: Request,
    app: Store,
    case_id: UUID,
    caller: Caller,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    reason: AccessReason = None,
    motif: AccessMotif = None,
) -> Response:
    history = admitted_history(request, app, caller, case_id, "lecture des sanctions du dossier")
    with folding(case_id):
        found = service.situation(app, history, as_of or app.today(), known_at)
    return MsgspecJSONResponse(found)


@router.get(
    "/a-traiter",
    summary="Saisines sans séance, avis sans décision, observations attendues, suspensions "
    "se terminant, remobilisations à vérifier",
    responses={
        200: json_response(list[LigneEp], "Les lignes, échéance la plus proche d'abord", []),
        **error_responses(401, 403, 422),
    },
)
async def get_worklist(
    app: Store,
    ep_id: Annotated[str | None, Query(max_length=80, description="Une EP")] = None,
    motif: Annotated[list[MotifEp] | None, Query(description="Ne garder que ces motifs")] = None,
    as_of: AsOf = None,
) -> Response:
    lines = await run_in_threadpool(
        service.worklist, app, as_of or app.today(), ep_id, frozenset(motif or ())
    )
    return MsgspecJSONResponse(lines)


@router.get(
    "/indicateurs",
    summary="Sanctions par type et régime, part remobilisée, délais du manquement à la "
    "décision, avis de l'EP suivis, pour les décisions d'une période, tels que connus à un "
    "instant",
    responses={
        200: json_response(IndicateursSanctions, "Les indicateurs", None),
        **error_responses(401, 403, 422),
    },
)
async def get_indicators(
    app: Store,
    du: Annotated[date, Query(description="Premier jour de la période des décisions")],
    au: Annotated[date, Query(description="Dernier jour de la période des décisions")],
    known_at: KnownAt = None,
) -> Response:
    if au < du:
        raise ProblemError(
            422, "periode_invalide", "Période invalide", "La fin précède le début.", "au"
        )
    found = await run_in_threadpool(service.statistics, app, du, au, known_at)
    return MsgspecJSONResponse(found)


# --- the EP's sessions ----------------------------------------------------------------------

_writers = [Depends(require(Role.ORIENTATION))]


class Programmation(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    ep_id: str
    date_session: date
    lieu: str | None = None
    effective_on: date


class Tenue(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    membres: list[str]
    effective_on: date


_PROGRAMMATION = {
    "ep_id": "ep-creteil",
    "date_session": "2025-07-15",
    "lieu": "Hôtel du département, salle 3",
    "effective_on": "2025-06-02",
}
_TENUE = {
    "membres": ["présidente: Mme A.", "CAF: M. B.", "France Travail: Mme C."],
    "effective_on": "2025-07-15",
}


def _unknown_session(session_id: str) -> ProblemError:
    return ProblemError(
        404, "seance_inconnue", "Séance inconnue", f"Aucune séance {session_id!r}.", "session_id"
    )


@router.put(
    "/seances/{session_id}",
    summary="Programmer (ou déplacer) une séance d'une équipe pluridisciplinaire",
    dependencies=_writers,
    openapi_extra=request_body(Programmation, _PROGRAMMATION),
    responses={
        200: json_response(Session, "Séance déplacée", None),
        201: json_response(Session, "Séance programmée", None),
        **error_responses(400, 401, 403, 422),
    },
)
async def put_session(session_id: str, request: Request, app: Store, author: Authored) -> Response:
    body = await read_json(request, Programmation)
    found, created = await run_in_threadpool(
        programme_session,
        app,
        body.ep_id,
        session_id,
        body.date_session,
        body.lieu,
        body.effective_on,
        author,
    )
    return MsgspecJSONResponse(found, 201 if created else 200)


@router.post(
    "/seances/{session_id}/tenue",
    summary="Enregistrer la tenue d'une séance et ses membres présents",
    dependencies=_writers,
    openapi_extra=request_body(Tenue, _TENUE),
    responses={
        200: json_response(Session, "Séance tenue", None),
        **error_responses(400, 401, 403, 404, 422),
    },
)
async def post_held(session_id: str, request: Request, app: Store, author: Authored) -> Response:
    body = await read_json(request, Tenue)
    if session_of(app, session_id) is None:
        raise _unknown_session(session_id)
    found = await run_in_threadpool(
        hold_session, app, session_id, body.membres, body.effective_on, author
    )
    return MsgspecJSONResponse(found)


def _seance(app: Store, session_id: str) -> Seance:
    found = session_of(app, session_id)
    if found is None:
        raise _unknown_session(session_id)
    return session_with_points(app, found)


@router.get(
    "/seances/{session_id}",
    summary="Une séance et les saisines inscrites à son ordre du jour (avis, décisions)",
    responses={200: json_response(Seance, "Séance", None), **error_responses(401, 403, 404, 422)},
)
def get_session(session_id: str, app: Store) -> Response:
    return MsgspecJSONResponse(_seance(app, session_id))


_DOCUMENT = {
    "description": "Page HTML à imprimer, ou PDF (`Accept: application/pdf` ou `?format=pdf`)",
    "content": {"text/html": {}, "application/pdf": {}},
}
Format = Annotated[
    str | None,
    Query(
        alias="format",
        description="`html` (défaut) ou `pdf`; sans lui, l'en-tête Accept décide",
    ),
]


def _wants_pdf(request: Request, format_: str | None) -> bool:
    """`?format=` first, then an Accept header naming PDF before (or without) HTML."""
    if format_ is not None:
        if format_ not in ("html", "pdf"):
            raise ProblemError(
                422,
                "format_inconnu",
                "Format inconnu",
                f"Format {format_!r}: attendu html ou pdf.",
                "format",
            )
        return format_ == "pdf"
    accept = request.headers.get("accept", "")
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if "application/pdf" not in kinds:
        return False
    return "text/html" not in kinds or kinds.index("application/pdf") < kinds.index("text/html")


async def _document(request: Request, format_: str | None, document: Document) -> Response:
    if not _wants_pdf(request, format_):
        return HTMLResponse(html(document))
    from adapters.render.ep_pdf import pdf

    body = await run_in_threadpool(pdf, document)
    name = document.titre.split("séance ")[-1]
    kind = "ordre-du-jour" if document.titre.startswith("Ordre") else "proces-verbal"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{kind}-{name}.pdf"'},
    )


@router.get(
    "/seances/{session_id}/ordre-du-jour",
    summary="L'ordre du jour d'une séance, en HTML ou en PDF",
    response_class=HTMLResponse,
    responses={200: _DOCUMENT, **error_responses(401, 403, 404, 422)},
)
async def get_agenda(
    session_id: str, request: Request, app: Store, format_: Format = None
) -> Response:
    found = await run_in_threadpool(_seance, app, session_id)
    return await _document(request, format_, ordre_du_jour(found))


@router.get(
    "/seances/{session_id}/proces-verbal",
    summary="Le procès-verbal d'une séance tenue (avis et décisions), en HTML ou en PDF",
    response_class=HTMLResponse,
    responses={200: _DOCUMENT, **error_responses(401, 403, 404, 409, 422)},
)
async def get_minutes(
    session_id: str, request: Request, app: Store, format_: Format = None
) -> Response:
    found = await run_in_threadpool(_seance, app, session_id)
    if found.session.tenue_le is None:
        raise ProblemError(
            409,
            "seance_non_tenue",
            "Séance non tenue",
            f"La séance {session_id!r} ne s'est pas encore tenue.",
            "session_id",
        )
    return await _document(request, format_, proces_verbal(found))
