"""`GET /recherche?q=`: find a person by name, file number or NIR among the cases the caller
may read (`api.services.search`). Each person shown is an access to their case, written to the
access log; the query itself never is (the request log keeps the path alone)."""

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from api.http.access import READ_ROLES, only_as_agent
from api.http.auth import Principal, Role, log_case_access
from api.http.deps import Caller, Identities, ReadModel, Store, require
from api.http.params import Page, Paged
from api.http.problems import ProblemError
from api.http.responses import MsgspecJSONResponse
from api.http.schemas import error_responses, json_response
from api.services.search import Personne, QueryTooShort, Resultat, rechercher

ROLES = (Role.AGENT, Role.ORIENTATION, Role.AUDITEUR)

router = APIRouter(prefix="/recherche", tags=["personnes"], dependencies=[Depends(require(*ROLES))])

PURPOSE = "résultat de recherche"

EXAMPLE = {
    "items": [
        {
            "case_id": "0b4f3c5e-8d9a-4f5b-9c1e-2d7a6b3c4d5e",
            "nom": "DUPONT",
            "prenoms": ["Marie", "Éloïse"],
            "date_naissance": "1984-12-03",
            "organisme": "CAF",
            "matricule": "0123456",
            "commune": "CRETEIL",
            "numero_dossier": "CAF-3f2a9c1d0b7e",
            "statut": "oriente",
            "type_orientation": "sociale",
            "structure_id": "ccas-creteil",
        }
    ],
    "total": 1,
    "limit": 50,
    "offset": 0,
    "tronque": False,
}


class SearchPage(Page[Personne], frozen=True, kw_only=True):
    tronque: bool
    """More persons matched than are looked at: the query should say more."""


def scope(caller: Principal) -> frozenset[str] | None:
    """The structures whose cases an agent reads (as `check_case`); None for a reader of all."""
    return caller.structures if only_as_agent(caller, READ_ROLES) else None


def query_problem(message: str) -> ProblemError:
    return ProblemError(422, "recherche_invalide", "Recherche invalide", f"q: {message}.", "q")


async def search(
    app: Store,
    vault: Identities,
    model: ReadModel,
    caller: Principal,
    query: str,
) -> Resultat:
    """The search as the caller may see it (422 naming `q` for a query too short)."""
    try:
        return await run_in_threadpool(rechercher, app, vault, model.view, query, scope(caller))
    except QueryTooShort as e:
        raise query_problem(str(e)) from e


def shown(request: Request, caller: Principal, people: Sequence[Personne]) -> None:
    """Each person shown is an access to their case, written to the access log."""
    for person in people:
        log_case_access(request, caller, person.case_id, PURPOSE, "granted")


@router.get(
    "",
    summary="Trouver une personne par nom, numéro d'allocataire ou NIR (parmi les dossiers "
    "que l'appelant peut lire)",
    description="Le nom sans tenir compte des accents ni de la casse (les 3 premières lettres "
    "suffisent), le matricule CAF/MSA avec ou sans l'organisme (« CAF 0123456 »), ou le NIR "
    "(13 caractères, clé facultative). Un agent ne trouve que les dossiers que ses structures "
    "accompagnent. Au plus 200 personnes sont examinées (`tronque` sinon).",
    responses={
        200: json_response(SearchPage, "Les personnes trouvées", EXAMPLE),
        **error_responses(401, 403, 422),
    },
)
async def get_search(
    request: Request,
    app: Store,
    vault: Identities,
    model: ReadModel,
    caller: Caller,
    paging: Paged,
    q: Annotated[
        str, Query(description="Nom, numéro d'allocataire ou NIR (3 caractères au moins)")
    ],
) -> Response:
    found = await search(app, vault, model, caller, q)
    page = paging.cut(SearchPage, found.personnes, tronque=found.tronque)
    shown(request, caller, page.items)
    return MsgspecJSONResponse(page)
