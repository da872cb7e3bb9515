"""Routes of the CAF/MSA flux (upload, import reports) and of identity data (read, erase)."""

import tempfile
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.eventlog.store import Parcours
from adapters.flux.reports import ReportStore
from adapters.identity import IdentityStore
from api.http.access import READ_ROLES, check_case, current_structure, folding
from api.http.auth import Caller, Role, log_case_access, require
from api.http.problems import ProblemError
from api.http.schemas import error_responses
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


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        msgspec.json.encode(payload),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _parcours(request: Request) -> Parcours:
    app: Parcours = request.app.state.parcours
    return app


def _reports(request: Request) -> ReportStore:
    store = getattr(request.app.state, "flux_reports", None)
    if store is None:
        store = request.app.state.flux_reports = ReportStore(_parcours(request).settings)
    return store


def _identities(request: Request) -> IdentityStore:
    store = getattr(request.app.state, "identities", None)
    if store is None:
        store = request.app.state.identities = IdentityStore(_parcours(request).settings)
    return store


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
        importer = FluxImporter(
            _parcours(request),
            _identities(request),
            _reports(request),
            orientation_auto=orientation_auto,
        )
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
    return _json(rapport, 201, {"Location": f"/flux/imports/{rapport.id}"})


@router.get(
    "/flux/imports",
    summary="Les derniers imports de flux",
    responses=error_responses(422),
    dependencies=_report_readers,
)
def list_imports(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
    return _json(_reports(request).list(limit))


@router.get(
    "/flux/imports/{import_id}",
    summary="Le rapport d'un import de flux",
    responses=error_responses(404, 422),
    dependencies=_report_readers,
)
def get_import(request: Request, import_id: UUID) -> Response:
    rapport = _reports(request).get(import_id)
    if rapport is None:
        raise ProblemError(
            404, "import_inconnu", "Import inconnu", f"Aucun import {import_id}.", "import_id"
        )
    return _json(rapport)


@router.get(
    "/personnes/{case_id}/identite",
    tags=["personnes"],
    summary="Identité d'une personne",
    responses=error_responses(404, 422),
)
def get_identity(request: Request, caller: Caller, case_id: UUID) -> Response:
    """Who the person is: for those who follow the case (an agent, its structures' cases)."""
    history = _parcours(request).history(case_id)
    try:
        with folding(case_id):
            structure = current_structure(_dossier(history)) if history else None
    except ProblemError:
        structure = None  # a case in quarantine is no agent's; staff still reach the identity
    check_case(request, caller, case_id, READ_ROLES, structure, "identité de la personne")
    identite = _identities(request).read(case_id)
    if identite is None:
        raise ProblemError(
            404,
            "identite_inconnue",
            "Identité inconnue",
            f"Aucune identité conservée pour le dossier {case_id} (jamais reçue ou effacée).",
            "case_id",
        )
    return _json(identite)


@router.delete(
    "/personnes/{case_id}/identite",
    tags=["personnes"],
    summary="Effacer l'identité d'une personne (fin de conservation, demande légale)",
    status_code=204,
    responses=error_responses(404, 422),
    dependencies=[Depends(require(Role.ADMIN))],
)
def erase_identity(request: Request, caller: Caller, case_id: UUID) -> Response:
    log_case_access(request, caller, case_id, "effacement de l'identité", "granted")
    if not _identities(request).erase(case_id):
        raise ProblemError(
            404,
            "identite_inconnue",
            "Identité inconnue",
            f"Aucune identité conservée pour le dossier {case_id}.",
            "case_id",
        )
    return Response(status_code=204)
