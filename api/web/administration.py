"""The administration screen, `/ecrans/administration`: the registry of agents' rights (paged;
grant, revoke) for administrators, and the structures registry (list; declare) for the roles
the JSON structures routes admit (read: finance, admin, auditors, orientation officers; write:
finance and admin). Every write goes through the JSON routes' use cases
(`api.services.agents.grant`/`revoke`, `api.services.structures.declare_structure`); only the
reading of the form's fields is the screen's own, so that a refused field comes back next to
the field, the form as typed and nothing written. A success comes back with a confirmation
(post/redirect/get)."""

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.eventlog.store import Parcours
from api.http.auth import Principal, Role
from api.http.deps import Authored, Caller, Store, require
from api.http.params import Limit, Offset, Paging
from api.services.agents import grant, registre, revoke
from api.services.commands import Author
from api.services.structures import declare_structure, load_structures
from api.web.router import (
    PREFIX,
    STRUCTURE_READERS,
    Refused,
    posted,
    redirect,
    render,
    session_principal,
    templates,
)
from domain.agents import RoleAgent
from domain.errors import DomainError
from domain.vocabulary import TypeOrganisme

PATH = f"{PREFIX}/administration"
READERS = STRUCTURE_READERS
WRITERS = frozenset({Role.FINANCE, Role.ADMIN})
"""Who declares a structure (as `PUT /structures/{id}`)."""

ROLES = {
    RoleAgent.AGENT: "Agent d'une structure",
    RoleAgent.ORIENTATION: "Chargé d'orientation",
    RoleAgent.AUDITEUR: "Auditeur",
    RoleAgent.FINANCE: "Finances",
    RoleAgent.EVALUATION: "Évaluation",
    RoleAgent.ADMIN: "Administrateur",
    RoleAgent.FLUX: "Échanges de fichiers (flux)",
    RoleAgent.EXPLOITATION: "Exploitation (métriques)",
}
"""The roles as the screen names them."""
ORGANISMES = {
    TypeOrganisme.FRANCE_TRAVAIL: "France Travail",
    TypeOrganisme.MISSION_LOCALE: "Mission locale",
    TypeOrganisme.MAISON_EMPLOI: "Maison de l'emploi",
    TypeOrganisme.PLIE: "PLIE",
    TypeOrganisme.CAP_EMPLOI: "Cap emploi",
    TypeOrganisme.CREATION_ENTREPRISE: "Création d'entreprise",
    TypeOrganisme.IAE: "Insertion par l'activité économique (IAE)",
    TypeOrganisme.AUTRE_SPE: "Autre organisme du SPE",
    TypeOrganisme.DEPARTEMENT: "Département",
    TypeOrganisme.CAF_MSA: "CAF ou MSA",
    TypeOrganisme.CCAS: "CCAS",
    TypeOrganisme.ASSOCIATION: "Association",
    TypeOrganisme.AAVE: "AAVE",
    TypeOrganisme.AUTRE_HORS_SPE: "Autre organisme hors SPE",
    TypeOrganisme.EQUIPE_PLURIDISCIPLINAIRE: "Équipe pluridisciplinaire (EP)",
}

GRANT_FIELDS = ("agent", "role", "structures", "du", "au", "motif")
STRUCTURE_FIELDS = ("structure_id", "nom", "type_organisme", "etp", "effective_on")
LABELS = {
    "agent": "Agent (identifiant OIDC ou e-mail)",
    "role": "Rôle",
    "structures": "Structures (séparées par des virgules)",
    "du": "Du",
    "au": "Au (facultatif)",
    "motif": "Motif",
    "structure_id": "Identifiant de la structure",
    "nom": "Nom",
    "type_organisme": "Type d'organisme",
    "etp": "ETP (facultatif)",
    "effective_on": "À partir du",
}
NOTICES = {
    "droit": "Droit accordé.",
    "retrait": "Droit retiré.",
    "structure": "Structure déclarée.",
}

router = APIRouter(
    prefix=PREFIX,
    include_in_schema=False,
    dependencies=[Depends(session_principal), Depends(require(*READERS))],
)


def _day(form: Mapping[str, str], name: str) -> date:
    try:
        return date.fromisoformat(form.get(name, "").strip())
    except ValueError:
        raise Refused(name, "date invalide ou manquante (jj/mm/aaaa)") from None


def _optional_day(form: Mapping[str, str], name: str) -> date | None:
    return _day(form, name) if form.get(name, "").strip() else None


E = TypeVar("E", RoleAgent, TypeOrganisme)


def _choice(kind: type[E], form: Mapping[str, str], name: str) -> E:
    try:
        return kind(form.get(name, ""))
    except ValueError:
        raise Refused(name, "choisir dans la liste") from None


def _etp(form: Mapping[str, str]) -> float | None:
    raw = form.get("etp", "").strip().replace(",", ".")
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise Refused("etp", "un nombre, par exemple 3,5") from None


def structures_of(raw: str) -> list[str]:
    """The structures typed in one field, separated by commas (or spaces)."""
    return [s for s in raw.replace(",", " ").split() if s]


def _refusal(e: DomainError, fields: tuple[str, ...]) -> tuple[str, str]:
    """The form field a rule's refusal names (`structures[0]` is `structures`), its message."""
    name = (e.field or "").split("[")[0].split(".")[0]
    field = name if name in fields else fields[0]
    return field, e.detail.removeprefix(f"{e.field}:").strip()


def _attempt(write: Callable[[], object], fields: tuple[str, ...]) -> dict[str, str]:
    """Run one write; the message of the field at fault when it is refused (nothing written)."""
    try:
        write()
    except Refused as e:
        return {e.field: e.message}
    except DomainError as e:
        field, message = _refusal(e, fields)
        return {field: message}
    return {}


def _page(
    request: Request,
    app: Parcours,
    caller: Principal,
    paging: Paging,
    status: int = 200,
    **context: Any,
) -> Response:
    admin = Role.ADMIN in caller.roles
    rights = list(reversed(registre(app).all())) if admin else []
    notice = NOTICES.get(request.query_params.get("ok", ""))
    return render(
        request,
        "administration.html",
        {
            "title": "Administration" if admin else "Structures",
            "admin": admin,
            "may_declare": not caller.roles.isdisjoint(WRITERS),
            "rights": paging.window(rights),
            "total": len(rights),
            "limit": paging.limit,
            "offset": paging.offset,
            "structures": load_structures(app).all(),
            "roles": ROLES,
            "organismes": ORGANISMES,
            "labels": LABELS,
            "notice": notice,
            "tz": app.tz,
            "grant_form": {"du": app.today().isoformat()},
            "grant_errors": {},
            "structure_form": {"effective_on": app.today().isoformat()},
            "structure_errors": {},
            "revoke_form": {},
            "revoke_errors": {},
            **context,
        },
        status,
    )


@router.get("/administration")
async def administration_page(
    request: Request, app: Store, caller: Caller, limit: Limit = 50, offset: Offset = 0
) -> Response:
    return await run_in_threadpool(_page, request, app, caller, Paging(limit, offset))


def _grant(app: Parcours, form: Mapping[str, str], author: Author) -> None:
    grant(
        app,
        agent=form.get("agent", ""),
        role=_choice(RoleAgent, form, "role"),
        structures=structures_of(form.get("structures", "")),
        du=_day(form, "du"),
        au=_optional_day(form, "au"),
        motif=form.get("motif", ""),
        author=author,
    )


async def _submit(
    request: Request,
    app: Parcours,
    caller: Principal,
    write: Callable[[Mapping[str, str]], None],
    fields: tuple[str, ...],
    section: str,
    done: str,
) -> Response:
    """One form of the page posted: written, then back to the page with `done` confirmed, or
    the page again with the form as typed and its errors next to the fields (`section`)."""
    form = await posted(request)
    errors = await run_in_threadpool(_attempt, lambda: write(form), fields)
    if errors:
        shown = {f"{section}_form": form, f"{section}_errors": errors}
        return await run_in_threadpool(_page, request, app, caller, Paging(50, 0), 422, **shown)
    return redirect(f"{PATH}?ok={done}")


@router.post("/administration/droits", dependencies=[Depends(require(Role.ADMIN))])
async def grant_right(request: Request, app: Store, caller: Caller, author: Authored) -> Response:
    return await _submit(
        request,
        app,
        caller,
        lambda form: _grant(app, form, author),
        GRANT_FIELDS,
        "grant",
        "droit#droits",
    )


@router.post(
    "/administration/droits/{droit_id}/retrait", dependencies=[Depends(require(Role.ADMIN))]
)
async def revoke_right(
    request: Request, app: Store, caller: Caller, author: Authored, droit_id: str
) -> Response:
    form = await posted(request)
    motif = form.get("motif", "")

    def write() -> None:
        revoke(app, droit_id=droit_id, agent=None, role=None, motif=motif, author=author)

    errors = await run_in_threadpool(_attempt, write, ("motif", "droit_id"))
    if errors:
        message = next(iter(errors.values()))
        return await run_in_threadpool(
            _page,
            request,
            app,
            caller,
            Paging(50, 0),
            422,
            revoke_form={droit_id: motif},
            revoke_errors={droit_id: message},
        )
    return redirect(f"{PATH}?ok=retrait#droits")


def _declare(app: Parcours, form: Mapping[str, str], author: Author) -> None:
    declare_structure(
        app,
        form.get("structure_id", "").strip(),
        form.get("nom", ""),
        _choice(TypeOrganisme, form, "type_organisme"),
        _etp(form),
        _day(form, "effective_on"),
        author,
    )


@router.post("/administration/structures", dependencies=[Depends(require(*WRITERS))])
async def declare(request: Request, app: Store, caller: Caller, author: Authored) -> Response:
    return await _submit(
        request,
        app,
        caller,
        lambda form: _declare(app, form, author),
        STRUCTURE_FIELDS,
        "structure",
        "structure#structures",
    )


def etp(value: float | None) -> str:
    """Posts as a French reader writes them: `3,5`, `2`, « — » for none."""
    return "—" if value is None else f"{value:g}".replace(".", ",")


templates.env.filters["etp"] = etp
