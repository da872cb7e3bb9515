"""National table 3.1, "orienter et accompagner les allocataires du RSA"."""

from collections.abc import Sequence
from typing import Any

from domain.vocabulary import TypeOrientation
from projections import indicateurs as ind
from projections.suivi import Suivi

ACCOMPAGNEMENT_SOCIAL = frozenset({TypeOrientation.SOCIALE, TypeOrientation.SOCIO_PROFESSIONNELLE})

COLONNES = [
    ind.Colonne("nouveaux_entrants", "Nouveaux entrants"),
    ind.Colonne("orientes_dans_le_delai", "Nouveaux entrants orientés dans le délai"),
    ind.Colonne("premiers_rdv", "Nombre total de 1ers RDV d'accompagnement fixés"),
    ind.Colonne("premiers_rdv_dans_le_delai", "dont 1ers RDV dans le délai"),
    ind.Colonne("premiers_cer", "Nombre total de 1ers CER"),
    ind.Colonne("premiers_cer_dans_le_delai", "dont 1ers CER dans le délai"),
]


def table31(
    episodes: Sequence[Suivi], periode: ind.Periode, par: str | None, choix: ind.Choix
) -> ind.Tableau:
    g = ind.Groupes()
    used: set[str] = set()
    for s, regle in choix.lus(episodes):
        ref = ind.reference_entree(s, regle)
        entrant = periode.contient(ref) and s.soumis[0][1]
        if entrant:
            used.add(regle.nom)
            first = s.premiere_orientation
            key = ind.cle(par, s, first, ref)
            g.add(key, "nouveaux_entrants")
            if first is not None and first.date_orientation <= regle.table31_orientation.echeance(
                ref
            ):
                g.add(key, "orientes_dans_le_delai")
            cer = s.premier_cer()
            orientation = s.orientation_le(cer.signe_le) if cer else None
            if cer is not None and orientation is not None and ind.hors_france_travail(orientation):
                key = ind.cle(par, s, orientation, ref)
                g.add(key, "premiers_cer")
                if cer.signe_le <= regle.table31_cer.echeance(orientation.date_orientation):
                    g.add(key, "premiers_cer_dans_le_delai")
        rdv = s.premier_rdv_accompagnement()
        if rdv is None or not periode.contient(rdv.planifie_le):
            continue
        orientation = s.orientation_le(rdv.planifie_le)
        if (
            orientation is None
            or not ind.hors_france_travail(orientation)
            or orientation.type_orientation not in ACCOMPAGNEMENT_SOCIAL
        ):
            continue
        used.add(regle.nom)
        key = ind.cle(par, s, orientation, rdv.planifie_le)
        g.add(key, "premiers_rdv")
        if rdv.date_rdv <= regle.table31_premier_rdv.echeance(orientation.date_orientation):
            g.add(key, "premiers_rdv_dans_le_delai")

    def build(groupes: ind.Groupes, key: str | None) -> dict[str, Any]:
        return {c.nom: groupes.count(key, c.nom) for c in COLONNES}

    return ind.tableau(
        "table-3-1",
        "Tableau 3.1: orienter et accompagner les allocataires du RSA",
        periode,
        par,
        used,
        COLONNES,
        g,
        build,
    )
