"""The search screen: `/ecrans/recherche?q=` (a GET form, so its address can be shared), for
the roles `GET /recherche` admits, through the same use case (`api.http.search.search`); every
screen's header carries its search box for them. A query too short comes back next to the
field; each person shown is written to the access log, as by the JSON route."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.http.auth import Principal
from api.http.deps import Caller, Identities, ReadModel, Store, require
from api.http.params import Limit, Offset, Paging
from api.http.problems import ProblemError
from api.http.search import ROLES, SearchPage, search, shown
from api.web.router import PREFIX, render, session_principal, templates

LABEL = "Nom, numéro d'allocataire ou NIR"
EMPTY = "Aucune personne trouvée dans votre portefeuille"

router = APIRouter(
    prefix=PREFIX,
    include_in_schema=False,
    dependencies=[Depends(session_principal), Depends(require(*ROLES))],
)


def can_search(principal: Principal | None) -> bool:
    """Whether the header shows the search box (the roles the search admits)."""
    return principal is not None and not principal.roles.isdisjoint(ROLES)


@router.get("/recherche")
async def search_page(
    request: Request,
    app: Store,
    vault: Identities,
    model: ReadModel,
    caller: Caller,
    q: Annotated[str | None, Query()] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    query = (q or "").strip()
    errors: dict[str, str] = {}
    page: SearchPage | None = None
    if q is not None:
        try:
            found = await search(app, vault, model, caller, query)
        except ProblemError as e:
            errors["q"] = e.problem.detail.removeprefix("q:").strip().rstrip(".")
        else:
            paging = Paging(limit=limit, offset=offset)
            page = paging.cut(SearchPage, found.personnes, tronque=found.tronque)
            shown(request, caller, page.items)
    return render(
        request,
        "recherche.html",
        {
            "title": "Rechercher une personne",
            "query": query,
            "label": LABEL,
            "empty": EMPTY,
            "errors": errors,
            "page": page,
        },
        422 if errors else 200,
    )


templates.env.globals["can_search"] = can_search
