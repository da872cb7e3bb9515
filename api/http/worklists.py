"""The agents' worklist: the cases of a structure or a référent that are overdue today, with why
and since when; paged and sorted, JSON or CSV."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.render.csv import worklist_csv
from api.http.access import listing_structure
from api.http.auth import Role
from api.http.deps import Caller, Statistics, Store, require, under_rules
from api.http.params import Page, Paged, Regles
from api.http.responses import MsgspecJSONResponse, csv_response, wants_csv
from api.http.schemas import error_responses, json_response
from projections.worklists import Alerte, Filtre, Motif

router = APIRouter(
    prefix="/a-traiter",
    tags=["listes de travail"],
    dependencies=[Depends(require(Role.AGENT, Role.ORIENTATION, Role.AUDITEUR))],
)

Tri = Literal["depuis", "-depuis", "jours", "-jours", "motif", "echeance", "-echeance"]


class WorklistPage(Page[Alerte], frozen=True, kw_only=True):
    par_motif: dict[str, int]
    """How many of the `total` lines each motive counts."""


@router.get(
    "",
    summary="Les dossiers en retard d'une structure ou d'un référent, avec le motif et la date",
    description="Orientation, premier RDV ou contrat en retard, contrat se terminant dans les 30 "
    "jours ou échu, aucun RDV depuis plus de 2 mois, RDV passé sans issue. Calculé à la date du "
    "jour sur le modèle de lecture tenu à jour au fil des événements. Une page en JSON, la liste "
    "entière en CSV (Accept: text/csv).",
    responses={
        200: json_response(WorklistPage, "Une page de la liste", None),
        **error_responses(401, 403, 422),
    },
)
async def get_worklist(
    request: Request,
    app: Store,
    stats: Statistics,
    caller: Caller,
    paging: Paged,
    structure_id: Annotated[str | None, Query(description="Structure")] = None,
    referent_id: Annotated[str | None, Query(description="Référent")] = None,
    motif: Annotated[list[Motif] | None, Query(description="Ne garder que ces motifs")] = None,
    jours_min: Annotated[
        int | None, Query(ge=0, le=36500, description="En retard depuis au moins N jours")
    ] = None,
    tri: Annotated[Tri, Query(description="Champ de tri, `-` pour décroissant")] = "-jours",
    regles: Regles = None,
) -> Response:
    structure = listing_structure(caller, structure_id)
    under_rules(stats, regles)
    filtre = Filtre(motifs=frozenset(motif or ()), referent_id=referent_id, jours_min=jours_min)
    chosen = await run_in_threadpool(stats.selection, app.today(), structure, filtre, tri, regles)
    ordered = chosen.lignes
    counts = {m.value: n for m, n in chosen.par_motif.items() if not motif or m in filtre.motifs}
    if wants_csv(request):
        return csv_response(worklist_csv(ordered))
    return MsgspecJSONResponse(paging.cut(WorklistPage, ordered, par_motif=counts))
