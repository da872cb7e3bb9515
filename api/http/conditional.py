"""Conditional reads (RFC 9110 §13): a single resource that carries a version answers
`304 Not Modified` to an `If-None-Match` naming its current ETag, so that a client polling a
case it already holds gets an empty answer instead of the whole state again."""

from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import Response


def etag(version: int) -> str:
    """The strong ETag of a resource at `version`: `"3"` (what `If-Match` takes back)."""
    return f'"{version}"'


def _opaque(tag: str) -> str:
    return tag.strip().removeprefix("W/").strip()


def matches(if_none_match: str | None, current: str) -> bool:
    """Whether `If-None-Match` names `current` (weak comparison, `*` matching any)."""
    if if_none_match is None:
        return False
    tags = [t for t in if_none_match.split(",") if t.strip()]
    return any(t.strip() == "*" or _opaque(t) == _opaque(current) for t in tags)


def not_modified(request: Request, current: str, **headers: str) -> Response | None:
    """An empty 304 carrying the ETag when the request's `If-None-Match` names `current`."""
    if not matches(request.headers.get("if-none-match"), current):
        return None
    return Response(status_code=304, headers={"ETag": current, **headers})


IfNoneMatch = Annotated[
    str | None,
    Header(description="ETag d'une version déjà lue: 304 sans corps si le dossier n'a pas changé"),
]
"""Declared on the routes that honour it, for the documentation (`not_modified` reads it)."""

NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {
        "description": "Non modifié: If-None-Match désigne la version courante (corps vide, "
        "même ETag)",
        "headers": {"ETag": {"schema": {"type": "string"}, "description": "Version courante"}},
    }
}
