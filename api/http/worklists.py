"""The agents' worklist: the cases of a structure or a référent that are overdue today, with why
and since when; paged and sorted, JSON or CSV."""

from typing import Annotated, Any, Literal

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.eventlog.store import Parcours
from adapters.render.csv import worklist_csv
from api.http.access import listing_structure
from api.http.auth import Caller, Role, require
from api.http.limits import MAX_INT64
from api.http.schemas import error_responses, json_response
from api.http.statistics import CSV, Regles, checked
from projections.worklists import Alerte, Motif, trier

router = APIRouter(
    prefix="/a-traiter",
    tags=["listes de travail"],
    dependencies=[Depends(require(Role.AGENT, Role.ORIENTATION, Role.AUDITEUR))],
)

Tri = Literal["depuis", "-depuis", "jours", "-jours", "motif", "echeance", "-echeance"]


class Page(msgspec.Struct, kw_only=True):
    total: int
    page: int
    taille: int
    par_motif: dict[str, int]
    lignes: list[Alerte]


@router.get(
    "",
    summary="Les dossiers en retard d'une structure ou d'un référent, avec le motif et la date",
    description="Orientation, premier RDV ou contrat en retard, contrat se terminant dans les 30 "
    "jours ou échu, aucun RDV depuis plus de 2 mois, RDV passé sans issue. Calculé à la date du "
    "jour sur le modèle de lecture tenu à jour au fil des événements.",
    responses={
        200: json_response(Page, "Une page de la liste", None),
        **error_responses(401, 403, 422),
    },
)
async def get_worklist(
    request: Request,
    caller: Caller,
    structure_id: Annotated[str | None, Query(description="Structure")] = None,
    referent_id: Annotated[str | None, Query(description="Référent")] = None,
    motif: Annotated[list[Motif] | None, Query(description="Ne garder que ces motifs")] = None,
    tri: Annotated[Tri, Query(description="Champ de tri, `-` pour décroissant")] = "-jours",
    page: Annotated[int, Query(ge=1, le=MAX_INT64 // 500)] = 1,
    taille: Annotated[int, Query(ge=1, le=500)] = 50,
    regles: Regles = None,
) -> Response:
    structure = listing_structure(caller, structure_id)
    parcours: Parcours = request.app.state.parcours
    stats = checked(request, regles)
    lines = await run_in_threadpool(
        stats.worklist, parcours.today(), structure, referent_id, regles
    )
    if motif:
        lines = [a for a in lines if a.motif in motif]
    counts: dict[str, int] = {}
    for a in lines:
        counts[a.motif.value] = counts.get(a.motif.value, 0) + 1
    ordered = trier(lines, tri)
    start = (page - 1) * taille
    window = ordered[start : start + taille]
    if CSV in request.headers.get("accept", ""):
        return Response(worklist_csv(ordered).encode("utf-8"), media_type="text/csv; charset=utf-8")
    body: Any = Page(total=len(ordered), page=page, taille=taille, par_motif=counts, lignes=window)
    return Response(msgspec.json.encode(body), media_type="application/json")
