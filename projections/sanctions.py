"""The EP procedure and the sanctions read from cases' histories: one person's situation on a
date, the procedure's worklist, and the sanction indicators, each as known at an instant.

Pure folds over recorded histories (`Recorded`): `known_at` keeps what had been recorded by
then, corrections are applied as they were known, and the dated regimes give the delays.
`docs/indicators.md` ("Sanctions and the EP") states each formula; this code follows it.
"""

import statistics
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from uuid import UUID

import msgspec

from domain import events as ev
from domain.bitemporal import bitemporal
from domain.dossier import ContratEngagement, Dossier, Saisine, fold
from domain.events import Recorded
from domain.sanctions import REGIMES, Regimes, Situation, situation
from domain.vocabulary import TypeSanction


def _known(history: Sequence[Recorded], known_at: datetime | None) -> list[Recorded]:
    """The history as known at `known_at` (all of it when None), corrections applied."""
    return bitemporal(history, None, known_at)


def _until(history: Sequence[Recorded], jour: date) -> list[ev.Evenement]:
    return [r.event for r in history if r.event.effective_on <= jour]


# --- one person's situation -----------------------------------------------------------------


class SituationDossier(msgspec.Struct, frozen=True, kw_only=True):
    """What is in force on `jour` for one case: the sanctions and their amounts, the EP
    referrals and how far each went, the contrat d'engagement."""

    case_id: UUID
    jour: date
    sanctions: Situation
    saisines: list[Saisine]
    contrat_engagement: ContratEngagement | None


def situation_dossier(
    history: Sequence[Recorded],
    jour: date,
    known_at: datetime | None = None,
    regimes: Regimes = REGIMES,
) -> SituationDossier:
    effective = _known(history, known_at)
    events = _until(effective, jour)
    state = fold(events)
    return SituationDossier(
        case_id=history[0].originator_id,
        jour=jour,
        sanctions=situation(events, jour, regimes),
        saisines=[state.saisines[n] for n in sorted(state.saisines)],
        contrat_engagement=state.contrat_engagement,
    )


# --- the procedure's worklist ---------------------------------------------------------------


class MotifEp(StrEnum):
    SAISINE_SANS_SEANCE = "saisine_sans_seance"
    AVIS_SANS_DECISION = "avis_sans_decision"
    OBSERVATIONS_ATTENDUES = "observations_attendues"
    SUSPENSION_FINISSANTE = "suspension_finissante"
    REMOBILISATION_A_VERIFIER = "remobilisation_a_verifier"


LIBELLES: dict[MotifEp, str] = {
    MotifEp.SAISINE_SANS_SEANCE: "Saisine de l'EP en attente d'une séance",
    MotifEp.AVIS_SANS_DECISION: "Avis de l'EP en attente de la décision du président",
    MotifEp.OBSERVATIONS_ATTENDUES: "Observations de la personne attendues",
    MotifEp.SUSPENSION_FINISSANTE: "Suspension se terminant dans les 30 jours",
    MotifEp.REMOBILISATION_A_VERIFIER: "Suspension-remobilisation: remobilisation à vérifier",
}

FENETRE_FIN = timedelta(days=30)
"""How long before its end a suspension shows in the worklist."""


class LigneEp(msgspec.Struct, frozen=True, kw_only=True):
    """One line: which case, why, which referral or sanction, due when, late or not."""

    case_id: UUID
    motif: MotifEp
    libelle: str
    numero: int
    """The referral's number, or the sanction's for the last two motives."""
    depuis: date
    echeance: date
    en_retard: bool


def _ligne(
    case_id: UUID, motif: MotifEp, numero: int, depuis: date, echeance: date, jour: date
) -> LigneEp:
    return LigneEp(
        case_id=case_id,
        motif=motif,
        libelle=LIBELLES[motif],
        numero=numero,
        depuis=depuis,
        echeance=echeance,
        en_retard=jour > echeance,
    )


def lignes_ep(history: Sequence[Recorded], jour: date, regimes: Regimes = REGIMES) -> list[LigneEp]:
    """The procedure's lines of one case on `jour` (its open episode only)."""
    if not history:
        return []
    case_id = history[0].originator_id
    events = _until(_known(history, None), jour)
    state: Dossier = fold(events)
    if not state.episode_ouvert:
        return []
    out: list[LigneEp] = []
    for s in state.saisines.values():
        if s.episode != state.episode or s.close_le is not None:
            continue
        regime = regimes.en_vigueur(s.saisie_le)
        if s.date_session is None:
            echeance = regime.delai_inscription.echeance(s.saisie_le)
            out.append(
                _ligne(case_id, MotifEp.SAISINE_SANS_SEANCE, s.numero, s.saisie_le, echeance, jour)
            )
        if s.avis_le is not None:
            echeance = regimes.en_vigueur(s.avis_le).delai_decision.echeance(s.avis_le)
            out.append(
                _ligne(case_id, MotifEp.AVIS_SANS_DECISION, s.numero, s.avis_le, echeance, jour)
            )
        elif (
            s.notifiee_le and s.date_limite and s.observations_le is None and jour <= s.date_limite
        ):
            out.append(
                _ligne(
                    case_id,
                    MotifEp.OBSERVATIONS_ATTENDUES,
                    s.numero,
                    s.notifiee_le,
                    s.date_limite,
                    jour,
                )
            )
    for sanction in situation(events, jour, regimes).sanctions:
        if not sanction.en_vigueur or sanction.date_fin is None:
            continue
        dernier = sanction.date_fin - timedelta(days=1)
        if sanction.type_sanction is TypeSanction.SUSPENSION_REMOBILISATION:
            out.append(
                _ligne(
                    case_id,
                    MotifEp.REMOBILISATION_A_VERIFIER,
                    sanction.numero,
                    sanction.date_debut,
                    dernier,
                    jour,
                )
            )
        if dernier - jour <= FENETRE_FIN:
            out.append(
                _ligne(
                    case_id,
                    MotifEp.SUSPENSION_FINISSANTE,
                    sanction.numero,
                    dernier - FENETRE_FIN,
                    dernier,
                    jour,
                )
            )
    return out


# --- indicators -----------------------------------------------------------------------------


class IndicateursSanctions(msgspec.Struct, frozen=True, kw_only=True):
    """The sanction indicators of decisions dated in [du, au], as known at `known_at`."""

    du: date
    au: date
    known_at: datetime | None
    sanctions: dict[str, int]
    """Sanctions decided, by "type/regime" ("type/hors_procedure" without a referral)."""
    suspensions_remobilisation: int
    remobilisees: int
    part_remobilisee: float | None
    delais_manquement_decision: list[int]
    """Days from the breach to the decision, one per sanction whose referral dates it."""
    delai_moyen: float | None
    delai_median: float | None
    decisions_apres_avis: int
    avis_suivis: int
    part_avis_suivis: float | None


def indicateurs(
    histories: Iterable[Sequence[Recorded]],
    du: date,
    au: date,
    known_at: datetime | None = None,
) -> IndicateursSanctions:
    counts: dict[str, int] = {}
    remob_total = remob_done = 0
    delais: list[int] = []
    decisions = suivis = 0
    for history in histories:
        events = _until(_known(history, known_at), au)
        manquements: dict[int, date | None] = {}
        remobilisees = {e.numero for e in events if isinstance(e, ev.RemobilisationConstatee)}
        for e in events:
            match e:
                case ev.EpSaisie():
                    manquements[e.numero] = e.date_manquement
                case ev.SanctionDecidee() if du <= e.effective_on:
                    key = f"{e.type_sanction.value}/{e.regime or 'hors_procedure'}"
                    counts[key] = counts.get(key, 0) + 1
                    if e.type_sanction is TypeSanction.SUSPENSION_REMOBILISATION and e.regime:
                        remob_total += 1
                        remob_done += e.numero in remobilisees
                    breach = manquements.get(e.saisine) if e.saisine is not None else None
                    if breach is not None:
                        delais.append((e.effective_on - breach).days)
                    decisions, suivis = _suivi(e.avis_suivi, decisions, suivis)
                case ev.ReorientationDecidee() | ev.SaisineClassee() if du <= e.effective_on:
                    decisions, suivis = _suivi(e.avis_suivi, decisions, suivis)
                case _:
                    pass
    return IndicateursSanctions(
        du=du,
        au=au,
        known_at=known_at,
        sanctions=dict(sorted(counts.items())),
        suspensions_remobilisation=remob_total,
        remobilisees=remob_done,
        part_remobilisee=remob_done / remob_total if remob_total else None,
        delais_manquement_decision=sorted(delais),
        delai_moyen=statistics.fmean(delais) if delais else None,
        delai_median=statistics.median(delais) if delais else None,
        decisions_apres_avis=decisions,
        avis_suivis=suivis,
        part_avis_suivis=suivis / decisions if decisions else None,
    )


def _suivi(avis_suivi: bool | None, decisions: int, suivis: int) -> tuple[int, int]:
    """Counts a decision taken after an EP opinion (`avis_suivi` None: no opinion)."""
    if avis_suivi is None:
        return decisions, suivis
    return decisions + 1, suivis + avis_suivi
