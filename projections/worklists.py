"""What is overdue today in a case, and since when: the lines of an agent's worklist.

Pure: the case's follow-up, today's date and the rule set in force give the alerts. The read
model is refreshed as events arrive; "overdue" is computed at read time against today.
"""

from collections.abc import Iterable
from datetime import date, timedelta
from enum import StrEnum
from uuid import UUID

import msgspec

from domain.dates import add_months
from domain.delais import RegleDelais
from projections.indicateurs import hors_france_travail, reference_entree
from projections.suivi import Suivi
from projections.table31 import ACCOMPAGNEMENT_SOCIAL


class Motif(StrEnum):
    ORIENTATION_EN_RETARD = "orientation_en_retard"
    PREMIER_RDV_EN_RETARD = "premier_rdv_en_retard"
    CER_EN_RETARD = "cer_en_retard"
    CER_BIENTOT_ECHU = "cer_bientot_echu"
    CER_ECHU = "cer_echu"
    SANS_RDV = "sans_rdv"
    RDV_SANS_ISSUE = "rdv_sans_issue"


LIBELLES: dict[Motif, str] = {
    Motif.ORIENTATION_EN_RETARD: "Orientation en retard",
    Motif.PREMIER_RDV_EN_RETARD: "Premier RDV d'accompagnement en retard",
    Motif.CER_EN_RETARD: "Contrat en retard",
    Motif.CER_BIENTOT_ECHU: "Contrat se terminant dans les 30 jours",
    Motif.CER_ECHU: "Contrat échu, non renouvelé",
    Motif.SANS_RDV: "Aucun RDV depuis plus de 2 mois",
    Motif.RDV_SANS_ISSUE: "RDV passé sans issue enregistrée",
}


class Alerte(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a worklist: which case, why, due when, overdue since when."""

    case_id: UUID
    episode: int
    motif: Motif
    libelle: str
    echeance: date
    """The last day that was on time (for a contract ending soon: its last day)."""
    depuis: date
    """The first day the line applies (the day after the deadline; for a contract ending
    soon, the day it entered the warning window)."""
    jours: int
    """Days since `depuis` (0 on that day)."""
    structure_id: str | None
    referent_id: str | None
    detail: str


def _alerte(
    s: Suivi, motif: Motif, echeance: date, depuis: date, today: date, detail: str
) -> Alerte:
    o = s.orientation_le(today)
    return Alerte(
        case_id=s.case_id,
        episode=s.episode,
        motif=motif,
        libelle=LIBELLES[motif],
        echeance=echeance,
        depuis=depuis,
        jours=(today - depuis).days,
        structure_id=o.structure_id if o else None,
        referent_id=s.referent_le(today),
        detail=detail,
    )


def alertes(s: Suivi, today: date, regle: RegleDelais) -> list[Alerte]:
    """Every overdue item of an open episode on `today` (none for an ended one)."""
    if not s.ouvert_le(today):
        return []
    out: list[Alerte] = []
    day = timedelta(days=1)
    o = s.orientation_le(today)
    if o is None:
        ref = reference_entree(s, regle)
        due = regle.orientation.echeance(ref)
        if today > due:
            detail = f"Entrée le {ref}, orientation attendue sous {regle.orientation.libelle}"
            out.append(_alerte(s, Motif.ORIENTATION_EN_RETARD, due, due + day, today, detail))
        return out + _sans_issue(s, today)
    since_orientation = [
        r for r in s.rdvs if r.accompagnement and r.planifie_le >= o.date_orientation
    ]
    followed = hors_france_travail(o)
    if followed and o.type_orientation in ACCOMPAGNEMENT_SOCIAL and not since_orientation:
        due = regle.premier_rdv.echeance(o.date_orientation)
        if today > due:
            detail = f"Orienté le {o.date_orientation}, premier RDV attendu sous {regle.premier_rdv.libelle}"
            out.append(_alerte(s, Motif.PREMIER_RDV_EN_RETARD, due, due + day, today, detail))
    target = regle.delai_cer(o.type_orientation, o.organisme)
    signed = [c for c in s.cers if c.signe_le <= today]
    if target is not None and not any(c.signe_le >= o.date_orientation for c in signed):
        current = s.cer_en_cours_le(today)
        due = target.echeance(o.date_orientation)
        if current is None and today > due:
            detail = (
                f"Orienté le {o.date_orientation}, {regle.contrat} attendu sous {target.libelle}"
            )
            out.append(_alerte(s, Motif.CER_EN_RETARD, due, due + day, today, detail))
    if signed:
        last = max(signed, key=lambda c: c.date_fin)
        window = regle.alerte_fin_cer
        warn = add_months(last.date_fin, -window.mois) - timedelta(days=window.jours)
        detail = f"{regle.contrat} n°{last.numero} du {last.date_debut} au {last.date_fin}"
        if last.date_fin < today:
            out.append(
                _alerte(s, Motif.CER_ECHU, last.date_fin, last.date_fin + day, today, detail)
            )
        elif warn <= today:
            out.append(_alerte(s, Motif.CER_BIENTOT_ECHU, last.date_fin, warn, today, detail))
    held = [r.date_rdv for r in s.rdvs if r.date_rdv <= today]
    if followed and held:
        due = regle.frequence_rdv.echeance(max(held))
        if today > due:
            detail = f"Dernier RDV le {max(held)}"
            out.append(_alerte(s, Motif.SANS_RDV, due, due + day, today, detail))
    return out + _sans_issue(s, today)


def _sans_issue(s: Suivi, today: date) -> list[Alerte]:
    """A line per RDV whose day has passed without an outcome recorded."""
    return [
        _alerte(
            s,
            Motif.RDV_SANS_ISSUE,
            r.date_rdv,
            r.date_rdv + timedelta(days=1),
            today,
            f"RDV n°{r.numero} ({r.type_rdv.value}) du {r.date_rdv}",
        )
        for r in s.rdvs
        if r.issue is None and r.date_rdv < today
    ]


TRIS = ("depuis", "-depuis", "jours", "-jours", "motif", "echeance", "-echeance")
"""The sort keys a worklist takes (`-` for descending)."""


class Filtre(msgspec.Struct, frozen=True, kw_only=True):
    """Which lines of a worklist to keep: some motives, one référent, overdue at least N days.
    The référent is the case's current one, chosen where the cases are read (the follow-up
    model's `referent_id` column), not here."""

    motifs: frozenset[Motif] = frozenset()
    referent_id: str | None = None
    jours_min: int | None = None

    def garde(self, a: Alerte, motif: bool = True) -> bool:
        return (not motif or not self.motifs or a.motif in self.motifs) and (
            self.jours_min is None or a.jours >= self.jours_min
        )


class Selection(msgspec.Struct, frozen=True, kw_only=True):
    """The lines kept, sorted, and how many lines each motive counts under the other filters
    (the motives a screen offers to filter by, with their counts)."""

    lignes: list[Alerte]
    par_motif: dict[Motif, int]


def selectionner(
    lines: Iterable[Alerte], filtre: Filtre, tri: str, premier: str | None = None
) -> Selection:
    """Filter, count per motive and sort (`trier`) the lines of a worklist."""
    kept: list[Alerte] = []
    counts: dict[Motif, int] = {}
    for a in lines:
        if not filtre.garde(a, motif=False):
            continue
        counts[a.motif] = counts.get(a.motif, 0) + 1
        if not filtre.motifs or a.motif in filtre.motifs:
            kept.append(a)
    ordered = {m: counts[m] for m in Motif if m in counts}
    return Selection(lignes=trier(kept, tri, premier), par_motif=ordered)


def trier(lines: Iterable[Alerte], tri: str, premier: str | None = None) -> list[Alerte]:
    """Sort by a field, `-` for descending; ties by case id, for stable pages. With `premier`
    (a référent), that référent's lines come first, each part in that order."""
    field = tri.removeprefix("-")
    ordered = sorted(lines, key=lambda a: (getattr(a, field), str(a.case_id)))
    if tri.startswith("-"):
        ordered.reverse()
    if premier is not None:
        ordered.sort(key=lambda a: a.referent_id != premier)  # stable: each part keeps its order
    return ordered
