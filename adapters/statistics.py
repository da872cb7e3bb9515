"""Délais statistics and worklists read from the follow-up read model.

The indicators are pure functions of the episodes; this module only fetches the episodes (every
case for the statistics, one structure's or référent's open cases for a worklist) and the rule
book, and renders tables as CSV.
"""

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from adapters.application import Parcours
from adapters.read_models import open_suivi_store
from adapters.rules import load_reglement
from adapters.suivi_store import SuiviStore
from domain.delais import Reglement
from projections.complementaires import complementaires
from projections.drees import drees
from projections.indicateurs import Choix, Periode, Tableau
from projections.indicateurs_aave import indicateurs_aave
from projections.suivi import Suivi
from projections.table31 import table31
from projections.taux import taux_et_delais
from projections.worklists import Alerte, alertes

FAMILLES = ("table-3-1", "drees", "taux", "aave", "complementaires")


class Statistiques:
    """The indicator families over the follow-up store, under the shipped rule book."""

    def __init__(
        self,
        app: Parcours,
        store: SuiviStore | None = None,
        reglement: Reglement | None = None,
    ) -> None:
        self.app = app
        self.store = store or open_suivi_store(app)
        self.reglement = reglement or load_reglement()

    def episodes(self) -> list[Suivi]:
        return [s for case in self.store.scan() for s in case]

    def choix(self, regles: str | None) -> Choix:
        if regles is not None:
            self.reglement.par_nom(regles)  # KeyError for an unknown name
        return Choix(self.reglement, regles)

    def calculer(
        self,
        famille: str,
        periode: Periode,
        par: str | None = None,
        regles: str | None = None,
        episodes: Sequence[Suivi] | None = None,
        etp: Mapping[str, float] | None = None,
        structures: Sequence[str] | None = None,
        communes: Sequence[str] | None = None,
    ) -> Tableau:
        """One indicator family for a period (a year for the DREES survey: `periode.au`'s),
        for the whole département or the communes given."""
        data = self.episodes() if episodes is None else episodes
        if communes:
            wanted = set(communes)
            data = [s for s in data if s.code_commune in wanted]
        if famille == "table-3-1":
            return table31(data, periode, par, self.choix(regles))
        if famille == "drees":
            return drees(data, periode.au.year, par)
        if famille == "taux":
            return taux_et_delais(data, periode, par, self.choix(regles))
        if famille == "aave":
            return indicateurs_aave(data, periode, etp or {}, structures)
        if famille == "complementaires":
            return complementaires(data, periode, par, self.choix(regles))
        raise KeyError(famille)

    def worklist(
        self,
        today: date,
        structure_id: str | None = None,
        referent_id: str | None = None,
        regles: str | None = None,
    ) -> list[Alerte]:
        """Every overdue line of the open cases of a structure, a référent, or everyone."""
        choix = self.choix(regles)
        out: list[Alerte] = []
        for case in self.store.scan(structure_id, referent_id, open_only=True):
            last = case[-1]
            out.extend(alertes(last, today, choix.pour(last)))
        return out


def cell(value: Any, empty: str = "") -> str:
    """A value as a French reader expects it: oui/non, decimal comma, `empty` for none."""
    if value is None:
        return empty
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float):
        return f"{value:.1f}".replace(".", ",")
    return str(value)


def table_csv(tableau: Tableau) -> str:
    """The table as CSV for a spreadsheet: `;` separated, French headers and decimal commas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow([c.libelle for c in tableau.colonnes])
    for line in tableau.lignes:
        writer.writerow([cell(line.get(c.nom)) for c in tableau.colonnes])
    return buffer.getvalue()


WORKLIST_COLUMNS: tuple[tuple[str, str], ...] = (
    ("case_id", "Dossier"),
    ("motif", "Motif"),
    ("libelle", "Libellé"),
    ("echeance", "Échéance"),
    ("depuis", "Depuis le"),
    ("jours", "Jours"),
    ("structure_id", "Structure"),
    ("referent_id", "Référent"),
    ("detail", "Détail"),
)


def worklist_csv(lines: Iterable[Alerte]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow([label for _, label in WORKLIST_COLUMNS])
    for a in lines:
        writer.writerow([cell(getattr(a, name)) for name, _ in WORKLIST_COLUMNS])
    return buffer.getvalue()
