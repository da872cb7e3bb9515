"""Further délais indicators: start of accompagnement global, convocation within 15 days of
entry (Ille-et-Vilaine), sanctions decided per year."""

from collections.abc import Sequence
from typing import Any

from domain.vocabulary import IssueRdv, ModeRdv, TypeOrganisme, TypeOrientation
from projections import indicateurs as ind
from projections.suivi import OrientationSuivie, Suivi


def accompagnement_global(o: OrientationSuivie) -> bool:
    """An accompagnement global: a socio-professional orientation to France Travail, which
    pairs a France Travail counsellor with a département social worker."""
    return (
        o.type_orientation is TypeOrientation.SOCIO_PROFESSIONNELLE
        and o.organisme is TypeOrganisme.FRANCE_TRAVAIL
    )


COLONNES = [
    ind.Colonne("accompagnements_globaux", "Entrées en accompagnement global dans la période"),
    ind.Colonne("accompagnements_demarres", "dont démarrés (1er RDV honoré)"),
    ind.Colonne("demarres_dans_le_delai", "dont démarrés dans le délai"),
    *ind.colonnes_resume("delai_demarrage", "Délai de démarrage de l'accompagnement global"),
    ind.Colonne("entrants", "Nouveaux entrants"),
    ind.Colonne("convoques", "dont convoqués"),
    ind.Colonne("convoques_dans_le_delai", "dont convoqués dans le délai (15 jours)"),
    ind.Colonne("taux_convocation_dans_le_delai", "Part des entrants convoqués dans le délai (%)"),
    ind.Colonne("sanctions", "Sanctions décidées"),
    ind.Colonne("sanctions_reduction", "dont réductions"),
    ind.Colonne("sanctions_suspension", "dont suspensions"),
    ind.Colonne("sanctions_suspension_remobilisation", "dont suspensions-remobilisations"),
    ind.Colonne("sanctions_radiation", "dont radiations"),
]


def complementaires(
    episodes: Sequence[Suivi], periode: ind.Periode, par: str | None, choix: ind.Choix
) -> ind.Tableau:
    g = ind.Groupes()
    used: set[str] = set()
    for s, regle in choix.lus(episodes):
        for o in s.orientations:
            if not accompagnement_global(o) or not periode.contient(o.date_orientation):
                continue
            used.add(regle.nom)
            key = ind.cle(par, s, o, o.date_orientation)
            g.add(key, "accompagnements_globaux")
            start = next(
                (
                    r.date_rdv
                    for r in s.rdvs
                    if r.accompagnement
                    and r.issue is IssueRdv.SEEN
                    and r.date_rdv >= o.date_orientation
                ),
                None,
            )
            if start is None:
                continue
            g.add(key, "accompagnements_demarres")
            g.sample(key, "demarrage", ind.jours(o.date_orientation, start))
            if start <= regle.accompagnement_global.echeance(o.date_orientation):
                g.add(key, "demarres_dans_le_delai")
        ref = ind.reference_entree(s, regle)
        if periode.contient(ref) and s.soumis[0][1]:
            used.add(regle.nom)
            key = ind.cle(par, s, s.premiere_orientation, ref)
            g.add(key, "entrants")
            convocation = next((r for r in s.rdvs if r.mode is ModeRdv.CONVOCATION), None)
            if convocation is not None:
                g.add(key, "convoques")
                if convocation.planifie_le <= regle.convocation.echeance(ref):
                    g.add(key, "convoques_dans_le_delai")
        for day, kind in s.sanctions:
            if periode.contient(day):
                key = ind.cle(par, s, s.orientation_le(day), day)
                g.add(key, "sanctions")
                g.add(key, f"sanctions_{kind.value}")

    def build(groupes: ind.Groupes, key: str | None) -> dict[str, Any]:
        line: dict[str, Any] = {c.nom: groupes.count(key, c.nom) for c in COLONNES}
        line.update(ind.resume("delai_demarrage", groupes.values(key, "demarrage")))
        line["taux_convocation_dans_le_delai"] = ind.taux(
            groupes.count(key, "convoques_dans_le_delai"), groupes.count(key, "entrants")
        )
        return line

    return ind.tableau(
        "complementaires",
        "Accompagnement global, convocation dans les 15 jours, sanctions",
        periode,
        par,
        used,
        COLONNES,
        g,
        build,
    )
