"""The screens: server-rendered HTML over the same use cases as the JSON API, under `/ecrans`.

`/` → `/ecrans/` → the login page or the caller's home (`/ecrans/a-traiter`);
`/ecrans/connexion` (local mode: the development identities; oidc mode: the provider's button,
`/ecrans/connexion/oidc` → the provider → `/ecrans/connexion/retour`), `/ecrans/deconnexion`,
`/ecrans/dossiers/{id}` (a case, its timeline, links to the steps the caller may record),
`/ecrans/dossiers/{id}/etapes/{slug}` (a step's form, derived from its command: `api.web.forms`),
`/ecrans/static/…` (our CSS); corrections of a step are `api.web.corrections`, the statistics screen is `api.web.statistiques`, the
administration screen `api.web.administration`, the finance screen `api.web.finance`.
Every form works without JavaScript, posts its session's CSRF token, and a refused step comes
back with the form as typed and the message next to the field at fault."""

import hmac
import inspect
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

import msgspec
from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

from adapters.eventlog.store import Parcours
from adapters.identity import IdentityStore
from adapters.oidc import Flow, OidcClient, OidcError
from api.http import connectors_rdvi, finance, sanctions, statistics
from api.http.access import (
    OBJET_STEPS,
    READ_ROLES,
    STEP_ROLES,
    Accompagnants,
    check_asc_author,
    listing_structure,
    only_as_agent,
)
from api.http.auth import SCREENS, Principal, Role, principal_from_registry
from api.http.cases import admit_step, admitted_history
from api.http.deps import Caller, Identities, Statistics, Store, identities, parcours, require
from api.http.params import Limit, Offset, Paging
from api.http.problems import ProblemError
from api.http.steps import STEPS, Step
from api.services import sanctions as sanctions_service
from api.services.agents import rights_of
from api.services.audit import case_at
from api.services.cases import handle
from api.services.commands import Author, VersionConflict
from api.web import correctable, formats, forms, labels
from api.web.forms import Champ, champs, decoding_error, initial
from api.web.sessions import Session, Sessions, anonymous, csrf_matches, opened
from domain.commands import Commande, TenirEntretienAsc
from domain.dossier import fold_history
from domain.errors import DomainError
from domain.events import Recorded
from domain.vocabulary import ObjetAccompagnement
from projections.worklists import LIBELLES, TRIS, Alerte, Filtre, Motif

HERE = Path(__file__).parent
PREFIX = SCREENS
LOGIN = f"{PREFIX}/connexion"
CALLBACK = f"{LOGIN}/retour"
NO_RIGHTS = "Aucun droit ouvert pour votre compte dans parcours : demandez-le à l'administrateur."
HOME = f"{PREFIX}/a-traiter"
NOT_FOUND = "Dossier introuvable ou hors de votre portefeuille"

templates = Jinja2Templates(directory=HERE / "templates")


def _dev(
    label: str, sub: str, role: Role, structure: str | None = None
) -> tuple[str, str, Principal]:
    structures = frozenset({structure} if structure else ())
    return sub, label, Principal(sub=sub, roles=frozenset({role}), structures=structures)


DEV_IDENTITIES = [
    _dev("Agent du CCAS de Créteil", "agent-7", Role.AGENT, "ccas-creteil"),
    _dev("Conseiller de France Travail Créteil", "conseiller-12", Role.AGENT, "ft-creteil"),
    _dev(
        "Bénévole de l'association Insertion 94 (ASC)",
        "benevole-4",
        Role.AGENT,
        "asso-insertion-94",
    ),
    _dev("Chargé d'orientation du département", "orienteur-cd94", Role.ORIENTATION),
    _dev("Auditeur", "auditeur-1", Role.AUDITEUR),
    _dev("Finances", "finance-1", Role.FINANCE),
    _dev("Administrateur", "admin-1", Role.ADMIN),
]
"""Who one may log in as in local mode: the roles and structures `parcours token` issues."""

STRUCTURE_READERS = frozenset({Role.FINANCE, Role.ADMIN, Role.AUDITEUR, Role.ORIENTATION})
"""Who reads the structures registry (as `GET /structures`), on the administration screen."""

NAVIGATION: list[tuple[str, str, frozenset[Role]]] = [
    ("/a-traiter", "À traiter", frozenset(Role)),
    ("/statistiques", "Statistiques", statistics.ROLES),
    ("/finance", "Financement", finance.READERS),
    ("/administration", "Administration", frozenset({Role.ADMIN})),
    ("/administration", "Structures", STRUCTURE_READERS - {Role.ADMIN}),
    ("/audit", "Audit", frozenset({Role.AUDITEUR})),
    ("/ep", "Équipe pluridisciplinaire", sanctions.EP_READERS),
    ("/rdv-insertion/a-revoir", "À revoir (rdv-insertion)", connectors_rdvi.REVIEWERS),
]
"""The header's links (under `PREFIX`), each shown to the roles its screen admits."""


def navigation(principal: Principal) -> list[tuple[str, str]]:
    return [
        (href, label) for href, label, roles in NAVIGATION if not principal.roles.isdisjoint(roles)
    ]


# --- sessions -------------------------------------------------------------------------------


class LoginRequired(Exception):
    """No session (or an idle one): back to the login page."""


def sessions(request: Request) -> Sessions:
    found: Sessions | None = getattr(request.app.state, "sessions", None)
    if found is None:
        found = Sessions(request.app.state.parcours.settings)
        request.app.state.sessions = found
    return found


class NoRights(Exception):
    """A person the provider knows but the registry of rights gives nothing today."""


def oidc_client(request: Request) -> OidcClient | None:
    """The screens' identity provider, when oidc mode configures one."""
    settings = request.app.state.parcours.settings
    if settings.auth_mode != "oidc" or not settings.oidc_issuer:
        return None
    found: OidcClient | None = getattr(request.app.state, "oidc", None)
    if found is None:
        found = OidcClient(settings)
        request.app.state.oidc = found
    return found


def registry_principal(app: Parcours, sub: str, email: str | None) -> Principal:
    """What the registry of rights lets this person do today (raises `NoRights` if nothing)."""
    principal = principal_from_registry({"sub": sub}, rights_of(app, sub, email, app.today()))
    if not principal.roles:
        raise NoRights
    return principal


def session_principal(request: Request) -> Principal:
    """The logged-in caller, set where the bearer token's would be (`Caller` reads it). In oidc
    mode its roles and structures are read again from the registry at each request: a right
    revoked holds from the next page."""
    session = sessions(request).read(request)
    principal = session.principal if session else None
    if session is None or principal is None:
        raise LoginRequired
    request.state.session = session
    app: Parcours = request.app.state.parcours
    if app.settings.auth_mode == "oidc":
        principal = registry_principal(app, principal.sub, session.email)
    request.state.principal = principal
    return principal


def render(
    request: Request, template: str, context: Mapping[str, Any], status: int = 200
) -> Response:
    """A page, its session's cookie set again (the idle time starts over)."""
    session: Session | None = getattr(request.state, "session", None)
    principal: Principal | None = getattr(request.state, "principal", None)
    response = templates.TemplateResponse(
        request,
        template,
        {"session": session, "principal": principal, "prefix": PREFIX, **context},
        status_code=status,
    )
    if session is not None:
        sessions(request).write(response, session)
    return response


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def check_csrf(request: Request, form: Mapping[str, Any]) -> None:
    if not csrf_matches(getattr(request.state, "session", None), form.get("csrf")):
        raise ProblemError(
            403, "csrf_invalide", "Formulaire expiré", "Rechargez la page et recommencez.", "csrf"
        )


class Refused(Exception):
    """A field of the form the screen could not read: its name and the message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


async def posted(request: Request) -> dict[str, str]:
    """A posted form's text fields, once its CSRF token is checked (403 otherwise: a form
    without it writes nothing). Its files stay in `await request.form()`, read once."""
    raw = await request.form()
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    check_csrf(request, form)
    return form


# --- routes ---------------------------------------------------------------------------------

public = APIRouter(include_in_schema=False)
screens = APIRouter(
    prefix=PREFIX,
    include_in_schema=False,
    dependencies=[Depends(session_principal), Depends(require(*Role))],
)


@public.get("/")
@public.get(PREFIX)
@public.get(f"{PREFIX}/")
def root(request: Request) -> Response:
    session = sessions(request).read(request)
    return redirect(HOME if session and session.principal else LOGIN)


@public.get(LOGIN)
def login_page(request: Request) -> Response:
    store = sessions(request)
    request.state.session = store.read(request) or anonymous()
    return render(
        request,
        "connexion.html",
        {
            "title": "Connexion",
            "local": store.local,
            "identities": DEV_IDENTITIES if store.local else [],
            "oidc": oidc_client(request) is not None,
        },
    )


def refused_login(request: Request, detail: str, status: int = 400) -> Response:
    """The login did not go through: a page saying why, no session, the flow forgotten."""
    request.state.session = None
    response = render(
        request, "erreur.html", {"title": "Connexion refusée", "detail": detail}, status
    )
    store = sessions(request)
    store.write(response, None)
    store.write_flow(response, None)
    return response


def callback_uri(request: Request) -> str:
    configured: str = request.app.state.parcours.settings.oidc_redirect_uri
    return configured or str(request.url_for("login_callback"))


@public.get(f"{LOGIN}/oidc")
async def login_oidc(request: Request) -> Response:
    """To the provider's authorization endpoint, the flow's state, nonce and PKCE verifier
    kept by the browser in a signed cookie of `FLOW_SECONDS`."""
    client = oidc_client(request)
    if client is None:
        return redirect(LOGIN)
    flow = Flow.start()
    try:
        url = await run_in_threadpool(client.authorize_url, flow, callback_uri(request))
    except OidcError as e:
        return refused_login(request, f"Fournisseur d'identité indisponible ({e}).", 502)
    response = RedirectResponse(url, status_code=302)
    sessions(request).write_flow(response, flow)
    return response


def _callback(request: Request, client: OidcClient, flow: Flow, code: str) -> Response:
    try:
        claims, id_token = client.exchange(code, flow, callback_uri(request))
    except OidcError as e:
        return refused_login(
            request, f"Le fournisseur d'identité n'a pas confirmé qui vous êtes : {e}."
        )
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    app: Parcours = request.app.state.parcours
    try:
        principal = registry_principal(app, str(claims["sub"]), email)
    except NoRights:
        return refused_login(request, NO_RIGHTS, 403)
    names = [claims.get("given_name"), claims.get("usual_name") or claims.get("family_name")]
    name = " ".join(n for n in names if isinstance(n, str) and n) or None
    response = redirect(HOME)
    store = sessions(request)
    store.write(response, opened(principal, email=email, name=name, id_token=id_token))
    store.write_flow(response, None)
    return response


@public.get(CALLBACK, name="login_callback")
async def login_callback(request: Request) -> Response:
    """The provider's answer: the state must be the flow's, the code good for tokens, the ID
    token sound and the person known to the registry of rights; then the session opens."""
    client = oidc_client(request)
    if client is None:
        return redirect(LOGIN)
    flow = sessions(request).read_flow(request)
    params = request.query_params
    if params.get("error"):
        detail = (params.get("error_description") or params["error"])[:200]
        return refused_login(
            request, f"Le fournisseur d'identité a refusé la connexion : {detail}."
        )
    state, code = params.get("state"), params.get("code")
    if flow is None or not state or not code or not hmac.compare_digest(state, flow["state"]):
        return refused_login(
            request,
            "Connexion expirée ou réponse inattendue du fournisseur d'identité (state) : "
            "recommencez depuis la page de connexion.",
        )
    return await run_in_threadpool(_callback, request, client, Flow(flow), code)


@public.post(LOGIN)
async def login(request: Request) -> Response:
    store = sessions(request)
    form = await request.form()
    request.state.session = store.read(request)
    check_csrf(request, form)
    chosen = next((p for sub, _, p in DEV_IDENTITIES if sub == form.get("identite")), None)
    if not store.local or chosen is None:
        return redirect(LOGIN)
    response = redirect(HOME)
    store.write(response, opened(chosen))
    return response


@public.post(f"{PREFIX}/deconnexion")
async def logout(request: Request) -> Response:
    store = sessions(request)
    request.state.session = store.read(request)
    check_csrf(request, await request.form())
    session: Session | None = request.state.session
    client = oidc_client(request)
    elsewhere = None
    if client is not None and session is not None:
        after = callback_uri(request).removesuffix(CALLBACK.removeprefix(LOGIN))
        elsewhere = await run_in_threadpool(client.logout_url, session.id_token, after)
    response = redirect(elsewhere or LOGIN)
    store.write(response, None)
    return response


def person_name(
    vault: IdentityStore, caller: Principal, case_id: UUID, structure: str | None
) -> str | None:
    """The person's name when the vault keeps it and the caller may read it (as
    GET /personnes/{id}/identite admits: readers, an agent on its structures' cases)."""
    if caller.roles.isdisjoint(READ_ROLES):
        return None
    if only_as_agent(caller, READ_ROLES) and structure not in caller.structures:
        return None
    identite = vault.read(case_id)
    if identite is None or not identite.nom:
        return None
    return " ".join([*identite.prenoms, identite.nom])


WORKLIST_LABELS = {
    "motif": "Motif",
    "referent_id": "Référent",
    "jours_min": "En retard depuis au moins (jours)",
    "tri": "Trier par",
}
TRI_LABELS = {
    "-jours": "Retard, le plus ancien d'abord",
    "jours": "Retard, le plus récent d'abord",
    "echeance": "Échéance, la plus ancienne d'abord",
    "-echeance": "Échéance, la plus récente d'abord",
    "motif": "Motif",
}
"""The sorts the screen offers: the JSON route's `tri` values (`projections.worklists.TRIS`)."""


def worklist_filters(query: Mapping[str, str]) -> tuple[dict[str, str], Filtre, dict[str, str]]:
    """The screen's filter form as typed, read as the JSON route's parameters (`motif`,
    `referent_id`, `jours_min`, `tri`), and the message of each field at fault."""
    form = {name: query.get(name, "").strip() for name in WORKLIST_LABELS}
    form["tri"] = form["tri"] or "-jours"
    errors: dict[str, str] = {}
    motifs: frozenset[Motif] = frozenset()
    if form["motif"]:
        if form["motif"] in {m.value for m in Motif}:
            motifs = frozenset({Motif(form["motif"])})
        else:
            errors["motif"] = "choisir un motif de la liste"
    jours: int | None = None
    if form["jours_min"]:
        if form["jours_min"].isdigit() and int(form["jours_min"]) <= 36500:
            jours = int(form["jours_min"])
        else:
            errors["jours_min"] = "un nombre entier de jours, de 0 à 36500"
    if form["referent_id"] and len(form["referent_id"]) > 128:
        errors["referent_id"] = "128 caractères au plus"
    if form["tri"] not in TRIS:
        errors["tri"] = "choisir un tri de la liste"
    filtre = Filtre(motifs=motifs, referent_id=form["referent_id"] or None, jours_min=jours)
    return form, filtre, errors


@screens.get("/a-traiter")
async def worklist(
    request: Request,
    app: Store,
    stats: Statistics,
    vault: Identities,
    caller: Caller,
    limit: Limit = 50,
    offset: Offset = 0,
    structure_id: Annotated[str | None, Query()] = None,
) -> Response:
    """The overdue lines of the caller's structure (or the one asked, for a reader of every
    structure): counts per motive, filters and sorts as the JSON route `GET /a-traiter`, through
    the same use case. The caller's own lines (their `sub` as the case's référent: the registry
    of rights does not link an agent to a référent id) come first."""
    if caller.roles.isdisjoint(READ_ROLES):
        return render(request, "accueil.html", {"title": "Accueil"})
    structure = listing_structure(caller, structure_id)
    form, filtre, errors = worklist_filters(request.query_params)
    if errors:
        filtre, tri = Filtre(), "-jours"
    else:
        tri = form["tri"]
    chosen = await run_in_threadpool(
        stats.selection, app.today(), structure, filtre, tri, None, caller.sub
    )
    lines = chosen.lignes
    paging = Paging(limit=limit, offset=offset)
    page = paging.window(lines)
    names = await run_in_threadpool(person_names, vault, caller, page)
    kept = {k: v for k, v in form.items() if v and not (k == "tri" and v == "-jours")}
    if structure_id:
        kept["structure_id"] = structure_id

    def link(**changes: str | int | None) -> str:
        query = {**kept, "limit": str(limit), **{k: str(v) for k, v in changes.items()}}
        return "?" + urlencode({k: v for k, v in query.items() if v not in ("", "None")})

    return render(
        request,
        "a_traiter.html",
        {
            "title": "À traiter",
            "lines": page,
            "names": names,
            "total": len(lines),
            "limit": limit,
            "offset": offset,
            "structure": structure,
            "form": form,
            "errors": errors,
            "labels": WORKLIST_LABELS,
            "motifs": {m.value: LIBELLES[m] for m in Motif},
            "tris": TRI_LABELS,
            "par_motif": [(m.value, LIBELLES[m], n) for m, n in chosen.par_motif.items()],
            "tous": sum(chosen.par_motif.values()),
            "link": link,
            "me": caller.sub,
        },
        422 if errors else 200,
    )


def person_names(
    vault: IdentityStore, caller: Principal, lines: Sequence[Alerte]
) -> dict[UUID, str | None]:
    """The names of the people of a page the caller may read (as `person_name`), read from the
    vault in one transaction: only the page's are decrypted."""
    if caller.roles.isdisjoint(READ_ROLES):
        return {a.case_id: None for a in lines}
    agent = only_as_agent(caller, READ_ROLES)
    readable = [a.case_id for a in lines if not agent or a.structure_id in caller.structures]
    found = vault.read_many(readable)
    out: dict[UUID, str | None] = {}
    for a in lines:
        identite = found.get(a.case_id)
        nom = identite.nom if identite else None
        out[a.case_id] = " ".join([*identite.prenoms, nom]) if identite and nom else None
    return out


def _case_page(
    request: Request,
    app: Parcours,
    caller: Principal,
    case_id: UUID,
) -> Response:
    history = admitted_history(request, app, caller, case_id, "écran du dossier")
    at = case_at(app, case_id, None, None, history)
    state = fold_history(history)
    today = app.today()
    upcoming = sorted(
        (r for r in state.rdvs.values() if r.issue is None and r.date_rdv >= today),
        key=lambda r: r.date_rdv,
    )
    vault = identities(request)
    row = at.state
    name = person_name(vault, caller, case_id, row.structure_id if row else None)
    done = next((s for s in STEPS if s.slug == request.query_params.get("ok")), None)
    in_force = sanctions_service.situation(
        app, history, today, None
    ).sanctions  # as GET …/sanctions
    return render(
        request,
        "dossier.html",
        {
            "title": f"Dossier {row.numero_dossier if row else case_id}",
            "case_id": case_id,
            "row": row,
            "name": name,
            "next_rdv": upcoming[0] if upcoming else None,
            "timeline": list(reversed(at.timeline)),
            "tz": app.tz,
            "steps": recordable(caller, state.accompagnants),
            "auditor": caller.has(Role.AUDITEUR),
            "notice": f"{step_done(done)}." if done else correctable.done(request.query_params),
            "corrections": correctable.offered(caller, history, state.accompagnants),
            "by_version": {e.version: e for e in at.timeline},
            "sanctions": in_force if in_force.sanctions else None,
        },
    )


@screens.get("/dossiers/{case_id}")
async def case_page(request: Request, app: Store, caller: Caller, case_id: UUID) -> Response:
    return await run_in_threadpool(_case_page, request, app, caller, case_id)


# --- a form for each step -------------------------------------------------------------------


def _admitted(objet: ObjetAccompagnement, step: Step) -> bool:
    steps = OBJET_STEPS[objet]
    return steps is None or step.command in steps


def recordable(caller: Principal, accompagnants: Accompagnants) -> list[Step]:
    """The steps (corrections aside) the caller may record on a case, as `admit_step` admits
    them: its roles, and for an agent the accompaniment of one of its structures (an
    association giving an ASC alone: its interviews)."""
    reach = [objets for s, objets in accompagnants.items() if s in caller.structures]
    return [
        step
        for step in STEPS
        if not caller.roles.isdisjoint(STEP_ROLES[step.slug])
        and (
            not only_as_agent(caller, STEP_ROLES[step.slug])
            or any(_admitted(o, step) for objets in reach for o in objets)
        )
    ]


def step_done(step: Step) -> str:
    """The confirmation's words: the step as the timeline names it."""
    records = step.command.route.records if step.command.route else ()
    return labels.etape(records[0].__name__) if records else step.summary


def step_of(slug: str) -> Step:
    found = next((s for s in STEPS if s.slug == slug), None)
    if found is None:
        raise ProblemError(404, "etape_inconnue", NOT_FOUND, f"Aucune étape {slug}.", "slug")
    return found


def _step_page(
    request: Request,
    history: list[Recorded],
    case_id: UUID,
    step: Step,
    form: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Response:
    """A step's form: fresh (defaults, today as the date of effect) or as typed, with errors;
    the hidden version is the history's just read (`If-Match` semantics)."""
    app = parcours(request)
    fields = champs(step.command, step.example)
    names = {f.name for f in fields}
    return render(
        request,
        "etape.html",
        {
            "title": step.summary,
            "case_id": case_id,
            "step": step,
            "fields": fields,
            "form": form if form is not None else initial(fields, app.today()),
            "errors": errors or {},
            "anchor": {e: e if e in names else fields[0].name for e in errors or {}},
            "form_labels": {f.name: f.label for f in fields},
            "version": len(history),
        },
        status,
    )


@screens.get("/dossiers/{case_id}/etapes/{slug}")
def step_form(request: Request, caller: Caller, case_id: UUID, slug: str) -> Response:
    step = step_of(slug)
    _, history = admit_step(request, caller, case_id, step, None)
    return _step_page(request, history, case_id, step)


def _field_error(fields: list[Champ], path: str | None) -> str:
    """The form field a refusal names: itself, or the field its nested path starts with (else
    the step as a whole, said at the top of the form)."""
    names = {f.name for f in fields}
    path = path or ""
    head = re.split(r"[.\[]", path)[0]
    return path if path in names else head if head in names else "etape"


Refusal = Callable[..., Response]
"""The page again with its errors (field → message) and a status (422 by default)."""


def command_from_form(
    step: Step, fields: list[Champ], form: Mapping[str, str], refused: Refusal
) -> Commande | Response:
    """The step's command from a posted form, or the page again naming the field at fault."""
    body, errors = forms.body(fields, form)
    if errors:
        return refused(errors)
    try:
        command: Commande = msgspec.convert(body, step.command, strict=False)
    except msgspec.ValidationError as e:
        path, message = decoding_error(e)
        return refused({_field_error(fields, path): message})
    return command


def submit(
    request: Request,
    app: Parcours,
    caller: Principal,
    case_id: UUID,
    command: Commande,
    admitted: tuple[str | None, list[Recorded]],
    expected_version: int,
    fields: list[Champ],
    refused: Refusal,
) -> Response | None:
    """Record through the agents' rules (`handle`); None when written, else the page again
    with the rule's message next to its field, or the conflict with a colleague's change."""
    structure, history = admitted
    try:
        handle(
            app,
            case_id,
            command,
            Author(user=caller.sub, structure_id=structure, request_id=request.state.request_id),
            history=history,
            expected_version=expected_version,
        )
    except DomainError as e:
        message = e.detail.removeprefix(f"{e.field}:").strip()
        return refused({_field_error(fields, e.field): message})
    except VersionConflict as e:
        detail = (
            f"Le dossier a changé depuis son affichage (version {e.actual}, vous aviez la "
            f"version {e.expected}) : relisez la chronologie puis validez à nouveau."
        )
        return refused({"version": detail}, 409)
    return None


def _record(
    request: Request,
    app: Parcours,
    caller: Principal,
    case_id: UUID,
    step: Step,
    form: dict[str, str],
) -> Response:
    structure, history = admit_step(request, caller, case_id, step, None)
    fields = champs(step.command, step.example)

    def refused(errors: Mapping[str, str], status: int = 422) -> Response:
        return _step_page(request, history, case_id, step, form, errors, status)

    command = command_from_form(step, fields, form, refused)
    if isinstance(command, Response):
        return command
    agent = only_as_agent(caller, STEP_ROLES[step.slug])  # as the JSON route: its own ASC
    if isinstance(command, TenirEntretienAsc) and structure is not None and agent:
        accompagnants = fold_history(history).accompagnants
        check_asc_author(request, caller, case_id, accompagnants, structure, command)
    try:
        version = int(form.get("version", ""))
    except ValueError:
        version = -1
    answer = submit(
        request, app, caller, case_id, command, (structure, history), version, fields, refused
    )
    return answer or redirect(f"{PREFIX}/dossiers/{case_id}?ok={step.slug}#chronologie")


@screens.post("/dossiers/{case_id}/etapes/{slug}")
async def record_step(
    request: Request, app: Store, caller: Caller, case_id: UUID, slug: str
) -> Response:
    step = step_of(slug)
    form = await posted(request)
    return await run_in_threadpool(_record, request, app, caller, case_id, step, form)


# --- the application's side -----------------------------------------------------------------


def french_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else "—"


templates.env.filters["date_fr"] = french_date
templates.env.filters["etape"] = labels.etape
templates.env.filters["statut"] = labels.statut
templates.env.filters["valeur"] = labels.valeur
templates.env.filters["euros"] = formats.euros
templates.env.globals["navigation"] = navigation


async def on_login_required(request: Request, exc: Exception) -> Response:
    return redirect(LOGIN)


async def on_no_rights(request: Request, exc: Exception) -> Response:
    """A revoked right ends the session at the next request."""
    return refused_login(request, NO_RIGHTS, 403)


def install(app: FastAPI) -> None:
    """Mount the screens on the application: routes, static files, the login redirect, and
    refusals on a screen answered as a page (the JSON API keeps its problem+json)."""
    app.include_router(public)
    app.include_router(screens)
    app.mount(f"{PREFIX}/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(LoginRequired, on_login_required)
    app.add_exception_handler(NoRights, on_no_rights)
    for kind in (ProblemError, RequestValidationError):
        app.add_exception_handler(kind, _as_page(app.exception_handlers[kind]))


def _as_page(api_handler: Callable[..., Any]) -> Callable[..., Awaitable[Response]]:
    """The JSON API's handler of a refusal, except on a screen: there, an error page (a
    case out of reach or a malformed address reads as a case not found)."""

    async def on_refusal(request: Request, exc: Exception) -> Response:
        if not request.url.path.startswith(f"{PREFIX}/"):
            answer = api_handler(request, exc)
            response: Response = await answer if inspect.isawaitable(answer) else answer
            return response
        if isinstance(exc, ProblemError) and exc.problem.status != 404:
            context = {"title": exc.problem.title, "detail": exc.problem.detail}
            return render(request, "erreur.html", context, exc.problem.status)
        return render(request, "erreur.html", {"title": NOT_FOUND, "detail": None}, 404)

    return on_refusal
