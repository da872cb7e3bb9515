"""Routes of the EP procedure and the sanctions: a person's situation on a date, the EP's
worklist, the sanction indicators (all as known at an instant where it applies)."""

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.http.access import READ_ROLES, folding
from api.http.auth import Role
from api.http.cases import admitted_history
from api.http.deps import Caller, Store, require
from api.http.params import AccessMotif, AccessReason, AsOf, KnownAt
from api.http.problems import ProblemError
from api.http.responses import MsgspecJSONResponse
from api.http.schemas import error_responses, json_response
from api.services import sanctions as service
from projections.sanctions import IndicateursSanctions, LigneEp, MotifEp, SituationDossier

cases = APIRouter(prefix="/dossiers", tags=["dossiers"])
router = APIRouter(
    prefix="/ep",
    tags=["EP et sanctions"],
    dependencies=[Depends(require(Role.ORIENTATION, Role.AUDITEUR))],
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
