"""Seine-et-Marne AAVE bonus indicators, per structure, and whether each reference value is met.

The structure an item belongs to is the structure of the orientation in force when it happened
(a RDV planned, a contract signed) or on the period's last day (the caseload).
"""

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import msgspec

from domain.delais import Delai
from domain.vocabulary import IssueRdv, TypeOrganisme, TypeRdv
from projections.indicateurs import Colonne, Periode, Tableau, jours, taux
from projections.suivi import Suivi


class ValeursReference(msgspec.Struct, frozen=True, kw_only=True):
    """The 2022 convention's reference values (DOMAIN.md, Seine-et-Marne AAVE subsidies)."""

    rdv_par_etp_par_mois: int = 60
    intervalle_max_jours: int = 61
    """At least one RDV every two months per person on average."""
    absenteisme_max: float = 30.0
    referencement_min: float = 95.0
    contractualisation_min: float = 80.0
    contrat_dans_le_mois_min: float = 70.0
    file_active_par_etp: int = 120
    tolerance_file_active: float = 10.0
    delai_contrat: Delai = Delai(mois=1)


COLONNES = [
    Colonne("structure", "Structure"),
    Colonne("etp", "ETP"),
    Colonne("file_active", "File active en fin de période"),
    Colonne("file_active_par_etp", "File active par ETP"),
    Colonne("file_active_atteinte", "File active dans la cible (120 ± 10 % par ETP)"),
    Colonne("rdv_planifies", "RDV individuels planifiés"),
    Colonne("rdv_par_mois", "RDV planifiés par mois"),
    Colonne("rdv_par_etp_par_mois", "RDV planifiés par ETP et par mois"),
    Colonne("rdv_atteint", "Valeur de référence atteinte: 60 RDV par ETP et par mois"),
    Colonne("intervalle_moyen_rdv", "Intervalle moyen entre deux RDV d'une personne (jours)"),
    Colonne("intervalle_atteint", "Valeur de référence atteinte: un RDV tous les 2 mois"),
    Colonne("absenteisme", "Absentéisme (%)"),
    Colonne("absenteisme_atteint", "Valeur de référence atteinte: absentéisme < 30 %"),
    Colonne("taux_referencement", "Taux de référencement (%)"),
    Colonne("referencement_atteint", "Valeur de référence atteinte: référencement ≥ 95 %"),
    Colonne("taux_contractualisation", "Taux de contractualisation (%)"),
    Colonne("contractualisation_atteinte", "Valeur de référence atteinte: contrats ≥ 80 %"),
    Colonne("orientes_dans_la_periode", "Personnes orientées vers la structure dans la période"),
    Colonne("contrats_dans_le_mois", "dont contrat signé dans le mois de l'orientation"),
    Colonne("part_contrats_dans_le_mois", "Part des contrats dans le mois (%)"),
    Colonne("contrat_dans_le_mois_atteint", "Valeur de référence atteinte: ≥ 70 % dans le mois"),
    Colonne("toutes_valeurs_atteintes", "Toutes les valeurs de référence atteintes"),
]


def _met(value: float | None, ok: bool) -> bool | None:
    return None if value is None else ok


def structures_aave(episodes: Sequence[Suivi]) -> list[str]:
    """Every structure some episode was oriented to as an AAVE."""
    return sorted(
        {
            o.structure_id
            for s in episodes
            for o in s.orientations
            if o.organisme is TypeOrganisme.AAVE
        }
    )


def indicateurs_structure(
    episodes: Sequence[Suivi],
    structure_id: str,
    periode: Periode,
    etp: float | None,
    ref: ValeursReference,
) -> dict[str, Any]:
    fin = periode.au
    caseload = referenced = contracted = 0
    planned = seen = noshow = 0
    intervals: list[float] = []
    oriented = in_month = 0
    for s in episodes:
        o = s.orientation_le(fin)
        if o is not None and o.structure_id == structure_id and s.ouvert_le(fin):
            caseload += 1
            referenced += s.referent_le(fin) is not None
            contracted += s.cer_en_cours_le(fin) is not None
        dates: list[date] = []
        for r in s.rdvs:
            if r.structure_id != structure_id or not periode.contient(r.date_rdv):
                continue
            if r.type_rdv is TypeRdv.INFORMATION_COLLECTIVE:
                continue
            planned += 1
            seen += r.issue is IssueRdv.SEEN
            noshow += r.issue is IssueRdv.NOSHOW
            dates.append(r.date_rdv)
        if len(dates) >= 2:
            dates.sort()
            intervals.append(jours(dates[0], dates[-1]) / (len(dates) - 1))
        for o in s.orientations:
            if o.structure_id != structure_id or not periode.contient(o.date_orientation):
                continue
            oriented += 1
            deadline = ref.delai_contrat.echeance(o.date_orientation)
            in_month += any(
                o.date_orientation <= c.signe_le <= deadline and c.structure_id == structure_id
                for c in s.cers
            )
    months = periode.nb_mois
    per_etp = round(caseload / etp, 1) if etp else None
    rdv_etp_month = round(planned / etp / months, 1) if etp else None
    interval = round(sum(intervals) / len(intervals), 1) if intervals else None
    absent = taux(noshow, seen + noshow)
    referencing = taux(referenced, caseload)
    contract = taux(contracted, caseload)
    share = taux(in_month, oriented)
    low = ref.file_active_par_etp * (1 - ref.tolerance_file_active / 100)
    high = ref.file_active_par_etp * (1 + ref.tolerance_file_active / 100)
    met = {
        "rdv_atteint": _met(rdv_etp_month, (rdv_etp_month or 0) >= ref.rdv_par_etp_par_mois),
        "intervalle_atteint": _met(interval, (interval or 0) <= ref.intervalle_max_jours),
        "absenteisme_atteint": _met(absent, (absent or 0) < ref.absenteisme_max),
        "referencement_atteint": _met(referencing, (referencing or 0) >= ref.referencement_min),
        "contractualisation_atteinte": _met(
            contract, (contract or 0) >= ref.contractualisation_min
        ),
        "contrat_dans_le_mois_atteint": _met(share, (share or 0) >= ref.contrat_dans_le_mois_min),
    }
    return {
        "structure": structure_id,
        "etp": etp,
        "file_active": caseload,
        "file_active_par_etp": per_etp,
        "file_active_atteinte": _met(per_etp, low <= (per_etp or 0) <= high),
        "rdv_planifies": planned,
        "rdv_par_mois": round(planned / months, 1),
        "rdv_par_etp_par_mois": rdv_etp_month,
        "intervalle_moyen_rdv": interval,
        "absenteisme": absent,
        "taux_referencement": referencing,
        "taux_contractualisation": contract,
        "orientes_dans_la_periode": oriented,
        "contrats_dans_le_mois": in_month,
        "part_contrats_dans_le_mois": share,
        **met,
        "toutes_valeurs_atteintes": all(v is True for v in met.values()),
    }


def indicateurs_aave(
    episodes: Sequence[Suivi],
    periode: Periode,
    etp: Mapping[str, float],
    structures: Sequence[str] | None = None,
    ref: ValeursReference | None = None,
) -> Tableau:
    """One line per AAVE structure (or per structure asked for)."""
    reference = ref or ValeursReference()
    chosen = list(structures) if structures else structures_aave(episodes)
    return Tableau(
        indicateur="aave",
        libelle="Indicateurs de la bonification AAVE, par structure",
        du=periode.du,
        au=periode.au,
        ventilation="structure",
        regles=["aave-seine-et-marne-2022"],
        colonnes=COLONNES,
        lignes=[
            indicateurs_structure(episodes, sid, periode, etp.get(sid), reference) for sid in chosen
        ],
    )
