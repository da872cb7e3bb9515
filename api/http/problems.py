"""RFC 9457 problem details: every refusal says what went wrong and which field is at fault."""

import re
from typing import Any

import msgspec
import structlog
from eventsourcing.persistence import InterfaceError, OperationalError
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.http.responses import MsgspecJSONResponse
from api.services.commands import IdempotencyKeyReused, VersionConflict
from domain.errors import DomainError, DossierInconnu

PROBLEM = "application/problem+json"


class FieldError(msgspec.Struct, frozen=True):
    field: str
    message: str


class Problem(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    code: str | None = None
    field: str | None = None
    errors: list[FieldError] = []
    request_id: str | None = None
    """Given on a 500: the id under which the error is logged."""


class ProblemError(Exception):
    """Raised by routes for refusals found at the edge (headers, bodies)."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        field: str | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(detail)
        self.headers = headers
        self.problem = Problem(
            type=f"/problemes/{code}",
            title=title,
            status=status,
            detail=detail,
            code=code,
            field=field,
            errors=[FieldError(field, detail)] if field else [],
        )


def problem_response(
    problem: Problem, request: Request | None = None, headers: dict[str, str] | None = None
) -> Response:
    if request is not None and problem.instance is None:
        problem = msgspec.structs.replace(problem, instance=request.url.path)
    return MsgspecJSONResponse(problem, problem.status, headers, media_type=PROBLEM)


_PATH = re.compile(r" - at `\$(?P<path>[^`]*)`")
_NAMED = re.compile(r"(?:missing required|unknown) field `(?P<field>[^`]+)`")


def body_problem(error: msgspec.DecodeError) -> ProblemError:
    """Turn msgspec's decode error into a problem naming the body field at fault."""
    message = str(error)
    if not isinstance(error, msgspec.ValidationError):
        return ProblemError(400, "json_invalide", "Corps JSON illisible", message, "body")
    match = _PATH.search(message)
    path = match.group("path").lstrip(".") if match else ""
    detail = _PATH.sub("", message)
    named = _NAMED.search(message)
    if named:
        path = f"{path}.{named['field']}" if path else named["field"]
    return ProblemError(422, "champ_invalide", "Champ invalide", detail, path or "body")


async def on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return problem_response(exc.problem, request, exc.headers)


async def on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    unknown = isinstance(exc, DossierInconnu)
    field = "case_id" if unknown else exc.field
    return problem_response(
        ProblemError(404 if unknown else 422, exc.code, "Étape refusée", exc.detail, field).problem,
        request,
    )


async def on_conflict(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VersionConflict)
    detail = (
        f"Le dossier est à la version {exc.actual}"
        + (f", la requête attendait la version {exc.expected}." if exc.expected else ".")
        + " Relire le dossier puis recommencer."
    )
    if exc.expected is not None:  # the caller's If-Match no longer holds: RFC 9110 §13.1.1
        problem = ProblemError(412, "version_perimee", "Version périmée", detail, "If-Match")
    else:  # a concurrent write won the race: a conflict, whatever the caller knew
        problem = ProblemError(409, "conflit_de_version", "Conflit de version", detail, None)
    return problem_response(problem.problem, request)


async def on_key_reused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotencyKeyReused)
    problem = ProblemError(
        422,
        "cle_idempotence_reutilisee",
        "Clé d'idempotence déjà utilisée",
        "Cette clé a déjà servi pour une autre requête.",
        "Idempotency-Key",
    )
    return problem_response(problem.problem, request)


async def on_request_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(".".join(str(p) for p in e["loc"][1:]) or str(e["loc"][0]), e["msg"])
        for e in exc.errors()
    ]
    first = errors[0] if errors else FieldError("request", "invalid")
    problem = Problem(
        type="/problemes/parametre_invalide",
        title="Paramètre invalide",
        status=422,
        detail=first.message,
        code="parametre_invalide",
        field=first.field,
        errors=errors,
    )
    return problem_response(problem, request)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Introuvable", 405: "Méthode non permise"}
    problem = Problem(
        type="about:blank",
        title=titles.get(exc.status_code, "Erreur"),
        status=exc.status_code,
        detail=str(exc.detail),
    )
    return problem_response(problem, request)


async def on_store_unavailable(request: Request, exc: Exception) -> Response:
    """The database went away (restart, failover): nothing is acknowledged, the client retries
    (with the same Idempotency-Key, a write is then recorded once)."""
    structlog.get_logger("api").warning("store.unavailable", error=str(exc))
    problem = ProblemError(
        503,
        "stockage_indisponible",
        "Stockage momentanément indisponible",
        "Le stockage ne répond pas; recommencer la requête (même Idempotency-Key).",
    )
    return problem_response(problem.problem, request, {"Retry-After": "1"})


HANDLERS: dict[Any, Any] = {
    ProblemError: on_problem,
    DomainError: on_domain_error,
    VersionConflict: on_conflict,
    IdempotencyKeyReused: on_key_reused,
    RequestValidationError: on_request_validation,
    StarletteHTTPException: on_http_error,
    OperationalError: on_store_unavailable,
    InterfaceError: on_store_unavailable,
}
