"""Routes of the structures registry: declare a partner (its kind and ETP from a date), list
them, read one with every dated declaration."""

from datetime import date
from typing import Any

import msgspec
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.http.auth import Role
from api.http.deps import Authored, Store, require
from api.http.limits import read_json
from api.http.params import Page, Paged
from api.http.problems import ProblemError
from api.http.responses import MsgspecJSONResponse
from api.http.schemas import error_responses, json_response, request_body
from api.services.structures import declare_structure, load_structures
from domain.structures import Structure
from domain.vocabulary import TypeOrganisme

router = APIRouter(
    prefix="/structures",
    tags=["structures"],
    dependencies=[Depends(require(Role.FINANCE, Role.ADMIN, Role.AUDITEUR, Role.ORIENTATION))],
)
"""Reference data: read by finance, auditors, administrators and orientation officers."""

_writers = [Depends(require(Role.FINANCE, Role.ADMIN))]


class Declaration(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    nom: str
    type_organisme: TypeOrganisme
    etp: float | None = None
    """Full-time accompaniment posts from `effective_on` (AAVE subsidies are per ETP)."""
    effective_on: date


EXAMPLE = {"nom": "AAVE Melun", "type_organisme": "aave", "etp": 3.5, "effective_on": "2022-01-01"}


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    responses = error_responses(*codes)
    if 404 in responses:
        responses[404] = {**responses[404], "description": "Structure inconnue"}
    return responses


@router.put(
    "/{structure_id}",
    summary="Déclarer une structure (type, ETP) à partir d'une date",
    dependencies=_writers,
    openapi_extra=request_body(Declaration, EXAMPLE),
    responses={
        200: json_response(Structure, "Structure redéclarée", None),
        201: json_response(Structure, "Structure déclarée", None),
        **_problems(400, 401, 403, 422),
    },
)
async def put_structure(
    structure_id: str, request: Request, app: Store, author: Authored
) -> Response:
    body = await read_json(request, Declaration)
    _, created = await run_in_threadpool(
        declare_structure,
        app,
        structure_id,
        body.nom,
        body.type_organisme,
        body.etp,
        body.effective_on,
        author,
    )
    found = load_structures(app).get(structure_id)
    return MsgspecJSONResponse(found, 201 if created else 200)


class StructurePage(Page[Structure], frozen=True, kw_only=True):
    """The declared structures, by identifier."""


@router.get(
    "",
    summary="Les structures déclarées (paginées)",
    responses={
        200: json_response(StructurePage, "Page de structures", None),
        **_problems(401, 403, 422),
    },
)
def get_structures(app: Store, paging: Paged) -> Response:
    return MsgspecJSONResponse(paging.cut(StructurePage, load_structures(app).all()))


@router.get(
    "/{structure_id}",
    summary="Une structure et ses déclarations datées",
    responses={200: json_response(Structure, "Structure", None), **_problems(401, 403, 404)},
)
def get_structure(structure_id: str, app: Store) -> Response:
    found = load_structures(app).get(structure_id)
    if found is None:
        raise ProblemError(
            404,
            "structure_inconnue",
            "Structure inconnue",
            f"Aucune structure {structure_id!r}.",
            "structure_id",
        )
    return MsgspecJSONResponse(found)
