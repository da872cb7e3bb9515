"""The DREES OARSA survey's orientation and accompaniment figures at 31/12 of a year."""

from collections.abc import Sequence
from datetime import date
from itertools import groupby
from typing import Any

from projections.indicateurs import (
    Colonne,
    Groupes,
    Periode,
    Tableau,
    annee,
    cle,
    episode_le,
    hors_france_travail,
    jours,
    moyenne,
    spe,
    tableau,
)
from projections.suivi import OrientationSuivie, Suivi

COLONNES = [
    Colonne("soumis_droits_devoirs", "Personnes soumises aux droits et devoirs au 31/12"),
    Colonne("orientes", "dont orientées"),
    Colonne("primo_orientes", "dont primo-orientées"),
    Colonne("primo_orientes_spe", "Primo-orientées vers le SPE"),
    Colonne("primo_orientes_hors_spe", "Primo-orientées hors SPE"),
    Colonne("entrants_primo_orientes", "Entrées dans l'année, primo-orientées au 31/12"),
    Colonne("delai_moyen_orientation", "Délai moyen entrée → primo-orientation (jours)"),
    Colonne("avec_premier_cer", "Primo-orientées hors Pôle emploi avec un 1er CER valide au 31/12"),
    Colonne("delai_moyen_cer", "Délai moyen primo-orientation → 1er CER (jours)"),
    Colonne("reorientations_spe_vers_hors_spe", "Réorientations du SPE vers hors SPE"),
    Colonne("reorientations_hors_spe_vers_spe", "Réorientations hors SPE vers le SPE"),
]


def _by_case(episodes: Sequence[Suivi]) -> list[list[Suivi]]:
    ordered = sorted(episodes, key=lambda s: (s.case_id, s.episode))
    return [list(group) for _, group in groupby(ordered, key=lambda s: s.case_id)]


def drees(episodes: Sequence[Suivi], an: int, par: str | None) -> Tableau:
    if par == "mois":
        raise ValueError("par")
    fin = date(an, 12, 31)
    year = annee(an)
    g = Groupes()
    for history in _by_case(episodes):
        _reorientation(g, par, history, year)
        s = episode_le(history, fin)
        if s is None or not (s.ouvert_le(fin) and not s.suspendu_le(fin) and s.soumis_le(fin)):
            continue
        o = s.orientation_le(fin)
        key = cle(par, s, o, fin)
        g.add(key, "soumis_droits_devoirs")
        if o is None:
            continue
        g.add(key, "orientes")
        if o is not s.orientations[0]:
            continue
        g.add(key, "primo_orientes")
        g.add(key, "primo_orientes_spe" if spe(o) else "primo_orientes_hors_spe")
        if not year.contient(s.date_entree):
            continue
        g.add(key, "entrants_primo_orientes")
        g.sample(key, "orientation", jours(s.date_entree, o.date_orientation))
        cer = s.cer_en_cours_le(fin)
        if hors_france_travail(o) and cer is not None and not cer.renouvellement:
            g.add(key, "avec_premier_cer")
            g.sample(key, "cer", jours(o.date_orientation, cer.signe_le))

    def build(groupes: Groupes, key: str | None) -> dict[str, Any]:
        line: dict[str, Any] = {c.nom: groupes.count(key, c.nom) for c in COLONNES}
        line["delai_moyen_orientation"] = moyenne(groupes.values(key, "orientation"))
        line["delai_moyen_cer"] = moyenne(groupes.values(key, "cer"))
        return line

    return tableau(
        "drees-oarsa",
        f"Enquête OARSA: orientation et accompagnement au 31/12/{an}",
        year,
        par,
        ["definitions-drees"],
        COLONNES,
        g,
        build,
    )


def _reorientation(g: Groupes, par: str | None, history: list[Suivi], year: Periode) -> None:
    """A person's last réorientation of the year that crosses SPE / hors SPE, counted once."""
    last: tuple[Suivi, OrientationSuivie, OrientationSuivie] | None = None
    for s in history:
        for before, after in zip(s.orientations, s.orientations[1:], strict=False):
            if year.contient(after.date_orientation) and spe(before) != spe(after):
                last = (s, before, after)
    if last is None:
        return
    s, before, after = last
    name = "reorientations_spe_vers_hors_spe" if spe(before) else "reorientations_hors_spe_vers_spe"
    g.add(cle(par, s, after, after.date_orientation), name)
