"""Routes of partner financing: tariff schedules (adopted, shipped), payable lines, statements
(drafted, issued, read back as issued; JSON or CSV) and simulations of a candidate schedule."""

from datetime import date
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.render.csv import etat_csv, simulation_csv
from adapters.schedule_files import shipped
from api.http.auth import Role
from api.http.deps import Authored, Financing, Store, require
from api.http.limits import read_json
from api.http.params import Page, Paged
from api.http.problems import ProblemError
from api.http.responses import CSV, MsgspecJSONResponse, csv_response, wants_csv
from api.http.schemas import error_responses, json_response, request_body
from api.services.schedules import adopt, adoptions
from domain.payments import Etat, Ligne, bornes
from domain.tariffs import Adoption, Bareme, TariffError, bareme_from
from projections.indicateurs import Periode
from projections.pricing import ordered
from projections.statements import Simulation

READERS = frozenset({Role.FINANCE, Role.AUDITEUR, Role.ADMIN})
"""Who reads schedules, lines and statements, and simulates (the finance screen too)."""
ADOPTERS = frozenset({Role.FINANCE, Role.ADMIN})
ISSUERS = frozenset({Role.FINANCE})

router = APIRouter(
    prefix="/finance",
    tags=["financement"],
    dependencies=[Depends(require(*READERS))],
)
"""Reads for finance, auditors and administrators; writes narrowed per route."""

_adopters = [Depends(require(*ADOPTERS))]
_issuers = [Depends(require(*ISSUERS))]


def period_bounds(periode: str, field: str = "periode") -> tuple[date, date]:
    """A statement's or a simulation's period (`2022`, `2022-T1`, `2022-03`); 422 otherwise."""
    try:
        return bornes(periode)
    except ValueError as e:
        raise ProblemError(422, "periode_invalide", "Période invalide", str(e), field) from None


def _bareme(raw: Any, field: str = "bareme") -> Bareme:
    try:
        return bareme_from(raw)
    except TariffError as e:
        path = f"{field}.{e.field}" if e.field != "bareme" else field
        raise ProblemError(422, e.code, "Barème invalide", f"{path}: {e}", path) from None


def _with_csv(kind: Any, description: str) -> dict[str, Any]:
    json = json_response(kind, description, None)
    return {**json, "content": {**json["content"], CSV: {"schema": {"type": "string"}}}}


# --- schedules ----------------------------------------------------------------------------------


class Adopter(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    motif: str
    bareme: dict[str, Any]
    """The schedule document (the JSON form of a `schedules/*.toml` file)."""


class Baremes(msgspec.Struct, frozen=True, kw_only=True):
    adoptes: list[Adoption]
    livres: list[Bareme]
    """The documents shipped with parcours (to adopt or to simulate)."""


_BAREME_EXAMPLE = {
    "nom": "val-de-marne-2023",
    "version": 1,
    "du": "2023-01-01",
    "options": {"cer_court": "prorata"},
    "tarifs": {"ccas": {"cer": 420, "asc": [{"a_partir_de": 1, "montant": 150}]}},
}


@router.get(
    "/baremes",
    summary="Les barèmes adoptés (qui, quand, à partir de quand, pourquoi) et les barèmes livrés",
    responses={200: json_response(Baremes, "Barèmes", None), **error_responses(401, 403)},
)
def get_schedules(app: Store) -> Response:
    return MsgspecJSONResponse(Baremes(adoptes=adoptions(app), livres=list(shipped().values())))


@router.post(
    "/baremes",
    summary="Adopter un barème à partir de sa date d'effet (rétroactive le cas échéant)",
    dependencies=_adopters,
    openapi_extra=request_body(
        Adopter, {"motif": "révision 2023 votée le 12/12/2022", "bareme": _BAREME_EXAMPLE}
    ),
    responses={
        201: json_response(Adoption, "Barème adopté", None),
        **error_responses(400, 401, 403, 422),
    },
)
async def post_schedule(request: Request, app: Store, author: Authored) -> Response:
    body = await read_json(request, Adopter)
    bareme = _bareme(body.bareme)
    adopted = await run_in_threadpool(adopt, app, bareme, body.motif, author)
    return MsgspecJSONResponse(adopted, 201)


# --- lines and simulations ------------------------------------------------------------------------


class Lignes(msgspec.Struct, frozen=True, kw_only=True):
    du: date
    au: date
    position: int
    total: int
    lignes: list[Ligne]


@router.get(
    "/lignes",
    summary="Les lignes payables d'une période sous les barèmes en vigueur, règle et événements",
    responses={200: json_response(Lignes, "Lignes", None), **error_responses(401, 403, 422)},
)
async def get_lines(
    finance: Financing,
    periode: Annotated[str, Query(description="AAAA, AAAA-Tn ou AAAA-MM")],
    partenaire: Annotated[str | None, Query(description="Une structure")] = None,
) -> Response:
    du, au = period_bounds(periode)
    position, lines = await run_in_threadpool(finance.price, Periode(du, au))
    if partenaire is not None:
        lines = [line for line in lines if line.partenaire == partenaire]
    lines = ordered(lines)
    return MsgspecJSONResponse(
        Lignes(du=du, au=au, position=position, total=sum(x.montant for x in lines), lignes=lines)
    )


class Simuler(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    periode: str
    """AAAA, AAAA-Tn or AAAA-MM: the past period re-priced."""
    bareme: dict[str, Any]


@router.post(
    "/simulations",
    summary="Simuler un barème sur une période passée: écarts par partenaire, par étape, par ligne",
    description="Rien n'est écrit. JSON par défaut, CSV avec Accept: text/csv.",
    openapi_extra=request_body(Simuler, {"periode": "2021", "bareme": _BAREME_EXAMPLE}),
    responses={
        200: _with_csv(Simulation, "La simulation"),
        **error_responses(400, 401, 403, 422),
    },
)
async def post_simulation(request: Request, finance: Financing) -> Response:
    body = await read_json(request, Simuler)
    du, au = period_bounds(body.periode)
    bareme = _bareme(body.bareme)
    sim = await run_in_threadpool(finance.simulate, bareme, Periode(du, au))
    if wants_csv(request):
        return csv_response(simulation_csv(sim), f"simulation-{bareme.nom}-{body.periode}.csv")
    return MsgspecJSONResponse(sim)


# --- statements ---------------------------------------------------------------------------------


class EtatPage(Page[Etat], frozen=True, kw_only=True):
    """Issued statements, partner by partner in the order of their issue."""


@router.get(
    "/etats",
    summary="Les états émis (d'un partenaire ou de tous, paginés)",
    responses={
        200: json_response(EtatPage, "Page d'états émis", None),
        **error_responses(401, 403, 422),
    },
)
async def get_statements(
    finance: Financing,
    paging: Paged,
    partenaire: Annotated[str | None, Query(description="Une structure")] = None,
) -> Response:
    issued = await run_in_threadpool(finance.statements, partenaire)
    return MsgspecJSONResponse(paging.cut(EtatPage, issued))


def _unknown(partenaire: str) -> ProblemError:
    return ProblemError(
        404,
        "partenaire_inconnu",
        "Partenaire inconnu",
        f"Aucune structure déclarée sous l'identifiant {partenaire!r}.",
        "partenaire",
    )


def _render(request: Request, etat: Etat, status: int = 200) -> Response:
    if wants_csv(request):
        name = f"etat-{etat.partenaire}-{etat.periode}-{etat.statut}.csv"
        return csv_response(etat_csv(etat), name)
    return MsgspecJSONResponse(etat, status)


_ETAT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: _with_csv(Etat, "L'état émis, ou son projet s'il n'est pas émis"),
    **error_responses(401, 403, 404, 422),
}


@router.get(
    "/etats/{partenaire}/{periode}",
    summary="L'état d'un partenaire pour une période: tel qu'émis, sinon le projet du jour",
    responses=_ETAT_RESPONSES,
)
async def get_statement(
    partenaire: str, periode: str, request: Request, finance: Financing
) -> Response:
    period_bounds(periode)
    if finance.registry().get(partenaire) is None:
        raise _unknown(partenaire)
    return _render(request, await run_in_threadpool(finance.statement, partenaire, periode))


@router.post(
    "/etats/{partenaire}/{periode}",
    summary="Émettre l'état: enregistré tel quel, relu à l'identique ensuite",
    dependencies=_issuers,
    responses={
        201: _with_csv(Etat, "L'état émis"),
        409: {**error_responses(409)[409], "description": "État déjà émis pour cette période"},
        **error_responses(401, 403, 404, 422),
    },
)
async def post_statement(
    partenaire: str, periode: str, request: Request, finance: Financing, author: Authored
) -> Response:
    period_bounds(periode)
    if finance.registry().get(partenaire) is None:
        raise _unknown(partenaire)
    if any(e.periode == periode for e in finance.issued(partenaire)):
        raise ProblemError(
            409,
            "etat_deja_emis",
            "État déjà émis",
            f"L'état {partenaire}/{periode} est déjà émis; les écarts iront sur l'état suivant.",
            "periode",
        )
    etat = await run_in_threadpool(finance.issue, partenaire, periode, author)
    return _render(request, etat, 201)
