"""Follow-up of each episode: the dated milestones every délais indicator and worklist reads.

One `Suivi` per episode (an entry or re-entry and what followed), with each step's dates kept in
lists, so that the state on any date (open, suspended, bound to rights and duties, oriented, under
contract) can be read back: the DREES survey asks for the situation on 31/12, worklists for today.
`avancer` folds one event into a case's episodes; `suivre` folds a whole history, corrections
applied. Both are pure; the store only keeps their result.
"""

from collections.abc import Callable, Sequence
from datetime import date
from uuid import UUID

import msgspec

from domain.bitemporal import as_of as effective_as_of
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
    SortieEnregistree,
)
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
    le: date
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


class Periode(msgspec.Struct, kw_only=True, array_like=True):
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
    suspensions: list[Periode] = msgspec.field(default_factory=list)
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
            if o.le <= jour:
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
            if since <= jour and (orientation is None or since >= orientation.le):
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


def avancer(episodes: list[Suivi], recorded: Recorded) -> list[Suivi]:
    """Fold one event of a case into its episodes (in place; returns them)."""
    return avancer_evenement(episodes, recorded.originator_id, recorded.event)


def avancer_evenement(episodes: list[Suivi], case_id: UUID, e: Evenement) -> list[Suivi]:
    """`avancer` without the event's place in the log (what a full rebuild folds)."""
    step = _STEPS.get(type(e))
    if step is not None:
        if episodes:
            step(episodes[-1], e)
    elif isinstance(e, _ENTRIES):
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
    return episodes


_ENTRIES = (EntreeEnregistree, DroitRouvert)


def _orientation(s: Suivi, e: Evenement) -> None:
    assert isinstance(e, OrientationDecidee | ReorientationDecidee)
    s.orientations.append(
        OrientationSuivie(
            le=e.effective_on,
            type_orientation=e.type_orientation,
            organisme=e.organisme,
            structure_id=e.structure_id,
            reorientation=isinstance(e, ReorientationDecidee),
        )
    )


def _rdv(s: Suivi, e: Evenement) -> None:
    assert isinstance(e, RdvPlanifie)
    s.rdvs.append(
        RdvSuivi(
            numero=e.numero,
            type_rdv=e.type_rdv,
            mode=e.mode,
            planifie_le=e.effective_on,
            date_rdv=e.date_rdv,
            structure_id=s.orientations[-1].structure_id if s.orientations else None,
        )
    )


def _issue(s: Suivi, e: Evenement) -> None:
    assert isinstance(e, IssueRdvEnregistree)
    for rdv in s.rdvs:
        if rdv.numero == e.numero:
            rdv.issue = e.issue
            rdv.issue_le = e.effective_on


def _cer(s: Suivi, e: Evenement) -> None:
    assert isinstance(e, CerSigne)
    s.cers.append(
        CerSuivi(
            numero=e.numero,
            signe_le=e.effective_on,
            date_debut=e.date_debut,
            date_fin=fin_contrat(e.date_debut, e.duree_mois),
            renouvellement=e.renouvellement,
            structure_id=s.orientations[-1].structure_id if s.orientations else None,
        )
    )


def _referent(s: Suivi, e: Evenement) -> None:
    assert isinstance(e, ReferentDesigne)
    s.referents.append((e.effective_on, e.referent_id))


def _suspension(s: Suivi, e: Evenement) -> None:
    s.suspensions.append(Periode(debut=e.effective_on))


def _reprise(s: Suivi, e: Evenement) -> None:
    if s.suspensions and s.suspensions[-1].fin is None:
        s.suspensions[-1].fin = e.effective_on


def _droits_devoirs(s: Suivi, e: Evenement) -> None:
    assert isinstance(e, DroitsDevoirsModifies)
    s.soumis.append((e.effective_on, e.soumis_droits_devoirs))


def _sanction(s: Suivi, e: Evenement) -> None:
    assert isinstance(e, SanctionDecidee)
    s.sanctions.append((e.effective_on, e.type_sanction))


def _sortie(s: Suivi, e: Evenement) -> None:
    assert isinstance(e, SortieEnregistree)
    s.date_sortie = e.effective_on
    s.type_sortie = e.type_sortie


def _cloture(s: Suivi, e: Evenement) -> None:
    s.date_cloture = e.effective_on


_STEPS: dict[type[Evenement], Callable[[Suivi, Evenement], None]] = {
    OrientationDecidee: _orientation,
    ReorientationDecidee: _orientation,
    RdvPlanifie: _rdv,
    IssueRdvEnregistree: _issue,
    CerSigne: _cer,
    ReferentDesigne: _referent,
    DroitSuspendu: _suspension,
    DroitRepris: _reprise,
    DroitsDevoirsModifies: _droits_devoirs,
    SanctionDecidee: _sanction,
    SortieEnregistree: _sortie,
    DroitClos: _cloture,
}
"""What each event type changes in its episode; the others (a sanction lifted, an ASC
interview) leave the follow-up as it is."""

FOLDED: tuple[type[Evenement], ...] = (*_ENTRIES, *_STEPS)
"""Every event type the follow-up reads (besides corrections, which refold a case)."""


def suivre(history: Sequence[Recorded], as_of: date | None = None) -> list[Suivi]:
    """Every episode of a case from its whole history, corrections applied; with `as_of`,
    only the steps that had taken effect by that day (by their corrected date)."""
    effective = effective_history(history)
    if as_of is not None:
        effective = effective_as_of(effective, as_of)
    episodes: list[Suivi] = []
    for recorded in effective:
        avancer(episodes, recorded)
    return episodes
