"""The closed vocabularies agents pick from: codes stored in events and accepted by the API.

Codes are lower-case ASCII so that they survive every export; labels for screens live with the
interfaces. Adding a code is backwards compatible; renaming one needs an upcaster.
"""

from enum import StrEnum


class Sexe(StrEnum):
    """As the CAF flux gives it (SEXE 1 / 2)."""

    F = "F"
    M = "M"


class OrganismePayeur(StrEnum):
    """Who pays the right and sends the flux."""

    CAF = "caf"
    MSA = "msa"


class TypeOrientation(StrEnum):
    PROFESSIONNELLE = "professionnelle"
    SOCIO_PROFESSIONNELLE = "socio_professionnelle"
    SOCIALE = "sociale"


class ObjetAccompagnement(StrEnum):
    """Why a structure accompanies a person: as référent (what an orientation implies for the
    oriented structure), or to give an appui social complémentaire alongside France Travail."""

    REFERENT = "referent"
    ASC = "asc"


class ModeOrientation(StrEnum):
    AUTOMATIQUE = "automatique"
    SEMI_AUTOMATIQUE = "semi_automatique"
    DECIDEE = "decidee"


class TypeOrganisme(StrEnum):
    """Family of the referent organism; decides SPE / hors SPE in the DREES survey."""

    FRANCE_TRAVAIL = "france_travail"
    MISSION_LOCALE = "mission_locale"
    MAISON_EMPLOI = "maison_emploi"
    PLIE = "plie"
    CAP_EMPLOI = "cap_emploi"
    CREATION_ENTREPRISE = "creation_entreprise"
    IAE = "iae"
    AUTRE_SPE = "autre_spe"
    DEPARTEMENT = "departement"
    CAF_MSA = "caf_msa"
    CCAS = "ccas"
    ASSOCIATION = "association"
    AAVE = "aave"
    AUTRE_HORS_SPE = "autre_hors_spe"
    EQUIPE_PLURIDISCIPLINAIRE = "equipe_pluridisciplinaire"
    """An EP: consulted before a sanction or a réorientation from the professional to the
    social path; it holds sessions and accompanies no one."""


SPE: frozenset[TypeOrganisme] = frozenset(
    {
        TypeOrganisme.FRANCE_TRAVAIL,
        TypeOrganisme.MISSION_LOCALE,
        TypeOrganisme.MAISON_EMPLOI,
        TypeOrganisme.PLIE,
        TypeOrganisme.CAP_EMPLOI,
        TypeOrganisme.CREATION_ENTREPRISE,
        TypeOrganisme.IAE,
        TypeOrganisme.AUTRE_SPE,
    }
)
"""Service public de l'emploi, by the DREES survey's convention; everything else is hors SPE."""


class TypeRdv(StrEnum):
    INFORMATION_COLLECTIVE = "information_collective"
    ENTRETIEN_ORIENTATION = "entretien_orientation"
    PREMIER_ACCOMPAGNEMENT = "premier_accompagnement"
    DIAGNOSTIC = "diagnostic"
    SUIVI = "suivi"
    SIGNATURE_CER = "signature_cer"
    ENTRETIEN_ASC = "entretien_asc"


RDV_AVANT_ORIENTATION: frozenset[TypeRdv] = frozenset(
    {TypeRdv.INFORMATION_COLLECTIVE, TypeRdv.ENTRETIEN_ORIENTATION}
)
"""RDV kinds that prepare the orientation and so may be planned before it."""


class ModeRdv(StrEnum):
    INVITATION = "invitation"
    CONVOCATION = "convocation"


class EtatInvitation(StrEnum):
    """What became of an invitation to book a RDV, as the service that sent it reports it."""

    ENVOYEE = "envoyee"
    DELIVREE = "delivree"
    NON_DELIVREE = "non_delivree"
    """The SMS or e-mail bounced, was blocked or the address is invalid."""
    OUVERTE = "ouverte"
    """The person opened the link."""
    EXPIREE = "expiree"
    """The link no longer lets the person book (its date passed, or a RDV was booked)."""


class IssueRdv(StrEnum):
    """Outcome of a RDV, in the national rdv-insertion vocabulary."""

    SEEN = "seen"
    NOSHOW = "noshow"
    EXCUSED = "excused"
    REVOKED = "revoked"


class TypeSortie(StrEnum):
    EMPLOI_CDI = "emploi_cdi"
    EMPLOI_CDD_PLUS_6_MOIS = "emploi_cdd_plus_6_mois"
    FORMATION_QUALIFIANTE = "formation_qualifiante"
    CREATION_ENTREPRISE = "creation_entreprise"
    RETRAITE = "retraite"
    AAH = "aah"
    DEMENAGEMENT = "demenagement"
    FIN_DE_DROITS = "fin_de_droits"
    RADIATION = "radiation"
    AUTRE = "autre"


SORTIES_POSITIVES: frozenset[TypeSortie] = frozenset(
    {
        TypeSortie.EMPLOI_CDI,
        TypeSortie.EMPLOI_CDD_PLUS_6_MOIS,
        TypeSortie.FORMATION_QUALIFIANTE,
        TypeSortie.CREATION_ENTREPRISE,
        TypeSortie.RETRAITE,
        TypeSortie.AAH,
    }
)
"""Positive exits as listed by Val-de-Marne; derived at read time so the list can change."""


class TypeSanction(StrEnum):
    REDUCTION = "reduction"
    SUSPENSION = "suspension"
    SUSPENSION_REMOBILISATION = "suspension_remobilisation"
    RADIATION = "radiation"


class MotifSaisineEp(StrEnum):
    """Why a case is referred to the EP: a breach that may be sanctioned, or a réorientation
    from the professional to the social path."""

    SANCTION = "sanction"
    REORIENTATION_SOCIALE = "reorientation_sociale"


class AvisEp(StrEnum):
    """The EP's opinion; the president of the département decides, following it or not."""

    SANCTION = "sanction"
    PAS_DE_SANCTION = "pas_de_sanction"
    REORIENTATION = "reorientation"
    MAINTIEN = "maintien"


class MotifCloture(StrEnum):
    RESSOURCES_SUPERIEURES = "ressources_superieures"
    DEMENAGEMENT = "demenagement"
    DECES = "deces"
    DECLARATION_NON_FOURNIE = "declaration_non_fournie"
    RADIATION = "radiation"
    AUTRE = "autre"


DUREES_CER_MOIS: frozenset[int] = frozenset({6, 9, 12})


class RoleAgent(StrEnum):
    """The roles the registry grants, and the API admits (`api.http.auth.Role` is this one)."""

    AGENT = "agent"
    """Referent or instructor of a partner structure: its structures' cases only."""
    ORIENTATION = "orientation"
    """Orientation officer of the département: entries, orientations, every case."""
    AUDITEUR = "auditeur"
    """Reads everything, as of any date; writes nothing."""
    FINANCE = "finance"
    """Financing of the partner structures only."""
    EVALUATION = "evaluation"
    """Pseudonymised extracts only."""
    ADMIN = "admin"
    """Reference data and schedules."""
    FLUX = "flux"
    """The CAF/MSA flux import: the rights of a case (entry, suspension, closure…)."""
    EXPLOITATION = "exploitation"
    """The IT team's monitoring: the metrics (`/metrics`), no case and no person."""


class TrancheAge(StrEnum):
    """Age at entry in bands: the only age an extract gives (the birth year stays inside)."""

    MOINS_25 = "moins_25"
    DE_25_29 = "25_29"
    DE_30_39 = "30_39"
    DE_40_49 = "40_49"
    DE_50_59 = "50_59"
    PLUS_60 = "60_plus"
