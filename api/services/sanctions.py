"""The EP procedure and the sanctions read from the log: one case's situation, the
procedure's worklist and the indicators, over the cases that have a referral or a sanction."""

from datetime import date, datetime

from adapters.eventlog.reading import histories
from adapters.eventlog.store import Parcours
from adapters.rules import load_regimes
from api.services.audit import aware
from domain import events as ev
from domain.events import Recorded
from projections.sanctions import (
    IndicateursSanctions,
    LigneEp,
    MotifEp,
    SituationDossier,
    indicateurs,
    lignes_ep,
    situation_dossier,
)

_CONCERNED = (ev.EpSaisie, ev.SanctionDecidee)


def _concerned(app: Parcours) -> list[list[Recorded]]:
    """Every case history with a referral or a sanction (a whole read of the log)."""
    return [h for h in histories(app) if any(isinstance(r.event, _CONCERNED) for r in h)]


def situation(
    app: Parcours, history: list[Recorded], jour: date, known_at: datetime | None
) -> SituationDossier:
    moment = None if known_at is None else aware(app, known_at)
    return situation_dossier(history, jour, moment, load_regimes())


def worklist(
    app: Parcours, jour: date, ep_id: str | None, motifs: frozenset[MotifEp]
) -> list[LigneEp]:
    """The procedure's lines on `jour`, latest deadline first; for one EP when `ep_id` given
    (a case whose referral went to another EP is left out)."""
    regimes = load_regimes()
    out: list[LigneEp] = []
    for history in _concerned(app):
        if ep_id is not None and not any(
            isinstance(r.event, ev.EpSaisie) and r.event.ep_id == ep_id for r in history
        ):
            continue
        out.extend(
            line for line in lignes_ep(history, jour, regimes) if not motifs or line.motif in motifs
        )
    return sorted(out, key=lambda line: (line.echeance, str(line.case_id), line.motif))


def statistics(
    app: Parcours, du: date, au: date, known_at: datetime | None
) -> IndicateursSanctions:
    moment = None if known_at is None else aware(app, known_at)
    return indicateurs(_concerned(app), du, au, moment)
