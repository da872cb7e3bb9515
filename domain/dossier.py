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
from domain.dates import fin_contrat
from domain.events import Evenement, Recorded
from domain.vocabulary import (
    IssueRdv,
    ObjetAccompagnement,
    TypeOrganisme,
    TypeOrientation,
    TypeRdv,
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
            return replace(
                d,
                sanctions_en_cours=d.sanctions_en_cours | {e.numero},
                nb_sanctions=max(d.nb_sanctions, e.numero),
            )
        case ev.SanctionLevee():
            return replace(d, sanctions_en_cours=d.sanctions_en_cours - {e.numero})
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


def fold(events: Iterable[Evenement], initial: Dossier | None = None) -> Dossier:
    """Rebuild a case from its history."""
    return reduce(evolve, events, initial or Dossier())


def fold_history(history: Sequence[Recorded]) -> Dossier:
    """The case as the rules see it: its effective history folded (corrections applied)."""
    return fold(r.event for r in effective_history(history))
