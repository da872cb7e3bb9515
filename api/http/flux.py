"""Routes of the CAF/MSA flux (upload, import reports) and of identity data (read, erase)."""

import tempfile
from pathlib import Path
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.flux.reports import Resume
from api.http.access import READ_ROLES, accompanying, check_case, folding
from api.http.auth import Role, log_case_access
from api.http.deps import Caller, FluxReports, Identities, Store, checked_on_case, require
from api.http.params import AccessMotif, AccessReason, Page, Paged
from api.http.problems import ProblemError
from api.http.responses import MsgspecJSONResponse
from api.http.schemas import error_responses, json_response
from api.services.flux_import import FluxImporter
from domain.dossier import Dossier, fold_history
from domain.events import Recorded

router = APIRouter(tags=["flux"])
_importers = [Depends(require(Role.FLUX, Role.ORIENTATION))]
_report_readers = [Depends(require(Role.FLUX, Role.ORIENTATION, Role.AUDITEUR))]


_REFUS = {
    "flux_non_conforme": "Flux non conforme au schéma vrsb0801",
    "flux_hors_limites": "Flux au-delà des limites de lecture",
    "flux_encodage": "Encodage du flux incohérent",
    "flux_sans_foyer": "Flux sans aucun foyer",
}
"""Title of the problem for each reason a whole file is refused (adapters/flux/reader.py)."""


def _dossier(history: list[Recorded]) -> Dossier:
    return fold_history(history)


class ImportPage(Page[Resume], frozen=True, kw_only=True):
    """The imports, the latest first."""


@router.post(
    "/flux/imports",
    summary="Importer un flux bénéficiaires CAF/MSA (XML vrsb0801, windows-1252)",
    status_code=201,
    responses=error_responses(400, 422),
    dependencies=_importers,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload(
    request: Request,
    app: Store,
    identities: Identities,
    reports: FluxReports,
    fichier: Annotated[str, Query(max_length=200, description="nom du fichier reçu")] = "flux.xml",
    orientation_auto: Annotated[
        bool, Query(description="orientation automatique à l'entrée")
    ] = False,
) -> Response:
    """The body is streamed to a temporary file (a monthly flux may be large), validated whole
    against the schema, then imported; the report is kept and returned."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "flux.xml"
        size = 0
        with path.open("wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                out.write(chunk)
        if size == 0:
            raise ProblemError(
                400, "flux_vide", "Flux vide", "Le corps de la requête est vide.", "body"
            )
        importer = FluxImporter(app, identities, reports, orientation_auto=orientation_auto)
        rapport = await run_in_threadpool(importer.import_file, path, fichier)
    if rapport.statut == "rejete":
        rejet = rapport.rejets[0]
        code = rejet.code or "flux_non_conforme"
        raise ProblemError(
            422,
            code,
            _REFUS.get(code, _REFUS["flux_non_conforme"]),
            f"Ligne {rejet.ligne} du fichier {rapport.fichier}: {rejet.motif}. "
            f"Rien n'a été importé (rapport {rapport.id}).",
            "body",
        )
    return MsgspecJSONResponse(rapport, 201, {"Location": f"/flux/imports/{rapport.id}"})


@router.get(
    "/flux/imports",
    summary="Les imports de flux, les derniers d'abord (paginés)",
    responses={
        200: json_response(ImportPage, "Page d'imports", None),
        **error_responses(401, 403, 422),
    },
    dependencies=_report_readers,
)
def list_imports(reports: FluxReports, paging: Paged) -> Response:
    items, total = reports.page(paging.limit, paging.offset)
    return MsgspecJSONResponse(paging.page(ImportPage, items, total))


@router.get(
    "/flux/imports/{import_id}",
    summary="Le rapport d'un import de flux",
    responses=error_responses(404, 422),
    dependencies=_report_readers,
)
def get_import(reports: FluxReports, import_id: UUID) -> Response:
    rapport = reports.get(import_id)
    if rapport is None:
        raise ProblemError(
            404, "import_inconnu", "Import inconnu", f"Aucun import {import_id}.", "import_id"
        )
    return MsgspecJSONResponse(rapport)


@router.get(
    "/personnes/{case_id}/identite",
    tags=["personnes"],
    summary="Identité d'une personne",
    responses=error_responses(404, 422),
    dependencies=[Depends(checked_on_case(*READ_ROLES))],
)
def get_identity(
    request: Request,
    app: Store,
    identities: Identities,
    caller: Caller,
    case_id: UUID,
    reason: AccessReason = None,
    motif: AccessMotif = None,
) -> Response:
    """Who the person is: for those who follow the case (an agent, its structures' cases)."""
    history = app.history(case_id)
    try:
        with folding(case_id):
            accompagnants = accompanying(_dossier(history)) if history else {}
    except ProblemError:
        accompagnants = {}  # a case in quarantine is no agent's; staff still reach the identity
    check_case(request, caller, case_id, READ_ROLES, accompagnants, "identité de la personne")
    identite = identities.read(case_id)
    if identite is None:
        raise ProblemError(
            404,
            "identite_inconnue",
            "Identité inconnue",
            f"Aucune identité conservée pour le dossier {case_id} (jamais reçue ou effacée).",
            "case_id",
        )
    return MsgspecJSONResponse(identite)


@router.delete(
    "/personnes/{case_id}/identite",
    tags=["personnes"],
    summary="Effacer l'identité d'une personne (fin de conservation, demande légale)",
    status_code=204,
    responses=error_responses(404, 422),
    dependencies=[Depends(require(Role.ADMIN))],
)
def erase_identity(
    request: Request, identities: Identities, caller: Caller, case_id: UUID
) -> Response:
    log_case_access(request, caller, case_id, "effacement de l'identité", "granted")
    if not identities.erase(case_id):
        raise ProblemError(
            404,
            "identite_inconnue",
            "Identité inconnue",
            f"Aucune identité conservée pour le dossier {case_id}.",
            "case_id",
        )
    return Response(status_code=204)
