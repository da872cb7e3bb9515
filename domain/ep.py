"""The EP's sessions: each session is a small aggregate of its own (one per session id) whose
events say when it meets and that it was held, with whom. The cases put on its agenda and the
opinions it gave are case events naming the session (`SaisineInscrite`, `AvisEpRendu`): the
agenda and the minutes are read from both (`projections.ep_seances`).

An EP is a declared structure of kind `equipe_pluridisciplinaire`; the service checks it
against the registry before a session is programmed.
"""

import uuid
from collections.abc import Sequence
from datetime import date

import msgspec

from domain.bounds import verifier_champs
from domain.errors import DomainError
from domain.events import Evenement, Recorded


class SessionEpProgrammee(Evenement, frozen=True, kw_only=True):
    """A session of EP `ep_id` programmed for `date_session` (re-programmed: a later event
    with another date or place)."""

    ep_id: str
    session_id: str
    date_session: date
    lieu: str | None = None


class SessionEpTenue(Evenement, frozen=True, kw_only=True):
    """The session met (`effective_on`), with the members present."""

    session_id: str
    membres: list[str]


_NAMESPACE = uuid.UUID("5e0c7a43-2b1d-4c8e-9f6a-3d2e1b0c9a87")


def session_aggregate_id(session_id: str) -> uuid.UUID:
    """The aggregate of a session id: the same id always designates the same history."""
    return uuid.uuid5(_NAMESPACE, session_id)


class Session(msgspec.Struct, frozen=True, kw_only=True):
    """A session as its events say: when, where, and whether it was held."""

    ep_id: str
    session_id: str
    date_session: date
    lieu: str | None = None
    tenue_le: date | None = None
    membres: list[str] = msgspec.field(default_factory=list)


def fold_session(history: Sequence[Recorded]) -> Session | None:
    state: Session | None = None
    for r in history:
        e = r.event
        if isinstance(e, SessionEpProgrammee):
            state = Session(
                ep_id=e.ep_id,
                session_id=e.session_id,
                date_session=e.date_session,
                lieu=e.lieu,
                tenue_le=state.tenue_le if state else None,
                membres=state.membres if state else [],
            )
        elif isinstance(e, SessionEpTenue) and state is not None:
            state = msgspec.structs.replace(state, tenue_le=e.effective_on, membres=e.membres)
    return state


def programmer(
    history: Sequence[Recorded],
    ep_id: str,
    session_id: str,
    date_session: date,
    lieu: str | None,
    effective_on: date,
    today: date,
) -> Session | None:
    """Refuse a programming no one could use, naming the field at fault; returns the session
    as it stood (None for a new one)."""
    verifier_champs(
        today, structure_id=ep_id, date_session=date_session, lieu=lieu, effective_on=effective_on
    )
    if (
        not session_id
        or len(session_id) > 80
        or not all(c.isalnum() or c in "-_." for c in session_id)
    ):
        raise DomainError(
            "seance_invalide",
            "Identifiant de séance: 1 à 80 lettres, chiffres, '-', '_' ou '.'.",
            "session_id",
        )
    if effective_on > today:
        raise DomainError(
            "date_future", f"La date {effective_on} est dans le futur.", "effective_on"
        )
    current = fold_session(history)
    if current is not None:
        if current.ep_id != ep_id:
            raise DomainError(
                "seance_autre_ep",
                f"La séance {session_id} est celle de l'EP {current.ep_id}.",
                "session_id",
            )
        if current.tenue_le is not None:
            raise DomainError(
                "seance_tenue",
                f"La séance {session_id} s'est tenue le {current.tenue_le}.",
                "session_id",
            )
    return current


def tenir(
    history: Sequence[Recorded],
    session_id: str,
    membres: list[str],
    effective_on: date,
    today: date,
) -> Session:
    verifier_champs(today, membres=membres, effective_on=effective_on)
    current = fold_session(history)
    if current is None:
        raise DomainError("seance_inconnue", f"Aucune séance {session_id}.", "session_id")
    if current.tenue_le is not None:
        raise DomainError(
            "seance_tenue", f"La séance s'est déjà tenue le {current.tenue_le}.", "session_id"
        )
    if effective_on > today:
        raise DomainError(
            "date_future", f"La date {effective_on} est dans le futur.", "effective_on"
        )
    if effective_on < current.date_session:
        raise DomainError(
            "date_anterieure",
            f"La séance est programmée le {current.date_session}.",
            "effective_on",
        )
    if not membres or not all(m.strip() for m in membres):
        raise DomainError(
            "membres_requis", "Le procès-verbal nomme les membres présents.", "membres"
        )
    return current
