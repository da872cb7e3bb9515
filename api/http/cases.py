"""Routes of a case: one command per step (POST), its state, its timeline, and case lists."""

import hashlib
import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, NamedTuple
from uuid import UUID

import msgspec
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.eventlog.reading import case_history
from adapters.eventlog.store import Parcours
from adapters.readmodels.case_store import CaseFilter
from api.http import examples
from api.http.access import (
    CORRECTION_ROLES,
    READ_ROLES,
    STEP_ROLES,
    Accompagnants,
    accompanying,
    admissible,
    check_asc_author,
    check_case,
    folding,
    listing_structure,
    only_as_agent,
    unknown_case,
)
from api.http.auth import Principal, Role
from api.http.conditional import NOT_MODIFIED, IfNoneMatch, etag, not_modified
from api.http.deps import Caller, ReadModel, Store, checked_on_case, parcours, require
from api.http.limits import decode, if_match_version, json_body
from api.http.params import AccessMotif, AccessReason, AsOf, KnownAt, Page, Paged, Position
from api.http.problems import ProblemError
from api.http.responses import MsgspecJSONResponse
from api.http.schemas import error_responses, json_response, request_body
from api.http.steps import CORRECTIONS, ENTREE, EVENT_SLUGS, STEPS, Step
from api.services.audit import case_at
from api.services.cases import Outcome, handle
from api.services.commands import Author, IdempotencyKeyReused, VersionConflict
from domain.commands import AnnulerEtape, Commande, RectifierEtape, TenirEntretienAsc
from domain.decide import command_of
from domain.dossier import Statut, fold_history
from domain.errors import DomainError
from domain.events import Recorded
from projections.case_state import CaseRow, case_row
from projections.timeline import TimelineEntry

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


class CasePage(Page[CaseRow], frozen=True, kw_only=True):
    position: int
    """The log position the read model reflects."""


def admit_step(
    request: Request, caller: Principal, case_id: UUID, step: Step, command: Commande | None
) -> tuple[str | None, list[Recorded]]:
    """Check the caller may record `step` on the case; returns the structure to record as the
    author's (for an agent, its structure accompanying the person, whose token may list
    several) and the history read to admit it (the command is decided on it). A correction is
    admitted for the roles, and the accompaniments, that may record the step it corrects."""
    corrected = _corrected(command) if isinstance(command, AnnulerEtape | RectifierEtape) else None
    return admit_correction(request, caller, case_id, step, corrected)


def admit_correction(
    request: Request, caller: Principal, case_id: UUID, step: Step, corrected: int | None
) -> tuple[str | None, list[Recorded]]:
    """`admit_step` for the correction `step` of version `corrected` (None: `step` itself), as
    its form asks before any command is typed."""
    app = parcours(request)
    allowed = STEP_ROLES[step.slug]
    checked: type[Commande] = step.command
    history = app.history(case_id)
    if corrected is not None:
        allowed, checked = _correction_roles(history, corrected, step.command)
    scoped = step is not ENTREE and only_as_agent(caller, allowed)
    accompagnants = {}
    if scoped:
        try:
            with folding(case_id):
                accompagnants = accompanying(fold_history(history))
        except ProblemError:
            accompagnants = {}  # an unfoldable case is no agent's: corrected by orientation
    structure = check_case(request, caller, case_id, allowed, accompagnants, step.summary, checked)
    return (structure if scoped else caller.primary_structure), history


def may_correct(
    caller: Principal, history: list[Recorded], accompagnants: Accompagnants, version: int
) -> bool:
    """Whether `admit_step` would admit the caller's correction of step `version` (nothing
    logged: the case screen offers the correction's links on it)."""
    allowed, checked = _correction_roles(history, version, AnnulerEtape)
    return admissible(caller, allowed, accompagnants, checked)


def _asc_author(
    request: Request,
    caller: Principal,
    case_id: UUID,
    history: list[Recorded],
    structure: str,
    command: TenirEntretienAsc,
) -> None:
    """For an agent: an ASC interview is its own structure's unless it is the référent."""
    if only_as_agent(caller, STEP_ROLES[TenirEntretienAsc.route.slug]):
        accompagnants = accompanying(fold_history(history))
        check_asc_author(request, caller, case_id, accompagnants, structure, command)


def _refold(app: Parcours, case_id: UUID) -> None:
    """Fold the case's history again after its command failed unexpectedly: when the rules
    cannot fold it (a step that got into the log under their back), the answer is the case's
    quarantine (409, only a correction of that step is recorded); a store error passes through
    (503), and a case that folds lets the first error stand."""
    with folding(case_id):
        fold_history(app.history(case_id))


def _corrected(command: AnnulerEtape | RectifierEtape) -> int:
    return (
        command.version_annulee if isinstance(command, AnnulerEtape) else command.version_rectifiee
    )


def _correction_roles(
    history: list[Recorded], version: int, correction: type[Commande]
) -> tuple[frozenset[Role], type[Commande]]:
    """The roles that may correct step `version`, and that step's command (`correction`
    itself for a version the rules refuse or a step no command records)."""
    if not 1 <= version <= len(history):
        return CORRECTION_ROLES, correction  # the rules refuse the unknown version
    event = history[version - 1].event
    slug = EVENT_SLUGS.get(type(event))
    corrected = command_of(event)
    return (
        CORRECTION_ROLES if slug is None else STEP_ROLES[slug],
        correction if corrected is None else type(corrected),
    )


def _command(step: Step, raw: bytes) -> Commande:
    command: Commande = decode(raw, step.command)
    return command


async def _run(
    request: Request,
    case_id: UUID,
    step: Step,
    if_match: str | None,
    key: str | None,
    caller: Principal,
) -> Response:
    raw = await json_body(request)
    expected_version = if_match_version(if_match)
    if step in CORRECTIONS:
        command = _command(step, raw)
        structure, history = await run_in_threadpool(
            admit_step, request, caller, case_id, step, command
        )
    else:
        structure, history = await run_in_threadpool(
            admit_step, request, caller, case_id, step, None
        )
        command = _command(step, raw)
        if isinstance(command, TenirEntretienAsc) and structure is not None:
            await run_in_threadpool(
                _asc_author, request, caller, case_id, history, structure, command
            )
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
    app = parcours(request)
    try:
        outcome: Outcome = await run_in_threadpool(
            handle,
            app,
            case_id,
            command,
            Author(user=caller.sub, structure_id=structure, request_id=request.state.request_id),
            history=history,
            expected_version=expected_version,
            idempotency_key=key,
            fingerprint=fingerprint,
        )
    except (DomainError, VersionConflict, IdempotencyKeyReused, ProblemError):
        raise
    except Exception:
        await run_in_threadpool(_refold, app, case_id)
        raise
    headers = {"ETag": etag(outcome.version)}
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
    return MsgspecJSONResponse(result, 201 if outcome.created else 200, headers)


IfMatch = Annotated[
    str | None,
    Header(description="Version attendue du dossier (ETag): 412 si elle a changé depuis"),
]
IdempotencyKey = Annotated[
    str | None,
    Header(description="Rejouer la même clé renvoie la première réponse et n'écrit rien"),
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
    dependencies=[Depends(checked_on_case(*STEP_ROLES[ENTREE.slug]))],
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
            **error_responses(400, 401, 403, 404, 409, 412, 422),
        },
        dependencies=[Depends(checked_on_case(*STEP_ROLES[step.slug]))],
    )


for _step in [*STEPS, *CORRECTIONS]:
    _register(_step)


def admitted_history(
    request: Request, app: Parcours, caller: Principal, case_id: UUID, purpose: str
) -> list[Recorded]:
    """The case's events with their log positions, once the caller is admitted to read it
    (404 for an agent outside its structures, as for an unknown case)."""
    history = case_history(app, case_id)
    accompagnants = {}
    unfoldable: ProblemError | None = None
    try:
        with folding(case_id):
            accompagnants = accompanying(fold_history(history)) if history else {}
    except ProblemError as e:
        unfoldable = e  # answered once the caller is admitted (an agent learns nothing)
    check_case(request, caller, case_id, READ_ROLES, accompagnants, purpose)
    if not history:
        raise unknown_case(case_id)
    if unfoldable is not None:
        raise unfoldable
    return history


class CaseRead(NamedTuple):
    """A case read by an admitted caller: its history and the moment asked for."""

    case_id: UUID
    history: list[Recorded]
    as_of: date | None
    known_at: datetime | None


def _reading(purpose: str) -> Callable[..., CaseRead]:
    """A dependency reading the case named by the path, for `purpose` (the access log's)."""

    def read(
        request: Request,
        app: Store,
        case_id: UUID,
        caller: Caller,
        as_of: AsOf = None,
        known_at: KnownAt = None,
        reason: AccessReason = None,
        motif: AccessMotif = None,
    ) -> CaseRead:
        return CaseRead(
            case_id, admitted_history(request, app, caller, case_id, purpose), as_of, known_at
        )

    return read


_READ_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.get(
    "/{case_id}",
    summary="État d'un dossier, maintenant ou à une date d'effet, tel que connu à un instant",
    description="L'état courant porte son `ETag` (la version du dossier): le renvoyer dans "
    "`If-None-Match` donne 304 sans corps tant que le dossier n'a pas changé, et dans "
    "`If-Match` d'une étape, 412 s'il a changé.",
    responses={
        200: json_response(CaseRow, "État du dossier", examples.CASE),
        **NOT_MODIFIED,
        **_READ_ERRORS,
    },
    dependencies=_readers,
)
def get_case(
    request: Request,
    app: Store,
    read: Annotated[CaseRead, Depends(_reading("lecture de l'état du dossier"))],
    if_none_match: IfNoneMatch = None,
) -> Response:
    case_id, history, as_of, known_at = read
    if as_of is None and known_at is None:
        current = etag(len(history))
        if (unchanged := not_modified(request, current)) is not None:
            return unchanged
        with folding(case_id):
            row = case_row(history)
        assert row is not None  # an entry is never voided
        return MsgspecJSONResponse(row, headers={"ETag": etag(row.version)})
    with folding(case_id):
        at = case_at(app, case_id, as_of, known_at, history)
    if at.state is None:
        raise ProblemError(
            404,
            "dossier_inexistant_a_date",
            "Dossier inexistant à cette date",
            "Aucune entrée du dossier n'avait pris effet à cette date, ou n'était connue à cet "
            "instant.",
            "as_of" if known_at is None else "known_at",
        )
    return MsgspecJSONResponse(at.state, headers={"X-Log-Position": str(at.position)})


@router.get(
    "/{case_id}/evenements",
    summary="Chronologie d'un dossier: auteurs, dates, motifs, corrections (à une date, "
    "telle que connue à un instant)",
    description="Sans `as_of` ni `known_at`, la chronologie porte l'`ETag` du dossier (sa "
    "version): `If-None-Match` donne 304 sans corps tant qu'il n'a pas changé.",
    responses={
        200: json_response(list[TimelineEntry], "Événements", examples.TIMELINE),
        **NOT_MODIFIED,
        **_READ_ERRORS,
    },
    dependencies=_readers,
)
def get_timeline(
    request: Request,
    app: Store,
    read: Annotated[CaseRead, Depends(_reading("lecture de la chronologie du dossier"))],
    if_none_match: IfNoneMatch = None,
) -> Response:
    whole = read.as_of is None and read.known_at is None
    current = etag(len(read.history))
    if whole and (unchanged := not_modified(request, current)) is not None:
        return unchanged
    with folding(read.case_id):
        at = case_at(app, read.case_id, read.as_of, read.known_at, read.history)
    headers = {"X-Log-Position": str(at.position)}
    if whole:
        headers["ETag"] = current
    return MsgspecJSONResponse(at.timeline, headers=headers)


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
    projector: ReadModel,
    caller: Caller,
    paging: Paged,
    structure_id: str | None = None,
    referent_id: str | None = None,
    statut: Statut | None = None,
    after: Position = None,
) -> Response:
    structure_id = listing_structure(caller, structure_id)
    if after is not None and projector.position() < after:
        projector.catch_up(until=after)
    rows, total = projector.view.find(
        CaseFilter(
            structure_id=structure_id,
            referent_id=referent_id,
            statut=statut.value if statut else None,
        ),
        paging.limit,
        paging.offset,
    )
    return MsgspecJSONResponse(paging.page(CasePage, rows, total, position=projector.position()))
