"""Rhône-style rates and delays: orientation and contract rates, with mean, median and 90th
percentile of the delays."""

from collections.abc import Sequence
from datetime import date
from typing import Any

from projections import indicateurs as ind
from projections.suivi import Suivi

COLONNES = [
    ind.Colonne("soumis_droits_devoirs", "Soumis aux droits et devoirs en fin de période"),
    ind.Colonne("orientes", "dont orientés"),
    ind.Colonne("taux_orientation", "Taux d'orientation (%)"),
    ind.Colonne("orientations", "Premières orientations décidées dans la période"),
    ind.Colonne("orientations_dans_le_delai", "dont dans le délai"),
    ind.Colonne("taux_orientation_dans_le_delai", "Part orientée dans le délai (%)"),
    *ind.colonnes_resume("delai_orientation", "Délai d'orientation"),
    ind.Colonne("orientes_contrat_attendu", "Orientés devant signer un contrat, en fin de période"),
    ind.Colonne("sous_contrat", "dont avec un contrat en cours"),
    ind.Colonne("taux_contractualisation", "Taux de contractualisation (%)"),
    ind.Colonne("premiers_contrats", "Premiers contrats signés dans la période"),
    ind.Colonne("premiers_contrats_dans_le_delai", "dont dans le délai"),
    *ind.colonnes_resume("delai_contractualisation", "Délai de contractualisation"),
]


def _stock(
    g: ind.Groupes, par: str | None, history: list[Suivi], jour: date, choix: ind.Choix
) -> None:
    s = ind.episode_le(history, jour)
    if s is None or not (s.ouvert_le(jour) and not s.suspendu_le(jour) and s.soumis_le(jour)):
        return
    o = s.orientation_le(jour)
    key = ind.cle(par, s, o, jour)
    g.add(key, "soumis_droits_devoirs")
    if o is None:
        return
    g.add(key, "orientes")
    if choix.pour(s).delai_cer(o.type_orientation, o.organisme) is None:
        return
    g.add(key, "orientes_contrat_attendu")
    if s.cer_en_cours_le(jour) is not None:
        g.add(key, "sous_contrat")


def taux_et_delais(
    episodes: Sequence[Suivi], periode: ind.Periode, par: str | None, choix: ind.Choix
) -> ind.Tableau:
    g = ind.Groupes()
    used: set[str] = set()
    cases: dict[object, list[Suivi]] = {}
    for s in episodes:
        cases.setdefault(s.case_id, []).append(s)
        regle = choix.pour(s)
        first = s.premiere_orientation
        if first is not None and periode.contient(first.date_orientation):
            used.add(regle.nom)
            ref = ind.reference_entree(s, regle)
            key = ind.cle(par, s, first, first.date_orientation)
            g.add(key, "orientations")
            g.sample(key, "orientation", ind.jours(ref, first.date_orientation))
            if first.date_orientation <= regle.orientation.echeance(ref):
                g.add(key, "orientations_dans_le_delai")
        cer = s.premier_cer()
        if cer is None or not periode.contient(cer.signe_le):
            continue
        o = s.orientation_le(cer.signe_le)
        if o is None:
            continue
        target = regle.delai_cer(o.type_orientation, o.organisme)
        if target is None:
            continue
        used.add(regle.nom)
        key = ind.cle(par, s, o, cer.signe_le)
        g.add(key, "premiers_contrats")
        g.sample(key, "contrat", ind.jours(o.date_orientation, cer.signe_le))
        if cer.signe_le <= target.echeance(o.date_orientation):
            g.add(key, "premiers_contrats_dans_le_delai")
    stock_days = periode.fins_de_mois() if par == "mois" else [periode.au]
    for history in cases.values():
        history.sort(key=lambda s: s.episode)
        for jour in stock_days:
            _stock(g, par, history, jour, choix)

    def build(groupes: ind.Groupes, key: str | None) -> dict[str, Any]:
        c = groupes.count
        return {
            "soumis_droits_devoirs": c(key, "soumis_droits_devoirs"),
            "orientes": c(key, "orientes"),
            "taux_orientation": ind.taux(c(key, "orientes"), c(key, "soumis_droits_devoirs")),
            "orientations": c(key, "orientations"),
            "orientations_dans_le_delai": c(key, "orientations_dans_le_delai"),
            "taux_orientation_dans_le_delai": ind.taux(
                c(key, "orientations_dans_le_delai"), c(key, "orientations")
            ),
            **ind.resume("delai_orientation", groupes.values(key, "orientation")),
            "orientes_contrat_attendu": c(key, "orientes_contrat_attendu"),
            "sous_contrat": c(key, "sous_contrat"),
            "taux_contractualisation": ind.taux(
                c(key, "sous_contrat"), c(key, "orientes_contrat_attendu")
            ),
            "premiers_contrats": c(key, "premiers_contrats"),
            "premiers_contrats_dans_le_delai": c(key, "premiers_contrats_dans_le_delai"),
            **ind.resume("delai_contractualisation", groupes.values(key, "contrat")),
        }

    return ind.tableau(
        "taux-et-delais",
        "Taux d'orientation et de contractualisation, délais",
        periode,
        par,
        used,
        COLONNES,
        g,
        build,
    )
