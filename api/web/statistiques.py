"""The statistics screen: `/ecrans/statistiques` (a GET form, so its address can be shared) and
`/ecrans/statistiques.csv` (the same table as a download), for the roles the JSON statistics
routes admit. Both read the table through `api.http.statistics.table`, the JSON routes' use
case, and the download is that route's CSV (`adapters.render.csv`: `;` separated, decimal
commas, UTF-8); only the checks of the form's fields are the screen's own, so that a refused
field comes back next to the field instead of as an error page."""

from collections.abc import Mapping
from datetime import date
from typing import Any, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api.http.deps import Statistics, require, under_rules
from api.http.limits import in_window
from api.http.params import Par
from api.http.problems import ProblemError
from api.http.statistics import ROLES, as_csv, periode, table
from api.services.statistics import Statistiques
from api.web.formats import nombre, numeric
from api.web.router import PREFIX, redirect, render, session_principal, templates
from projections.indicateurs import LIBELLES_VENTILATION, Periode, Tableau

PATH = f"{PREFIX}/statistiques"

FAMILLES = {
    "table-3-1": "Tableau national 3.1 (orientation, 1ers RDV, 1ers CER dans les délais)",
    "taux": "Taux d'orientation et de contractualisation, délais",
    "complementaires": "Indicateurs complémentaires (accompagnement global, convocations, "
    "sanctions)",
}
"""The families read over a period (`GET /statistiques/{famille}`), as the form offers them."""
FIELDS = ("famille", "du", "au", "par", "regles")
LABELS = {
    "famille": "Indicateurs",
    "du": "Du",
    "au": "Au",
    "par": "Ventilation",
    "regles": "Règles de délais",
}

router = APIRouter(
    prefix=PREFIX,
    include_in_schema=False,
    dependencies=[Depends(session_principal), Depends(require(*ROLES))],
)


def last_full_year(today: date) -> tuple[date, date]:
    return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)


def _day(form: Mapping[str, str], name: str, errors: dict[str, str]) -> date | None:
    try:
        day = date.fromisoformat(form[name])
    except ValueError:
        errors[name] = "date invalide ou manquante"
        return None
    try:
        in_window(day)
    except ValueError as e:
        errors[name] = str(e)
        return None
    return day


def checked(
    stats: Statistiques, form: Mapping[str, str]
) -> tuple[tuple[str, Periode, str | None, str | None] | None, dict[str, str]]:
    """The form read as the JSON route's parameters, or the message of each field at fault
    (the period and the rule set by the route's own checks)."""
    errors: dict[str, str] = {}
    famille, par, regles = form["famille"], form["par"] or None, form["regles"] or None
    if famille not in FAMILLES:
        errors["famille"] = "choisir une famille d'indicateurs de la liste"
    if par is not None and par not in get_args(Par):
        errors["par"] = "choisir une ventilation de la liste"
    try:
        under_rules(stats, regles)
    except ProblemError as e:
        errors["regles"] = e.problem.detail
    du, au = _day(form, "du", errors), _day(form, "au", errors)
    p: Periode | None = None
    if du is not None and au is not None:
        try:
            p = periode(du, au)
        except ProblemError as e:
            errors[e.problem.field or "au"] = e.problem.detail
    if errors or p is None:
        return None, errors
    return (famille, p, par, regles), errors


def _form(request: Request, stats: Statistiques) -> dict[str, str]:
    du, au = last_full_year(stats.app.today())
    defaults = {"famille": "table-3-1", "du": du.isoformat(), "au": au.isoformat()}
    query = request.query_params
    return {name: query.get(name, defaults.get(name, "")).strip() for name in FIELDS}


@router.get("/statistiques")
async def statistics_page(request: Request, stats: Statistics) -> Response:
    form = _form(request, stats)
    asked = "famille" in request.query_params
    args, errors = checked(stats, form) if asked else (None, {})
    tableau = await table(stats, *args) if args else None
    return render(
        request,
        "statistiques.html",
        {
            "title": "Statistiques",
            "form": form,
            "errors": errors,
            "labels": LABELS,
            "familles": FAMILLES,
            "ventilations": {p: LIBELLES_VENTILATION[p] for p in get_args(Par)},
            "regles": stats.reglement.noms,
            "tableau": tableau,
            "csv": f"{PATH}.csv?{urlencode(form)}",
        },
        422 if errors else 200,
    )


@router.get("/statistiques.csv")
async def statistics_csv(request: Request, stats: Statistics) -> Response:
    """The table on screen as the JSON route's CSV; a refused form goes back to the screen."""
    form = _form(request, stats)
    args, _ = checked(stats, form)
    if args is None:
        return redirect(f"{PATH}?{urlencode(form)}")
    return as_csv(await table(stats, *args))


def ligne_titre(tableau: Tableau, line: Mapping[str, Any]) -> str:
    """The row's header: its group, or the whole département without a breakdown."""
    par = tableau.ventilation
    return str(line.get(par) or "—") if par else "Tout le département"


templates.env.filters["nombre"] = nombre
templates.env.tests["numeric"] = numeric
templates.env.globals["ligne_titre"] = ligne_titre
