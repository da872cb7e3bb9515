"""What agents and flux ask the system to record: one imperative command per step.

Commands are what the API decodes request bodies into (unknown fields are refused); `decide`
turns a command into events or refuses it with a domain error.
"""

from datetime import date
from typing import Literal

import msgspec

from domain.events import Profil
from domain.vocabulary import (
    IssueRdv,
    ModeOrientation,
    ModeRdv,
    MotifCloture,
    OrganismePayeur,
    TypeOrganisme,
    TypeOrientation,
    TypeRdv,
    TypeSanction,
    TypeSortie,
)


class Commande(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    effective_on: date
    """The date the step took effect; today or earlier."""


class EnregistrerEntree(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    numero_dossier: str
    organisme_payeur: OrganismePayeur
    date_flux: date
    date_reception_flux: date
    soumis_droits_devoirs: bool = True
    profil: Profil | None = None


class RouvrirDroit(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    date_flux: date
    date_reception_flux: date
    soumis_droits_devoirs: bool = True
    profil: Profil | None = None


class SuspendreDroit(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    motif: str | None = None


class ReprendreDroit(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class CloreDroit(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    motif: MotifCloture


class ModifierDroitsDevoirs(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    soumis_droits_devoirs: bool


class DeciderOrientation(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    type_orientation: TypeOrientation
    organisme: TypeOrganisme
    structure_id: str
    mode: ModeOrientation = ModeOrientation.DECIDEE


class DeciderReorientation(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    type_orientation: TypeOrientation
    organisme: TypeOrganisme
    structure_id: str
    motif: str
    date_avis_ep: date | None = None


class DesignerReferent(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    referent_id: str


class PlanifierRdv(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    type_rdv: TypeRdv
    mode: ModeRdv
    date_rdv: date


class EnregistrerIssueRdv(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    numero: int
    issue: IssueRdv


class SignerCer(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    date_debut: date
    duree_mois: Literal[6, 9, 12]


class RenouvelerCer(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    date_debut: date
    duree_mois: Literal[6, 9, 12]


class TenirEntretienAsc(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    structure_id: str


class EnregistrerSortie(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    type_sortie: TypeSortie


class DeciderSanction(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    type_sanction: TypeSanction
    motif: str


class LeverSanction(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    numero: int
    motif: str | None = None


# --- corrections: never an edit, a new fact naming the step it corrects ----------------------


class AnnulerEtape(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Declare a recorded step void (`effective_on`: the day the correction is decided)."""

    version_annulee: int
    motif: str


class RectifierEtape(Commande, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Correct the date a recorded step took effect (`effective_on`: the day of the decision)."""

    version_rectifiee: int
    effective_on_corrige: date
    motif: str


Correction = AnnulerEtape | RectifierEtape
