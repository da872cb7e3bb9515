"""The EP's sessions on the store: programmed and held through one write path (`execute`),
read back with the points the cases put on their agenda."""

from datetime import date

from adapters.eventlog.reading import histories
from adapters.eventlog.store import Parcours
from api.services.commands import Author, execute, refused
from api.services.structures import load_structures
from domain import events as ev
from domain.decide import Contexte
from domain.ep import (
    Session,
    SessionEpProgrammee,
    SessionEpTenue,
    fold_session,
    programmer,
    session_aggregate_id,
    tenir,
)
from domain.errors import DomainError
from domain.events import Recorded
from domain.vocabulary import TypeOrganisme
from projections.ep_seances import Seance, seance


def programme_session(
    app: Parcours,
    ep_id: str,
    session_id: str,
    date_session: date,
    lieu: str | None,
    effective_on: date,
    author: Author,
) -> tuple[Session, bool]:
    """Record the session's programming (again, to move it); returns it and whether new."""
    if load_structures(app).type_of(ep_id) is not TypeOrganisme.EQUIPE_PLURIDISCIPLINAIRE:
        raise DomainError(
            "ep_inconnue",
            f"Aucune équipe pluridisciplinaire {ep_id!r} n'est déclarée (structures).",
            "ep_id",
        )

    def decide(history: list[Recorded], ctx: Contexte) -> list[SessionEpProgrammee]:
        programmer(history, ep_id, session_id, date_session, lieu, effective_on, ctx.today)
        return [
            SessionEpProgrammee(
                effective_on=effective_on,
                meta=ctx.meta,
                ep_id=ep_id,
                session_id=session_id,
                date_session=date_session,
                lieu=lieu,
            )
        ]

    appended = execute(
        app,
        session_aggregate_id(session_id),
        decide,
        author,
        lost_race=refused("seance_concurrente", "Séance modifiée en même temps.", "session_id"),
    )
    found = session_of(app, session_id)
    assert found is not None
    return found, appended.created


def hold_session(
    app: Parcours, session_id: str, membres: list[str], effective_on: date, author: Author
) -> Session:
    def decide(history: list[Recorded], ctx: Contexte) -> list[SessionEpTenue]:
        tenir(history, session_id, membres, effective_on, ctx.today)
        return [
            SessionEpTenue(
                effective_on=effective_on, meta=ctx.meta, session_id=session_id, membres=membres
            )
        ]

    execute(
        app,
        session_aggregate_id(session_id),
        decide,
        author,
        creates=False,
        lost_race=refused("seance_concurrente", "Séance modifiée en même temps.", "session_id"),
    )
    found = session_of(app, session_id)
    assert found is not None
    return found


def session_of(app: Parcours, session_id: str) -> Session | None:
    return fold_session(app.history(session_aggregate_id(session_id)))


def session_with_points(app: Parcours, session: Session) -> Seance:
    """The session and the referrals on its agenda (a whole read of the log)."""
    concerned = [
        h
        for h in histories(app)
        if any(
            isinstance(r.event, ev.SaisineInscrite) and r.event.session_id == session.session_id
            for r in h
        )
    ]
    return seance(session, concerned)
