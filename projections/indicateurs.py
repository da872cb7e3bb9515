"""What every délais indicator shares: the period, the breakdown, the reference dates, the
summary statistics, and the table they come out as.

An indicator is a pure function of the episodes' follow-up (`projections.suivi.Suivi`), a period,
a breakdown and the rule book; `docs/indicators.md` states each formula and this code follows it.
"""

import math
import statistics
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

import msgspec

from domain.dates import add_months
from domain.delais import RegleDelais, Reglement
from domain.vocabulary import SPE, TypeOrganisme
from projections.suivi import OrientationSuivie, Suivi
from projections.ventilations import VENTILATIONS as VENTILATIONS
from projections.ventilations import Ventilation as Ventilation

LIBELLES_VENTILATION: dict[str, str] = {
    "territoire": "Commune (INSEE)",
    "structure": "Structure",
    "type_orientation": "Type d'orientation",
    "mois": "Mois",
}


class Periode(msgspec.Struct, frozen=True):
    """A closed range of days."""

    du: date
    au: date

    def contient(self, jour: date | None) -> bool:
        return jour is not None and self.du <= jour <= self.au

    def fins_de_mois(self) -> list[date]:
        """The last day of each month the period touches (the period's end for the last)."""
        out: list[date] = []
        first = date(self.du.year, self.du.month, 1)
        while first <= self.au:
            nxt = add_months(first, 1)
            out.append(min(date.fromordinal(nxt.toordinal() - 1), self.au))
            first = nxt
        return out

    @property
    def nb_mois(self) -> int:
        return len(self.fins_de_mois())


def annee(an: int) -> Periode:
    return Periode(date(an, 1, 1), date(an, 12, 31))


class Colonne(msgspec.Struct, frozen=True):
    nom: str
    libelle: str


class Tableau(msgspec.Struct, kw_only=True):
    """An indicator family's result: one line per group, French labels for every column."""

    indicateur: str
    libelle: str
    du: date
    au: date
    ventilation: str | None
    regles: list[str]
    colonnes: list[Colonne]
    lignes: list[dict[str, Any]]
    known_at: datetime | None = None
    """Read from the history as it was known at this moment (None: as known now)."""
    as_of: date | None = None
    """Only the steps that had taken effect by this day (None: every step)."""


class Choix(msgspec.Struct, frozen=True):
    """Which rule set reads each episode: the one in force, or one named by the caller."""

    reglement: Reglement
    nom: str | None = None

    def pour(self, s: Suivi) -> RegleDelais:
        if self.nom is not None:
            return self.reglement.par_nom(self.nom)
        return self.reglement.en_vigueur(s.date_flux)

    def lus(self, episodes: Sequence[Suivi]) -> Iterator[tuple[Suivi, RegleDelais]]:
        """Each episode with the rule set that reads it."""
        for s in episodes:
            yield s, self.pour(s)


def reference_entree(s: Suivi, regle: RegleDelais) -> date:
    """The date entry delays count from, as the rule set names it."""
    if regle.reference_entree == "date_flux":
        return s.date_flux
    if regle.reference_entree == "date_reception_flux":
        return s.date_reception_flux
    return s.date_entree


def hors_france_travail(o: OrientationSuivie) -> bool:
    return o.organisme is not TypeOrganisme.FRANCE_TRAVAIL


def spe(o: OrientationSuivie) -> bool:
    return o.organisme in SPE


def jours(debut: date, fin: date) -> int:
    return (fin - debut).days


# --- groups -------------------------------------------------------------------------------------

KEY_ALL = "ensemble"


def cle(par: str | None, s: Suivi, orientation: OrientationSuivie | None, jour: date) -> str | None:
    """The group an item falls in: its commune, the structure or kind of the orientation it
    concerns, or the month of the day that placed it in the period."""
    if par is None:
        return KEY_ALL
    if par == "territoire":
        return s.code_commune
    if par == "structure":
        return orientation.structure_id if orientation else None
    if par == "type_orientation":
        return orientation.type_orientation.value if orientation else None
    return f"{jour.year:04d}-{jour.month:02d}"


class Groupes:
    """Counters and samples per group, in first-seen order, turned into table lines."""

    def __init__(self) -> None:
        self.counts: dict[str | None, dict[str, int]] = {}
        self.samples: dict[str | None, dict[str, list[int]]] = {}

    def add(self, key: str | None, name: str, n: int = 1) -> None:
        group = self.counts.setdefault(key, {})
        group[name] = group.get(name, 0) + n
        self.samples.setdefault(key, {})

    def sample(self, key: str | None, name: str, value: int) -> None:
        self.counts.setdefault(key, {})
        self.samples.setdefault(key, {}).setdefault(name, []).append(value)

    def keys(self) -> list[str | None]:
        return sorted(self.counts, key=lambda k: (k is None, k or ""))

    def count(self, key: str | None, name: str) -> int:
        return self.counts.get(key, {}).get(name, 0)

    def values(self, key: str | None, name: str) -> list[int]:
        return self.samples.get(key, {}).get(name, [])


def lignes(
    groupes: Groupes,
    par: str | None,
    build: Callable[[Groupes, str | None], dict[str, Any]],
) -> list[dict[str, Any]]:
    """One line per group (the breakdown's column first); no line at all for an empty period
    without breakdown would hide the zero, so the whole-département line is always there."""
    keys = groupes.keys() or ([KEY_ALL] if par is None else [])
    out = []
    for key in keys:
        line: dict[str, Any] = {par: key} if par is not None else {}
        line.update(build(groupes, key))
        out.append(line)
    return out


def tableau(
    indicateur: str,
    libelle: str,
    periode: Periode,
    par: str | None,
    regles: Iterable[str],
    colonnes: list[Colonne],
    groupes: Groupes,
    build: Callable[[Groupes, str | None], dict[str, Any]],
) -> Tableau:
    """The family's result: one line per group, the breakdown's column first."""
    return Tableau(
        indicateur=indicateur,
        libelle=libelle,
        du=periode.du,
        au=periode.au,
        ventilation=par,
        regles=sorted(regles),
        colonnes=[*colonne_ventilation(par), *colonnes],
        lignes=lignes(groupes, par, build),
    )


def colonne_ventilation(par: str | None) -> list[Colonne]:
    return [Colonne(par, LIBELLES_VENTILATION[par])] if par is not None else []


# --- summary statistics ---------------------------------------------------------------------


def taux(numerateur: int, denominateur: int) -> float | None:
    """A percentage with one decimal, None when nobody is counted."""
    if denominateur == 0:
        return None
    return round(100 * numerateur / denominateur, 1)


def moyenne(values: Sequence[int]) -> int | None:
    """Simple mean in days rounded to the unit (halves to even), as the DREES survey asks."""
    return round(statistics.fmean(values)) if values else None


def mediane(values: Sequence[int]) -> float | None:
    return statistics.median(values) if values else None


def centile_90(values: Sequence[int]) -> int | None:
    """90th percentile by the nearest-rank method: a value some item actually had."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def resume(prefix: str, values: Sequence[int]) -> dict[str, Any]:
    return {
        f"{prefix}_moyen": moyenne(values),
        f"{prefix}_median": mediane(values),
        f"{prefix}_p90": centile_90(values),
    }


def colonnes_resume(prefix: str, libelle: str) -> list[Colonne]:
    return [
        Colonne(f"{prefix}_moyen", f"{libelle}, moyenne (jours)"),
        Colonne(f"{prefix}_median", f"{libelle}, médiane (jours)"),
        Colonne(f"{prefix}_p90", f"{libelle}, 90e centile (jours)"),
    ]


def episode_le(episodes: Iterable[Suivi], jour: date) -> Suivi | None:
    """A case's episode in force on `jour`: its latest entry on or before that day."""
    found = None
    for s in episodes:
        if s.date_entree <= jour:
            found = s
    return found
