"""What partners did for each case, as financing prices it: the compact facts drawn from a case's
effective history (a cancelled step is gone from them).

Stage one of pricing. `evolve` folds one event into a case's `FicheActivite` (incrementally, as the
projector reads the log); `activite` folds a whole history with its corrections applied. Every
fact keeps the versions of the events it comes from, so that each euro priced from it can be
traced back to the log. The AAVE indicators read the follow-up episodes (`projections.suivi`),
kept only for cases ever oriented to an AAVE.
"""

from collections.abc import Sequence
from datetime import date
from uuid import UUID

import msgspec

from domain import events as ev
from domain.corrections import effective_history
from domain.events import Recorded
from domain.vocabulary import (
    RDV_AVANT_ORIENTATION,
    IssueRdv,
    TypeOrganisme,
    TypeRdv,
    TypeSortie,
)
from projections.suivi import Suivi
from projections.suivi import evolve as evolve_suivi

EIO: TypeRdv = TypeRdv.ENTRETIEN_ORIENTATION
"""The RDV kind an EIO (entretien d'instruction et d'orientation) is recorded as."""


class Contrat(msgspec.Struct, kw_only=True, array_like=True, gc=False):
    """A CER signed, with the partner of the orientation in force when it was signed."""

    numero: int
    version: int
    signe_le: date
    date_debut: date
    duree_mois: int
    renouvellement: bool
    structure_id: str | None
    episode: int


class Entretien(msgspec.Struct, kw_only=True, array_like=True, gc=False):
    """An ASC interview held by `structure_id`."""

    version: int
    le: date
    structure_id: str


class Eio(msgspec.Struct, kw_only=True, array_like=True, gc=False):
    """An orientation interview seen, by the structure that recorded it."""

    numero: int
    versions: tuple[int, int]
    """(planned, outcome)."""
    le: date
    structure_id: str


class Sortie(msgspec.Struct, kw_only=True, array_like=True, gc=False):
    version: int
    le: date
    type_sortie: TypeSortie
    structure_id: str | None
    episode: int


class PremierEntretien(msgspec.Struct, kw_only=True, array_like=True, gc=False):
    """The first accompaniment RDV seen while oriented to a structure, in an episode."""

    structure_id: str
    le: date
    versions: tuple[int, int]


class Episode(msgspec.Struct, kw_only=True, array_like=True, gc=False):
    numero: int
    version: int
    date_entree: date
    date_reception_flux: date
    premiers_entretiens: list[PremierEntretien] = msgspec.field(default_factory=list)

    def premier_entretien(self, structure_id: str | None) -> PremierEntretien | None:
        return next((p for p in self.premiers_entretiens if p.structure_id == structure_id), None)


class _Rdv(msgspec.Struct, array_like=True, gc=False):
    numero: int
    version: int
    type_rdv: TypeRdv
    date_rdv: date
    structure_id: str | None
    """The structure of the orientation in force when the RDV was planned."""
    auteur: str | None
    """The structure that recorded it (an EIO is held before any orientation)."""


class Activite(msgspec.Struct, kw_only=True, gc=False):
    """A case's priced activity, and the little state its fold needs to go on."""

    case_id: UUID
    version: int = 0
    episodes: list[Episode] = msgspec.field(default_factory=list)
    contrats: list[Contrat] = msgspec.field(default_factory=list)
    entretiens_asc: list[Entretien] = msgspec.field(default_factory=list)
    eio: list[Eio] = msgspec.field(default_factory=list)
    sorties: list[Sortie] = msgspec.field(default_factory=list)
    structure_id: str | None = None
    """The structure of the orientation in force now."""
    aave: bool = False
    """Ever oriented to an AAVE: its follow-up episodes are kept for the AAVE indicators."""
    rdvs: list[_Rdv] = msgspec.field(default_factory=list)
    """The current episode's RDV still waiting for their outcome."""


class FicheActivite(msgspec.Struct, kw_only=True):
    """What the store keeps per case: the activity and the follow-up episodes (read back only
    for AAVE cases, by the AAVE indicators)."""

    activite: Activite
    suivi: list[Suivi] = msgspec.field(default_factory=list)


def evolve(d: FicheActivite, recorded: Recorded) -> FicheActivite:
    """Fold one event of the case into its record (in place; returns it). Partial fold: the
    events financing does not price leave the activity as it is (a step before any entry too);
    the follow-up folds its own."""
    a = d.activite
    e = recorded.event
    v = a.version = recorded.originator_version
    evolve_suivi(d.suivi, recorded)
    if not (a.episodes or isinstance(e, ev.Ouverture)):
        return d
    match e:
        case ev.EntreeEnregistree() | ev.DroitRouvert():
            a.episodes.append(
                Episode(
                    numero=len(a.episodes) + 1,
                    version=v,
                    date_entree=e.effective_on,
                    date_reception_flux=e.date_reception_flux,
                )
            )
            a.structure_id = None
            a.rdvs = []
        case ev.OrientationDecidee() | ev.ReorientationDecidee():
            a.structure_id = e.structure_id
            a.aave = a.aave or e.organisme is TypeOrganisme.AAVE
        case ev.RdvPlanifie():
            a.rdvs.append(
                _Rdv(e.numero, v, e.type_rdv, e.date_rdv, a.structure_id, e.meta.structure_id)
            )
        case ev.IssueRdvEnregistree():
            _issue(a, e, v)
        case ev.CerSigne():
            a.contrats.append(
                Contrat(
                    numero=e.numero,
                    version=v,
                    signe_le=e.effective_on,
                    date_debut=e.date_debut,
                    duree_mois=e.duree_mois,
                    renouvellement=e.renouvellement,
                    structure_id=a.structure_id,
                    episode=len(a.episodes),
                )
            )
        case ev.EntretienAscTenu():
            a.entretiens_asc.append(
                Entretien(version=v, le=e.effective_on, structure_id=e.structure_id)
            )
        case ev.SortieEnregistree():
            a.sorties.append(
                Sortie(
                    version=v,
                    le=e.effective_on,
                    type_sortie=e.type_sortie,
                    structure_id=a.structure_id,
                    episode=len(a.episodes),
                )
            )
        case _:
            pass
    return d


def _issue(a: Activite, e: ev.IssueRdvEnregistree, v: int) -> None:
    rdv = next((r for r in a.rdvs if r.numero == e.numero), None)
    if rdv is None:
        return
    a.rdvs.remove(rdv)  # resolved: nothing more to learn from it
    if e.issue is not IssueRdv.SEEN:
        return
    episode = a.episodes[-1]
    if rdv.type_rdv is EIO:
        where = e.meta.structure_id or rdv.auteur
        if where is not None:
            a.eio.append(
                Eio(
                    numero=rdv.numero,
                    versions=(rdv.version, v),
                    le=rdv.date_rdv,
                    structure_id=where,
                )
            )
        return
    if rdv.type_rdv in RDV_AVANT_ORIENTATION or rdv.structure_id is None:
        return
    first = episode.premier_entretien(rdv.structure_id)
    if first is None:
        episode.premiers_entretiens.append(
            PremierEntretien(
                structure_id=rdv.structure_id, le=rdv.date_rdv, versions=(rdv.version, v)
            )
        )
    elif rdv.date_rdv < first.le:
        first.le, first.versions = rdv.date_rdv, (rdv.version, v)


def nouveau(case_id: UUID) -> FicheActivite:
    return FicheActivite(activite=Activite(case_id=case_id))


def activite(history: Sequence[Recorded]) -> FicheActivite:
    """A case's record from its whole history, corrections applied (the version is the last
    one read, correction events included)."""
    d = nouveau(history[0].originator_id)
    for recorded in effective_history(history):
        evolve(d, recorded)
    d.activite.version = history[-1].originator_version
    return d
