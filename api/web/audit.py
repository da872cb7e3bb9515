"""The audit screen, for auditors: `/ecrans/audit` (« Audit » in the header: a form asking a
case id) and `/ecrans/audit/dossiers/{id}`, a GET form (so its address can be shared) with the
case as it stood on a day (« Situation au », `as_of`) as known at a moment (« Telle que connue
le », `known_at`), what changed since a moment and why (« Changements depuis »), and the case's
access log. The same use cases as `GET /dossiers/{id}?as_of=&known_at=`
(`api.services.audit.case_at`), `GET /audit/diff` (`case_changes`: its `diff` and `explain`
for one case) and `GET /audit/acces?case_id=`; only the checks of the form's fields are the
screen's own, so that a refused field comes back next to it (422). Opening the screen is an
access to the case, written to the access log as every other."""

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.eventlog.reading import case_history
from adapters.eventlog.store import Parcours
from api.http.access import check_case, folding, unknown_case
from api.http.auth import Principal, Role
from api.http.deps import Caller, Store, checked_on_case, require
from api.http.limits import in_window
from api.services.audit import access_filter, accesses, aware, case_at, case_changes
from api.web import labels
from api.web.router import PREFIX, redirect, render, session_principal, templates

PATH = f"{PREFIX}/audit"
ROLES = frozenset({Role.AUDITEUR})
"""Who reaches the screen (the header shows « Audit » to them)."""
ACCESS_ROWS = 100
"""The latest accesses the screen lists (the JSON route and its CSV give them all)."""
FIELDS = ("as_of", "known_at", "depuis")
LABELS = {
    "case_id": "Identifiant du dossier",
    "as_of": "Situation au",
    "known_at": "Telle que connue le",
    "depuis": "Changements depuis",
}

router = APIRouter(
    prefix=PREFIX, include_in_schema=False, dependencies=[Depends(session_principal)]
)


@router.get("/audit", dependencies=[Depends(require(*ROLES))])
def audit_home(request: Request) -> Response:
    """The form asking a case id; a valid one leads to the case's audit screen."""
    raw = request.query_params.get("case_id")
    errors: dict[str, str] = {}
    if raw is not None:
        try:
            return redirect(f"{PATH}/dossiers/{UUID(raw.strip())}")
        except ValueError:
            errors["case_id"] = "identifiant de dossier attendu (UUID, 36 caractères)"
    return render(
        request,
        "audit.html",
        {"title": "Audit", "form": {"case_id": raw or ""}, "errors": errors, "labels": LABELS},
        422 if errors else 200,
    )


def _moment(text: str, kind: str) -> date | datetime:
    value: date | datetime = (
        date.fromisoformat(text) if kind == "date" else datetime.fromisoformat(text)
    )
    in_window(value)
    return value


def checked(form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's moments (None when left empty), or the message of each field at fault."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in FIELDS:
        kind = "date" if name == "as_of" else "datetime"
        text = form[name]
        if not text:
            values[name] = None
            continue
        try:
            values[name] = _moment(text, kind)
        except ValueError as e:
            errors[name] = (
                str(e)
                if str(e).startswith("la date")
                else "date invalide (jj/mm/aaaa)"
                if kind == "date"
                else "date et heure invalides (jj/mm/aaaa hh:mm)"
            )
    return values, errors


def _page(request: Request, app: Parcours, caller: Principal, case_id: UUID) -> Response:
    check_case(request, caller, case_id, ROLES, {}, "écran d'audit du dossier")
    history = case_history(app, case_id)
    if not history:
        raise unknown_case(case_id)
    query = request.query_params
    form = {name: query.get(name, "").strip() for name in FIELDS}
    values, errors = checked(form)
    at = changes = None
    if not errors:
        with folding(case_id):
            at = case_at(app, case_id, values["as_of"], values["known_at"], history)
            if values["depuis"] is not None:
                changes = case_changes(app, case_id, values["depuis"], values["as_of"], history)
    log, total = accesses(app, access_filter(app, case_id), ACCESS_ROWS)
    numero = next(
        (n for r in history if (n := getattr(r.event, "numero_dossier", None)) is not None), None
    )
    return render(
        request,
        "audit_dossier.html",
        {
            "title": f"Audit du dossier {numero or case_id}",
            "case_id": case_id,
            "numero": numero,
            "form": form,
            "errors": errors,
            "labels": LABELS,
            "at": at,
            "since": None if values.get("depuis") is None else aware(app, values["depuis"]),
            "changes": changes,
            "accesses": log,
            "accesses_total": total,
            "json": f"/audit/acces?{urlencode({'case_id': str(case_id)})}",
            "tz": app.tz,
        },
        422 if errors else 200,
    )


@router.get("/audit/dossiers/{case_id}", dependencies=[Depends(checked_on_case(*ROLES))])
async def audit_case(request: Request, app: Store, caller: Caller, case_id: UUID) -> Response:
    return await run_in_threadpool(_page, request, app, caller, case_id)


def shown(value: Any) -> str:
    """A state's value as the screen shows it: « — » for none, oui/non, codes in French, dates
    as jj/mm/aaaa."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, str):
        try:
            return (
                date.fromisoformat(value).strftime("%d/%m/%Y")
                if len(value) == 10
                else labels.valeur(value)
            )
        except ValueError:
            return labels.valeur(value)
    return str(value)


templates.env.filters["champ_etat"] = labels.champ_etat
templates.env.filters["montre"] = shown
