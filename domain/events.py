"""The facts of an allocataire's path: one immutable event per step, in the agents' words.

Every event says when it took effect (`effective_on`, a business date that may be in the past)
and carries its recording metadata (`meta`): when the system learned it, who keyed it, from which
structure, under which request. Events are never changed once shipped: a new shape is a new class
or a new version with an upcaster.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar, TypeGuard, get_args
from uuid import UUID

import msgspec

from domain import vocabulary as voc


class Meta(msgspec.Struct, frozen=True, kw_only=True):
    """How the system learned a fact: recording time, author, structure, request."""

    recorded_at: datetime
    recorded_by: str
    structure_id: str | None = None
    request_id: str


class Profil(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What statistics and cohorts may know of a person, in every event's clear text: no name,
    NIR, birth date or address (those are identity data, kept apart and erasable)."""

    sexe: voc.Sexe | None = None
    annee_naissance: int | None = None
    code_commune: str | None = None
    """INSEE code of the commune of residence."""


class Evenement(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag=True):
    """Base of every event: the date it took effect and how it was recorded."""

    schema_version: ClassVar[int] = 1
    """The shape of its fields this release writes; a type whose shape changes raises it by one
    and gives `domain.upcasters.UPCASTERS` the step from the previous shape
    (docs/adding-an-event.md, "Changing an event's shape"). Not a field: the log stores it in
    the row's topic."""

    effective_on: date
    meta: Meta


class EntreeEnregistree(Evenement, frozen=True, kw_only=True):
    """The right opened for a person bound to rights and duties: starts episode 1."""

    numero_dossier: str
    organisme_payeur: voc.OrganismePayeur
    date_flux: date
    date_reception_flux: date
    soumis_droits_devoirs: bool
    profil: Profil | None = None


class DroitRouvert(Evenement, frozen=True, kw_only=True):
    """Re-entry after a closure or an exit: starts a new episode."""

    date_flux: date
    date_reception_flux: date
    soumis_droits_devoirs: bool
    profil: Profil | None = None


class DroitSuspendu(Evenement, frozen=True, kw_only=True):
    motif: str | None = None


class DroitRepris(Evenement, frozen=True, kw_only=True):
    pass


class DroitClos(Evenement, frozen=True, kw_only=True):
    motif: voc.MotifCloture


class DroitsDevoirsModifies(Evenement, frozen=True, kw_only=True):
    """The flux says the person is now (or no longer) bound to rights and duties."""

    soumis_droits_devoirs: bool


class OrientationDecidee(Evenement, frozen=True, kw_only=True):
    type_orientation: voc.TypeOrientation
    organisme: voc.TypeOrganisme
    structure_id: str
    mode: voc.ModeOrientation


class ReorientationDecidee(Evenement, frozen=True, kw_only=True):
    """Change of orientation; the previous one is read from the history."""

    type_orientation: voc.TypeOrientation
    organisme: voc.TypeOrganisme
    structure_id: str
    motif: str
    date_avis_ep: date | None = None
    saisine: int | None = None
    """The EP referral this réorientation decides (None: recorded without the procedure)."""
    avis_suivi: bool | None = None
    """Whether the president followed the EP's opinion (None without a referral)."""


class ReferentDesigne(Evenement, frozen=True, kw_only=True):
    referent_id: str


class RdvPlanifie(Evenement, frozen=True, kw_only=True):
    numero: int
    type_rdv: voc.TypeRdv
    mode: voc.ModeRdv
    date_rdv: date


class RdvDeplace(Evenement, frozen=True, kw_only=True):
    """A planned RDV moved to another day, before any outcome (its number stays)."""

    numero: int
    date_rdv: date


class InvitationRdvNotee(Evenement, frozen=True, kw_only=True):
    """An invitation to book a RDV sent, delivered, undeliverable, opened or expired: a fact of
    the timeline (no rule reads it); `invitation` is the sending service's id."""

    invitation: str
    canal: str
    etat: voc.EtatInvitation
    type_rdv: voc.TypeRdv | None = None


class IssueRdvEnregistree(Evenement, frozen=True, kw_only=True):
    numero: int
    issue: voc.IssueRdv


class CerSigne(Evenement, frozen=True, kw_only=True):
    """A contract signed; `renouvellement` says whether it renews the previous one."""

    numero: int
    date_debut: date
    duree_mois: int
    renouvellement: bool


class EntretienAscTenu(Evenement, frozen=True, kw_only=True):
    """An appui social complémentaire interview for a person followed by France Travail."""

    structure_id: str


class AccompagnementDebute(Evenement, frozen=True, kw_only=True):
    """A structure starts accompanying the person for `objet`, beside what the orientation
    implies (the oriented structure accompanies as référent without this event)."""

    structure_id: str
    objet: voc.ObjetAccompagnement


class AccompagnementTermine(Evenement, frozen=True, kw_only=True):
    """An accompaniment started by `AccompagnementDebute` ends."""

    structure_id: str
    objet: voc.ObjetAccompagnement
    motif: str | None = None


class SortieEnregistree(Evenement, frozen=True, kw_only=True):
    type_sortie: voc.TypeSortie


class SanctionDecidee(Evenement, frozen=True, kw_only=True):
    """The president's decision. Decided after the EP (`saisine` given), it carries its terms
    under the regime in force that day; earlier records carry the kind and reason only."""

    numero: int
    type_sanction: voc.TypeSanction
    motif: str
    saisine: int | None = None
    regime: str | None = None
    """The name of the sanction regime in force on the decision date."""
    rang: int | None = None
    """1 for a first breach, 2 and more for a further breach (sanctions before it)."""
    pourcentage: int | None = None
    """Share of the allowance suspended or reduced, in percent."""
    duree_mois: int | None = None
    date_debut: date | None = None
    montant_mensuel_centimes: int | None = None
    """The monthly allowance the share applies to, in cents."""
    personnes_foyer: int | None = None
    avis_suivi: bool | None = None


class SanctionLevee(Evenement, frozen=True, kw_only=True):
    numero: int
    motif: str | None = None


class RemobilisationConstatee(Evenement, frozen=True, kw_only=True):
    """The person re-engaged during a suspension-remobilisation: the suspension stops that day
    and the amounts suspended so far are paid back."""

    numero: int
    motif: str | None = None


class EpSaisie(Evenement, frozen=True, kw_only=True):
    """A case referred to the EP (`ep_id`, a structure) for a breach or a réorientation to the
    social path; `numero` numbers the case's referrals."""

    numero: int
    motif_saisine: voc.MotifSaisineEp
    ep_id: str
    manquement: str
    date_manquement: date | None = None


class SaisineInscrite(Evenement, frozen=True, kw_only=True):
    """A referral put on the agenda of an EP session."""

    saisine: int
    session_id: str
    date_session: date


class ObservationsNotifiees(Evenement, frozen=True, kw_only=True):
    """The person told of the intended decision and invited to present observations by
    `date_limite` (the regime's delay from the notification)."""

    saisine: int
    date_limite: date


class ObservationsRecues(Evenement, frozen=True, kw_only=True):
    """The person's observations, written or oral; `audition_demandee`: heard by the EP."""

    saisine: int
    audition_demandee: bool = False
    resume: str | None = None


class AvisEpRendu(Evenement, frozen=True, kw_only=True):
    """The EP's opinion on a referral, with the share and months it proposes for a sanction."""

    saisine: int
    avis: voc.AvisEp
    pourcentage: int | None = None
    duree_mois: int | None = None
    motif: str | None = None


class SaisineClassee(Evenement, frozen=True, kw_only=True):
    """The president decides neither a sanction nor a réorientation on a referral (or it is
    withdrawn): the procedure ends."""

    saisine: int
    motif: str
    avis_suivi: bool | None = None


class ContratEngagementSigne(Evenement, frozen=True, kw_only=True):
    """A contrat d'engagement (from 2025, replacing the CER and the PPAE) and its content."""

    numero: int
    date_debut: date
    duree_mois: int
    objectifs: list[str]
    actions: list[str]
    heures_hebdo: int
    empechement: str | None = None
    """Why fewer hours than the regime's minimum (health, disability, caring…)."""
    referent_id: str | None = None
    renouvellement: bool = False


class ContratEngagementAmende(Evenement, frozen=True, kw_only=True):
    """An amendment: the fields given replace the contract's, the others stay."""

    numero: int
    motif: str
    objectifs: list[str] | None = None
    actions: list[str] | None = None
    heures_hebdo: int | None = None
    empechement: str | None = None


class ContratEngagementTermine(Evenement, frozen=True, kw_only=True):
    """A contrat d'engagement ended before its term."""

    numero: int
    motif: str


class EtapeAnnulee(Evenement, frozen=True, kw_only=True):
    """A recorded step declared void (keyed by mistake, on the wrong case…). The step stays in
    the log; read models fold the case's history without it from this event on."""

    version_annulee: int
    motif: str


class EtapeRectifiee(Evenement, frozen=True, kw_only=True):
    """A recorded step whose date of effect was keyed wrong: from this event on, read models fold
    the step at version `version_rectifiee` as if it had taken effect on `effective_on_corrige`.
    The original stays in the log, and what was known before this event still shows it."""

    version_rectifiee: int
    effective_on_corrige: date
    motif: str


Fait = (
    EntreeEnregistree
    | DroitRouvert
    | DroitSuspendu
    | DroitRepris
    | DroitClos
    | DroitsDevoirsModifies
    | OrientationDecidee
    | ReorientationDecidee
    | ReferentDesigne
    | RdvPlanifie
    | RdvDeplace
    | InvitationRdvNotee
    | IssueRdvEnregistree
    | CerSigne
    | EntretienAscTenu
    | AccompagnementDebute
    | AccompagnementTermine
    | SortieEnregistree
    | SanctionDecidee
    | SanctionLevee
    | RemobilisationConstatee
    | EpSaisie
    | SaisineInscrite
    | ObservationsNotifiees
    | ObservationsRecues
    | AvisEpRendu
    | SaisineClassee
    | ContratEngagementSigne
    | ContratEngagementAmende
    | ContratEngagementTermine
    | EtapeAnnulee
    | EtapeRectifiee
)
"""Every event type, as one tagged union (the `type` field names the class)."""

EVENT_TYPES: tuple[type[Evenement], ...] = get_args(Fait)
"""The case event classes, read from `Fait` (declare an event once: in the union)."""

Ouverture = EntreeEnregistree | DroitRouvert
"""The events that open an episode: an entry, a re-entry."""

FaitCorrectif = EtapeAnnulee | EtapeRectifiee
"""The events that change how earlier steps read (`domain.corrections`)."""

CORRECTION_TYPES: tuple[type[Evenement], ...] = get_args(FaitCorrectif)

_CASE_TYPES = frozenset(EVENT_TYPES)


def is_fait(event: Evenement) -> TypeGuard[Fait]:
    """Whether `event` is a case event: what exhaustive folds narrow by before their `match`."""
    return type(event) in _CASE_TYPES


@dataclass(frozen=True, slots=True)
class Recorded:
    """An event at its place in its case's sequence (version 1 is the entry)."""

    originator_id: UUID
    originator_version: int
    event: Evenement
    position: int = 0
    """Its place in the whole log (notification id), when read from the store."""
