"""Routes of the CAF/MSA flux (upload, import reports) and of identity data (read, erase)."""

import tempfile
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import msgspec
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.application import Parcours
from adapters.flux.importer import FluxImporter
from adapters.flux.reports import ReportStore
from adapters.identity import IdentityStore
from api.problems import ProblemError
from api.schemas import error_responses

router = APIRouter(tags=["flux"])


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
        raise ProblemError(
            422,
            "flux_non_conforme",
            "Flux non conforme au schéma vrsb0801",
            f"Ligne {rejet.ligne}: {rejet.motif}. Rien n'a été importé (rapport {rapport.id}).",
            "body",
        )
    return _json(rapport, 201, {"Location": f"/flux/imports/{rapport.id}"})


@router.get("/flux/imports", summary="Les derniers imports de flux", responses=error_responses(422))
def list_imports(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Response:
    return _json(_reports(request).list(limit))


@router.get(
    "/flux/imports/{import_id}",
    summary="Le rapport d'un import de flux",
    responses=error_responses(404, 422),
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
def get_identity(request: Request, case_id: UUID) -> Response:
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
)
def erase_identity(request: Request, case_id: UUID) -> Response:
    if not _identities(request).erase(case_id):
        raise ProblemError(
            404,
            "identite_inconnue",
            "Identité inconnue",
            f"Aucune identité conservée pour le dossier {case_id}.",
            "case_id",
        )
    return Response(status_code=204)
