"""Routes for evaluation teams: named cohort definitions, streamed pseudonymised extracts, and
the analyses (time-to-event curves as JSON or a chart, transitions between steps)."""

from functools import partial
from typing import Annotated, Any, Literal

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from adapters.eventlog.store import Parcours
from adapters.pseudonym_key import stable_key
from adapters.render.extracts import MEDIA_TYPES, Format
from api.http.auth import Role
from api.http.deps import AppSettings, Authored, Store, require
from api.http.limits import read_json
from api.http.params import Page, Paged
from api.http.problems import ProblemError
from api.http.responses import MsgspecJSONResponse, content_disposition
from api.http.schemas import error_responses, json_response, request_body
from api.services.cohorts import (
    Cle,
    Forme,
    analyse,
    extract_stream,
    key_for,
    list_definitions,
    load_definition,
    save_definition,
)
from domain.cohorts import DefinitionCohorte
from projections.cohort_analysis import CourbesCohorte, Transition
from projections.pseudonym import NiveauCommune

router = APIRouter(
    prefix="/evaluation/cohortes",
    tags=["évaluation"],
    dependencies=[Depends(require(Role.EVALUATION))],
)
"""Pseudonymised extracts only: the evaluation role, nobody else (docs/security.md)."""

EXAMPLE = {
    "entree_du": "2023-01-01",
    "entree_au": "2023-12-31",
    "communes": ["94028"],
    "types_orientation": ["sociale"],
    "soumis_droits_devoirs": True,
}


class Cohorte(msgspec.Struct, frozen=True, kw_only=True):
    nom: str
    definition: DefinitionCohorte
    version: int | None = None


def _problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The shared problem responses, with 404 saying what is missing here."""
    responses = error_responses(*codes)
    if 404 in responses:
        responses[404] = {**responses[404], "description": "Cohorte inconnue"}
    return responses


def _definition(app: Parcours, nom: str) -> DefinitionCohorte:
    definition = load_definition(app, nom)
    if definition is None:
        raise ProblemError(
            404, "cohorte_inconnue", "Cohorte inconnue", f"Aucune cohorte nommée {nom!r}.", "nom"
        )
    return definition


def _days(raw: str) -> list[int]:
    try:
        days = sorted({int(d) for d in raw.split(",") if d.strip()})
    except ValueError:
        days = []
    if not days or days[0] < 0 or days[-1] > 3650:
        raise ProblemError(
            422,
            "jours_invalides",
            "Jours invalides",
            "jours: entiers de 0 à 3650 séparés par des virgules, par exemple 30,90,365.",
            "jours",
        )
    return days


@router.put(
    "/{nom}",
    summary="Enregistrer (ou remplacer) une définition de cohorte",
    openapi_extra=request_body(DefinitionCohorte, EXAMPLE),
    responses={
        200: json_response(Cohorte, "Définition remplacée", {"nom": "c2023", "version": 2}),
        201: json_response(Cohorte, "Définition créée", {"nom": "c2023", "version": 1}),
        **_problems(400, 422),
    },
)
async def put_cohort(nom: str, request: Request, app: Store, author: Authored) -> Response:
    definition = await read_json(request, DefinitionCohorte)
    version, created = await run_in_threadpool(save_definition, app, nom, definition, author)
    return MsgspecJSONResponse(
        Cohorte(nom=nom, definition=definition, version=version), 201 if created else 200
    )


class CohortPage(Page[Cohorte], frozen=True, kw_only=True):
    """The saved definitions, by name."""


@router.get(
    "",
    summary="Les définitions enregistrées (paginées)",
    responses={200: json_response(CohortPage, "Page de définitions", None), **_problems(422)},
)
def get_cohorts(app: Store, paging: Paged) -> Response:
    items = [Cohorte(nom=n, definition=d) for n, d in list_definitions(app).items()]
    return MsgspecJSONResponse(paging.cut(CohortPage, items))


@router.get("/{nom}", summary="Une définition", responses=_problems(404, 422))
def get_cohort(nom: str, app: Store) -> Response:
    return MsgspecJSONResponse(Cohorte(nom=nom, definition=_definition(app, nom)))


@router.get(
    "/{nom}/extrait",
    summary="Les parcours pseudonymisés de la cohorte, en flux",
    description="Une ligne par événement (`forme=evenements`) ou par personne-épisode "
    "(`forme=episodes`); Parquet, CSV (UTF-8, `;`, en-têtes français) ou JSONL. La clé "
    "personne est un HMAC-SHA256: `cle=rotative` tire une clé propre à l'extrait, "
    "`cle=stable` garde la clé du département d'un extrait à l'autre.",
    responses=_problems(404, 422),
)
def get_extract(
    nom: str,
    app: Store,
    settings: AppSettings,
    forme: Forme = Forme.EPISODES,
    format: Format = Format.PARQUET,
    cle: Cle = Cle.ROTATIVE,
    communes: NiveauCommune = NiveauCommune.COMMUNE,
) -> StreamingResponse:
    definition = _definition(app, nom)
    body = extract_stream(
        app,
        definition,
        forme=forme,
        fmt=format,
        key=key_for(cle, partial(stable_key, settings)),
        communes=communes,
    )
    filename = f"{nom}-{forme.value}.{format.value}"
    return StreamingResponse(
        body,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": content_disposition(filename)},
    )


Compare = Annotated[str | None, Query(description="Une seconde cohorte à comparer")]


def _curves(
    app: Parcours, nom: str, comparer: str | None, jours: list[int]
) -> list[CourbesCohorte]:
    names = [nom] if comparer is None or comparer == nom else [nom, comparer]
    definitions = {n: _definition(app, n) for n in names}
    results = analyse(app, definitions)
    return [results[n].delais.courbes(n, jours) for n in names]


@router.get(
    "/{nom}/courbes",
    summary="Part des épisodes orientés, sous contrat, sortis au jour N après l'entrée",
    responses=_problems(404, 422),
)
def get_curves(
    nom: str, app: Store, jours: str = "30,60,90,180,365", comparer: Compare = None
) -> Response:
    return MsgspecJSONResponse(_curves(app, nom, comparer, _days(jours)))


@router.get(
    "/{nom}/graphique",
    summary="Les courbes d'une ou deux cohortes sur un graphique (PNG ou SVG)",
    responses=_problems(404, 422),
)
def get_chart(
    nom: str,
    app: Store,
    format: Literal["png", "svg"] = "png",
    jusqu_a: Annotated[int, Query(ge=1, le=3650, description="Dernier jour tracé")] = 730,
    comparer: Compare = None,
) -> Response:
    from adapters.render.charts import curves_chart  # matplotlib: loaded on the first chart asked

    cohorts = _curves(app, nom, comparer, list(range(jusqu_a + 1)))
    media = "image/svg+xml" if format == "svg" else "image/png"
    return Response(curves_chart(cohorts, format), media_type=media)


@router.get(
    "/{nom}/transitions",
    summary="Transitions entre étapes consécutives: nombre et médiane des jours",
    responses={
        200: json_response(list[Transition], "Table des transitions", []),
        **_problems(404, 422),
    },
)
def get_transitions(nom: str, app: Store) -> Response:
    definition = _definition(app, nom)
    return MsgspecJSONResponse(analyse(app, {nom: definition})[nom].transitions.table())
