"""The HTTP edge, in one place: what a request may carry (body size, JSON nesting, UTF-8,
parameters without control characters, numbers that fit the store, dates in a plausible window),
and the one boundary that turns any unexpected error into a problem+json 500 logged on the
request's line. Refusals are problem+json naming the field; nothing is written."""

import re
import time
import uuid
from datetime import date, datetime
from itertools import accumulate
from typing import Any, TypeVar

import msgspec
import structlog
from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.metrics.counted import observe_request
from adapters.tracing import end_request, start_request
from api.http.problems import PROBLEM, Problem, ProblemError, body_problem
from domain.bounds import DATE_MIN, horizon

log = structlog.get_logger("api")

T = TypeVar("T")

MAX_JSON_BODY = 1024 * 1024
"""Bytes of a request body (every JSON route): a command is a few hundred bytes, a tariff
schedule a few kilobytes."""
MAX_FLUX_BODY = 512 * 1024 * 1024
"""Bytes of a flux upload (streamed to disk): a monthly flux of a large département."""
BODY_LIMITS: dict[tuple[str, str], int] = {("POST", "/flux/imports"): MAX_FLUX_BODY}
"""Routes with their own body limit; every other request is held to `MAX_JSON_BODY`."""
MAX_JSON_DEPTH = 32
"""Nesting of arrays and objects in a JSON body (a tariff schedule nests 5 deep)."""
MAX_INT64 = 2**63 - 1
"""Largest position, offset or page a store holds (a signed 64-bit integer)."""
MAX_PARAMETER_LENGTH = 1000
"""Characters of one query or path parameter (identifiers are a few dozen)."""
MAX_REQUEST_ID = 128

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]+")


# --- dates ----------------------------------------------------------------------------------


def date_window() -> tuple[date, date]:
    """The dates a query may name: those a fact may bear (`domain.bounds`), from
    `DATE_MIN` to the planning horizon seen from today."""
    return DATE_MIN, horizon(date.today())


def year_in_window(year: int) -> int:
    """Pydantic validator for a year parameter: a year of `date_window()`."""
    first, last = date_window()
    if not first.year <= year <= last.year:
        msg = f"l'année doit être comprise entre {first.year} et {last.year}"
        raise ValueError(msg)
    return year


def in_window(value: Any) -> Any:
    """Pydantic validator for date and datetime parameters (None passes)."""
    if value is None:
        return value
    day = value.date() if isinstance(value, datetime) else value
    first, last = date_window()
    if not first <= day <= last:
        msg = f"la date doit être comprise entre {first.isoformat()} et {last.isoformat()}"
        raise ValueError(msg)
    return value


# --- parameters -----------------------------------------------------------------------------


def parameter_problem(name: str, detail: str) -> ProblemError:
    return ProblemError(422, "parametre_invalide", "Paramètre invalide", detail, name)


def check_parameters(request: Request) -> None:
    """App-wide dependency: no query or path parameter with a control character (NUL and the
    like, which PostgreSQL refuses and no identifier holds) or longer than
    `MAX_PARAMETER_LENGTH`."""
    items = [*request.path_params.items(), *request.query_params.multi_items()]
    for name, value in items:
        if not isinstance(value, str):
            continue
        field = name if not _CONTROL.search(name) else "query"
        if _CONTROL.search(name) or _CONTROL.search(value):
            raise parameter_problem(field, f"{field}: caractère de contrôle interdit.")
        if len(value) > MAX_PARAMETER_LENGTH:
            raise parameter_problem(field, f"{field}: {MAX_PARAMETER_LENGTH} caractères au plus.")


def if_match_version(if_match: str | None) -> int | None:
    """The version an `If-Match` header pins (`"3"`, `W/"3"` or `3`), bounded like a position."""
    if if_match is None:
        return None
    raw = if_match.strip().removeprefix("W/").strip('"')
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 19 and int(raw) <= MAX_INT64):
        raise ProblemError(
            400,
            "if_match_invalide",
            "En-tête If-Match invalide",
            'If-Match attend la version du dossier, par exemple "3".',
            "If-Match",
        )
    return int(raw)


# --- bodies ---------------------------------------------------------------------------------

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def json_depth(raw: bytes) -> int:
    """How deep arrays and objects nest in `raw` (brackets inside strings do not count)."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    if len(brackets) <= MAX_JSON_DEPTH:
        return len(brackets)
    return max(accumulate(1 if b in b"[{" else -1 for b in brackets))


def check_json(raw: bytes) -> None:
    """Refuse a body that is not UTF-8 or nests deeper than `MAX_JSON_DEPTH` (400 on `body`)."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ProblemError(
            400,
            "encodage_invalide",
            "Corps illisible",
            f"Le corps n'est pas de l'UTF-8 valide (octet {e.start}).",
            "body",
        ) from None
    if json_depth(raw) > MAX_JSON_DEPTH:
        raise ProblemError(
            400,
            "json_trop_profond",
            "Corps JSON trop imbriqué",
            f"Le corps imbrique plus de {MAX_JSON_DEPTH} niveaux de tableaux ou d'objets.",
            "body",
        )


async def json_body(request: Request) -> bytes:
    """The request body, read within its size limit, checked for UTF-8 and nesting."""
    raw = await request.body()
    check_json(raw)
    return raw


def decode(raw: bytes, kind: type[T]) -> T:
    """Decode a checked body into `kind`; a refusal names the body field at fault."""
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.DecodeError as e:
        raise body_problem(e) from None


async def read_json(request: Request, kind: type[T]) -> T:
    return decode(await json_body(request), kind)


def too_large(limit: int) -> ProblemError:
    return ProblemError(
        413,
        "corps_trop_volumineux",
        "Corps trop volumineux",
        f"Le corps de la requête dépasse {limit} octets.",
        "body",
    )


# --- the boundary ---------------------------------------------------------------------------


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            given: str = value.decode("latin-1")
            if len(given) <= MAX_REQUEST_ID and _REQUEST_ID.fullmatch(given):
                return given
            break
    return uuid.uuid4().hex


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            raw = value.decode("latin-1").strip()
            return int(raw) if raw.isdigit() and len(raw) <= 19 else None
    return None


def internal_error(request_id: str, path: str) -> Problem:
    return Problem(
        type="/problemes/erreur_interne",
        title="Erreur interne",
        status=500,
        detail=f"Erreur inattendue; elle est consignée au journal sous la requête {request_id}.",
        instance=path,
        code="erreur_interne",
        request_id=request_id,
    )


def _route_template(scope: Scope) -> str | None:
    """The matched route's path template (`/dossiers/{case_id}`), never the raw path: a
    metric's label must not hold a case id, nor grow with every path asked."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else None


class Edge:
    """Pure ASGI middleware around the whole app: request id, body limit, one log line per
    request, and the exception boundary. The response's start is held back until its first
    bytes, so that an error raised before any byte (a streamed extract failing at once) is
    still answered as a problem+json 500; an error after bytes were sent is re-raised, so that
    the server closes the connection on an incomplete response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        method, path = scope["method"], scope["path"]
        limit = BODY_LIMITS.get((method, path), MAX_JSON_BODY)
        started = time.perf_counter()
        span = start_request(method, scope.get("headers", []))
        status = 0
        held: Message | None = None
        sent = False
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise too_large(limit)
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status, held, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                if link := scope["state"].get("link"):  # a list's next page (params.Paging)
                    headers.append((b"link", link.encode("latin-1", "replace")))
                held = {**message, "headers": headers}
                return
            if held is not None:
                await send(held)
                held, sent = None, True
            await send(message)

        def line(**extra: Any) -> dict[str, Any]:
            return {
                "method": method,
                "path": path,
                "ms": round((time.perf_counter() - started) * 1000, 2),
                **extra,
            }

        try:
            try:
                declared = _content_length(scope)
                if declared is not None and declared > limit:
                    raise too_large(limit)  # refused before reading a byte
                await self.app(scope, limited_receive, send_with_id)
            except ProblemError as e:  # raised before the routes (a declared body too large)
                status = e.problem.status
                await self._answer(send, e.problem, request_id, path)
            except Exception as e:
                if sent:  # bytes are out: the server closes the connection mid-response
                    log.error(
                        "request",
                        **line(status=status, error=type(e).__name__, aborted=True),
                        exc_info=e,
                    )
                    raise
                log.error("request", **line(status=500, error=type(e).__name__), exc_info=e)
                await self._answer(send, internal_error(request_id, path), request_id, path)
                return
            if held is not None:  # a start never followed by a body message
                await send(held)
            log.info("request", **line(status=status))
        finally:
            seconds = time.perf_counter() - started
            route = _route_template(scope)
            observe_request(method, route, status or 500, seconds)
            end_request(span, method, route, status or 500)

    @staticmethod
    async def _answer(send: Send, problem: Problem, request_id: str, path: str) -> None:
        if problem.instance is None:
            problem = msgspec.structs.replace(problem, instance=path)
        body = msgspec.json.encode(problem)
        await send(
            {
                "type": "http.response.start",
                "status": problem.status,
                "headers": [
                    (b"content-type", PROBLEM.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"x-request-id", request_id.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
