"""rdv-insertion's review queue on screen: `/ecrans/rdv-insertion/a-revoir` (« À revoir
(rdv-insertion) » in the header), for the roles of the JSON queue (orientation, admin). A table of
the open items, each with a form linking its person to a case (the case id typed, or picked
among the results of the search, `?element=N&q=`, for the roles the search admits) and a form
dismissing it. Both post to the same use cases as `POST /connecteurs/rdv-insertion/a-revoir/{id}`
(`RdviConnector.link`, `.dismiss`); a refusal comes back next to its field with the form as
typed, nothing written; success comes back to the queue with a confirmation
(post/redirect/get)."""

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.http.auth import Principal
from api.http.connectors_rdvi import MOTIF_MAX, REVIEWERS
from api.http.deps import Caller, Identities, Rdvi, ReadModel, Store, require
from api.http.limits import MAX_INT64
from api.http.problems import ProblemError
from api.http.search import search, shown
from api.services.connectors_rdvi import ItemDejaDecide, ItemInconnu, RdviConnector
from api.web.recherche import can_search
from api.web.router import PREFIX, posted, redirect, render, session_principal
from domain.errors import DomainError

PATH = f"{PREFIX}/rdv-insertion/a-revoir"
ROLES = REVIEWERS
"""Who reaches the screen: the JSON queue's roles."""
SHOWN = 100
"""The oldest open items listed (the JSON queue pages through them all)."""
MOTIFS = {
    "non_rapproche": "Personne non retrouvée dans parcours",
    "regle": "Refusé par une règle",
}
DONE = {"lie": "lié au dossier", "ecarte": "écarté"}

router = APIRouter(
    prefix=PREFIX,
    include_in_schema=False,
    dependencies=[Depends(session_principal), Depends(require(*ROLES))],
)


def _moment(text: str | None, zone: ZoneInfo) -> str:
    """An instant as read in the département (« 09/06/2026 à 10:30 »); as given if unreadable."""
    if not text:
        return "—"
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return moment.strftime("%d/%m/%Y à %H:%M")


def _day(text: str | None) -> str:
    try:
        return date.fromisoformat(text or "").strftime("%d/%m/%Y")
    except ValueError:
        return text or "—"


def _page(
    request: Request,
    connector: RdviConnector,
    form: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
    found: object = None,
) -> Response:
    items, total = connector.review_items("ouvert", SHOWN, 0)
    zone = ZoneInfo(connector.app.settings.timezone)
    rdvs = connector.rdv_details(items)
    done = request.query_params.get("fait")
    return render(
        request,
        "rdv_insertion_a_revoir.html",
        {
            "title": "À revoir (rdv-insertion)",
            "items": items,
            "total": total,
            "received": {i.id: _moment(i.cree_le, zone) for i in items},
            "rdvs": {
                i: (_moment(r.debut, zone) if r.debut else None, r.motif) for i, r in rdvs.items()
            },
            "born": {i.id: _day(i.personne.get("date_naissance")) for i in items},
            "motifs": MOTIFS,
            "form": form or {},
            "errors": errors or {},
            "found": found,
            "done": DONE.get(done or ""),
            "done_item": request.query_params.get("element"),
        },
        status,
    )


def _item_id(raw: str | None) -> int | None:
    try:
        value = int(raw or "")
    except ValueError:
        return None
    return value if 1 <= value <= MAX_INT64 else None


@router.get("/rdv-insertion/a-revoir")
async def review_screen(
    request: Request,
    app: Store,
    vault: Identities,
    model: ReadModel,
    caller: Caller,
    connector: Rdvi,
    q: Annotated[str | None, Query()] = None,
    element: Annotated[str | None, Query()] = None,
) -> Response:
    """The queue; with `q` and `element`, the cases the search finds for that item."""
    item = _item_id(element)
    if q is None or item is None or "fait" in request.query_params:
        return await run_in_threadpool(_page, request, connector)
    field = f"chercher-{item}-q"
    if not can_search(caller):
        return await run_in_threadpool(
            _page, request, connector, {field: q}, {field: "recherche non permise"}, 403
        )
    try:
        result = await search(app, vault, model, caller, q.strip())
    except ProblemError as e:
        message = e.problem.detail.removeprefix("q:").strip().rstrip(".")
        return await run_in_threadpool(_page, request, connector, {field: q}, {field: message}, 422)
    people = result.personnes[:20]
    shown(request, caller, people)
    found = {"item": item, "query": q.strip(), "people": people, "tronque": result.tronque}
    return await run_in_threadpool(_page, request, connector, {field: q}, None, 200, found)


def _decide(
    request: Request,
    connector: RdviConnector,
    caller: Principal,
    item_id: int,
    decision: str,
    form: dict[str, str],
) -> Response:
    field = f"{decision}-{item_id}-{'case_id' if decision == 'lier' else 'motif'}"
    typed = {field: form.get("case_id" if decision == "lier" else "motif", "")}

    def refused(message: str, status: int = 422) -> Response:
        return _page(request, connector, typed, {field: message}, status)

    try:
        if decision == "lier":
            raw = typed[field].strip()
            if not raw:
                return refused("identifiant du dossier requis")
            try:
                case_id = UUID(raw)
            except ValueError:
                return refused("identifiant de dossier attendu (UUID, 36 caractères)")
            connector.link(item_id, case_id, caller.sub)
            done = "lie"
        else:
            motif = typed[field].strip()
            if not motif:
                return refused("motif requis")
            if len(motif) > MOTIF_MAX:
                return refused(f"{MOTIF_MAX} caractères au plus")
            connector.dismiss(item_id, caller.sub, motif)
            done = "ecarte"
    except DomainError as e:
        return refused(e.detail.removeprefix(f"{e.field}:").strip().rstrip("."))
    except ItemInconnu:
        return refused("élément inconnu", 404)
    except ItemDejaDecide:
        return refused("élément déjà décidé par ailleurs", 409)
    return redirect(f"{PATH}?fait={done}&element={item_id}")


@router.post("/rdv-insertion/a-revoir/{item_id}/{decision}")
async def decide(
    request: Request, connector: Rdvi, caller: Caller, item_id: int, decision: str
) -> Response:
    if decision not in {"lier", "ecarter"} or not 1 <= item_id <= MAX_INT64:
        raise ProblemError(404, "page_inconnue", "Page introuvable", "Aucune page ici.", None)
    form = await posted(request)
    return await run_in_threadpool(_decide, request, connector, caller, item_id, decision, form)
