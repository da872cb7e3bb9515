"""Routes of a case: one command per step (POST), its state, its timeline, and case lists."""

import hashlib
import uuid
from typing import Annotated, Any, cast
from uuid import UUID

import msgspec
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.application import Author, Outcome, Parcours
from adapters.case_views import CaseFilter
from adapters.projector import Projector
from api import examples
from api.access import (
    READ_ROLES,
    STEP_ROLES,
    check_case,
    current_structure,
    listing_structure,
    only_as_agent,
    unknown_case,
)
from api.auth import Caller, Principal, Role, require
from api.problems import ProblemError, body_problem
from api.schemas import error_responses, json_response, request_body
from api.steps import ENTREE, STEPS, Step
from domain.dossier import Statut
from domain.dossier import fold as dossier_fold
from domain.events import Fait, Recorded
from projections.case_state import CaseRow, fold

router = APIRouter(
    prefix="/dossiers",
    tags=["dossiers"],
    dependencies=[Depends(require(Role.AGENT, Role.ORIENTATION, Role.AUDITEUR, Role.FLUX))],
)
_readers = [Depends(require(*READ_ROLES))]


class CommandResult(msgspec.Struct, frozen=True, kw_only=True):
    case_id: UUID
    version: int
    position: int | None
    replayed: bool


class TimelineEntry(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    event: Fait


class CasePage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[CaseRow]
    total: int
    limit: int
    offset: int
    position: int


def _json(payload: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        msgspec.json.encode(payload),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _expected_version(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    raw = if_match.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise ProblemError(
            400,
            "if_match_invalide",
            "En-tête If-Match invalide",
            'If-Match attend la version du dossier, par exemple "3".',
            "If-Match",
        )
    return int(raw)


def _admit(request: Request, caller: Principal, case_id: UUID, step: Step) -> str | None:
    """Check the caller may record `step` on the case; returns the structure to record as the
    author's (the case's own for an agent, whose token may list several)."""
    app: Parcours = request.app.state.parcours
    allowed = STEP_ROLES[step.slug]
    scoped = step is not ENTREE and only_as_agent(caller, allowed)
    structure = current_structure(app.load(case_id)[0]) if scoped else None
    check_case(request, caller, case_id, allowed, structure, step.summary)
    return structure if scoped else caller.primary_structure


async def _run(
    request: Request,
    case_id: UUID,
    step: Step,
    if_match: str | None,
    key: str | None,
    caller: Principal,
) -> Response:
    structure = await run_in_threadpool(_admit, request, caller, case_id, step)
    raw = await request.body()
    try:
        command = msgspec.json.decode(raw, type=step.command)
    except msgspec.DecodeError as e:
        raise body_problem(e) from None
    if key is not None and not 0 < len(key) <= 200:
        raise ProblemError(
            400,
            "cle_idempotence_invalide",
            "Clé d'idempotence invalide",
            "Idempotency-Key doit compter de 1 à 200 caractères.",
            "Idempotency-Key",
        )
    fingerprint = hashlib.sha256(
        b"%s %s\n%s" % (request.method.encode(), request.url.path.encode(), raw)
    ).hexdigest()
    app: Parcours = request.app.state.parcours
    outcome: Outcome = await run_in_threadpool(
        app.handle,
        case_id,
        command,
        Author(user=caller.sub, structure_id=structure, request_id=request.state.request_id),
        expected_version=_expected_version(if_match),
        idempotency_key=key,
        fingerprint=fingerprint,
    )
    headers = {"ETag": f'"{outcome.version}"'}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    if outcome.created:
        headers["Location"] = f"/dossiers/{outcome.case_id}"
    result = CommandResult(
        case_id=outcome.case_id,
        version=outcome.version,
        position=outcome.position,
        replayed=outcome.replayed,
    )
    return _json(result, 201 if outcome.created else 200, headers)


IfMatch = Annotated[
    str | None, Header(description="Version attendue du dossier (ETag), 409 si elle a changé")
]
IdempotencyKey = Annotated[
    str | None,
    Header(description="Rejouer la même clé renvoie la première réponse et n'écrit rien"),
]
AccessReason = Annotated[
    str | None,
    Header(alias="X-Access-Reason", description="Motif de l'accès, consigné au journal d'accès"),
]


@router.post(
    "",
    summary=ENTREE.summary,
    status_code=201,
    openapi_extra=request_body(ENTREE.command, ENTREE.example),
    responses={
        201: json_response(CommandResult, "Dossier créé", {**examples.RESULT, "version": 1}),
        **error_responses(400, 401, 403, 409, 422),
    },
)
async def create_case(
    request: Request,
    caller: Caller,
    idempotency_key: IdempotencyKey = None,
    reason: AccessReason = None,
) -> Response:
    if idempotency_key is not None:
        case_id = uuid.uuid5(uuid.NAMESPACE_URL, f"parcours:idempotency:{idempotency_key}")
    else:
        case_id = uuid.uuid4()
    return await _run(request, case_id, ENTREE, None, idempotency_key, caller)


def _register(step: Step) -> None:
    async def endpoint(
        request: Request,
        case_id: UUID,
        caller: Caller,
        if_match: IfMatch = None,
        idempotency_key: IdempotencyKey = None,
        reason: AccessReason = None,
    ) -> Response:
        return await _run(request, case_id, step, if_match, idempotency_key, caller)

    router.add_api_route(
        f"/{{case_id}}/{step.slug}",
        endpoint,
        methods=["POST"],
        summary=step.summary,
        name=step.command.__name__,
        openapi_extra=request_body(step.command, step.example),
        responses={
            200: json_response(CommandResult, "Étape enregistrée", examples.RESULT),
            **error_responses(400, 401, 403, 404, 409, 422),
        },
    )


for _step in STEPS:
    _register(_step)


def _history(request: Request, caller: Principal, case_id: UUID, purpose: str) -> list[Recorded]:
    """The case's events, once the caller is admitted to read it (404 for an agent outside its
    structures, as for an unknown case)."""
    history: list[Recorded] = request.app.state.parcours.history(case_id)
    structure = current_structure(dossier_fold(r.event for r in history)) if history else None
    check_case(request, caller, case_id, READ_ROLES, structure, purpose)
    if not history:
        raise unknown_case(case_id)
    return history


@router.get(
    "/{case_id}",
    summary="État courant d'un dossier",
    responses={
        200: json_response(CaseRow, "État du dossier", examples.CASE),
        **error_responses(401, 403, 404, 422),
    },
    dependencies=_readers,
)
def get_case(
    request: Request, case_id: UUID, caller: Caller, reason: AccessReason = None
) -> Response:
    history = _history(request, caller, case_id, "lecture de l'état du dossier")
    row = fold(history)[case_id]
    return _json(row, headers={"ETag": f'"{row.version}"'})


@router.get(
    "/{case_id}/evenements",
    summary="Chronologie des événements d'un dossier",
    responses={
        200: json_response(list[TimelineEntry], "Événements", examples.TIMELINE),
        **error_responses(401, 403, 404, 422),
    },
    dependencies=_readers,
)
def get_timeline(
    request: Request, case_id: UUID, caller: Caller, reason: AccessReason = None
) -> Response:
    history = _history(request, caller, case_id, "lecture de la chronologie du dossier")
    return _json(
        [TimelineEntry(version=r.originator_version, event=cast(Fait, r.event)) for r in history]
    )


@router.get(
    "",
    summary="Dossiers par structure, référent ou statut (paginés)",
    responses={
        200: json_response(CasePage, "Page de dossiers", examples.PAGE),
        **error_responses(401, 403, 422),
    },
    dependencies=_readers,
)
def list_cases(
    request: Request,
    caller: Caller,
    structure_id: str | None = None,
    referent_id: str | None = None,
    statut: Statut | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
    after: Annotated[
        int | None,
        Query(ge=0, description="Position du journal à refléter (renvoyée par une commande)"),
    ] = None,
) -> Response:
    structure_id = listing_structure(caller, structure_id)
    projector: Projector = request.app.state.projector
    if after is not None and projector.position() < after:
        projector.catch_up(until=after)
    rows, total = projector.view.find(
        CaseFilter(
            structure_id=structure_id,
            referent_id=referent_id,
            statut=statut.value if statut else None,
        ),
        limit,
        offset,
    )
    page = CasePage(
        items=rows, total=total, limit=limit, offset=offset, position=projector.position()
    )
    return _json(page)
