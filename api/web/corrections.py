"""Corrections from the case screen: `/ecrans/dossiers/{id}/corrections/{slug}?version=N`, the
form of `AnnulerEtape` (« Annuler ») or `RectifierEtape` (« Rectifier »), derived from the
command as every step's (`api.web.forms`), the step it corrects named at the top and carried in
a hidden field, the motif asked; posted to the same address. Admitted as the JSON correction
routes admit them (`api.http.cases.admit_step`: the roles and accompaniments that may record
the step corrected), recorded through the same use case (`api.services.cases.handle`) with the
case's version as shown (`If-Match` semantics: a colleague's change meanwhile is said, not
overwritten). A refusal comes back next to its field with the form as typed, nothing written;
success goes back to the case with a confirmation (post/redirect/get)."""

from collections.abc import Mapping
from dataclasses import replace
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.eventlog.store import Parcours
from api.http.access import CORRECTION_ROLES
from api.http.auth import Principal
from api.http.cases import admit_correction
from api.http.deps import Caller, Store, parcours, require
from api.http.problems import ProblemError
from api.http.steps import CORRECTIONS, Step
from api.web.correctable import RECTIFICATION
from api.web.forms import Champ, champs, initial
from api.web.router import (
    NOT_FOUND,
    PREFIX,
    command_from_form,
    posted,
    redirect,
    render,
    session_principal,
    submit,
)
from domain.events import Recorded
from projections.timeline import TimelineEntry, timeline

router = APIRouter(
    prefix=PREFIX,
    include_in_schema=False,
    dependencies=[Depends(session_principal), Depends(require(*CORRECTION_ROLES))],
)

TITLES = {
    "annulation": "Annuler l'étape {v}",
    "rectification": "Rectifier la date d'effet de l'étape {v}",
}

DECIDED = "Date de la correction (jour où elle est décidée)"
"""The correction's own date of effect, which the generic « Date d'effet » would confuse with
the date of the step corrected."""


def correction_of(slug: str) -> Step:
    found = next((s for s in CORRECTIONS if s.slug == slug), None)
    if found is None:
        raise ProblemError(404, "correction_inconnue", NOT_FOUND, f"Aucune {slug}.", "slug")
    return found


def target_field(step: Step) -> str:
    """The command's field naming the version corrected (`version_annulee`, …)."""
    return next(f for f in step.command.__struct_fields__ if f.startswith("version_"))


def _fields(step: Step) -> list[Champ]:
    """The command's form, the version corrected a hidden field (the link sets it)."""
    hidden = target_field(step)
    return [
        replace(f, kind="hidden")
        if f.name == hidden
        else replace(f, label=DECIDED)
        if f.name == "effective_on"
        else f
        for f in champs(step.command, {})
    ]


def _target(history: list[Recorded], version: int) -> TimelineEntry | None:
    return next((e for e in timeline(history) if e.version == version), None)


def _version(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return 0


def _page(
    request: Request,
    history: list[Recorded],
    case_id: UUID,
    step: Step,
    version: int,
    form: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    """The correction's form: fresh (today as the day of the decision, for a rectification the
    step's date as it stands) or as typed, with errors; the hidden case version is the
    history's just read."""
    fields = _fields(step)
    shown = [f for f in fields if f.kind != "hidden"]
    target = _target(history, version)
    if form is None:
        form = initial(fields, parcours(request).today())
        form[target_field(step)] = str(version)
        if step.slug == RECTIFICATION and target is not None:
            form["effective_on_corrige"] = target.effective_on.isoformat()
    return render(
        request,
        "etape.html",
        {
            "title": TITLES[step.slug].format(v=version),
            "case_id": case_id,
            "step": step,
            "fields": fields,
            "form": form,
            "errors": errors or {},
            "anchor": {
                e: e if e in {f.name for f in shown} else shown[0].name for e in errors or {}
            },
            "form_labels": {f.name: f.label for f in shown},
            "version": len(history),
            "action": f"{PREFIX}/dossiers/{case_id}/corrections/{step.slug}",
            "target": target,
            "refused": "La correction n'a pas été enregistrée",
        },
        status,
    )


@router.get("/dossiers/{case_id}/corrections/{slug}")
def correction_form(request: Request, caller: Caller, case_id: UUID, slug: str) -> Response:
    step = correction_of(slug)
    version = _version(request.query_params.get("version"))
    _, history = admit_correction(request, caller, case_id, step, version)
    if _target(history, version) is None:
        raise ProblemError(404, "etape_inconnue", NOT_FOUND, f"Aucune étape {version}.", "version")
    return _page(request, history, case_id, step, version)


def _record(
    request: Request,
    app: Parcours,
    caller: Principal,
    case_id: UUID,
    step: Step,
    form: dict[str, str],
) -> Response:
    version = _version(form.get(target_field(step)))
    structure, history = admit_correction(request, caller, case_id, step, version)
    fields = _fields(step)
    hidden = target_field(step)

    def refused(errors: Mapping[str, str], status: int = 422) -> Response:
        top = {("etape" if k == hidden else k): m for k, m in errors.items()}
        return _page(request, history, case_id, step, version, form, top, status)

    command = command_from_form(step, fields, form, refused)
    if isinstance(command, Response):
        return command
    answer = submit(
        request,
        app,
        caller,
        case_id,
        command,
        (structure, history),
        _version(form.get("version")) or -1,
        fields,
        refused,
    )
    if answer is not None:
        return answer
    return redirect(f"{PREFIX}/dossiers/{case_id}?corrige={step.slug}&v={version}#chronologie")


@router.post("/dossiers/{case_id}/corrections/{slug}")
async def record_correction(
    request: Request, app: Store, caller: Caller, case_id: UUID, slug: str
) -> Response:
    step = correction_of(slug)
    form = await posted(request)
    return await run_in_threadpool(_record, request, app, caller, case_id, step, form)
