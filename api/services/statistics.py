"""Délais statistics and worklists read from the follow-up read model.

The indicators are pure functions of the episodes; this module only fetches the episodes (every
case for the statistics, one structure's or référent's open cases for a worklist) and the rule
book (their CSV is adapters/render/csv.py).
"""

import threading
from collections.abc import Hashable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec

from adapters.eventlog.store import Parcours
from adapters.readmodels.models import open_suivi_store
from adapters.readmodels.suivi_store import SuiviStore
from adapters.rules import load_reglement
from api.services.audit import CaseChange, aware, episodes_at, explain
from api.services.statistic_families import FAMILLES as FAMILLES
from api.services.structures import load_structures
from domain.delais import Reglement
from projections.complementaires import complementaires
from projections.drees import drees
from projections.indicateurs import Choix, Periode, Tableau
from projections.indicateurs_aave import indicateurs_aave
from projections.suivi import Suivi
from projections.table31 import table31
from projections.taux import taux_et_delais
from projections.worklists import Alerte, Filtre, Selection, alertes, selectionner

CACHED = 64
"""Results kept per position of the follow-up model (worklists and tables asked again)."""


class PositionCache:
    """Results computed from the follow-up model, kept while the model stays at the position
    they were read at. Every write of the model moves its tracking position in the same
    transaction, and the model is a function of the log up to that position, so a position
    names one content: a result is exact until the projector applies a new event, after which
    the next request computes it afresh. A new position empties the cache."""

    def __init__(self, size: int = CACHED) -> None:
        self.size = size
        self.position = -1
        self.entries: dict[Hashable, Any] = {}
        self.lock = threading.Lock()

    def get(self, position: int, key: Hashable) -> Any | None:
        with self.lock:
            return self.entries.get(key) if position == self.position else None

    def put(self, position: int, key: Hashable, value: Any) -> None:
        with self.lock:
            if position < self.position:
                return  # read before a newer one was kept
            if position > self.position:
                self.position, self.entries = position, {}
            if len(self.entries) >= self.size:
                self.entries.pop(next(iter(self.entries)))
            self.entries[key] = value


class Ecart(msgspec.Struct, frozen=True, kw_only=True):
    """One cell of a table that differs between the report as known then and today."""

    groupe: Any
    colonne: str
    libelle: str
    avant: Any
    maintenant: Any


class Ecarts(msgspec.Struct, frozen=True, kw_only=True):
    """A report as it was known at `known_at` beside today's figures: the cells that moved,
    and the cases whose follow-up changed since, each with the events recorded after."""

    known_at: datetime
    as_of: date | None
    avant: Tableau
    maintenant: Tableau
    ecarts: list[Ecart]
    dossiers: list[CaseChange]
    total_dossiers: int


def _lignes(tableau: Tableau) -> dict[Any, dict[str, Any]]:
    par = tableau.ventilation
    return {line.get(par) if par else None: line for line in tableau.lignes}


def ecarts_cellules(avant: Tableau, maintenant: Tableau) -> list[Ecart]:
    """The cells that differ, line by line (a line present on one side only counts as empty
    on the other), in today's line order then the lines gone."""
    then, now = _lignes(avant), _lignes(maintenant)
    keys = list(now) + [k for k in then if k not in now]
    par = maintenant.ventilation
    return [
        Ecart(groupe=key, colonne=c.nom, libelle=c.libelle, avant=a, maintenant=b)
        for key in keys
        for c in maintenant.colonnes
        if c.nom != par
        and (a := then.get(key, {}).get(c.nom)) != (b := now.get(key, {}).get(c.nom))
    ]


def _changes(
    then: Mapping[UUID, list[Suivi]],
    now: Mapping[UUID, list[Suivi]],
    communes: Sequence[str] | None,
) -> list[CaseChange]:
    wanted = set(communes or ())

    def inside(episodes: list[Suivi] | None) -> bool:
        return not wanted or any(s.code_commune in wanted for s in episodes or ())

    out: list[CaseChange] = []
    for case_id in sorted(then.keys() | now.keys(), key=str):
        a, b = then.get(case_id), now.get(case_id)
        if a == b or not (inside(a) or inside(b)):
            continue
        change = "nouveau" if a is None else "disparu" if b is None else "modifie"
        out.append(
            CaseChange(
                case_id=case_id, change=change, fields=[], version_then=None, version_now=None
            )
        )
    return out


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
        self.tracking = f"{app.name}.suivi"
        """The follow-up model's tracking name (`Projector.tracking_name`)."""
        self.cache = PositionCache()

    def episodes(self, known_at: datetime | None = None, as_of: date | None = None) -> list[Suivi]:
        """Every episode from the read model, or, for a past moment or day, folded from the
        log as it was known then (`api.services.audit.episodes_at`)."""
        if known_at is None and as_of is None:
            return [s for case in self.store.scan() for s in case]
        return episodes_at(self.app, known_at, as_of).episodes()

    def etp(self, periode: Periode, known_at: datetime | None = None) -> dict[str, float]:
        """Each registered structure's mean ETP over the period, as declared (by `known_at`)."""
        registry = load_structures(self.app, known_at)
        out: dict[str, float] = {}
        for structure in registry.all():
            mean = registry.etp_moyen(structure.structure_id, periode.du, periode.au)
            if mean is not None:
                out[structure.structure_id] = mean
        return out

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
        known_at: datetime | None = None,
        as_of: date | None = None,
    ) -> Tableau:
        """One indicator family for a period (a year for the DREES survey: `periode.au`'s),
        for the whole département or the communes given; as the history was known at
        `known_at` and stood on `as_of` when either is given."""
        if known_at is not None:
            known_at = aware(self.app, known_at)
        if episodes is None and known_at is None and as_of is None and etp is None:
            return self._today(famille, periode, par, regles, structures, communes)
        data = self.episodes(known_at, as_of) if episodes is None else episodes
        tableau = self._famille(
            famille, periode, par, regles, data, etp, structures, communes, known_at
        )
        tableau.known_at, tableau.as_of = known_at, as_of
        return tableau

    def _today(
        self,
        famille: str,
        periode: Periode,
        par: str | None,
        regles: str | None,
        structures: Sequence[str] | None,
        communes: Sequence[str] | None,
    ) -> Tableau:
        """A table from today's model, kept per position of the model (`PositionCache`); the
        AAVE family also reads the structures' declared ETP, which the position does not
        follow: computed on each call."""
        key = (
            "table",
            famille,
            periode,
            par,
            regles,
            tuple(structures or ()),
            tuple(communes or ()),
            self.app.today(),
        )
        position = self.store.position(self.tracking)
        found: Tableau | None = None if famille == "aave" else self.cache.get(position, key)
        if found is not None:
            return found
        position, cases = self.store.snapshot(self.tracking)
        data = [s for case in cases for s in case]
        tableau = self._famille(
            famille, periode, par, regles, data, None, structures, communes, None
        )
        tableau.known_at, tableau.as_of = None, None
        if famille != "aave":
            self.cache.put(position, key, tableau)
        return tableau

    def _famille(
        self,
        famille: str,
        periode: Periode,
        par: str | None,
        regles: str | None,
        data: Sequence[Suivi],
        etp: Mapping[str, float] | None,
        structures: Sequence[str] | None,
        communes: Sequence[str] | None,
        known_at: datetime | None,
    ) -> Tableau:
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
            etp = self.etp(periode, known_at) if etp is None else etp
            return indicateurs_aave(data, periode, etp, structures)
        if famille == "complementaires":
            return complementaires(data, periode, par, self.choix(regles))
        raise KeyError(famille)

    def ecarts(
        self,
        famille: str,
        periode: Periode,
        known_at: datetime,
        par: str | None = None,
        regles: str | None = None,
        structures: Sequence[str] | None = None,
        communes: Sequence[str] | None = None,
        as_of: date | None = None,
        limit: int = 100,
    ) -> Ecarts:
        """The report as known at `known_at` against today's (both about `as_of` when
        given): the cells that differ and the cases that changed, with why."""
        moment = aware(self.app, known_at)
        then = episodes_at(self.app, moment, as_of).cases
        if as_of is None:
            now = {case[0].case_id: case for case in self.store.scan() if case}
        else:
            now = episodes_at(self.app, None, as_of).cases

        def table(cases: Mapping[UUID, list[Suivi]], at: datetime | None) -> Tableau:
            episodes = [s for case in cases.values() for s in case]
            return self.calculer(
                famille, periode, par, regles, episodes, None, structures, communes, at, as_of
            )

        avant, maintenant = table(then, moment), table(now, None)
        changes = _changes(then, now, communes)
        return Ecarts(
            known_at=moment,
            as_of=as_of,
            avant=avant,
            maintenant=maintenant,
            ecarts=ecarts_cellules(avant, maintenant),
            dossiers=[explain(self.app, c, moment) for c in changes[:limit]],
            total_dossiers=len(changes),
        )

    def worklist(
        self,
        today: date,
        structure_id: str | None = None,
        referent_id: str | None = None,
        regles: str | None = None,
    ) -> list[Alerte]:
        """Every overdue line of the open cases of a structure, a référent, or everyone: kept
        per position of the model (`PositionCache`), else computed as `worklist_lines`."""
        key = ("worklist", today, structure_id, referent_id, regles)
        position = self.store.position(self.tracking)
        found: list[Alerte] | None = self.cache.get(position, key)
        if found is not None:
            return found
        choix = self.choix(regles)
        position, cases = self.store.snapshot(self.tracking, structure_id, referent_id, True)
        lines = _alertes(cases, today, choix)
        self.cache.put(position, key, lines)
        return lines

    def worklist_lines(
        self,
        today: date,
        structure_id: str | None = None,
        referent_id: str | None = None,
        regles: str | None = None,
    ) -> list[Alerte]:
        """The same lines, computed from the model on each call (what the cache must equal)."""
        cases = self.store.scan(structure_id, referent_id, open_only=True)
        return _alertes(cases, today, self.choix(regles))

    def selection(
        self,
        today: date,
        structure_id: str | None,
        filtre: Filtre,
        tri: str,
        regles: str | None = None,
        premier: str | None = None,
    ) -> Selection:
        """A worklist as asked (JSON route and screen): filtered, counted per motive, sorted,
        `premier`'s lines (the caller as référent) first when given. Kept per position of
        the model as the lines are: sorting a large structure's lines is most of the cost of
        a page, and the same list is paged through again and again."""
        key = ("selection", today, structure_id, regles, filtre, tri, premier)
        position = self.store.position(self.tracking)
        found: Selection | None = self.cache.get(position, key)
        if found is not None:
            return found
        lines = self.worklist(today, structure_id, filtre.referent_id, regles)
        chosen = selectionner(lines, filtre, tri, premier)
        self.cache.put(position, key, chosen)  # refused if the lines came from a newer position
        return chosen


def _alertes(cases: Iterable[list[Suivi]], today: date, choix: Choix) -> list[Alerte]:
    out: list[Alerte] = []
    for case in cases:
        last = case[-1]
        out.extend(alertes(last, today, choix.pour(last)))
    return out
