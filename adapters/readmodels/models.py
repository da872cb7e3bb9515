"""The read models the projector keeps, each a pure fold behind a tracking store.

A read model folds a batch of the log into per-case values (`fold`) and saves them with the
position it reached in one transaction (`save`); a batch applied twice is refused by its
tracking row (IntegrityError). `adapters.readmodels.quarantine` drives both, so that a case the
fold or the store refuses is set aside and every other case goes on. Adding a read model is one
class here and one line in `open_read_models`.
"""

from collections.abc import Callable, Iterable, Sequence, Set
from typing import Generic, Protocol, TypeVar
from uuid import UUID

from eventsourcing.persistence import Tracking

from adapters.eventlog.store import Parcours
from adapters.readmodels.activity_store import ACTIVITE, ActiviteStore
from adapters.readmodels.case_store import CASE_STATE, CaseStateView
from adapters.readmodels.quarantine import CaseModel
from adapters.readmodels.recording_index import (
    RecordingIndexModel,
    open_recording_index,
)
from adapters.readmodels.suivi_rebuild import rebuild_suivi
from adapters.readmodels.suivi_store import SUIVI, SuiviStore
from adapters.readmodels.tables import PostgresTable, Table, TableSpec, Tx, open_table
from domain.corrections import is_correction
from domain.events import Recorded, is_fait
from projections import activity
from projections.case_state import CaseRow, HistoryOf, case_row, fold
from projections.suivi import Suivi, evolve, suivre

T = TypeVar("T")


class ReadModel(CaseModel, Protocol):
    name: str
    """Short name; the tracking row is `<application>.<name>`."""

    def position(self, tracking_name: str) -> int: ...
    def reset(self, tracking_name: str) -> None: ...


def open_case_view(app: Parcours) -> CaseStateView:
    return CaseStateView(open_table(app, CASE_STATE))


def history_of(app: Parcours) -> HistoryOf:
    """A case's history up to a version, read from the store by its id (an indexed read)."""

    def history(case_id: UUID, version: int) -> list[Recorded]:
        return app.history(case_id, up_to=version)

    return history


class CaseStateModel:
    """One row per case: where each allocataire stands now, corrections applied (a correction
    refolds its case from the history the store holds up to it)."""

    name = "case_state"
    version = 2
    """2: `date_cloture` (the retention job's start). Bumped when the rows the fold writes change: the next start rebuilds the table from the
    log beside the old one and swaps it in (`adapters.readmodels.versions`). Likewise below."""
    spec = CASE_STATE

    @classmethod
    def over(cls, app: Parcours, table: Table) -> "CaseStateModel":
        return cls(CaseStateView(table), history_of(app))

    def __init__(self, view: CaseStateView, history: HistoryOf) -> None:
        self.view = view
        self.history = history

    def position(self, tracking_name: str) -> int:
        return self.view.max_tracking_id(tracking_name) or 0

    def fold(self, records: Sequence[Recorded], refold: Set[UUID]) -> dict[UUID, CaseRow]:
        records = [r for r in records if is_fait(r.event)]
        last = {r.originator_id: r.originator_version for r in records}
        rows = self.view.cases(last.keys() - refold)
        for case_id in refold & last.keys():
            row = case_row(self.history(case_id, last[case_id]))
            if row is not None:
                rows[case_id] = row
        rows = fold([r for r in records if r.originator_id not in refold], rows, self.history)
        return {i: rows[i] for i in last if i in rows}

    def save(self, values: dict[UUID, CaseRow], tracking: Tracking) -> None:
        self.view.save(list(values.values()), tracking)

    def probe(self, values: dict[UUID, CaseRow]) -> None:
        self.view.probe(list(values.values()))

    def reset(self, tracking_name: str) -> None:
        self.view.reset(tracking_name)


def open_suivi_store(app: Parcours) -> SuiviStore:
    return SuiviStore(open_table(app, SUIVI))


class _CaseStore(Protocol[T]):
    def max_tracking_id(self, application_name: str) -> int | None: ...
    def cases(self, case_ids: Iterable[UUID]) -> dict[UUID, T]: ...
    def reset(self, tracking_name: str) -> None: ...


class PerCaseModel(Generic[T]):
    """A read model holding one folded value per case. Events of a batch advance each touched
    case from its stored value; a correction in the batch (or a case to refold) refolds its
    case from the history up to that batch instead."""

    name: str

    def __init__(self, app: Parcours, store: _CaseStore[T]) -> None:
        self.app = app
        self.store = store

    def position(self, tracking_name: str) -> int:
        return self.store.max_tracking_id(tracking_name) or 0

    def fold_history(self, history: Sequence[Recorded]) -> T:
        raise NotImplementedError

    def new(self, case_id: UUID) -> T:
        raise NotImplementedError

    def evolve(self, value: T, recorded: Recorded) -> None:
        raise NotImplementedError

    def save(self, cases: dict[UUID, T], tracking: Tracking) -> None:
        raise NotImplementedError

    def fold(self, records: Sequence[Recorded], refold: Set[UUID]) -> dict[UUID, T]:
        records = [r for r in records if is_fait(r.event)]
        last_version: dict[UUID, int] = {}
        corrected: set[UUID] = set(refold)
        for r in records:
            last_version[r.originator_id] = r.originator_version
            if is_correction(r.event):
                corrected.add(r.originator_id)
        corrected &= last_version.keys()
        cases: dict[UUID, T] = {
            case_id: self.fold_history(self.app.history(case_id, up_to=last_version[case_id]))
            for case_id in corrected
        }
        known = self.store.cases(last_version.keys() - corrected)
        for r in records:
            if r.originator_id in corrected:
                continue
            value = cases.get(r.originator_id)
            if value is None:
                value = known.get(r.originator_id) or self.new(r.originator_id)
                cases[r.originator_id] = value
            self.evolve(value, r)
        return cases

    def probe(self, values: dict[UUID, T]) -> None:
        raise NotImplementedError

    def reset(self, tracking_name: str) -> None:
        self.store.reset(tracking_name)


class SuiviModel(PerCaseModel[list[Suivi]]):
    """Each case's episodes with their dated milestones: what délais statistics and worklists
    read."""

    name = "suivi"
    version = 1
    spec = SUIVI
    store: SuiviStore

    def __init__(self, app: Parcours, store: SuiviStore) -> None:
        super().__init__(app, store)

    @classmethod
    def over(cls, app: Parcours, table: Table) -> "SuiviModel":
        return cls(app, SuiviStore(table))

    def fold_history(self, history: Sequence[Recorded]) -> list[Suivi]:
        return suivre(history)

    def new(self, case_id: UUID) -> list[Suivi]:
        return []

    def evolve(self, value: list[Suivi], recorded: Recorded) -> None:
        evolve(value, recorded)

    def save(self, cases: dict[UUID, list[Suivi]], tracking: Tracking) -> None:
        self.store.save(cases, tracking)

    def probe(self, values: dict[UUID, list[Suivi]]) -> None:
        self.store.probe(values)

    def rebuild(
        self, tracking_name: str, then: Callable[[Tx], None] = lambda tx: None
    ) -> int | None:
        """On PostgreSQL (payloads in clear), the whole log folded on every core and swapped
        in (`adapters.readmodels.suivi_rebuild`; `then` writes in the swap's transaction);
        elsewhere None: reset, then caught up like any model."""
        mapper = self.app.mapper
        table = self.store.table
        if not isinstance(table, PostgresTable) or mapper.cipher or mapper.compressor:
            return None
        workers = self.app.settings.rebuild_workers
        return rebuild_suivi(self.app, table, tracking_name, workers, then=then)


def open_activite_store(app: Parcours) -> ActiviteStore:
    return ActiviteStore(open_table(app, ACTIVITE))


class ActiviteModel(PerCaseModel[activity.FicheActivite]):
    """Each case's priced activity (contracts, interviews, exits…): what financing prices, so
    that re-pricing reads these facts and not the log."""

    name = "financement"
    version = 1
    spec = ACTIVITE
    store: ActiviteStore

    def __init__(self, app: Parcours, store: ActiviteStore) -> None:
        super().__init__(app, store)

    @classmethod
    def over(cls, app: Parcours, table: Table) -> "ActiviteModel":
        return cls(app, ActiviteStore(table))

    def fold_history(self, history: Sequence[Recorded]) -> activity.FicheActivite:
        return activity.activite(history)

    def new(self, case_id: UUID) -> activity.FicheActivite:
        return activity.nouveau(case_id)

    def evolve(self, value: activity.FicheActivite, recorded: Recorded) -> None:
        activity.evolve(value, recorded)

    def save(self, cases: dict[UUID, activity.FicheActivite], tracking: Tracking) -> None:
        self.store.save(cases.values(), tracking)

    def probe(self, values: dict[UUID, activity.FicheActivite]) -> None:
        self.store.probe(values.values())


class VersionedModel(Protocol):
    """A read model's class as upgrades see it: its name, version and table, and the model
    over any table of that spec (the staging table of a rebuild)."""

    name: str
    version: int
    spec: TableSpec

    @classmethod
    def over(cls, app: Parcours, table: Table) -> ReadModel: ...


MODEL_TYPES: tuple[type[VersionedModel], ...] = (
    CaseStateModel,
    SuiviModel,
    RecordingIndexModel,
    ActiviteModel,
)
"""Every read model's class, in the order of `open_read_models`."""


def open_read_models(app: Parcours) -> list[ReadModel]:
    """Every read model of the application, the case state first."""
    return [
        CaseStateModel(open_case_view(app), history_of(app)),
        SuiviModel(app, open_suivi_store(app)),
        RecordingIndexModel(open_recording_index(app)),
        ActiviteModel(app, open_activite_store(app)),
    ]
