"""Routes of the registry of agents' rights: grant a role (and structures) to a person known to
the identity provider, revoke it, list every right with who granted it and when. Administrators
only; in oidc mode these rights are the callers' roles (`api.http.deps.authenticate`)."""

from datetime import date

import msgspec
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.http.auth import Role
from api.http.deps import Authored, Store, require
from api.http.limits import read_json
from api.http.params import Page, Paged
from api.http.responses import MsgspecJSONResponse
from api.http.schemas import error_responses, json_response, request_body
from api.services.agents import grant, registre, revoke
from domain.agents import Droit, RoleAgent

router = APIRouter(
    prefix="/admin/agents", tags=["administration"], dependencies=[Depends(require(Role.ADMIN))]
)


class Accord(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    agent: str
    """The person's OIDC `sub`, or their e-mail address."""
    role: RoleAgent
    structures: list[str] = msgspec.field(default_factory=list)
    """Required for the `agent` role: the structures whose cases the agent works on."""
    du: date
    au: date | None = None
    """Last day of the right (included); none: until revoked."""
    motif: str


class Retrait(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    droit_id: str | None = None
    """The right to revoke; or else `agent` and `role` (every active right of theirs)."""
    agent: str | None = None
    role: RoleAgent | None = None
    motif: str


ACCORD = {
    "agent": "marie.dupont@ccas-creteil.fr",
    "role": "agent",
    "structures": ["ccas-creteil"],
    "du": "2024-01-01",
    "motif": "Référente RSA au CCAS de Créteil",
}
RETRAIT = {"droit_id": "droit-1", "motif": "Départ de la structure"}


class DroitPage(Page[Droit], frozen=True, kw_only=True):
    """Every right granted, in grant order, revoked ones included."""


@router.post(
    "",
    summary="Accorder un rôle (et des structures) à un agent",
    openapi_extra=request_body(Accord, ACCORD),
    responses={
        201: json_response(Droit, "Droit accordé", None),
        **error_responses(400, 401, 403, 422),
    },
)
async def post_grant(request: Request, app: Store, author: Authored) -> Response:
    body = await read_json(request, Accord)
    droit = await run_in_threadpool(
        lambda: grant(
            app,
            agent=body.agent,
            role=body.role,
            structures=body.structures,
            du=body.du,
            au=body.au,
            motif=body.motif,
            author=author,
        )
    )
    return MsgspecJSONResponse(droit, 201)


@router.post(
    "/retraits",
    summary="Retirer un droit (par son id, ou ceux d'un agent pour un rôle)",
    openapi_extra=request_body(Retrait, RETRAIT),
    responses={
        200: json_response(list[Droit], "Droits retirés", None),
        **error_responses(400, 401, 403, 422),
    },
)
async def post_revocation(request: Request, app: Store, author: Authored) -> Response:
    body = await read_json(request, Retrait)
    retires = await run_in_threadpool(
        lambda: revoke(
            app,
            droit_id=body.droit_id,
            agent=body.agent,
            role=body.role,
            motif=body.motif,
            author=author,
        )
    )
    return MsgspecJSONResponse(retires)


@router.get(
    "",
    summary="Les droits accordés (paginés), avec qui les a accordés et quand",
    responses={
        200: json_response(DroitPage, "Page de droits", None),
        **error_responses(401, 403, 422),
    },
)
def get_rights(app: Store, paging: Paged) -> Response:
    return MsgspecJSONResponse(paging.cut(DroitPage, registre(app).all()))
