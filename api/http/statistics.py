"""Routes for the délais statistics: one GET per indicator family, for a period, broken down by
territory, structure, orientation kind or month; JSON by default, CSV on `Accept: text/csv`."""

from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.render.csv import table_csv
from api.http.auth import Role
from api.http.deps import Statistics, require, under_rules
from api.http.params import AsOf, Au, Communes, Du, InYear, KnownAt, ParQ, Regles, Then
from api.http.problems import ProblemError
from api.http.responses import CSV, MsgspecJSONResponse, csv_response, wants_csv
from api.http.schemas import error_responses, json_response
from api.services.statistics import FAMILLES, Ecarts, Statistiques
from domain.delais import RegleDelais
from projections.indicateurs import Periode, Tableau

ROLES = frozenset({Role.ORIENTATION, Role.AUDITEUR, Role.FINANCE})
"""Who reads the statistics (the routes here and the statistics screen)."""

router = APIRouter(
    prefix="/statistiques",
    tags=["statistiques"],
    dependencies=[Depends(require(*ROLES))],
)

MAX_MONTHS = 240
"""Longest period read (20 years): enough for any report, bounded for a monthly breakdown."""


def periode(du: date, au: date) -> Periode:
    if au < du:
        raise ProblemError(
            422,
            "periode_invalide",
            "Période invalide",
            f"La fin ({au}) précède le début ({du}).",
            "au",
        )
    p = Periode(du, au)
    if (au.year - du.year) * 12 + au.month - du.month >= MAX_MONTHS:
        raise ProblemError(
            422,
            "periode_trop_longue",
            "Période trop longue",
            f"Une période couvre au plus {MAX_MONTHS} mois.",
            "au",
        )
    return p


def as_csv(tableau: Tableau) -> Response:
    """The table as a spreadsheet download (`adapters.render.csv`), named after it."""
    name = f"{tableau.indicateur}-{tableau.du}-{tableau.au}.csv"
    return csv_response(table_csv(tableau), name)


def render(request: Request, tableau: Tableau) -> Response:
    return as_csv(tableau) if wants_csv(request) else MsgspecJSONResponse(tableau)


async def table(
    stats: Statistiques,
    famille: str,
    p: Periode,
    par: str | None = None,
    regles: str | None = None,
    structures: list[str] | None = None,
    communes: list[str] | None = None,
    known_at: datetime | None = None,
    as_of: date | None = None,
) -> Tableau:
    """One family's table, once the rule set asked for is known (the routes and the screen)."""
    under_rules(stats, regles)
    return await run_in_threadpool(
        stats.calculer, famille, p, par, regles, None, None, structures, communes, known_at, as_of
    )


_TABLE = json_response(Tableau, "Le tableau (JSON), ou CSV avec Accept: text/csv", None)
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {**_TABLE, "content": {**_TABLE["content"], CSV: {"schema": {"type": "string"}}}},
    **error_responses(401, 403, 422),
}


@router.get("/regles", summary="Les jeux de règles de délais et leur période d'effet")
def get_rules(stats: Statistics) -> Response:
    rules: list[RegleDelais] = list(stats.reglement.regles)
    return MsgspecJSONResponse(rules)


def _period_family(famille: str, summary: str) -> None:
    """One route for a family read over a period, with every breakdown and a rule set."""

    async def route(
        request: Request,
        stats: Statistics,
        du: Du,
        au: Au,
        par: ParQ = None,
        regles: Regles = None,
        commune: Communes = None,
        known_at: KnownAt = None,
        as_of: AsOf = None,
    ) -> Response:
        tableau = await table(
            stats, famille, periode(du, au), par, regles, None, commune, known_at, as_of
        )
        return render(request, tableau)

    router.add_api_route(
        f"/{famille}",
        route,
        methods=["GET"],
        summary=summary,
        responses=_RESPONSES,
        name=f"statistiques_{famille}",
    )


_period_family(
    "table-3-1", "Tableau national 3.1: entrants, orientés, 1ers RDV, 1ers CER dans les délais"
)
_period_family(
    "taux", "Taux d'orientation et de contractualisation, délais moyens, médians, 90e centile"
)
_period_family(
    "complementaires", "Démarrage de l'accompagnement global, convocation sous 15 jours, sanctions"
)


@router.get(
    "/drees",
    summary="Enquête DREES OARSA au 31/12 d'une année",
    responses=_RESPONSES,
)
async def get_drees(
    request: Request,
    stats: Statistics,
    annee: Annotated[int, Query(ge=2000, le=2100, description="L'année de l'enquête"), InYear],
    par: Annotated[
        Literal["territoire", "structure", "type_orientation"] | None,
        Query(description="Ventilation des lignes"),
    ] = None,
    commune: Communes = None,
    known_at: KnownAt = None,
    as_of: AsOf = None,
) -> Response:
    year = periode(date(annee, 1, 1), date(annee, 12, 31))
    tableau = await table(stats, "drees", year, par, None, None, commune, known_at, as_of)
    return render(request, tableau)


@router.get(
    "/aave",
    summary="Indicateurs de la bonification AAVE par structure, valeurs de référence atteintes",
    responses=_RESPONSES,
)
async def get_aave(
    request: Request,
    stats: Statistics,
    du: Du,
    au: Au,
    structure_id: Annotated[
        list[str] | None, Query(description="Structures (par défaut: toutes les AAVE)")
    ] = None,
    known_at: KnownAt = None,
    as_of: AsOf = None,
) -> Response:
    tableau = await table(
        stats, "aave", periode(du, au), None, None, structure_id, None, known_at, as_of
    )
    return render(request, tableau)


@router.get(
    "/graphique",
    summary="Délais d'orientation et de contractualisation mois par mois (PNG ou SVG)",
    responses=error_responses(401, 403, 422),
)
async def get_chart(
    stats: Statistics,
    du: Du,
    au: Au,
    commune: Communes = None,
    regles: Regles = None,
    format: Literal["png", "svg"] = "png",
    known_at: KnownAt = None,
    as_of: AsOf = None,
) -> Response:
    from adapters.render.charts import delays_chart  # matplotlib: loaded on the first chart asked

    under_rules(stats, regles)
    p = periode(du, au)
    tableau = await run_in_threadpool(
        stats.calculer, "taux", p, "mois", regles, None, None, None, commune, known_at, as_of
    )
    where = ", ".join(commune) if commune else "tout le département"
    image = delays_chart(tableau, f"Délais mois par mois, {where}", format)
    return Response(image, media_type="image/svg+xml" if format == "svg" else "image/png")


Famille = Literal["table-3-1", "drees", "taux", "aave", "complementaires"]
assert set(get_args(Famille)) == set(FAMILLES)


@router.get(
    "/ecarts",
    summary="Un tableau tel que connu à un instant, comparé à aujourd'hui: cellules et dossiers",
    description="Réservé aux auditeurs: la réponse nomme les dossiers et les saisies en cause.",
    dependencies=[Depends(require(Role.AUDITEUR))],
    responses={
        200: json_response(
            Ecarts, "Le tableau alors et maintenant, les écarts, les dossiers", None
        ),
        **error_responses(401, 403, 422),
    },
)
async def get_differences(
    stats: Statistics,
    famille: Annotated[Famille, Query(description="La famille d'indicateurs")],
    du: Du,
    au: Au,
    known_at: Then,
    as_of: AsOf = None,
    par: ParQ = None,
    regles: Regles = None,
    commune: Communes = None,
    structure_id: Annotated[list[str] | None, Query(description="Structures (AAVE)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Dossiers listés au plus")] = 100,
) -> Response:
    under_rules(stats, regles)
    p = periode(du, au)
    result = await run_in_threadpool(
        stats.ecarts, famille, p, known_at, par, regles, structure_id, commune, as_of, limit
    )
    return MsgspecJSONResponse(result)
