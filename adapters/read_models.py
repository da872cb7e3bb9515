"""The read models the projector keeps, each a pure fold behind a tracking store.

A read model applies a batch of the log and records the position it reached in the same
transaction; a batch applied twice is refused by its tracking row (IntegrityError). Adding a
read model is one class here and one line in `open_read_models`.
"""

from collections.abc import Sequence
from typing import Protocol, cast
from uuid import UUID

from eventsourcing.persistence import Tracking

from adapters.application import Parcours
from adapters.case_views import CaseStateView, PostgresCaseStateView, SQLiteCaseStateView
from adapters.recording_index import RecordingIndexModel, open_recording_index
from domain.catalogue import is_case_event
from domain.events import Recorded
from projections.case_state import CaseRow, HistoryOf, fold


class ReadModel(Protocol):
    name: str
    """Short name; the tracking row is `<application>.<name>`."""

    def position(self, tracking_name: str) -> int: ...
    def apply(self, records: Sequence[Recorded], tracking: Tracking) -> None: ...
    def reset(self, tracking_name: str) -> None: ...


def open_case_view(app: Parcours) -> CaseStateView:
    view_class = SQLiteCaseStateView if app.settings.store == "sqlite" else PostgresCaseStateView
    return cast(CaseStateView, app.factory.tracking_recorder(view_class))


def history_of(app: Parcours) -> HistoryOf:
    """A case's history up to a version, read from the store by its id (an indexed read)."""

    def history(case_id: UUID, version: int) -> list[Recorded]:
        return [r for r in app.history(case_id) if r.originator_version <= version]

    return history


class CaseStateModel:
    """One row per case: where each allocataire stands now, corrections applied (a correction
    refolds its case from the history the store holds up to it)."""

    name = "case_state"

    def __init__(self, view: CaseStateView, history: HistoryOf) -> None:
        self.view = view
        self.history = history

    def position(self, tracking_name: str) -> int:
        return self.view.max_tracking_id(tracking_name) or 0

    def apply(self, records: Sequence[Recorded], tracking: Tracking) -> None:
        records = [r for r in records if is_case_event(r.event)]
        touched = {r.originator_id for r in records}
        rows: dict[UUID, CaseRow] = fold(records, self.view.rows(touched), self.history)
        self.view.save([rows[i] for i in touched if i in rows], tracking)

    def reset(self, tracking_name: str) -> None:
        self.view.reset(tracking_name)


def open_read_models(app: Parcours) -> list[ReadModel]:
    """Every read model of the application, the case state first."""
    return [
        CaseStateModel(open_case_view(app), history_of(app)),
        RecordingIndexModel(open_recording_index(app)),
    ]
