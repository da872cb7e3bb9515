"""An EP session's agenda and minutes, read from the session's events and the cases' events
that name it: each referral whose last inscription is this session is a point, with the
person's observations, the EP's opinion and the president's decision when they exist."""

from collections.abc import Iterable, Sequence
from datetime import date
from uuid import UUID

import msgspec

from domain import events as ev
from domain.bitemporal import bitemporal
from domain.dossier import fold
from domain.ep import Session
from domain.events import Recorded
from domain.vocabulary import AvisEp, MotifSaisineEp


class Point(msgspec.Struct, frozen=True, kw_only=True):
    """One referral examined at the session."""

    case_id: UUID
    numero_dossier: str | None
    saisine: int
    motif_saisine: MotifSaisineEp
    manquement: str
    date_manquement: date | None
    date_limite_observations: date | None
    observations_le: date | None
    audition_demandee: bool
    avis: AvisEp | None
    avis_pourcentage: int | None
    avis_duree_mois: int | None
    decision: str | None
    """What the president decided: the sanction, the réorientation, or no follow-up."""
    decision_le: date | None


class Seance(msgspec.Struct, frozen=True, kw_only=True):
    session: Session
    points: list[Point]


def _decision(events: Sequence[ev.Evenement], saisine: int) -> str | None:
    for e in events:
        match e:
            case ev.SanctionDecidee() if e.saisine == saisine:
                share = (
                    f" de {e.pourcentage} % pendant {e.duree_mois} mois" if e.pourcentage else ""
                )
                return f"{e.type_sanction.value}{share}"
            case ev.ReorientationDecidee() if e.saisine == saisine:
                return f"réorientation {e.type_orientation.value} ({e.structure_id})"
            case ev.SaisineClassee() if e.saisine == saisine:
                return f"sans suite: {e.motif}"
            case _:
                pass
    return None


def seance(session: Session, histories: Iterable[Sequence[Recorded]]) -> Seance:
    points: list[Point] = []
    for history in histories:
        if not history:
            continue
        events = [r.event for r in bitemporal(history)]
        state = fold(events)
        manquements = {e.numero: e for e in events if isinstance(e, ev.EpSaisie)}
        for s in state.saisines.values():
            if s.session_id != session.session_id:
                continue
            saisie = manquements[s.numero]
            points.append(
                Point(
                    case_id=history[0].originator_id,
                    numero_dossier=state.numero_dossier,
                    saisine=s.numero,
                    motif_saisine=s.motif,
                    manquement=saisie.manquement,
                    date_manquement=s.date_manquement,
                    date_limite_observations=s.date_limite,
                    observations_le=s.observations_le,
                    audition_demandee=s.audition_demandee,
                    avis=s.avis,
                    avis_pourcentage=s.avis_pourcentage,
                    avis_duree_mois=s.avis_duree_mois,
                    decision=_decision(events, s.numero),
                    decision_le=s.close_le,
                )
            )
    points.sort(key=lambda p: (p.numero_dossier or "", p.saisine))
    return Seance(session=session, points=points)
