"""rdv-insertion's door: the signed webhook (open, authenticated by its HMAC signature, answered
once the raw delivery is stored) and the review queue of what the connector could not record."""

from typing import Annotated, Literal
from uuid import UUID

import msgspec
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.connectors.rdv_insertion_store import ElementARevoir
from api.http.auth import Role
from api.http.deps import Authored, Rdvi, require
from api.http.limits import MAX_INT64, read_json
from api.http.params import Page, Paged
from api.http.problems import ProblemError
from api.http.responses import MsgspecJSONResponse
from api.http.schemas import error_responses, json_response, request_body
from api.services.connectors_rdvi import (
    ItemDejaDecide,
    ItemInconnu,
    Recue,
    SignatureRefusee,
)

PATH = "/connecteurs/rdv-insertion"
MOTIF_MAX = 500
"""The longest dismissal motif kept (a sentence or two)."""
KEPT_HEADERS = ("content-type", "user-agent", "x-rdvi-signature", "x-request-id")

door = APIRouter(prefix=PATH, tags=["connecteurs"])
"""Open to anyone: the signature is the authentication (`api.http.auth.OPEN_PATHS`)."""

REVIEWERS = frozenset({Role.ORIENTATION, Role.ADMIN})
"""The review queue shows who the person is: the orientation service and administrators (the
JSON queue and its screen, `api.web.rdv_insertion`)."""

router = APIRouter(
    prefix=f"{PATH}/a-revoir",
    tags=["connecteurs"],
    dependencies=[Depends(require(*REVIEWERS))],
)


@door.post(
    "",
    summary="Recevoir un webhook de rdv-insertion (RDV, invitation), signé X-RDVI-SIGNATURE",
    description="Le corps brut est vérifié (HMAC-SHA256, secret de chaque point de réception "
    "configuré, PARCOURS_RDVI_SECRETS) puis conservé tel quel; il est traité ensuite par le "
    "worker de projection. 200 dès qu'il est conservé, même déjà reçu ou sans intérêt.",
    responses={
        200: json_response(Recue, "Livraison conservée, à traiter", None),
        **error_responses(401),
    },
)
async def receive(request: Request, connector: Rdvi) -> Response:
    body = await request.body()
    headers = {k: v for k, v in request.headers.items() if k.lower() in KEPT_HEADERS}
    try:
        recue = await run_in_threadpool(
            connector.receive, body, request.headers.get("x-rdvi-signature"), headers
        )
    except SignatureRefusee:
        raise ProblemError(
            401,
            "signature_invalide",
            "Signature refusée",
            "X-RDVI-SIGNATURE absente ou ne correspondant à aucun secret configuré; "
            "rien n'est conservé.",
            "X-RDVI-SIGNATURE",
        ) from None
    return MsgspecJSONResponse(recue, 200)


class ARevoirPage(Page[ElementARevoir], frozen=True, kw_only=True):
    pass


@router.get(
    "",
    summary="Les participants et étapes de rdv-insertion que parcours n'a pas pu enregistrer",
    responses={
        200: json_response(ARevoirPage, "Une page de la file", None),
        **error_responses(401, 403, 422),
    },
)
async def review_queue(
    connector: Rdvi,
    paging: Paged,
    etat: Annotated[
        Literal["ouvert", "lie", "ecarte", "resolu", "tous"], Query(description="État des éléments")
    ] = "ouvert",
) -> Response:
    rows, total = await run_in_threadpool(
        connector.review_items, None if etat == "tous" else etat, paging.limit, paging.offset
    )
    page = paging.page(ARevoirPage, rows, total)
    return MsgspecJSONResponse(page)


class Decision(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    decision: Literal["lier", "ecarter"]
    case_id: UUID | None = None
    """The case to link the person to (`lier`)."""
    motif: Annotated[str, msgspec.Meta(min_length=1, max_length=MOTIF_MAX)] | None = None
    """Why the item is dismissed (`ecarter`), kept with it."""


@router.post(
    "/{item_id}",
    summary="Lier un élément à un dossier (la dernière livraison du RDV est retraitée) ou "
    "l'écarter",
    openapi_extra=request_body(
        Decision, {"decision": "lier", "case_id": "0b5f3c9e-2a4d-4c1b-9f6e-7d8a9b0c1d2e"}
    ),
    responses={
        200: json_response(ElementARevoir, "Élément décidé", None),
        **error_responses(400, 401, 403, 404, 409, 422),
    },
)
async def decide(
    item_id: Annotated[int, Path(ge=1, le=MAX_INT64, description="L'élément de la file")],
    request: Request,
    connector: Rdvi,
    author: Authored,
) -> Response:
    body = await read_json(request, Decision)
    try:
        if body.decision == "lier":
            if body.case_id is None:
                raise ProblemError(
                    422, "case_id_requis", "Dossier requis", "Lier demande un case_id.", "case_id"
                )
            item = await run_in_threadpool(connector.link, item_id, body.case_id, author.user)
        else:
            item = await run_in_threadpool(connector.dismiss, item_id, author.user, body.motif)
    except ItemInconnu:
        raise ProblemError(
            404, "element_inconnu", "Élément inconnu", f"Aucun élément {item_id}.", "item_id"
        ) from None
    except ItemDejaDecide:
        raise ProblemError(
            409, "element_decide", "Élément déjà décidé", f"L'élément {item_id} est clos.", None
        ) from None
    return MsgspecJSONResponse(item)
