"""Whatever the history and wherever the projector caught up, the case-state read model holds
exactly the pure fold of the log, and a rebuild from zero gives the same rows, on SQLite and on
PostgreSQL."""

import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

import pytest
from eventsourcing.sqlite import SQLiteDatastore
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from adapters.eventlog.store import Parcours
from adapters.readmodels.case_store import CASE_STATE, CaseStateView
from adapters.readmodels.projector import Projector
from adapters.readmodels.tables import PostgresTable, SQLiteTable
from adapters.settings import Settings
from api.services.cases import handle
from api.services.commands import Author
from domain.errors import DomainError
from domain.events import Recorded
from projections.case_state import fold
from tests.conftest import fresh_schema
from tests.strategies import LAST_DAY, History, histories

AUTHOR = Author(user="agent-1", structure_id="ccas-1", request_id="req")
FreshStore = Callable[[], AbstractContextManager[Settings]]

DECIDED_ON = datetime(LAST_DAY.year, LAST_DAY.month, LAST_DAY.day, 12, tzinfo=UTC)
"""The store's clock: the day `histories()` decides on, whatever the machine's date, so that the
versions it expects are comparable."""


@contextmanager
def _fresh_sqlite() -> Iterator[Settings]:
    with tempfile.TemporaryDirectory() as tmp:
        yield Settings(store="sqlite", data_dir=Path(tmp))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_store(request: pytest.FixtureRequest) -> FreshStore:
    """A factory of empty stores: a new SQLite directory or a new PostgreSQL schema each call
    (hypothesis runs many examples within one test call)."""
    if request.param == "postgres":
        request.getfixturevalue("pg_database")  # skips, or fails in CI, without a server
        return fresh_schema
    return _fresh_sqlite


@contextmanager
def _second_view(app: Parcours) -> Iterator[CaseStateView]:
    """An empty case-state view beside the one the projector keeps (another SQLite file, other
    PostgreSQL tables), to rebuild into from zero."""
    if isinstance(app.recorder.datastore, SQLiteDatastore):
        datastore = SQLiteDatastore(db_name=str(app.settings.data_dir / "second_view.sqlite"))
        table = SQLiteTable(datastore, spec=CASE_STATE)
        table.create_table()
        try:
            yield CaseStateView(table)
        finally:
            datastore.close()
        return
    pg_table = PostgresTable(
        app.recorder.datastore,
        spec=CASE_STATE.named("second_case_state"),
        tracking_table_name="second_tracking",
    )
    pg_table.create_table()
    yield CaseStateView(pg_table)


def _log(app: Parcours) -> list[Recorded]:
    notifications = app.recorder.select_notifications(start=None, limit=10**6)
    return [app.mapper.to_domain_event(n) for n in notifications]


@hsettings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=histories(),
    catch_up_after=st.sets(st.integers(0, 39)),
    batch=st.integers(1, 7),
    rebuild_batch=st.integers(1, 50),
)
def test_incremental_rebuild_and_pure_fold_agree(
    fresh_store: FreshStore,
    history: History,
    catch_up_after: set[int],
    batch: int,
    rebuild_batch: int,
) -> None:
    cases = [uuid.UUID(int=n + 1) for n in range(history.cases)]
    with fresh_store() as settings:
        app = Parcours(settings, clock=lambda: DECIDED_ON)
        try:
            projector = Projector(app, batch=batch)
            for n, (case, command) in enumerate(history.steps):
                with suppress(DomainError):
                    handle(app, cases[case], command, AUTHOR)
                if n in catch_up_after:
                    projector.catch_up()
            projector.catch_up()
            assert projector.position() == app.max_position()
            incremental = projector.view.all_rows()

            log = _log(app)
            assert incremental == fold(log)
            written = {case: v for case, v in zip(cases, history.versions, strict=True) if v}
            assert {case: row.version for case, row in incremental.items()} == written

            with _second_view(app) as view:
                from_zero = Projector(app, view=view, batch=rebuild_batch)
                assert from_zero.rebuild() == len(log)
                assert view.all_rows() == incremental

            assert projector.rebuild() == len(log)
            assert projector.view.all_rows() == incremental
            assert projector.position() == app.max_position()
        finally:
            app.close()
