"""The finance screen, `/ecrans/finance`, for the roles the JSON financing routes admit: the
schedules adopted, a candidate schedule simulated over a period (a file or a pasted document,
the per-partner difference, a chart) then adopted, and the statements (issued, or drafted
today; issued from the screen by finance). Every rule is the JSON routes' use case
(`Finance.simulate`, `adopt`, `Finance.statement`, `Finance.issue`) and their checks of a
period and a document; only the reading of the form's fields is the screen's own, so that a
refusal comes back next to its field with the form as typed and nothing written. A write comes
back with a confirmation (post/redirect/get)."""

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

import msgspec
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from adapters.eventlog.store import Parcours
from api.http.auth import Principal
from api.http.deps import Authored, Caller, Financing, require
from api.http.finance import ADOPTERS, ISSUERS, READERS, period_bounds
from api.http.problems import ProblemError
from api.services.commands import Author
from api.services.finance import EtatDejaEmis, Finance
from api.services.schedules import adopt, adoptions
from api.web.administration import ORGANISMES
from api.web.formats import euros
from api.web.router import (
    PREFIX,
    Refused,
    posted,
    redirect,
    render,
    session_principal,
    templates,
)
from domain.errors import DomainError
from domain.payments import LIBELLES_ETAPE, Etape, Etat
from domain.structures import StructureRegistry
from domain.tariffs import Bareme, TariffError, Tarifs, cents, decode_bareme
from projections.indicateurs import Periode
from projections.pricing import StructureNonDeclaree
from projections.statements import Simulation

PATH = f"{PREFIX}/finance"
MAX_DOCUMENT = 256 * 1024
"""Bytes of a schedule document (the shipped ones are under 2 kB)."""

LABELS = {
    "fichier": "Fichier du barème (TOML ou JSON)",
    "document": "Ou le barème collé ici (TOML ou JSON)",
    "periode": "Période simulée",
    "motif": "Motif de l'adoption",
    "partenaire": "Partenaire",
    "etat_periode": "Période de l'état",
}
NOTICES = {
    "adoption": "Barème adopté : il s'applique dès maintenant aux lignes de sa période.",
    "etat": "État émis : il restera tel quel, les écarts iront sur l'état suivant.",
}

router = APIRouter(
    prefix=PREFIX,
    include_in_schema=False,
    dependencies=[Depends(session_principal), Depends(require(*READERS))],
)


@dataclass
class Screen:
    """What one rendering of the page shows besides the schedules and statements: the forms
    as typed, their errors by field, and a simulation."""

    simulation_form: dict[str, str]
    errors: dict[str, str]
    simulation: Simulation | None = None
    document: str = ""
    """The candidate as canonical JSON, carried by the adoption form."""
    motif: str = ""


def _said(e: ProblemError) -> str:
    """A period's refusal as said next to its field (which already names it)."""
    return e.problem.detail.removeprefix("période: ")


def _last_year(today: date) -> str:
    return str(today.year - 1)


def _amount(value: Decimal) -> str:
    """A schedule's euros (at most two decimals) as the screen writes them."""
    return euros(cents(value))


def tarifs_text(t: Tarifs) -> str:
    """What a schedule pays one kind of structure, in a line."""
    parts: list[str] = []
    if t.cer is not None:
        parts.append(
            f"CER {_amount(t.cer)}{'' if t.cer_renouvellement else ' (hors renouvellement)'}"
        )
    if t.bonus_premier_entretien is not None:
        parts.append(f"1er entretien dans le délai +{_amount(t.bonus_premier_entretien)}")
    if t.bonus_sortie_positive is not None:
        parts.append(f"sortie positive +{_amount(t.bonus_sortie_positive)}")
    if t.plafond_contrat is not None:
        parts.append(f"plafond de {_amount(t.plafond_contrat)} par contrat")
    if t.asc:
        tiers = ", ".join(f"dès {p.a_partir_de} : {_amount(p.montant)}" for p in t.asc)
        parts.append(f"ASC ({tiers})")
    if t.eio is not None:
        parts.append(f"EIO {_amount(t.eio)}")
    if t.subvention_etp is not None:
        parts.append(f"{_amount(t.subvention_etp)} par ETP")
    if t.bonus_performance_pct is not None:
        pct = str(t.bonus_performance_pct).replace(".", ",")
        parts.append(f"+{pct}\u00a0% si les valeurs de référence sont atteintes")
    if t.plafond_etp is not None:
        parts.append(f"plafond de {_amount(t.plafond_etp)} par ETP")
    return "; ".join(parts) or "rien"


def partner_name(registry: StructureRegistry, partenaire: str) -> str:
    found = registry.get(partenaire)
    return f"{found.nom} ({partenaire})" if found is not None else partenaire


def _statement_query(request: Request) -> dict[str, str]:
    query = request.query_params
    return {
        "partenaire": query.get("partenaire", "").strip(),
        "etat_periode": query.get("periode", "").strip(),
    }


def _statement(
    finance: Finance, registry: StructureRegistry, form: Mapping[str, str], errors: dict[str, str]
) -> Etat | None:
    """The statement asked (as issued, else the draft of the day), or the fields at fault."""
    partenaire, periode = form["partenaire"], form["etat_periode"]
    if not partenaire and not periode:
        return None
    if registry.get(partenaire) is None:
        errors["partenaire"] = "choisir une structure déclarée"
    try:
        period_bounds(periode)
    except ProblemError as e:
        errors["etat_periode"] = _said(e)
    if errors:
        return None
    return finance.statement(partenaire, periode)


def _page(
    request: Request,
    finance: Finance,
    caller: Principal,
    screen: Screen,
    statement_form: dict[str, str] | None = None,
    statement_errors: dict[str, str] | None = None,
    status: int = 422,
) -> Response:
    """The page; `status` when it shows errors (200 otherwise)."""
    app = finance.app
    registry = finance.registry()
    statement_form = statement_form or _statement_query(request)
    statement_errors = dict(statement_errors or {})
    etat = (
        None
        if statement_errors
        else _statement(finance, registry, statement_form, statement_errors)
    )
    chart = None
    if screen.simulation is not None and screen.simulation.par_partenaire:
        from adapters.render.charts import financing_chart  # matplotlib: loaded on the first one

        chart = base64.b64encode(financing_chart(screen.simulation, "svg")).decode("ascii")
    errors = {**screen.errors, **statement_errors}
    notice = NOTICES.get(request.query_params.get("ok", ""))
    return render(
        request,
        "finance.html",
        {
            "title": "Financement",
            "adoptions": list(reversed(adoptions(app))),
            "tarifs_text": tarifs_text,
            "organismes": ORGANISMES,
            "may_adopt": not caller.roles.isdisjoint(ADOPTERS),
            "may_issue": not caller.roles.isdisjoint(ISSUERS),
            "labels": LABELS,
            "form": screen.simulation_form,
            "errors": errors,
            "simulation": screen.simulation,
            "chart": chart,
            "document": screen.document,
            "motif": screen.motif,
            "registry": registry,
            "partner_name": lambda p: partner_name(registry, p),
            "issued": finance.statements(),
            "statement_form": statement_form,
            "etat": etat,
            "etapes": LIBELLES_ETAPE,
            "notice": notice,
            "tz": app.tz,
        },
        status if errors else 200,
    )


def _fresh(app: Parcours) -> Screen:
    return Screen(simulation_form={"document": "", "periode": _last_year(app.today())}, errors={})


@router.get("/finance")
async def finance_page(request: Request, finance: Financing, caller: Caller) -> Response:
    return await run_in_threadpool(_page, request, finance, caller, _fresh(finance.app))


async def _uploaded(request: Request) -> tuple[str, bytes] | None:
    """The file chosen, if any: its name and content (at most `MAX_DOCUMENT` bytes)."""
    chosen = (await request.form()).get("fichier")
    if not isinstance(chosen, UploadFile) or not chosen.filename:
        return None
    content = await chosen.read(MAX_DOCUMENT + 1)
    if len(content) > MAX_DOCUMENT:
        raise Refused("fichier", f"fichier trop long (au plus {MAX_DOCUMENT // 1024} ko)")
    return chosen.filename, content


def _candidate(text: str, field: str, name: str | None = None) -> Bareme:
    """The document read as the JSON routes read it (`domain.tariffs`): JSON when it opens
    with `{` or its file says `.json`, TOML otherwise; a refusal names the document's field."""
    json = text.lstrip().startswith("{") or (name or "").lower().endswith(".json")
    try:
        return decode_bareme(text.encode("utf-8"), "json" if json else "toml")
    except TariffError as e:
        where = f"{e.field} : " if e.field != "bareme" else ""
        raise Refused(field, f"{where}{e}") from None


def _simulate(finance: Finance, form: dict[str, str], upload: tuple[str, bytes] | None) -> Screen:
    """The simulation the form asks, or the page with its errors (nothing is written)."""
    errors: dict[str, str] = {}
    bareme: Bareme | None = None
    try:
        if upload is not None:
            name, content = upload
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError:
                raise Refused("fichier", "le fichier n'est pas un texte UTF-8") from None
            form["document"] = text  # kept for the next try, the file field being emptied
            bareme = _candidate(text, "fichier", name)
        elif form["document"].strip():
            bareme = _candidate(form["document"], "document")
        else:
            raise Refused("fichier", "choisir un fichier de barème ou coller le barème")
    except Refused as e:
        errors[e.field] = e.message
    periode: Periode | None = None
    try:
        du, au = period_bounds(form["periode"])
        periode = Periode(du, au)
    except ProblemError as e:
        errors["periode"] = _said(e)
    if errors or bareme is None or periode is None:
        return Screen(simulation_form=form, errors=errors)
    return Screen(
        simulation_form=form,
        errors={},
        simulation=finance.simulate(bareme, periode),
        document=msgspec.json.encode(bareme).decode("utf-8"),
    )


def _simulation_form(form: Mapping[str, str]) -> dict[str, str]:
    return {"document": form.get("document", ""), "periode": form.get("periode", "").strip()}


@router.post("/finance/simulation")
async def simulate(request: Request, finance: Financing, caller: Caller) -> Response:
    form = _simulation_form(await posted(request))
    try:
        upload = await _uploaded(request)
    except Refused as e:
        screen = Screen(simulation_form=form, errors={e.field: e.message})
    else:
        screen = await run_in_threadpool(_simulate, finance, form, upload)
    return await run_in_threadpool(_page, request, finance, caller, screen)


def _adopt(finance: Finance, form: Mapping[str, str], author: Author) -> Screen | None:
    """Adopt the candidate simulated (carried as JSON); on a refusal, the simulation again with
    the message next to its field (the motif, else the document)."""
    motif = form.get("motif", "")
    again = _simulate(finance, _simulation_form(form), None)
    again.motif = motif
    if again.errors:
        return again
    try:
        adopt(finance.app, _candidate(form.get("document", ""), "document"), motif, author)
    except DomainError as e:
        field = "motif" if e.field == "motif" else "document"
        again.errors = {field: e.detail.removeprefix(f"{e.field}:").strip()}
        return again
    return None


@router.post("/finance/adoption", dependencies=[Depends(require(*ADOPTERS))])
async def adopt_schedule(
    request: Request, finance: Financing, caller: Caller, author: Authored
) -> Response:
    form = await posted(request)
    refused = await run_in_threadpool(_adopt, finance, form, author)
    if refused is not None:
        return await run_in_threadpool(_page, request, finance, caller, refused)
    return redirect(f"{PATH}?ok=adoption#baremes")


@router.post("/finance/etats", dependencies=[Depends(require(*ISSUERS))])
async def issue_statement(
    request: Request, finance: Financing, caller: Caller, author: Authored
) -> Response:
    form = await posted(request)
    partenaire, periode = form.get("partenaire", ""), form.get("periode", "")
    asked = {"partenaire": partenaire, "etat_periode": periode}
    errors: dict[str, str] = {}
    status = 422
    try:
        period_bounds(periode)
        await run_in_threadpool(finance.issue, partenaire, periode, author)
    except ProblemError as e:
        errors["etat_periode"] = _said(e)
    except EtatDejaEmis as e:
        errors["etat_periode"], status = e.detail, 409  # as the JSON route
    except DomainError as e:
        errors["partenaire" if e.field == "partenaire" else "etat_periode"] = e.detail
    if errors:
        screen = _fresh(finance.app)
        return await run_in_threadpool(
            _page, request, finance, caller, screen, asked, errors, status
        )
    query = urlencode({"partenaire": partenaire, "periode": periode, "ok": "etat"})
    return redirect(f"{PATH}?{query}#etat")


def unpriced(s: StructureNonDeclaree) -> str:
    """What pricing left aside for a structure not declared: `3 faits non payés (1 CER, 2
    entretiens ASC)`."""
    counts = [(s.contrats, "CER", "CER"), (s.entretiens_asc, "entretien ASC", "entretiens ASC")]
    counts.append((s.eio, "EIO", "EIO"))
    parts = [f"{n} {one if n == 1 else many}" for n, one, many in counts if n]
    plural = "s" if s.faits > 1 else ""
    return f"{s.faits} fait{plural} non payé{plural} ({', '.join(parts)})"


def etape_label(etape: str) -> str:
    """A step of the simulation's per-step table (its code) as the statements name it."""
    try:
        return LIBELLES_ETAPE[Etape(etape)]
    except ValueError:
        return etape


templates.env.filters["euros"] = euros
templates.env.globals["etape_label"] = etape_label
templates.env.globals["unpriced"] = unpriced
