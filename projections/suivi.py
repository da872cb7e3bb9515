"""Follow-up of each episode: the dated milestones every délais indicator and worklist reads.

One `Suivi` per episode (an entry or re-entry and what followed), with each step's dates kept in
lists, so that the state on any date (open, suspended, bound to rights and duties, oriented, under
contract) can be read back: the DREES survey asks for the situation on 31/12, worklists for today.
`evolve` folds one event into a case's episodes; `suivre` folds a whole history, corrections
applied. Both are pure; the store only keeps their result.
"""

from collections.abc import Sequence
from datetime import date
from uuid import UUID

import msgspec

from domain import events as ev
from domain.bitemporal import as_of as effective_as_of
from domain.corrections import effective_history
from domain.dates import fin_contrat
from domain.events import Evenement, Recorded
from domain.vocabulary import (
    RDV_AVANT_ORIENTATION,
    IssueRdv,
    ModeRdv,
    TypeOrganisme,
    TypeOrientation,
    TypeRdv,
    TypeSanction,
    TypeSortie,
)


class OrientationSuivie(msgspec.Struct, kw_only=True, array_like=True):
    date_orientation: date
    type_orientation: TypeOrientation
    organisme: TypeOrganisme
    structure_id: str
    reorientation: bool


class RdvSuivi(msgspec.Struct, kw_only=True, array_like=True):
    numero: int
    type_rdv: TypeRdv
    mode: ModeRdv
    planifie_le: date
    date_rdv: date
    structure_id: str | None
    """The structure of the orientation in force when the RDV was planned."""
    issue: IssueRdv | None = None
    issue_le: date | None = None

    @property
    def accompagnement(self) -> bool:
        """An accompaniment RDV, as opposed to one preparing the orientation."""
        return self.type_rdv not in RDV_AVANT_ORIENTATION


class CerSuivi(msgspec.Struct, kw_only=True, array_like=True):
    numero: int
    signe_le: date
    date_debut: date
    date_fin: date
    renouvellement: bool
    structure_id: str | None


class Suspension(msgspec.Struct, kw_only=True, array_like=True):
    """A suspension of the right, from `debut` to the day it was taken up again (if it was)."""

    debut: date
    fin: date | None = None


class Suivi(msgspec.Struct, kw_only=True):
    """One episode of one case, as the statistics read it."""

    case_id: UUID
    episode: int
    date_entree: date
    date_flux: date
    date_reception_flux: date
    code_commune: str | None = None
    soumis: list[tuple[date, bool]] = msgspec.field(default_factory=list)
    """Each change of the rights-and-duties flag, from the entry on."""
    suspensions: list[Suspension] = msgspec.field(default_factory=list)
    orientations: list[OrientationSuivie] = msgspec.field(default_factory=list)
    referents: list[tuple[date, str]] = msgspec.field(default_factory=list)
    rdvs: list[RdvSuivi] = msgspec.field(default_factory=list)
    cers: list[CerSuivi] = msgspec.field(default_factory=list)
    sanctions: list[tuple[date, TypeSanction]] = msgspec.field(default_factory=list)
    date_sortie: date | None = None
    type_sortie: TypeSortie | None = None
    date_cloture: date | None = None

    # --- the situation on a date --------------------------------------------------------

    @property
    def date_fin(self) -> date | None:
        """When the episode ended (exit or closure), if it has."""
        ends = [d for d in (self.date_sortie, self.date_cloture) if d is not None]
        return min(ends) if ends else None

    def ouvert_le(self, jour: date) -> bool:
        fin = self.date_fin
        return self.date_entree <= jour and (fin is None or jour < fin)

    def suspendu_le(self, jour: date) -> bool:
        return any(p.debut <= jour and (p.fin is None or jour < p.fin) for p in self.suspensions)

    def soumis_le(self, jour: date) -> bool:
        flag = False
        for since, value in self.soumis:
            if since <= jour:
                flag = value
        return flag

    def orientation_le(self, jour: date) -> OrientationSuivie | None:
        found = None
        for o in self.orientations:
            if o.date_orientation <= jour:
                found = o
        return found

    @property
    def premiere_orientation(self) -> OrientationSuivie | None:
        return self.orientations[0] if self.orientations else None

    def referent_le(self, jour: date) -> str | None:
        """The named référent on `jour` (a new orientation ends the previous designation)."""
        orientation = self.orientation_le(jour)
        found = None
        for since, referent in self.referents:
            if since <= jour and (orientation is None or since >= orientation.date_orientation):
                found = referent
        return found

    def cer_en_cours_le(self, jour: date) -> CerSuivi | None:
        found = None
        for c in self.cers:
            if c.date_debut <= jour <= c.date_fin and c.signe_le <= jour:
                found = c
        return found

    def premier_rdv_accompagnement(self) -> RdvSuivi | None:
        return next((r for r in self.rdvs if r.accompagnement), None)

    def premier_cer(self) -> CerSuivi | None:
        return next((c for c in self.cers if not c.renouvellement), None)


# --- the fold -------------------------------------------------------------------------------


def evolve(episodes: list[Suivi], recorded: Recorded) -> list[Suivi]:
    """Fold one event of a case into its episodes (in place; returns them). Partial fold, as
    `evolve_event`."""
    return evolve_event(episodes, recorded.originator_id, recorded.event)


def evolve_event(episodes: list[Suivi], case_id: UUID, e: Evenement) -> list[Suivi]:
    """`evolve` without the event's place in the log (what a full rebuild folds). Partial fold:
    the events of `IGNORED` leave the follow-up as it is (a step before any entry too)."""
    if isinstance(e, ev.Ouverture):
        _entree(episodes, case_id, e)
    elif episodes:
        _step(episodes[-1], e)
    return episodes


def _entree(episodes: list[Suivi], case_id: UUID, e: ev.Ouverture) -> None:
    if episodes and episodes[-1].date_fin is None:
        # A re-entry without a recorded end closes the previous episode that day.
        episodes[-1].date_cloture = e.effective_on
    commune = e.profil.code_commune if e.profil else None
    if commune is None and episodes:
        commune = episodes[-1].code_commune
    episodes.append(
        Suivi(
            case_id=case_id,
            episode=len(episodes) + 1,
            date_entree=e.effective_on,
            date_flux=e.date_flux,
            date_reception_flux=e.date_reception_flux,
            code_commune=commune,
            soumis=[(e.effective_on, e.soumis_droits_devoirs)],
        )
    )


def _step(s: Suivi, e: Evenement) -> None:
    """What a step changes in its episode."""
    structure = s.orientations[-1].structure_id if s.orientations else None
    match e:
        case ev.OrientationDecidee() | ev.ReorientationDecidee():
            s.orientations.append(
                OrientationSuivie(
                    date_orientation=e.effective_on,
                    type_orientation=e.type_orientation,
                    organisme=e.organisme,
                    structure_id=e.structure_id,
                    reorientation=isinstance(e, ev.ReorientationDecidee),
                )
            )
        case ev.RdvPlanifie():
            s.rdvs.append(
                RdvSuivi(
                    numero=e.numero,
                    type_rdv=e.type_rdv,
                    mode=e.mode,
                    planifie_le=e.effective_on,
                    date_rdv=e.date_rdv,
                    structure_id=structure,
                )
            )
        case ev.RdvDeplace():
            for rdv in s.rdvs:
                if rdv.numero == e.numero:
                    rdv.date_rdv = e.date_rdv
        case ev.IssueRdvEnregistree():
            for rdv in s.rdvs:
                if rdv.numero == e.numero:
                    rdv.issue = e.issue
                    rdv.issue_le = e.effective_on
        case ev.CerSigne() | ev.ContratEngagementSigne():
            # The contrat d'engagement is the contract from 2025: the delays count it.
            s.cers.append(
                CerSuivi(
                    numero=e.numero,
                    signe_le=e.effective_on,
                    date_debut=e.date_debut,
                    date_fin=fin_contrat(e.date_debut, e.duree_mois),
                    renouvellement=e.renouvellement,
                    structure_id=structure,
                )
            )
        case ev.ReferentDesigne():
            s.referents.append((e.effective_on, e.referent_id))
        case ev.DroitSuspendu():
            s.suspensions.append(Suspension(debut=e.effective_on))
        case ev.DroitRepris():
            if s.suspensions and s.suspensions[-1].fin is None:
                s.suspensions[-1].fin = e.effective_on
        case ev.DroitsDevoirsModifies():
            s.soumis.append((e.effective_on, e.soumis_droits_devoirs))
        case ev.SanctionDecidee():
            s.sanctions.append((e.effective_on, e.type_sanction))
        case ev.SortieEnregistree():
            s.date_sortie = e.effective_on
            s.type_sortie = e.type_sortie
        case ev.DroitClos():
            s.date_cloture = e.effective_on
        case _:
            pass


IGNORED: tuple[type[Evenement], ...] = (
    ev.SanctionLevee,
    ev.RemobilisationConstatee,
    ev.EpSaisie,
    ev.SaisineInscrite,
    ev.ObservationsNotifiees,
    ev.ObservationsRecues,
    ev.AvisEpRendu,
    ev.SaisineClassee,
    ev.ContratEngagementAmende,
    ev.ContratEngagementTermine,
    ev.InvitationRdvNotee,
    ev.EntretienAscTenu,
    ev.AccompagnementDebute,
    ev.AccompagnementTermine,
    *ev.CORRECTION_TYPES,
)
"""The case events the follow-up does not read (a correction refolds the case instead)."""

FOLDED: tuple[type[Evenement], ...] = tuple(t for t in ev.EVENT_TYPES if t not in IGNORED)
"""Every event type the follow-up reads: what a rebuild decodes from the log."""


def suivre(history: Sequence[Recorded], as_of: date | None = None) -> list[Suivi]:
    """Every episode of a case from its whole history, corrections applied; with `as_of`,
    only the steps that had taken effect by that day (by their corrected date)."""
    effective = effective_history(history)
    if as_of is not None:
        effective = effective_as_of(effective, as_of)
    episodes: list[Suivi] = []
    for recorded in effective:
        evolve(episodes, recorded)
    return episodes
