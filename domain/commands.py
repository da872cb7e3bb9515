"""What agents and flux ask the system to record: one imperative command per step.

Commands are what the API decodes request bodies into (unknown fields are refused); `decide`
turns a command into events or refuses it with a domain error.
"""

from datetime import date
from enum import StrEnum
from typing import Any, ClassVar, Literal, NamedTuple, get_args

import msgspec

from domain import events as ev
from domain import vocabulary as voc
from domain.events import Profil


class Famille(StrEnum):
    """Who records a kind of step: the roles admitted to its route follow."""

    DROITS = "droits"
    """The right and its changes: the CAF/MSA flux, or the orientation service."""
    ORIENTATION = "orientation"
    """The orientation service's decisions alone: the first orientation, and which structures
    accompany the person beside the oriented one (an association does not declare itself)."""
    PARCOURS = "parcours"
    """The path once oriented: the referents' structures and the orientation service."""


class Route(NamedTuple):
    """How the API records a command, declared next to it (the routes are derived from these):
    `POST /dossiers/{case_id}/{slug}` (the entry, slug "", is `POST /dossiers`), its summary
    and example body in the OpenAPI document (the end-to-end tests post the examples)."""

    slug: str
    summary: str
    example: dict[str, Any]
    records: tuple[type[ev.Evenement], ...] = ()
    """The events whose correction is admitted for the roles of this route."""
    famille: Famille | None = None
    """Who records it (None for a correction: admitted for the roles of the step it corrects)."""


class Commande(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    effective_on: date
    """The date the step took effect; today or earlier."""

    route: ClassVar[Route | None] = None
    """None: not recorded through the API's step routes (the flux records it)."""


class EnregistrerEntree(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    numero_dossier: str
    organisme_payeur: voc.OrganismePayeur
    date_flux: date
    date_reception_flux: date
    soumis_droits_devoirs: bool = True
    profil: Profil | None = None

    route = Route(
        "",
        "Enregistrer l'entrée d'un allocataire (ouvre le dossier et l'épisode 1)",
        {
            "effective_on": "2024-01-03",
            "numero_dossier": "CAF-0123456",
            "organisme_payeur": "caf",
            "date_flux": "2024-01-04",
            "date_reception_flux": "2024-01-08",
            "soumis_droits_devoirs": True,
        },
        famille=Famille.DROITS,
        records=(ev.EntreeEnregistree,),
    )


class RouvrirDroit(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    date_flux: date
    date_reception_flux: date
    soumis_droits_devoirs: bool = True
    profil: Profil | None = None

    route = Route(
        "reouverture",
        "Enregistrer la réouverture du droit (nouvel épisode)",
        {
            "effective_on": "2025-03-03",
            "date_flux": "2025-03-04",
            "date_reception_flux": "2025-03-06",
            "soumis_droits_devoirs": True,
        },
        famille=Famille.DROITS,
        records=(ev.DroitRouvert,),
    )


class SuspendreDroit(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    motif: str | None = None

    route = Route(
        "suspension",
        "Enregistrer la suspension du droit",
        {"effective_on": "2024-04-01", "motif": "déclaration trimestrielle manquante"},
        famille=Famille.DROITS,
        records=(ev.DroitSuspendu, ev.DroitsDevoirsModifies),  # both come from the flux
    )


class ReprendreDroit(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    route = Route(
        "reprise",
        "Enregistrer la reprise du droit",
        {"effective_on": "2024-05-01"},
        famille=Famille.DROITS,
        records=(ev.DroitRepris,),
    )


class CloreDroit(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    motif: voc.MotifCloture

    route = Route(
        "cloture",
        "Enregistrer la clôture du droit",
        {"effective_on": "2024-11-30", "motif": "ressources_superieures"},
        famille=Famille.DROITS,
        records=(ev.DroitClos,),
    )


class ModifierDroitsDevoirs(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    soumis_droits_devoirs: bool


class DeciderOrientation(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    type_orientation: voc.TypeOrientation
    organisme: voc.TypeOrganisme
    structure_id: str
    mode: voc.ModeOrientation = voc.ModeOrientation.DECIDEE

    route = Route(
        "orientation",
        "Décider l'orientation",
        {
            "effective_on": "2024-01-25",
            "type_orientation": "sociale",
            "organisme": "ccas",
            "structure_id": "ccas-creteil",
            "mode": "decidee",
        },
        famille=Famille.ORIENTATION,
        records=(ev.OrientationDecidee,),
    )


class DeciderReorientation(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    type_orientation: voc.TypeOrientation
    organisme: voc.TypeOrganisme
    structure_id: str
    motif: str
    date_avis_ep: date | None = None
    saisine: int | None = None
    """The EP referral it decides: required from the professional to the social path."""

    route = Route(
        "reorientation",
        "Décider une réorientation",
        {
            "effective_on": "2024-03-01",
            "type_orientation": "professionnelle",
            "organisme": "france_travail",
            "structure_id": "ft-creteil",
            "motif": "projet professionnel défini",
            "date_avis_ep": "2024-02-26",
        },
        famille=Famille.PARCOURS,
        records=(ev.ReorientationDecidee,),
    )


class DesignerReferent(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    referent_id: str

    route = Route(
        "referent",
        "Désigner le référent unique",
        {"effective_on": "2024-01-29", "referent_id": "ref-durand"},
        famille=Famille.PARCOURS,
        records=(ev.ReferentDesigne,),
    )


class PlanifierRdv(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    type_rdv: voc.TypeRdv
    mode: voc.ModeRdv
    date_rdv: date

    route = Route(
        "rdv",
        "Planifier un RDV (invitation ou convocation)",
        {
            "effective_on": "2024-01-29",
            "type_rdv": "premier_accompagnement",
            "mode": "convocation",
            "date_rdv": "2024-02-05",
        },
        famille=Famille.PARCOURS,
        records=(ev.RdvPlanifie, ev.InvitationRdvNotee),  # invitations: rdv-insertion's
    )


class DeplacerRdv(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    numero: int
    date_rdv: date

    route = Route(
        "report-rdv",
        "Reporter un RDV planifié à un autre jour (avant son issue)",
        {"effective_on": "2024-02-01", "numero": 1, "date_rdv": "2024-02-12"},
        famille=Famille.PARCOURS,
        records=(ev.RdvDeplace,),
    )


class NoterInvitation(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Recorded by the rdv-insertion connector, not through a step route."""

    invitation: str
    canal: str
    etat: voc.EtatInvitation
    type_rdv: voc.TypeRdv | None = None


class EnregistrerIssueRdv(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    numero: int
    issue: voc.IssueRdv

    route = Route(
        "issue-rdv",
        "Enregistrer l'issue d'un RDV (seen, noshow, excused, revoked)",
        {"effective_on": "2024-02-05", "numero": 1, "issue": "seen"},
        famille=Famille.PARCOURS,
        records=(ev.IssueRdvEnregistree,),
    )


class SignerCer(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    date_debut: date
    duree_mois: Literal[6, 9, 12]

    route = Route(
        "cer",
        "Enregistrer la signature d'un premier CER",
        {"effective_on": "2024-02-20", "date_debut": "2024-03-01", "duree_mois": 6},
        famille=Famille.PARCOURS,
        records=(ev.CerSigne,),
    )


class RenouvelerCer(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    date_debut: date
    duree_mois: Literal[6, 9, 12]

    route = Route(
        "renouvellement-cer",
        "Enregistrer le renouvellement du CER",
        {"effective_on": "2024-08-20", "date_debut": "2024-09-01", "duree_mois": 12},
        famille=Famille.PARCOURS,
        records=(ev.CerSigne,),
    )


class TenirEntretienAsc(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    structure_id: str

    route = Route(
        "entretien-asc",
        "Enregistrer un entretien d'appui social complémentaire",
        {"effective_on": "2024-04-10", "structure_id": "asso-insertion-94"},
        famille=Famille.PARCOURS,
        records=(ev.EntretienAscTenu,),
    )


class DebuterAccompagnement(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    structure_id: str
    objet: voc.ObjetAccompagnement

    route = Route(
        "debut-accompagnement",
        "Enregistrer qu'une structure commence à accompagner la personne (ASC…)",
        {"effective_on": "2024-04-02", "structure_id": "asso-insertion-94", "objet": "asc"},
        famille=Famille.ORIENTATION,
        records=(ev.AccompagnementDebute,),
    )


class TerminerAccompagnement(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    structure_id: str
    objet: voc.ObjetAccompagnement
    motif: str | None = None

    route = Route(
        "fin-accompagnement",
        "Enregistrer la fin d'un accompagnement par une structure",
        {
            "effective_on": "2024-09-30",
            "structure_id": "asso-insertion-94",
            "objet": "asc",
            "motif": "objectifs atteints",
        },
        famille=Famille.ORIENTATION,
        records=(ev.AccompagnementTermine,),
    )


class EnregistrerSortie(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    type_sortie: voc.TypeSortie

    route = Route(
        "sortie",
        "Enregistrer la sortie de l'accompagnement",
        {"effective_on": "2024-10-01", "type_sortie": "emploi_cdi"},
        famille=Famille.PARCOURS,
        records=(ev.SortieEnregistree,),
    )


class DeciderSanction(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The president's decision. With `saisine`, the rules check the EP procedure and the
    regime in force on `effective_on` (kind, share, months, household cap). Without it, the
    rules refuse it wherever the regime requires the procedure (every national one); only a
    département's period declared without it records a sanction decided elsewhere."""

    type_sanction: voc.TypeSanction
    motif: str
    saisine: int | None = None
    pourcentage: int | None = None
    duree_mois: int | None = None
    date_debut: date | None = None
    montant_mensuel_centimes: int | None = None
    personnes_foyer: int | None = None

    route = Route(
        "sanction",
        "Décider une sanction (après saisine de l'EP: part, durée, montant et foyer)",
        {
            "effective_on": "2025-07-20",
            "type_sanction": "suspension_remobilisation",
            "motif": "deux RDV manqués sans motif",
            "saisine": 1,
            "pourcentage": 30,
            "duree_mois": 2,
            "montant_mensuel_centimes": 63500,
            "personnes_foyer": 1,
        },
        famille=Famille.PARCOURS,
        records=(ev.SanctionDecidee,),
    )


class LeverSanction(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    numero: int
    motif: str | None = None

    route = Route(
        "levee-sanction",
        "Lever une sanction en vigueur",
        {"effective_on": "2024-06-02", "numero": 1, "motif": "CER signé"},
        famille=Famille.PARCOURS,
        records=(ev.SanctionLevee,),
    )


class ConstaterRemobilisation(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    numero: int
    motif: str | None = None

    route = Route(
        "remobilisation",
        "Constater la remobilisation: la suspension cesse, les montants suspendus sont reversés",
        {"effective_on": "2025-08-20", "numero": 1, "motif": "RDV honoré, heures reprises"},
        famille=Famille.PARCOURS,
        records=(ev.RemobilisationConstatee,),
    )


# --- the EP procedure -------------------------------------------------------------------------


class SaisirEp(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    motif_saisine: voc.MotifSaisineEp
    ep_id: str
    manquement: str
    date_manquement: date | None = None

    route = Route(
        "saisine-ep",
        "Saisir l'équipe pluridisciplinaire (sanction ou réorientation vers le social)",
        {
            "effective_on": "2025-06-10",
            "motif_saisine": "sanction",
            "ep_id": "ep-creteil",
            "manquement": "deux RDV manqués sans motif",
            "date_manquement": "2025-06-02",
        },
        famille=Famille.PARCOURS,
        records=(ev.EpSaisie,),
    )


class InscrireOrdreDuJour(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    saisine: int
    session_id: str
    date_session: date

    route = Route(
        "ordre-du-jour-ep",
        "Inscrire une saisine à l'ordre du jour d'une séance de l'EP",
        {
            "effective_on": "2025-06-12",
            "saisine": 1,
            "session_id": "ep-creteil-2025-07-15",
            "date_session": "2025-07-15",
        },
        famille=Famille.ORIENTATION,
        records=(ev.SaisineInscrite,),
    )


class NotifierObservations(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The delay to answer follows from the regime in force on `effective_on`."""

    saisine: int

    route = Route(
        "notification-observations",
        "Notifier à la personne la procédure et son délai pour présenter ses observations",
        {"effective_on": "2025-06-12", "saisine": 1},
        famille=Famille.ORIENTATION,
        records=(ev.ObservationsNotifiees,),
    )


class RecevoirObservations(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    saisine: int
    audition_demandee: bool = False
    resume: str | None = None

    route = Route(
        "observations",
        "Enregistrer les observations de la personne (et sa demande d'être entendue)",
        {
            "effective_on": "2025-06-30",
            "saisine": 1,
            "audition_demandee": True,
            "resume": "problème de garde d'enfant",
        },
        famille=Famille.ORIENTATION,
        records=(ev.ObservationsRecues,),
    )


class RendreAvisEp(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    saisine: int
    avis: voc.AvisEp
    pourcentage: int | None = None
    duree_mois: int | None = None
    motif: str | None = None

    route = Route(
        "avis-ep",
        "Enregistrer l'avis de l'EP sur une saisine",
        {
            "effective_on": "2025-07-15",
            "saisine": 1,
            "avis": "sanction",
            "pourcentage": 30,
            "duree_mois": 1,
        },
        famille=Famille.ORIENTATION,
        records=(ev.AvisEpRendu,),
    )


class ClasserSaisine(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    saisine: int
    motif: str

    route = Route(
        "classement-saisine",
        "Décider de ne pas donner suite à une saisine de l'EP",
        {"effective_on": "2025-07-20", "saisine": 1, "motif": "manquement justifié"},
        famille=Famille.ORIENTATION,
        records=(ev.SaisineClassee,),
    )


# --- the contrat d'engagement ---------------------------------------------------------------


class SignerContratEngagement(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    date_debut: date
    duree_mois: int
    objectifs: list[str]
    actions: list[str]
    heures_hebdo: int
    empechement: str | None = None
    referent_id: str | None = None

    route = Route(
        "contrat-engagement",
        "Enregistrer la signature d'un contrat d'engagement (objectifs, actions, heures)",
        {
            "effective_on": "2025-02-10",
            "date_debut": "2025-02-15",
            "duree_mois": 6,
            "objectifs": ["reprendre un emploi dans la logistique"],
            "actions": ["formation CACES", "ateliers CV"],
            "heures_hebdo": 15,
        },
        famille=Famille.PARCOURS,
        records=(ev.ContratEngagementSigne,),
    )


class RenouvelerContratEngagement(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    date_debut: date
    duree_mois: int
    objectifs: list[str]
    actions: list[str]
    heures_hebdo: int
    empechement: str | None = None
    referent_id: str | None = None

    route = Route(
        "renouvellement-contrat-engagement",
        "Enregistrer le renouvellement du contrat d'engagement",
        {
            "effective_on": "2025-08-10",
            "date_debut": "2025-08-15",
            "duree_mois": 6,
            "objectifs": ["reprendre un emploi dans la logistique"],
            "actions": ["immersion en entreprise"],
            "heures_hebdo": 20,
        },
        famille=Famille.PARCOURS,
        records=(ev.ContratEngagementSigne,),
    )


class AmenderContratEngagement(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    numero: int
    motif: str
    objectifs: list[str] | None = None
    actions: list[str] | None = None
    heures_hebdo: int | None = None
    empechement: str | None = None

    route = Route(
        "avenant-contrat-engagement",
        "Enregistrer un avenant au contrat d'engagement",
        {
            "effective_on": "2025-04-01",
            "numero": 1,
            "motif": "reprise de soins",
            "heures_hebdo": 8,
            "empechement": "raison de santé",
        },
        famille=Famille.PARCOURS,
        records=(ev.ContratEngagementAmende,),
    )


class TerminerContratEngagement(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    numero: int
    motif: str

    route = Route(
        "fin-contrat-engagement",
        "Enregistrer la fin anticipée du contrat d'engagement",
        {"effective_on": "2025-05-01", "numero": 1, "motif": "entrée en formation longue"},
        famille=Famille.PARCOURS,
        records=(ev.ContratEngagementTermine,),
    )


# --- corrections: never an edit, a new fact naming the step it corrects ----------------------


class AnnulerEtape(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Declare a recorded step void (`effective_on`: the day the correction is decided)."""

    version_annulee: int
    motif: str

    route = Route(
        "annulation",
        "Annuler une étape enregistrée par erreur (l'étape reste au journal)",
        {
            "effective_on": "2024-03-04",
            "version_annulee": 4,
            "motif": "RDV saisi sur le mauvais dossier",
        },
    )


class RectifierEtape(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Correct the date a recorded step took effect (`effective_on`: the day of the decision)."""

    version_rectifiee: int
    effective_on_corrige: date
    motif: str

    route = Route(
        "rectification",
        "Rectifier la date d'effet d'une étape (l'original reste au journal)",
        {
            "effective_on": "2024-03-04",
            "version_rectifiee": 2,
            "effective_on_corrige": "2024-01-22",
            "motif": "date de notification de l'orientation",
        },
    )


Etape = (
    EnregistrerEntree
    | DeciderOrientation
    | DeciderReorientation
    | DesignerReferent
    | PlanifierRdv
    | DeplacerRdv
    | NoterInvitation
    | EnregistrerIssueRdv
    | SignerCer
    | RenouvelerCer
    | TenirEntretienAsc
    | DebuterAccompagnement
    | TerminerAccompagnement
    | EnregistrerSortie
    | DeciderSanction
    | LeverSanction
    | ConstaterRemobilisation
    | SaisirEp
    | InscrireOrdreDuJour
    | NotifierObservations
    | RecevoirObservations
    | RendreAvisEp
    | ClasserSaisine
    | SignerContratEngagement
    | RenouvelerContratEngagement
    | AmenderContratEngagement
    | TerminerContratEngagement
    | SuspendreDroit
    | ReprendreDroit
    | CloreDroit
    | RouvrirDroit
    | ModifierDroitsDevoirs
)
"""Every step command, as one union: `decide` matches over it, the API derives its routes from
it (in this order)."""

Correction = AnnulerEtape | RectifierEtape
"""The commands that correct a recorded step (decided on the history, not on the state)."""

STEP_COMMANDS: tuple[type[Commande], ...] = get_args(Etape)
CORRECTION_COMMANDS: tuple[type[Commande], ...] = get_args(Correction)
