"""A person's full path as evaluation extracts give it: pure functions over one case's history.

Two shapes: one row per event (`lignes_evenements`) and one row per person-episode with its
milestones (`lignes_episodes`). A row never carries the case id, the CAF/MSA file number, an
agent's name, a referent's id or a free-text motive: see docs/pseudonymisation.md.
"""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, Literal, get_args

import msgspec

from domain import events as ev
from domain.cohorts import DefinitionCohorte, TrancheAge, tranche_age
from domain.corrections import effective_history
from domain.events import Evenement, Profil, Recorded
from domain.vocabulary import RDV_AVANT_ORIENTATION, SORTIES_POSITIVES, IssueRdv
from projections.pseudonym import NiveauCommune, commune_publiee

Kind = Literal["str", "int", "bool", "date", "timestamp"]
Row = dict[str, Any]


class Colonne(msgspec.Struct, frozen=True):
    """One column of an extract: its name, type, French header and meaning."""

    nom: str
    type: Kind
    entete: str
    sens: str


# --- one row per person-episode ---------------------------------------------------------------


class Episode(msgspec.Struct, kw_only=True):
    """What an episode's milestones were; built by one pass over the history."""

    numero: int
    date_entree: date
    date_flux: date
    soumis_droits_devoirs: bool
    profil: Profil | None
    organisme_payeur: str | None = None
    date_orientation: date | None = None
    type_orientation: str | None = None
    organisme: str | None = None
    structure_id: str | None = None
    date_referent: date | None = None
    date_premier_rdv: date | None = None
    date_premier_cer: date | None = None
    date_sortie: date | None = None
    type_sortie: str | None = None
    date_cloture: date | None = None
    motif_cloture: str | None = None
    nb_rdv_honores: int = 0
    nb_rdv_absences: int = 0
    nb_rdv_excuses: int = 0
    nb_rdv_annules: int = 0
    nb_cer: int = 0
    nb_sanctions: int = 0
    nb_sanctions_levees: int = 0
    nb_reorientations: int = 0
    nb_suspensions: int = 0
    nb_entretiens_asc: int = 0

    @property
    def tranche_age(self) -> TrancheAge | None:
        naissance = self.profil.annee_naissance if self.profil else None
        return tranche_age(naissance, self.date_entree.year)


_ISSUE_FIELD = {
    IssueRdv.SEEN: "nb_rdv_honores",
    IssueRdv.NOSHOW: "nb_rdv_absences",
    IssueRdv.EXCUSED: "nb_rdv_excuses",
    IssueRdv.REVOKED: "nb_rdv_annules",
}


def episodes(history: Sequence[Recorded]) -> list[Episode]:
    """Each episode of a case (an entry or re-entry and what followed), voided steps left out."""
    out: list[Episode] = []
    profil: Profil | None = None
    payeur: str | None = None
    for recorded in effective_history(history):
        e = recorded.event
        if isinstance(e, ev.Ouverture):
            profil = e.profil or profil
            if isinstance(e, ev.EntreeEnregistree):
                payeur = e.organisme_payeur.value
            out.append(
                Episode(
                    numero=len(out) + 1,
                    date_entree=e.effective_on,
                    date_flux=e.date_flux,
                    soumis_droits_devoirs=e.soumis_droits_devoirs,
                    profil=profil,
                    organisme_payeur=payeur,
                )
            )
        elif out:
            _milestone(out[-1], e)
    return out


def _milestone(ep: Episode, e: Evenement) -> None:
    """What a step changes in its episode's milestones. Partial fold: the steps an extract
    does not count (a changed rights-and-duties flag, a right taken up again) leave it as is."""
    match e:
        case ev.OrientationDecidee() | ev.ReorientationDecidee():
            if ep.date_orientation is None:
                ep.date_orientation = e.effective_on
                ep.type_orientation = e.type_orientation.value
                ep.organisme = e.organisme.value
                ep.structure_id = e.structure_id
            ep.nb_reorientations += isinstance(e, ev.ReorientationDecidee)
        case ev.ReferentDesigne():
            ep.date_referent = ep.date_referent or e.effective_on
        case ev.RdvPlanifie():
            if ep.date_premier_rdv is None and e.type_rdv not in RDV_AVANT_ORIENTATION:
                ep.date_premier_rdv = e.date_rdv
        case ev.IssueRdvEnregistree():
            field = _ISSUE_FIELD[e.issue]
            setattr(ep, field, getattr(ep, field) + 1)
        case ev.CerSigne():
            ep.nb_cer += 1
            ep.date_premier_cer = ep.date_premier_cer or e.effective_on
        case ev.SortieEnregistree():
            ep.date_sortie = ep.date_sortie or e.effective_on
            ep.type_sortie = ep.type_sortie or e.type_sortie.value
        case ev.DroitClos():
            ep.date_cloture = e.effective_on
            ep.motif_cloture = e.motif.value
        case ev.SanctionDecidee():
            ep.nb_sanctions += 1
        case ev.SanctionLevee():
            ep.nb_sanctions_levees += 1
        case ev.DroitSuspendu():
            ep.nb_suspensions += 1
        case ev.EntretienAscTenu():
            ep.nb_entretiens_asc += 1
        case _:
            pass


def dans_territoire(definition: DefinitionCohorte, episode: Episode) -> bool:
    """The territory criterion, in one place: communes of residence and the first orientation's
    structure today; a structure's territory from the structures' reference data later."""
    commune = episode.profil.code_commune if episode.profil else None
    if definition.communes and commune not in definition.communes:
        return False
    return not definition.structures or episode.structure_id in definition.structures


def appartient(definition: DefinitionCohorte, episode: Episode) -> bool:
    """Whether a person-episode is in the cohort."""
    d = definition
    if d.entree_du is not None and episode.date_entree < d.entree_du:
        return False
    if d.entree_au is not None and episode.date_entree > d.entree_au:
        return False
    if d.soumis_droits_devoirs is not None and episode.soumis_droits_devoirs != (
        d.soumis_droits_devoirs
    ):
        return False
    if d.types_orientation and episode.type_orientation not in d.types_orientation:
        return False
    if d.sexes and (episode.profil is None or episode.profil.sexe not in d.sexes):
        return False
    if d.tranches_age and episode.tranche_age not in d.tranches_age:
        return False
    return dans_territoire(d, episode)


ENTRY_TYPES = get_args(ev.Ouverture)


def entree_possible(definition: DefinitionCohorte, entries: Sequence[Evenement]) -> bool:
    """A cheap first look at a case's entry events alone: False only when no episode of the
    case can be in the cohort (the entry date and the rights-and-duties flag are the entry's
    own), so the rest of its history need not be decoded."""
    d = definition
    for e in entries:
        if not isinstance(e, ev.Ouverture):
            continue
        if d.entree_du is not None and e.effective_on < d.entree_du:
            continue
        if d.entree_au is not None and e.effective_on > d.entree_au:
            continue
        if (
            d.soumis_droits_devoirs is not None
            and e.soumis_droits_devoirs != d.soumis_droits_devoirs
        ):
            continue
        return True
    return False


def _jours(debut: date | None, fin: date | None) -> int | None:
    return None if debut is None or fin is None else (fin - debut).days


COLONNES_EPISODES: tuple[Colonne, ...] = (
    Colonne("cle_personne", "str", "Clé personne", "HMAC-SHA256 du dossier (32 hexadécimaux)"),
    Colonne("episode", "int", "Épisode", "Rang de l'entrée (1 = première entrée)"),
    Colonne("dans_cohorte", "bool", "Dans la cohorte", "L'épisode répond à la définition"),
    Colonne("sexe", "str", "Sexe", "F ou M, vide si inconnu"),
    Colonne("tranche_age", "str", "Tranche d'âge", "Âge atteint l'année de l'entrée, en tranche"),
    Colonne("commune", "str", "Commune", "Code INSEE, ou département si grossi, ou vide"),
    Colonne("soumis_droits_devoirs", "bool", "Soumis droits et devoirs", "À l'entrée"),
    Colonne("organisme_payeur", "str", "Organisme payeur", "caf ou msa"),
    Colonne("date_entree", "date", "Date d'entrée", "Date d'effet de l'entrée"),
    Colonne("date_flux", "date", "Date du flux", "Transmission quotidienne CAF/MSA"),
    Colonne("date_orientation", "date", "Date d'orientation", "Première orientation"),
    Colonne("type_orientation", "str", "Type d'orientation", "De la première orientation"),
    Colonne("organisme", "str", "Organisme référent", "De la première orientation"),
    Colonne("structure_id", "str", "Structure", "De la première orientation"),
    Colonne("date_referent", "date", "Date désignation référent", "Première désignation"),
    Colonne("date_premier_rdv", "date", "Date 1er RDV", "1er RDV d'accompagnement"),
    Colonne("date_premier_cer", "date", "Date 1er CER", "Premier contrat de l'épisode"),
    Colonne("date_sortie", "date", "Date de sortie", "Sortie du dispositif"),
    Colonne("type_sortie", "str", "Type de sortie", "Code de sortie"),
    Colonne("sortie_positive", "bool", "Sortie positive", "Selon la liste du département"),
    Colonne("date_cloture", "date", "Date de clôture", "Clôture du droit"),
    Colonne("motif_cloture", "str", "Motif de clôture", "Code de clôture"),
    Colonne("delai_orientation_jours", "int", "Délai orientation (j)", "Entrée → orientation"),
    Colonne("delai_referent_jours", "int", "Délai référent (j)", "Orientation → référent"),
    Colonne("delai_premier_rdv_jours", "int", "Délai 1er RDV (j)", "Orientation → 1er RDV"),
    Colonne("delai_cer_jours", "int", "Délai 1er CER (j)", "Orientation → 1er CER"),
    Colonne("delai_sortie_jours", "int", "Délai sortie (j)", "Entrée → sortie"),
    Colonne("nb_rdv_honores", "int", "RDV honorés", "Issues « seen »"),
    Colonne("nb_rdv_absences", "int", "RDV non honorés", "Issues « noshow »"),
    Colonne("nb_rdv_excuses", "int", "RDV excusés", "Issues « excused »"),
    Colonne("nb_rdv_annules", "int", "RDV annulés", "Issues « revoked »"),
    Colonne("nb_cer", "int", "CER signés", "Premiers et renouvellements"),
    Colonne("nb_sanctions", "int", "Sanctions", "Décidées dans l'épisode"),
    Colonne("nb_sanctions_levees", "int", "Sanctions levées", "Levées dans l'épisode"),
    Colonne("nb_reorientations", "int", "Réorientations", "Dans l'épisode"),
    Colonne("nb_suspensions", "int", "Suspensions", "Du droit, dans l'épisode"),
    Colonne("nb_entretiens_asc", "int", "Entretiens ASC", "Appui social complémentaire"),
)


def ligne_episode(
    cle: str, ep: Episode, dans_cohorte: bool, communes: NiveauCommune = NiveauCommune.COMMUNE
) -> Row:
    """One person-episode row, in the columns of `COLONNES_EPISODES`."""
    profil = ep.profil
    tranche = ep.tranche_age
    return {
        "cle_personne": cle,
        "episode": ep.numero,
        "dans_cohorte": dans_cohorte,
        "sexe": profil.sexe.value if profil and profil.sexe else None,
        "tranche_age": tranche.value if tranche else None,
        "commune": commune_publiee(profil.code_commune if profil else None, communes),
        "soumis_droits_devoirs": ep.soumis_droits_devoirs,
        "organisme_payeur": ep.organisme_payeur,
        "date_entree": ep.date_entree,
        "date_flux": ep.date_flux,
        "date_orientation": ep.date_orientation,
        "type_orientation": ep.type_orientation,
        "organisme": ep.organisme,
        "structure_id": ep.structure_id,
        "date_referent": ep.date_referent,
        "date_premier_rdv": ep.date_premier_rdv,
        "date_premier_cer": ep.date_premier_cer,
        "date_sortie": ep.date_sortie,
        "type_sortie": ep.type_sortie,
        "sortie_positive": None
        if ep.type_sortie is None
        else ep.type_sortie in {s.value for s in SORTIES_POSITIVES},
        "date_cloture": ep.date_cloture,
        "motif_cloture": ep.motif_cloture,
        "delai_orientation_jours": _jours(ep.date_entree, ep.date_orientation),
        "delai_referent_jours": _jours(ep.date_orientation, ep.date_referent),
        "delai_premier_rdv_jours": _jours(ep.date_orientation, ep.date_premier_rdv),
        "delai_cer_jours": _jours(ep.date_orientation, ep.date_premier_cer),
        "delai_sortie_jours": _jours(ep.date_entree, ep.date_sortie),
        "nb_rdv_honores": ep.nb_rdv_honores,
        "nb_rdv_absences": ep.nb_rdv_absences,
        "nb_rdv_excuses": ep.nb_rdv_excuses,
        "nb_rdv_annules": ep.nb_rdv_annules,
        "nb_cer": ep.nb_cer,
        "nb_sanctions": ep.nb_sanctions,
        "nb_sanctions_levees": ep.nb_sanctions_levees,
        "nb_reorientations": ep.nb_reorientations,
        "nb_suspensions": ep.nb_suspensions,
        "nb_entretiens_asc": ep.nb_entretiens_asc,
    }


# --- one row per event ------------------------------------------------------------------------

COLONNES_EVENEMENTS: tuple[Colonne, ...] = (
    Colonne("cle_personne", "str", "Clé personne", "HMAC-SHA256 du dossier (32 hexadécimaux)"),
    Colonne("episode", "int", "Épisode", "Rang de l'entrée à laquelle l'étape appartient"),
    Colonne("rang", "int", "Rang", "Ordre de l'étape dans le parcours (étapes annulées ôtées)"),
    Colonne("type_evenement", "str", "Étape", "Nom de l'événement"),
    Colonne("date_effet", "date", "Date d'effet", "Date à laquelle l'étape a pris effet"),
    Colonne("enregistre_le", "timestamp", "Enregistré le", "Horodatage UTC de l'enregistrement"),
    Colonne("structure_id", "str", "Structure", "Structure de l'étape, sinon de l'agent"),
    Colonne("type_orientation", "str", "Type d'orientation", "Orientations"),
    Colonne("organisme", "str", "Organisme référent", "Orientations"),
    Colonne("mode", "str", "Mode", "Orientation ou RDV"),
    Colonne("type_rdv", "str", "Type de RDV", "RDV planifiés"),
    Colonne("date_rdv", "date", "Date du RDV", "RDV planifiés"),
    Colonne("issue_rdv", "str", "Issue du RDV", "seen, noshow, excused, revoked"),
    Colonne("numero", "int", "Numéro", "Du RDV, du CER ou de la sanction dans le dossier"),
    Colonne("duree_cer_mois", "int", "Durée CER (mois)", "CER signés"),
    Colonne("renouvellement", "bool", "Renouvellement", "CER signés"),
    Colonne("type_sortie", "str", "Type de sortie", "Sorties"),
    Colonne("type_sanction", "str", "Type de sanction", "Sanctions"),
    Colonne("motif_cloture", "str", "Motif de clôture", "Clôtures"),
    Colonne("soumis_droits_devoirs", "bool", "Soumis droits et devoirs", "Entrées"),
)

_EMPTY_EVENT: Row = {c.nom: None for c in COLONNES_EVENEMENTS}


def _kind_fields(e: Evenement) -> Row:
    """The coded fields of an event; free texts and identifiers are never copied. Partial
    fold: an event with no coded field (a right taken up again, a correction) adds none."""
    match e:
        case ev.OrientationDecidee():
            return {
                "type_orientation": e.type_orientation.value,
                "organisme": e.organisme.value,
                "structure_id": e.structure_id,
                "mode": e.mode.value,
            }
        case ev.ReorientationDecidee():
            return {
                "type_orientation": e.type_orientation.value,
                "organisme": e.organisme.value,
                "structure_id": e.structure_id,
            }
        case ev.RdvPlanifie():
            return {
                "numero": e.numero,
                "type_rdv": e.type_rdv.value,
                "mode": e.mode.value,
                "date_rdv": e.date_rdv,
            }
        case ev.IssueRdvEnregistree():
            return {"numero": e.numero, "issue_rdv": e.issue.value}
        case ev.CerSigne():
            return {
                "numero": e.numero,
                "duree_cer_mois": e.duree_mois,
                "renouvellement": e.renouvellement,
            }
        case ev.EntretienAscTenu():
            return {"structure_id": e.structure_id}
        case ev.SortieEnregistree():
            return {"type_sortie": e.type_sortie.value}
        case ev.SanctionDecidee():
            return {"numero": e.numero, "type_sanction": e.type_sanction.value}
        case ev.SanctionLevee():
            return {"numero": e.numero}
        case ev.DroitClos():
            return {"motif_cloture": e.motif.value}
        case ev.EntreeEnregistree() | ev.DroitRouvert():
            return {"soumis_droits_devoirs": e.soumis_droits_devoirs}
        case _:
            return {}


def lignes_evenements(cle: str, history: Sequence[Recorded]) -> list[Row]:
    """One row per step of the person's path (voided steps left out), in order."""
    rows: list[Row] = []
    episode = 0
    for rang, recorded in enumerate(effective_history(history), 1):
        e = recorded.event
        episode += isinstance(e, ev.Ouverture)
        recorded_at: datetime = e.meta.recorded_at
        row = {
            **_EMPTY_EVENT,
            "cle_personne": cle,
            "episode": episode,
            "rang": rang,
            "type_evenement": type(e).__name__,
            "date_effet": e.effective_on,
            "enregistre_le": recorded_at,
            "structure_id": e.meta.structure_id,
        }
        row.update(_kind_fields(e))
        rows.append(row)
    return rows
