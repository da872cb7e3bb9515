"""The command routes: one POST per step of the path, each with a documented example body."""

from typing import Any

from domain.commands import (
    AnnulerEtape,
    CloreDroit,
    Commande,
    DeciderOrientation,
    DeciderReorientation,
    DeciderSanction,
    DesignerReferent,
    EnregistrerEntree,
    EnregistrerIssueRdv,
    EnregistrerSortie,
    LeverSanction,
    PlanifierRdv,
    RectifierEtape,
    RenouvelerCer,
    ReprendreDroit,
    RouvrirDroit,
    SignerCer,
    SuspendreDroit,
    TenirEntretienAsc,
)
from domain.events import (
    CerSigne,
    DroitClos,
    DroitRepris,
    DroitRouvert,
    DroitsDevoirsModifies,
    DroitSuspendu,
    EntreeEnregistree,
    EntretienAscTenu,
    Evenement,
    IssueRdvEnregistree,
    OrientationDecidee,
    RdvPlanifie,
    ReferentDesigne,
    ReorientationDecidee,
    SanctionDecidee,
    SanctionLevee,
    SortieEnregistree,
)


class Step:
    def __init__(self, slug: str, command: type[Commande], summary: str, example: dict[str, Any]):
        self.slug = slug
        self.command = command
        self.summary = summary
        self.example = example


ENTREE = Step(
    "",
    EnregistrerEntree,
    "Enregistrer l'entrée d'un allocataire (ouvre le dossier et l'épisode 1)",
    {
        "effective_on": "2024-01-03",
        "numero_dossier": "CAF-0123456",
        "organisme_payeur": "caf",
        "date_flux": "2024-01-04",
        "date_reception_flux": "2024-01-08",
        "soumis_droits_devoirs": True,
    },
)

STEPS: list[Step] = [
    Step(
        "orientation",
        DeciderOrientation,
        "Décider l'orientation",
        {
            "effective_on": "2024-01-25",
            "type_orientation": "sociale",
            "organisme": "ccas",
            "structure_id": "ccas-creteil",
            "mode": "decidee",
        },
    ),
    Step(
        "reorientation",
        DeciderReorientation,
        "Décider une réorientation",
        {
            "effective_on": "2024-03-01",
            "type_orientation": "professionnelle",
            "organisme": "france_travail",
            "structure_id": "ft-creteil",
            "motif": "projet professionnel défini",
            "date_avis_ep": "2024-02-26",
        },
    ),
    Step(
        "referent",
        DesignerReferent,
        "Désigner le référent unique",
        {"effective_on": "2024-01-29", "referent_id": "ref-durand"},
    ),
    Step(
        "rdv",
        PlanifierRdv,
        "Planifier un RDV (invitation ou convocation)",
        {
            "effective_on": "2024-01-29",
            "type_rdv": "premier_accompagnement",
            "mode": "convocation",
            "date_rdv": "2024-02-05",
        },
    ),
    Step(
        "issue-rdv",
        EnregistrerIssueRdv,
        "Enregistrer l'issue d'un RDV (seen, noshow, excused, revoked)",
        {"effective_on": "2024-02-05", "numero": 1, "issue": "seen"},
    ),
    Step(
        "cer",
        SignerCer,
        "Enregistrer la signature d'un premier CER",
        {"effective_on": "2024-02-20", "date_debut": "2024-03-01", "duree_mois": 6},
    ),
    Step(
        "renouvellement-cer",
        RenouvelerCer,
        "Enregistrer le renouvellement du CER",
        {"effective_on": "2024-08-20", "date_debut": "2024-09-01", "duree_mois": 12},
    ),
    Step(
        "entretien-asc",
        TenirEntretienAsc,
        "Enregistrer un entretien d'appui social complémentaire",
        {"effective_on": "2024-04-10", "structure_id": "asso-insertion-94"},
    ),
    Step(
        "sortie",
        EnregistrerSortie,
        "Enregistrer la sortie de l'accompagnement",
        {"effective_on": "2024-10-01", "type_sortie": "emploi_cdi"},
    ),
    Step(
        "sanction",
        DeciderSanction,
        "Décider une sanction",
        {"effective_on": "2024-05-02", "type_sanction": "reduction", "motif": "absence de CER"},
    ),
    Step(
        "levee-sanction",
        LeverSanction,
        "Lever une sanction en vigueur",
        {"effective_on": "2024-06-02", "numero": 1, "motif": "CER signé"},
    ),
    Step(
        "suspension",
        SuspendreDroit,
        "Enregistrer la suspension du droit",
        {"effective_on": "2024-04-01", "motif": "déclaration trimestrielle manquante"},
    ),
    Step(
        "reprise", ReprendreDroit, "Enregistrer la reprise du droit", {"effective_on": "2024-05-01"}
    ),
    Step(
        "cloture",
        CloreDroit,
        "Enregistrer la clôture du droit",
        {"effective_on": "2024-11-30", "motif": "ressources_superieures"},
    ),
    Step(
        "reouverture",
        RouvrirDroit,
        "Enregistrer la réouverture du droit (nouvel épisode)",
        {
            "effective_on": "2025-03-03",
            "date_flux": "2025-03-04",
            "date_reception_flux": "2025-03-06",
            "soumis_droits_devoirs": True,
        },
    ),
]

CORRECTIONS: list[Step] = [
    Step(
        "annulation",
        AnnulerEtape,
        "Annuler une étape enregistrée par erreur (l'étape reste au journal)",
        {
            "effective_on": "2024-03-04",
            "version_annulee": 4,
            "motif": "RDV saisi sur le mauvais dossier",
        },
    ),
    Step(
        "rectification",
        RectifierEtape,
        "Rectifier la date d'effet d'une étape (l'original reste au journal)",
        {
            "effective_on": "2024-03-04",
            "version_rectifiee": 2,
            "effective_on_corrige": "2024-01-22",
            "motif": "date de notification de l'orientation",
        },
    ),
]
"""Corrections: admitted for the roles that may record the step corrected."""

EVENT_SLUGS: dict[type[Evenement], str] = {
    EntreeEnregistree: "",
    DroitRouvert: "reouverture",
    DroitSuspendu: "suspension",
    DroitRepris: "reprise",
    DroitClos: "cloture",
    DroitsDevoirsModifies: "suspension",
    OrientationDecidee: "orientation",
    ReorientationDecidee: "reorientation",
    ReferentDesigne: "referent",
    RdvPlanifie: "rdv",
    IssueRdvEnregistree: "issue-rdv",
    CerSigne: "cer",
    EntretienAscTenu: "entretien-asc",
    SortieEnregistree: "sortie",
    SanctionDecidee: "sanction",
    SanctionLevee: "levee-sanction",
}
"""The route (slug) that records each kind of step, whose roles may correct it (the changes of
rights and duties come from the flux, like a suspension)."""
