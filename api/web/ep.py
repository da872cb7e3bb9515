"""The EP's screen, « Équipe pluridisciplinaire » (`/ecrans/ep`), for the roles that read the
EP's worklist (`api.http.sanctions.EP_READERS`): the procedure's lines of today (referrals
waiting for a session, opinions waiting for a decision, observations due, suspensions ending,
remobilisations to check), filtered by motive with a GET form as `GET /ep/a-traiter`'s `motif`,
each line a link to its case; the sessions those cases are on the agenda of, when programmed,
with their agenda and minutes (HTML and PDF) as `GET /ep/seances/{id}/ordre-du-jour` and
`/proces-verbal` give them. The same use cases (`api.services.sanctions.worklist`,
`.situation`; `api.services.ep_sessions.session_of`); only reading the form is the screen's."""

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from adapters.eventlog.store import Parcours
from api.http import sanctions as api
from api.http.deps import Store, require
from api.services import sanctions as service
from api.services.ep_sessions import session_of
from api.web.router import PREFIX, render, session_principal
from domain.dossier import Saisine, fold_history
from domain.ep import Session
from projections.sanctions import LIBELLES, LigneEp, MotifEp

PATH = f"{PREFIX}/ep"
ROLES = api.EP_READERS
REFERRAL_MOTIVES = frozenset(
    {MotifEp.SAISINE_SANS_SEANCE, MotifEp.AVIS_SANS_DECISION, MotifEp.OBSERVATIONS_ATTENDUES}
)
"""The motives whose line numbers a referral (the others, a sanction)."""

router = APIRouter(
    prefix=PREFIX,
    include_in_schema=False,
    dependencies=[Depends(session_principal), Depends(require(*ROLES))],
)


def _cases(
    app: Parcours, lines: list[LigneEp]
) -> tuple[dict[UUID, str | None], dict[UUID, dict[int, Saisine]]]:
    """Each listed case's file number and its referrals (as `GET /dossiers/{id}/sanctions`)."""
    today = app.today()
    numbers: dict[UUID, str | None] = {}
    referrals: dict[UUID, dict[int, Saisine]] = {}
    for case_id in dict.fromkeys(line.case_id for line in lines):
        history = app.history(case_id)
        numbers[case_id] = fold_history(history).numero_dossier
        found = service.situation(app, history, today, None)
        referrals[case_id] = {s.numero: s for s in found.saisines}
    return numbers, referrals


def _page(app: Parcours, motif: str) -> dict[str, object]:
    errors: dict[str, str] = {}
    motifs: frozenset[MotifEp] = frozenset()
    if motif:
        if motif in {m.value for m in MotifEp}:
            motifs = frozenset({MotifEp(motif)})
        else:
            errors["motif"] = "choisir un motif de la liste"
    lines = service.worklist(app, app.today(), None, motifs)
    numbers, referrals = _cases(app, lines)
    session_ids = sorted(
        {s.session_id for found in referrals.values() for s in found.values() if s.session_id}
    )
    sessions: list[Session] = [
        s for s in (session_of(app, sid) for sid in session_ids) if s is not None
    ]
    sessions.sort(key=lambda s: (s.date_session, s.session_id))
    return {
        "title": "Équipe pluridisciplinaire",
        "lines": lines,
        "numbers": numbers,
        "referrals": referrals,
        "referral_motives": {m.value for m in REFERRAL_MOTIVES},
        "sessions": sessions,
        "known_sessions": {s.session_id for s in sessions},
        "motifs": {m.value: LIBELLES[m] for m in MotifEp},
        "form": {"motif": motif},
        "errors": errors,
        "today": app.today(),
    }


@router.get("/ep")
async def ep_page(
    request: Request,
    app: Store,
    motif: Annotated[str, Query(max_length=80)] = "",
) -> Response:
    """The procedure's worklist of today; an unknown motive comes back next to its field
    (422) and the list unfiltered."""
    context = await run_in_threadpool(_page, app, motif.strip())
    return render(request, "ep.html", context, 422 if context["errors"] else 200)


@router.get("/ep/seances/{session_id}/ordre-du-jour")
async def agenda(
    session_id: str, request: Request, app: Store, format_: api.Format = None
) -> Response:
    """The session's agenda, as the JSON API's route gives it (HTML, or PDF)."""
    return await api.get_agenda(session_id, request, app, format_)


@router.get("/ep/seances/{session_id}/proces-verbal")
async def minutes(
    session_id: str, request: Request, app: Store, format_: api.Format = None
) -> Response:
    """The minutes of a session held, as the JSON API's route gives them (HTML, or PDF)."""
    return await api.get_minutes(session_id, request, app, format_)
