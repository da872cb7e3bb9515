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
    "RdvDeplace": "RDV reporté",
    "InvitationRdvNotee": "Invitation à prendre RDV",
    "IssueRdvEnregistree": "Issue de RDV enregistrée",
    "CerSigne": "CER signé",
    "EntretienAscTenu": "Entretien ASC tenu",
    "SortieEnregistree": "Sortie enregistrée",
    "SanctionDecidee": "Sanction décidée",
    "SanctionLevee": "Sanction levée",
    "RemobilisationConstatee": "Remobilisation constatée",
    "EpSaisie": "Saisine de l'EP",
    "SaisineInscrite": "Inscrite à une séance de l'EP",
    "ObservationsNotifiees": "Observations demandées",
    "ObservationsRecues": "Observations reçues",
    "AvisEpRendu": "Avis de l'EP rendu",
    "SaisineClassee": "Saisine de l'EP classée sans suite",
    "ContratEngagementSigne": "Contrat d'engagement signé",
    "ContratEngagementAmende": "Avenant au contrat d'engagement",
    "ContratEngagementTermine": "Contrat d'engagement terminé",
    "AccompagnementDebute": "Accompagnement commencé",
    "AccompagnementTermine": "Accompagnement terminé",
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


CHAMPS = {
    "effective_on": "Date d'effet",
    "date_rdv": "Date du RDV",
    "type_rdv": "Type de RDV",
    "mode": "Mode",
    "numero": "Numéro",
    "issue": "Issue",
    "date_debut": "Début du contrat",
    "duree_mois": "Durée (mois)",
    "structure_id": "Structure",
    "referent_id": "Référent",
    "type_orientation": "Type d'orientation",
    "organisme": "Organisme",
    "motif": "Motif",
    "date_avis_ep": "Date de l'avis de l'équipe pluridisciplinaire",
    "objet": "Objet de l'accompagnement",
    "type_sortie": "Type de sortie",
    "type_sanction": "Type de sanction",
    "date_flux": "Date du flux",
    "date_reception_flux": "Date de réception du flux",
    "soumis_droits_devoirs": "Soumis aux droits et devoirs",
    "objectifs": "Objectifs",
    "actions": "Actions",
    "heures_hebdo": "Heures d'activité par semaine",
    "empechement": "Empêchement légitime",
}
"""Form fields' labels; a field missing here reads as its name (`date_avis` → « Date avis »)."""

VALEURS = {
    "seen": "honoré",
    "noshow": "absence non excusée",
    "excused": "absence excusée",
    "revoked": "annulé",
    "invitation": "invitation",
    "convocation": "convocation",
    "information_collective": "information collective",
    "entretien_orientation": "entretien d'orientation",
    "premier_accompagnement": "premier RDV d'accompagnement",
    "diagnostic": "diagnostic",
    "suivi": "suivi",
    "signature_cer": "signature du CER",
    "entretien_asc": "entretien d'appui social complémentaire",
    "professionnelle": "professionnelle",
    "socio_professionnelle": "socio-professionnelle",
    "sociale": "sociale",
    "automatique": "automatique",
    "semi_automatique": "semi-automatique",
    "decidee": "décidée",
    "referent": "référent unique",
    "asc": "appui social complémentaire",
    "france_travail": "France Travail",
    "mission_locale": "mission locale",
    "maison_emploi": "maison de l'emploi",
    "plie": "PLIE",
    "cap_emploi": "Cap emploi",
    "creation_entreprise": "création d'entreprise",
    "iae": "insertion par l'activité économique",
    "autre_spe": "autre organisme du service public de l'emploi",
    "departement": "département",
    "caf_msa": "CAF ou MSA",
    "ccas": "CCAS",
    "association": "association",
    "aave": "AAVE",
    "autre_hors_spe": "autre organisme hors service public de l'emploi",
    "equipe_pluridisciplinaire": "équipe pluridisciplinaire",
    "reorientation_sociale": "réorientation vers un parcours social",
    "pas_de_sanction": "pas de sanction",
    "maintien": "maintien de l'orientation",
    "emploi_cdi": "emploi en CDI",
    "emploi_cdd_plus_6_mois": "emploi en CDD de plus de 6 mois",
    "formation_qualifiante": "formation qualifiante",
    "retraite": "retraite",
    "aah": "AAH",
    "demenagement": "déménagement",
    "fin_de_droits": "fin de droits",
    "radiation": "radiation",
    "autre": "autre",
    "reduction": "réduction",
    "suspension": "suspension",
    "suspension_remobilisation": "suspension avec remobilisation",
    "ressources_superieures": "ressources supérieures au plafond",
    "deces": "décès",
    "declaration_non_fournie": "déclaration non fournie",
    "caf": "CAF",
    "msa": "MSA",
    "F": "femme",
    "M": "homme",
}
"""The vocabulary's codes as agents say them; a code missing here is shown as it is."""


def champ(name: str) -> str:
    return CHAMPS.get(name, name.replace("_", " ").capitalize())


def valeur(code: str) -> str:
    return VALEURS.get(code, code)


CHAMPS_ETAT = {
    "numero_dossier": "Numéro de dossier",
    "statut": "Statut",
    "episode": "Épisode",
    "soumis_droits_devoirs": "Soumis aux droits et devoirs",
    "droit_suspendu": "Droit suspendu",
    "date_entree": "Date d'entrée",
    "date_flux": "Date du flux",
    "date_reception_flux": "Date de réception du flux",
    "type_orientation": "Type d'orientation",
    "organisme": "Organisme",
    "structure_id": "Structure",
    "date_orientation": "Date d'orientation",
    "date_premiere_orientation": "Date de la première orientation",
    "nb_reorientations": "Réorientations",
    "referent_id": "Référent",
    "date_referent": "Date de désignation du référent",
    "date_premier_rdv": "Date du premier RDV",
    "date_dernier_rdv": "Date du dernier RDV",
    "rdv_seen": "RDV honorés",
    "rdv_noshow": "RDV non honorés (absence non excusée)",
    "rdv_excused": "RDV non honorés (absence excusée)",
    "rdv_revoked": "RDV annulés",
    "rdv_en_attente": "RDV en attente d'issue",
    "date_premier_cer": "Date du premier CER",
    "date_fin_cer": "Fin du CER en cours",
    "nb_cer": "CER signés",
    "nb_entretiens_asc": "Entretiens ASC",
    "sanctions_en_cours": "Sanctions en cours",
    "date_sortie": "Date de sortie",
    "type_sortie": "Type de sortie",
    "sortie_positive": "Sortie positive",
    "date_cloture": "Date de clôture du droit",
}
"""The case state's fields (`projections.case_state.CaseRow`) as the audit screen names them."""


def champ_etat(name: str) -> str:
    return CHAMPS_ETAT.get(name, name.replace("_", " ").capitalize())
