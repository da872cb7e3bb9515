"""The words the screens show for the log's names: steps and statuses as agents say them.
A name missing here is shown as it is (a new event type never breaks a page)."""

ETAPES = {
    "EntreeEnregistree": "Entrée dans le RSA",
    "DroitRouvert": "Droit rouvert",
    "DroitSuspendu": "Droit suspendu",
    "DroitRepris": "Droit repris",
    "DroitClos": "Droit clos",
    "DroitsDevoirsModifies": "Droits et devoirs modifiés",
    "OrientationDecidee": "Orientation décidée",
    "ReorientationDecidee": "Réorientation décidée",
    "ReferentDesigne": "Référent désigné",
    "RdvPlanifie": "RDV planifié",
    "IssueRdvEnregistree": "Issue de RDV enregistrée",
    "CerSigne": "CER signé",
    "EntretienAscTenu": "Entretien ASC tenu",
    "SortieEnregistree": "Sortie enregistrée",
    "SanctionDecidee": "Sanction décidée",
    "SanctionLevee": "Sanction levée",
    "EtapeAnnulee": "Étape annulée",
    "EtapeRectifiee": "Étape rectifiée",
}

STATUTS = {
    "inconnu": "inconnu",
    "a_orienter": "à orienter",
    "oriente": "orienté",
    "sorti": "sorti",
    "clos": "clos",
    "rectifiee": "rectifiée",
    "annulee": "annulée",
    "correction": "correction",
}


def etape(name: str) -> str:
    return ETAPES.get(name, name)


def statut(value: str) -> str:
    return STATUTS.get(value, value.replace("_", " "))
