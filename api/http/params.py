"""The query parameters shared by several routes, declared once: dates and instants (checked to
lie in `api.http.limits.date_window()`), the paging of every list, the period and breakdown of
the statistics."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar
from urllib.parse import urlencode

import msgspec
from fastapi import Depends, Header, Query, Request
from pydantic import AfterValidator

from api.http.limits import MAX_INT64, in_window, year_in_window

T = TypeVar("T")

InWindow = AfterValidator(in_window)
InYear = AfterValidator(year_in_window)

KnownAt = Annotated[
    datetime | None,
    Query(
        description="Tel que connu à cet instant (ISO 8601; sans fuseau, heure du département; "
        "défaut: maintenant)"
    ),
    InWindow,
]
AsOf = Annotated[
    date | None,
    Query(description="La situation à cette date d'effet (défaut: aujourd'hui)"),
    InWindow,
]
Then = Annotated[
    datetime,
    Query(
        description="L'instant comparé à maintenant (ISO 8601; sans fuseau, heure du département)"
    ),
    InWindow,
]
"""A required `known_at`: the moment a comparison starts from."""

Position = Annotated[
    int | None,
    Query(
        ge=0, le=MAX_INT64, description="Position du journal à refléter (renvoyée par une commande)"
    ),
]

AccessReason = Annotated[
    str | None,
    Header(
        alias="X-Motif-Acces",
        description="Motif de l'accès (facultatif), consigné au journal d'accès "
        "(`X-Access-Reason` est lu aussi)",
    ),
]
AccessMotif = Annotated[
    str | None,
    Query(
        alias="motif",
        max_length=200,
        description="Motif de l'accès (facultatif), si l'en-tête X-Motif-Acces n'est pas donné",
    ),
]
"""The reason of an access to a case (optional), recorded in the access log
(`api.http.auth.log_case_access` reads it; these declare it to the documentation)."""

# --- paging -------------------------------------------------------------------------------------

MAX_LIMIT = 500
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Lignes de la page, au plus")]
Offset = Annotated[int, Query(ge=0, le=MAX_INT64, description="Lignes sautées")]


class Page(msgspec.Struct, Generic[T], frozen=True, kw_only=True):
    """The envelope of every list: the page's `items`, the `total` matching rows, and the
    window asked for; a list adds its own fields (a log position, counts by motive…)."""

    items: list[T]
    total: int
    limit: int
    offset: int


P = TypeVar("P", bound=Page[Any])


class Paging(msgspec.Struct, frozen=True):
    """The window a list route answers: `limit` rows after the first `offset`. Built from a
    request (`paging`), a page that leaves rows after it announces the next one in an RFC 8288
    `Link: <…?offset=…>; rel="next"` header (added by `api.http.limits.Edge`)."""

    limit: int
    offset: int
    request: Any = None
    """The request whose query the next page's link repeats (None: a screen, no header)."""

    def window(self, rows: Sequence[T]) -> list[T]:
        return list(rows[self.offset : self.offset + self.limit])

    def page(self, kind: type[P], items: Sequence[Any], total: int, **extra: Any) -> P:
        """The page of a list its store already cut to the window (`items` of `total`)."""
        if self.request is not None and self.offset + self.limit < total:
            self.request.state.link = next_link(self.request, self.offset + self.limit)
        return kind(items=list(items), total=total, limit=self.limit, offset=self.offset, **extra)

    def cut(self, kind: type[P], rows: Sequence[Any], **extra: Any) -> P:
        """The page of a whole list held in memory."""
        return self.page(kind, self.window(rows), len(rows), **extra)


def paging(request: Request, limit: Limit = 50, offset: Offset = 0) -> Paging:
    return Paging(limit, offset, request)


def next_link(request: Request, offset: int) -> str:
    """`<path?query>; rel="next"`: the same list from `offset`, every other parameter kept (a
    reference relative to the request, right behind any proxy)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k != "offset"]
    query.append(("offset", str(offset)))
    return f'<{request.url.path}?{urlencode(query)}>; rel="next"'


Paged = Annotated[Paging, Depends(paging)]
"""Every list pages by `limit` (1 to 500, default 50) and `offset` (default 0)."""


# --- statistics ---------------------------------------------------------------------------------

Du = Annotated[date, Query(description="Premier jour de la période"), InWindow]
Au = Annotated[date, Query(description="Dernier jour de la période"), InWindow]
Par = Literal["territoire", "structure", "type_orientation", "mois"]
ParQ = Annotated[Par | None, Query(description="Ventilation des lignes")]
Regles = Annotated[
    str | None,
    Query(description="Relire sous un jeu de règles nommé (par défaut: celui en vigueur)"),
]
Communes = Annotated[
    list[str] | None,
    Query(description="Limiter à ces communes (codes INSEE): un territoire"),
]
