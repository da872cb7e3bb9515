"""The state of one allocataire's case as the rules need it, and `evolve`, which folds events.

`evolve` never fails and reads no clock: any history the store holds folds into a state.
"""

from collections.abc import Iterable, Sequence
from datetime import date
from enum import StrEnum
from functools import reduce

import msgspec
from msgspec.structs import replace

from domain.corrections import effective_history
from domain.dates import fin_contrat
from domain.events import (
    CerSigne,
    DroitClos,
    DroitRepris,
    DroitRouvert,
    DroitsDevoirsModifies,
    DroitSuspendu,
    EntreeEnregistree,
    Evenement,
    IssueRdvEnregistree,
    OrientationDecidee,
    RdvPlanifie,
    Recorded,
    ReferentDesigne,
    ReorientationDecidee,
    SanctionDecidee,
    SanctionLevee,
    SortieEnregistree,
)
from domain.vocabulary import IssueRdv, TypeOrganisme, TypeOrientation, TypeRdv


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
    depuis: date


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

    @property
    def existe(self) -> bool:
        return self.statut is not Statut.INCONNU

    @property
    def episode_ouvert(self) -> bool:
        return self.statut in EPISODE_OUVERT


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
    )


def evolve(d: Dossier, e: Evenement) -> Dossier:
    """Apply one event to the case state."""
    if isinstance(e, EntreeEnregistree):
        d = replace(d, numero_dossier=e.numero_dossier)
        return _nouvel_episode(d, e.effective_on, e.soumis_droits_devoirs)
    if isinstance(e, DroitRouvert):
        return _nouvel_episode(d, e.effective_on, e.soumis_droits_devoirs)
    if isinstance(e, DroitSuspendu):
        return replace(d, droit_suspendu=True)
    if isinstance(e, DroitRepris):
        return replace(d, droit_suspendu=False)
    if isinstance(e, DroitsDevoirsModifies):
        return replace(d, soumis_droits_devoirs=e.soumis_droits_devoirs)
    if isinstance(e, DroitClos):
        return replace(d, statut=Statut.CLOS, sanctions_en_cours=frozenset())
    if isinstance(e, OrientationDecidee | ReorientationDecidee):
        orientation = Orientation(
            type_orientation=e.type_orientation,
            organisme=e.organisme,
            structure_id=e.structure_id,
            depuis=e.effective_on,
        )
        return replace(d, statut=Statut.ORIENTE, orientation=orientation, referent_id=None)
    if isinstance(e, ReferentDesigne):
        return replace(d, referent_id=e.referent_id)
    if isinstance(e, RdvPlanifie):
        rdv = Rdv(
            type_rdv=e.type_rdv, date_rdv=e.date_rdv, planifie_le=e.effective_on, episode=d.episode
        )
        return replace(d, rdvs={**d.rdvs, e.numero: rdv})
    if isinstance(e, IssueRdvEnregistree):
        known = d.rdvs.get(e.numero)
        if known is None:
            return d
        return replace(d, rdvs={**d.rdvs, e.numero: replace(known, issue=e.issue)})
    if isinstance(e, CerSigne):
        cer = Cer(
            numero=e.numero,
            date_debut=e.date_debut,
            date_fin=fin_contrat(e.date_debut, e.duree_mois),
        )
        return replace(d, cer=cer, nb_cer=max(d.nb_cer, e.numero))
    if isinstance(e, SortieEnregistree):
        return replace(d, statut=Statut.SORTI)
    if isinstance(e, SanctionDecidee):
        return replace(
            d,
            sanctions_en_cours=d.sanctions_en_cours | {e.numero},
            nb_sanctions=max(d.nb_sanctions, e.numero),
        )
    if isinstance(e, SanctionLevee):
        return replace(d, sanctions_en_cours=d.sanctions_en_cours - {e.numero})
    return d


def fold(events: Iterable[Evenement], initial: Dossier | None = None) -> Dossier:
    """Rebuild a case from its history."""
    return reduce(evolve, events, initial or Dossier())


def fold_history(history: Sequence[Recorded]) -> Dossier:
    """The case as the rules see it: its effective history folded (corrections applied)."""
    return fold(r.event for r in effective_history(history))
