"""Rebuilding the case-state read model from zero gives exactly the state reached incrementally,
whatever the history and wherever the projector caught up, on SQLite and on PostgreSQL."""

import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from adapters.eventlog.store import Parcours
from adapters.readmodels.projector import Projector
from adapters.settings import Settings
from api.services.cases import handle
from api.services.commands import Author
from domain.commands import EnregistrerEntree
from domain.errors import DomainError
from domain.events import Recorded
from projections.case_state import fold
from tests.conftest import fresh_schema
from tests.strategies import START, STEPS, at

AUTHOR = Author(user="agent-1", request_id="r")
Store = Callable[[], AbstractContextManager[Settings]]


@contextmanager
def _sqlite() -> Iterator[Settings]:
    with tempfile.TemporaryDirectory() as tmp:
        yield Settings(store="sqlite", data_dir=Path(tmp))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Store:
    if request.param == "postgres":
        request.getfixturevalue("pg_database")
        return fresh_schema
    return _sqlite


def _log(app: Parcours) -> list[Recorded]:
    notifications = app.recorder.select_notifications(start=None, limit=10**6)
    return [app.mapper.to_domain_event(n) for n in notifications]


@hsettings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS, batch=st.integers(1, 7))
def test_rebuild_equals_incremental(store: Store, steps: list, batch: int) -> None:
    cases = [uuid.UUID(int=i + 1) for i in range(4)]
    with store() as settings:
        app = Parcours(settings)
        projector = Projector(app, batch=batch)
        for case in cases:  # every case exists, so most commands can apply
            handle(
                app,
                case,
                EnregistrerEntree(
                    effective_on=START,
                    numero_dossier="CAF-1",
                    organisme_payeur="caf",
                    date_flux=START,
                    date_reception_flux=START,
                ),
                AUTHOR,
            )
        day = START
        for index, command, gap, catch_up in steps:
            day += timedelta(days=gap)
            with suppress(DomainError):
                handle(app, cases[index], at(command, day), AUTHOR)
            if catch_up:
                projector.catch_up()
        projector.catch_up()
        incremental = projector.view.all_rows()
        assert projector.position() == app.max_position()
        assert incremental == fold(_log(app))
        assert projector.rebuild() == app.max_position()
        assert projector.view.all_rows() == incremental
        app.close()
