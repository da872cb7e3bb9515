"""The state of one allocataire's case as the rules need it, and `evolve`, which folds events.

`evolve` never fails and reads no clock: any history the store holds folds into a state.
"""

from collections.abc import Iterable, Sequence
from datetime import date
from enum import StrEnum
from functools import reduce
from typing import assert_never

import msgspec
from msgspec.structs import replace

from domain import events as ev
from domain.corrections import effective_history
from domain.dates import add_months, fin_contrat
from domain.events import Evenement, Recorded
from domain.vocabulary import (
    AvisEp,
    IssueRdv,
    MotifSaisineEp,
    ObjetAccompagnement,
    TypeOrganisme,
    TypeOrientation,
    TypeRdv,
    TypeSanction,
)


class Statut(StrEnum):
    INCONNU = "inconnu"
    A_ORIENTER = "a_orienter"
    ORIENTE = "oriente"
    SORTI = "sorti"
    CLOS = "clos"


EPISODE_OUVERT = frozenset({Statut.A_ORIENTER, Statut.ORIENTE})


class Orientation(msgspec.Struct, frozen=True, kw_only=True):
    type_orientation: TypeOrientation
    organisme: TypeOrganisme
    structure_id: str
    date_orientation: date


class Rdv(msgspec.Struct, frozen=True, kw_only=True):
    type_rdv: TypeRdv
    date_rdv: date
    planifie_le: date
    episode: int
    issue: IssueRdv | None = None


class Cer(msgspec.Struct, frozen=True, kw_only=True):
    numero: int
    date_debut: date
    date_fin: date


class Saisine(msgspec.Struct, frozen=True, kw_only=True):
    """An EP referral and how far its procedure went."""

    numero: int
    motif: MotifSaisineEp
    ep_id: str
    saisie_le: date
    episode: int
    date_manquement: date | None = None
    session_id: str | None = None
    date_session: date | None = None
    notifiee_le: date | None = None
    date_limite: date | None = None
    observations_le: date | None = None
    audition_demandee: bool = False
    avis: AvisEp | None = None
    avis_le: date | None = None
    avis_pourcentage: int | None = None
    avis_duree_mois: int | None = None
    close_le: date | None = None
    """The day the president decided on it (a sanction, a réorientation, or no follow-up)."""


class SanctionEtat(msgspec.Struct, frozen=True, kw_only=True):
    numero: int
    type_sanction: TypeSanction
    episode: int
    regime: str | None
    date_debut: date
    date_fin: date | None
    """Exclusive end of the suspension (None: no duration recorded)."""


class ContratEngagement(msgspec.Struct, frozen=True, kw_only=True):
    numero: int
    date_debut: date
    date_fin: date
    heures_hebdo: int
    empechement: str | None = None


class Dossier(msgspec.Struct, frozen=True, kw_only=True):
    statut: Statut = Statut.INCONNU
    numero_dossier: str | None = None
    episode: int = 0
    date_entree: date | None = None
    soumis_droits_devoirs: bool = False
    droit_suspendu: bool = False
    orientation: Orientation | None = None
    referent_id: str | None = None
    rdvs: dict[int, Rdv] = msgspec.field(default_factory=dict)
    cer: Cer | None = None
    nb_cer: int = 0
    sanctions_en_cours: frozenset[int] = frozenset()
    nb_sanctions: int = 0
    accompagnements: dict[tuple[str, ObjetAccompagnement], date] = msgspec.field(
        default_factory=dict
    )
    """The accompaniments started explicitly in this episode and not ended: (structure, objet)
    and the day each started."""
    saisines: dict[int, Saisine] = msgspec.field(default_factory=dict)
    sanctions: dict[int, SanctionEtat] = msgspec.field(default_factory=dict)
    """The sanctions decided after the EP, with their terms (those recorded without the
    procedure count in `sanctions_en_cours` only)."""
    contrat_engagement: ContratEngagement | None = None
    nb_contrats_engagement: int = 0

    def sanctions_episode(self) -> int:
        """Sanctions decided after the EP in the current episode: the next is a further
        breach."""
        return sum(1 for s in self.sanctions.values() if s.episode == self.episode)

    @property
    def existe(self) -> bool:
        return self.statut is not Statut.INCONNU

    @property
    def episode_ouvert(self) -> bool:
        return self.statut in EPISODE_OUVERT

    @property
    def accompagnants(self) -> dict[str, frozenset[ObjetAccompagnement]]:
        """The structures accompanying the person today and why: the current orientation's
        structure as référent, with the accompaniments started and not ended."""
        out: dict[str, frozenset[ObjetAccompagnement]] = {}
        if self.orientation is not None:
            out[self.orientation.structure_id] = frozenset({ObjetAccompagnement.REFERENT})
        for structure_id, objet in self.accompagnements:
            out[structure_id] = out.get(structure_id, frozenset()) | {objet}
        return out


def _nouvel_episode(d: Dossier, entree: date, soumis: bool) -> Dossier:
    return replace(
        d,
        statut=Statut.A_ORIENTER,
        episode=d.episode + 1,
        date_entree=entree,
        soumis_droits_devoirs=soumis,
        droit_suspendu=False,
        orientation=None,
        referent_id=None,
        cer=None,
        sanctions_en_cours=frozenset(),
        accompagnements={},
        contrat_engagement=None,
    )


def evolve(d: Dossier, e: Evenement) -> Dossier:
    """Apply one event to the case state. Exhaustive fold: every case event has its arm (the
    rules' state must say what each step changes); another aggregate's event changes nothing."""
    if not ev.is_fait(e):
        return d
    match e:
        case ev.EntreeEnregistree():
            d = replace(d, numero_dossier=e.numero_dossier)
            return _nouvel_episode(d, e.effective_on, e.soumis_droits_devoirs)
        case ev.DroitRouvert():
            return _nouvel_episode(d, e.effective_on, e.soumis_droits_devoirs)
        case ev.DroitSuspendu():
            return replace(d, droit_suspendu=True)
        case ev.DroitRepris():
            return replace(d, droit_suspendu=False)
        case ev.DroitsDevoirsModifies():
            return replace(d, soumis_droits_devoirs=e.soumis_droits_devoirs)
        case ev.DroitClos():
            return replace(d, statut=Statut.CLOS, sanctions_en_cours=frozenset())
        case ev.OrientationDecidee() | ev.ReorientationDecidee():
            if isinstance(e, ev.ReorientationDecidee):
                d = _saisine(d, e.saisine, close_le=e.effective_on)
            orientation = Orientation(
                type_orientation=e.type_orientation,
                organisme=e.organisme,
                structure_id=e.structure_id,
                date_orientation=e.effective_on,
            )
            return replace(d, statut=Statut.ORIENTE, orientation=orientation, referent_id=None)
        case ev.ReferentDesigne():
            return replace(d, referent_id=e.referent_id)
        case ev.RdvPlanifie():
            rdv = Rdv(
                type_rdv=e.type_rdv,
                date_rdv=e.date_rdv,
                planifie_le=e.effective_on,
                episode=d.episode,
            )
            return replace(d, rdvs={**d.rdvs, e.numero: rdv})
        case ev.InvitationRdvNotee():
            return d
        case ev.RdvDeplace():
            moved = d.rdvs.get(e.numero)
            if moved is None:
                return d
            return replace(d, rdvs={**d.rdvs, e.numero: replace(moved, date_rdv=e.date_rdv)})
        case ev.IssueRdvEnregistree():
            known = d.rdvs.get(e.numero)
            if known is None:
                return d
            return replace(d, rdvs={**d.rdvs, e.numero: replace(known, issue=e.issue)})
        case ev.CerSigne():
            cer = Cer(
                numero=e.numero,
                date_debut=e.date_debut,
                date_fin=fin_contrat(e.date_debut, e.duree_mois),
            )
            return replace(d, cer=cer, nb_cer=max(d.nb_cer, e.numero))
        case ev.SortieEnregistree():
            return replace(d, statut=Statut.SORTI)
        case ev.SanctionDecidee():
            debut = e.date_debut or e.effective_on
            etat = SanctionEtat(
                numero=e.numero,
                type_sanction=e.type_sanction,
                episode=d.episode,
                regime=e.regime,
                date_debut=debut,
                date_fin=add_months(debut, e.duree_mois) if e.duree_mois else None,
            )
            d = replace(
                _saisine(d, e.saisine, close_le=e.effective_on),
                sanctions_en_cours=d.sanctions_en_cours | {e.numero},
                nb_sanctions=max(d.nb_sanctions, e.numero),
            )
            if e.saisine is None:
                return d  # recorded without the procedure: no terms to follow
            return replace(d, sanctions={**d.sanctions, e.numero: etat})
        case ev.SanctionLevee() | ev.RemobilisationConstatee():
            return replace(d, sanctions_en_cours=d.sanctions_en_cours - {e.numero})
        case ev.EpSaisie():
            saisine = Saisine(
                numero=e.numero,
                motif=e.motif_saisine,
                ep_id=e.ep_id,
                saisie_le=e.effective_on,
                episode=d.episode,
                date_manquement=e.date_manquement,
            )
            return replace(d, saisines={**d.saisines, e.numero: saisine})
        case ev.SaisineInscrite():
            return _saisine(d, e.saisine, session_id=e.session_id, date_session=e.date_session)
        case ev.ObservationsNotifiees():
            return _saisine(d, e.saisine, notifiee_le=e.effective_on, date_limite=e.date_limite)
        case ev.ObservationsRecues():
            return _saisine(
                d,
                e.saisine,
                observations_le=e.effective_on,
                audition_demandee=e.audition_demandee,
            )
        case ev.AvisEpRendu():
            return _saisine(
                d,
                e.saisine,
                avis=e.avis,
                avis_le=e.effective_on,
                avis_pourcentage=e.pourcentage,
                avis_duree_mois=e.duree_mois,
            )
        case ev.SaisineClassee():
            return _saisine(d, e.saisine, close_le=e.effective_on)
        case ev.ContratEngagementSigne():
            contrat = ContratEngagement(
                numero=e.numero,
                date_debut=e.date_debut,
                date_fin=fin_contrat(e.date_debut, e.duree_mois),
                heures_hebdo=e.heures_hebdo,
                empechement=e.empechement,
            )
            return replace(
                d,
                contrat_engagement=contrat,
                nb_contrats_engagement=max(d.nb_contrats_engagement, e.numero),
            )
        case ev.ContratEngagementAmende():
            current = d.contrat_engagement
            if current is None or current.numero != e.numero:
                return d
            amended = replace(
                current,
                heures_hebdo=current.heures_hebdo if e.heures_hebdo is None else e.heures_hebdo,
                empechement=current.empechement if e.empechement is None else e.empechement,
            )
            return replace(d, contrat_engagement=amended)
        case ev.ContratEngagementTermine():
            current = d.contrat_engagement
            if current is None or current.numero != e.numero:
                return d
            return replace(d, contrat_engagement=None)
        case ev.AccompagnementDebute():
            started = {**d.accompagnements, (e.structure_id, e.objet): e.effective_on}
            return replace(d, accompagnements=started)
        case ev.AccompagnementTermine():
            ended = {k: v for k, v in d.accompagnements.items() if k != (e.structure_id, e.objet)}
            return replace(d, accompagnements=ended)
        case ev.EntretienAscTenu() | ev.EtapeAnnulee() | ev.EtapeRectifiee():
            return d  # an interview changes no rule's input; corrections are applied upstream
        case _:
            assert_never(e)


def _saisine(d: Dossier, numero: int | None, **changes: object) -> Dossier:
    """The case with referral `numero` changed (unchanged when there is none such)."""
    known = d.saisines.get(numero) if numero is not None else None
    if known is None or numero is None:
        return d
    return replace(d, saisines={**d.saisines, numero: replace(known, **changes)})


def fold(events: Iterable[Evenement], initial: Dossier | None = None) -> Dossier:
    """Rebuild a case from its history."""
    return reduce(evolve, events, initial or Dossier())


def fold_history(history: Sequence[Recorded]) -> Dossier:
    """The case as the rules see it: its effective history folded (corrections applied)."""
    return fold(r.event for r in effective_history(history))
