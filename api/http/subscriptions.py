"""Routes of partners' subscriptions to parcours' events (webhooks): subscribe, list, end, and
each subscription's delivery status. Administrators only; the deliveries themselves are the
deliverer's (`parcours webhooks deliver`), never the API's."""

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.http.auth import Role
from api.http.deps import Authored, Store, require
from api.http.limits import read_json
from api.http.params import Page, Paged
from api.http.problems import ProblemError
from api.http.responses import MsgspecJSONResponse
from api.http.schemas import error_responses, json_response, request_body
from api.services import subscriptions as service
from api.services.subscriptions import Creee, Etat, Souscription
from domain.abonnements import Finalite

router = APIRouter(
    prefix="/admin/abonnements",
    tags=["administration"],
    dependencies=[Depends(require(Role.ADMIN))],
)


class Demande(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    url: str
    """Where the partner receives the events (POST, Standard Webhooks)."""
    types: list[str]
    """Kinds of case events sent (`OrientationDecidee`, `RdvPlanifie`…)."""
    structures: list[str] = msgspec.field(default_factory=list)
    """The structures whose cases' events are sent; or `toutes_structures`."""
    toutes_structures: bool = False
    """Every case of the département (a data warehouse); `structures` then stays empty."""
    finalite: Finalite = Finalite.SUIVI
    """`suivi`: case ids and event data only; `identification`: the file number and the
    recording agent too."""
    secret: str | None = None
    """`whsec_…` if the partner gives one; generated (and answered once) if not."""
    position_depart: int | None = None
    """The log position after which events are sent; the end of the log if not given."""
    motif: str


class Rejeu(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    position: int
    """Every event recorded after this log position is sent again (same ids)."""


DEMANDE = {
    "url": "https://partenaire.example/webhooks/parcours",
    "types": ["OrientationDecidee", "RdvPlanifie", "IssueRdvEnregistree"],
    "structures": ["ccas-creteil"],
    "motif": "Suivi des orientations par le CCAS de Créteil",
}


class SouscriptionPage(Page[Souscription], frozen=True, kw_only=True):
    """Every subscription, in creation order, ended ones included."""


def _unknown(abonnement_id: str) -> ProblemError:
    return ProblemError(
        404,
        "abonnement_inconnu",
        "Abonnement inconnu",
        f"Aucun abonnement {abonnement_id[:80]!r}.",
        "abonnement_id",
    )


@router.post(
    "",
    summary="Abonner un partenaire aux événements (webhooks signés)",
    openapi_extra=request_body(Demande, DEMANDE),
    responses={
        201: json_response(Creee, "Abonnement créé; son secret, montré cette fois seulement", None),
        **error_responses(400, 401, 403, 422),
    },
)
async def post_subscription(request: Request, app: Store, author: Authored) -> Response:
    body = await read_json(request, Demande)
    if body.toutes_structures and body.structures:
        raise ProblemError(
            422,
            "structures_et_toutes",
            "Champ invalide",
            "Donner des structures, ou toutes_structures, pas les deux.",
            "structures",
        )
    created = await run_in_threadpool(
        lambda: service.subscribe(
            app,
            url=body.url,
            types=body.types,
            structures=None if body.toutes_structures else body.structures,
            finalite=body.finalite,
            motif=body.motif,
            author=author,
            secret=body.secret,
            position_depart=body.position_depart,
        )
    )
    return MsgspecJSONResponse(created, 201)


@router.get(
    "",
    summary="Les abonnements (paginés), avec qui les a créés et quand",
    responses={
        200: json_response(SouscriptionPage, "Page d'abonnements", None),
        **error_responses(401, 403, 422),
    },
)
def get_subscriptions(app: Store, paging: Paged) -> Response:
    shown = [service.shown(a) for a in service.register(app).all()]
    return MsgspecJSONResponse(paging.cut(SouscriptionPage, shown))


@router.get(
    "/{abonnement_id}",
    summary="Un abonnement",
    responses={
        200: json_response(Souscription, "Abonnement", None),
        **error_responses(401, 403, 404),
    },
)
def get_subscription(abonnement_id: str, app: Store) -> Response:
    found = service.register(app).get(abonnement_id)
    if found is None:
        raise _unknown(abonnement_id)
    return MsgspecJSONResponse(service.shown(found))


@router.delete(
    "/{abonnement_id}",
    summary="Mettre fin à un abonnement (plus rien ne lui est envoyé)",
    responses={
        200: json_response(Souscription, "Abonnement supprimé", None),
        **error_responses(401, 403, 404, 422),
    },
)
def delete_subscription(
    abonnement_id: str,
    app: Store,
    author: Authored,
    motif: str = Query(description="Pourquoi l'abonnement prend fin", max_length=1000),
) -> Response:
    if service.register(app).get(abonnement_id) is None:
        raise _unknown(abonnement_id)
    return MsgspecJSONResponse(service.unsubscribe(app, abonnement_id, motif, author))


@router.get(
    "/{abonnement_id}/etat",
    summary="Où en sont les livraisons d'un abonnement: position, retard, échecs, rebuts",
    responses={
        200: json_response(Etat, "État des livraisons", None),
        **error_responses(401, 403, 404),
    },
)
def get_status(abonnement_id: str, app: Store) -> Response:
    if service.register(app).get(abonnement_id) is None:
        raise _unknown(abonnement_id)
    return MsgspecJSONResponse(service.status(app, abonnement_id))


@router.post(
    "/{abonnement_id}/rejeu",
    summary="Renvoyer tout ce qui suit une position du journal (mêmes identifiants)",
    openapi_extra=request_body(Rejeu, {"position": 0}),
    responses={
        200: json_response(Etat, "État des livraisons après le rejeu", None),
        **error_responses(400, 401, 403, 404, 422),
    },
)
async def post_replay(abonnement_id: str, request: Request, app: Store) -> Response:
    body = await read_json(request, Rejeu)
    if service.register(app).get(abonnement_id) is None:
        raise _unknown(abonnement_id)

    def replayed() -> Etat:
        service.replay(app, abonnement_id, body.position)
        return service.status(app, abonnement_id)

    return MsgspecJSONResponse(await run_in_threadpool(replayed))
