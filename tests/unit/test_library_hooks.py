"""The eventsourcing library's private methods our recorders override (docs/eventlog.md) are
still there, called as they were: an upgrade that changes them fails here, loudly, before a
request's idempotency key could be written apart from its events or not at all."""

import inspect
from importlib.metadata import version

import pytest
from eventsourcing.persistence import EventStore
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteAggregateRecorder, SQLiteApplicationRecorder

from adapters.eventlog.recorders import PostgresRecorder, SQLiteRecorder

HOOKS = [
    (
        SQLiteApplicationRecorder,
        "_insert_events",
        "(self, c: 'SQLiteCursor', stored_events: 'Sequence[StoredEvent]', **_: 'Any') "
        "-> 'Sequence[int] | None'",
    ),
    (
        PostgresApplicationRecorder,
        "_insert_stored_events",
        "(self, curs: 'Cursor[DictRow]', stored_events: 'Sequence[StoredEvent]', "
        "**kwargs: 'Any') -> 'None'",
    ),
    (PostgresApplicationRecorder, "_lock_table", "(self, curs: 'Cursor[DictRow]') -> 'None'"),
    (PostgresApplicationRecorder, "_notify_channel", "(self, curs: 'Cursor[DictRow]') -> 'None'"),
    (
        EventStore,
        "put",
        "(self, domain_events: 'Sequence[DomainEventProtocol[TAggregateID]]', **kwargs: 'Any') "
        "-> 'list[Recording[TAggregateID]]'",
    ),
]

CALLS = [
    # The public insert hands its kwargs (our `idempotency=`) to the private one, in the
    # transaction it commits.
    (SQLiteAggregateRecorder, "insert_events", "self._insert_events(c, stored_events, **kwargs)"),
    (EventStore, "put", "self.recorder.insert_events(stored_events, **kwargs)"),
    # PostgreSQL: ours replaces the library's insert, so it must do what the library's does
    # (lock, notify, insert) where the library syncs the pipeline right after it.
    (
        PostgresApplicationRecorder,
        "insert_events",
        "self._insert_stored_events(curs, stored_events, **kwargs)",
    ),
    (PostgresApplicationRecorder, "insert_events", "pipeline.sync()"),
    (PostgresApplicationRecorder, "_insert_stored_events", "self._lock_table(curs)"),
    (PostgresApplicationRecorder, "_insert_stored_events", "self._notify_channel(curs)"),
]


def test_the_pinned_library_is_the_one_installed() -> None:
    """The overrides were written against 9.5.x (pyproject pins >=9.5.6,<9.6)."""
    assert version("eventsourcing").startswith("9.5.")


@pytest.mark.parametrize(("owner", "name", "signature"), HOOKS)
def test_an_overridden_method_keeps_its_signature(owner: type, name: str, signature: str) -> None:
    assert str(inspect.signature(getattr(owner, name))) == signature


@pytest.mark.parametrize(("owner", "name", "call"), CALLS)
def test_the_library_still_calls_the_overridden_methods(owner: type, name: str, call: str) -> None:
    assert call in inspect.getsource(getattr(owner, name))


def test_our_overrides_take_what_the_library_passes() -> None:
    """Ours accept the library's positional parameters by the same names and any kwargs."""
    for ours, theirs, name in [
        (SQLiteRecorder, SQLiteApplicationRecorder, "_insert_events"),
        (PostgresRecorder, PostgresApplicationRecorder, "_insert_stored_events"),
    ]:
        mine = inspect.signature(getattr(ours, name)).parameters
        library = inspect.signature(getattr(theirs, name)).parameters
        positional = [p for p in library if library[p].kind is not inspect.Parameter.VAR_KEYWORD]
        assert [p for p in mine if mine[p].kind is not inspect.Parameter.VAR_KEYWORD] == positional
        assert any(p.kind is inspect.Parameter.VAR_KEYWORD for p in mine.values())


def test_the_database_function_path_which_skips_the_overrides_is_refused() -> None:
    """With POSTGRES_ENABLE_DB_FUNCTIONS the library inserts through a database function that
    never calls `_insert_stored_events`: keys would be lost without a word."""
    datastore = PostgresDatastore(
        dbname="unused",
        host="127.0.0.1",
        port="5432",
        user="u",
        password="",
        schema="s",
        enable_db_functions=True,
    )
    try:
        with pytest.raises(ValueError, match="POSTGRES_ENABLE_DB_FUNCTIONS"):
            PostgresRecorder(datastore, events_table_name="parcours_events")
    finally:
        datastore.close()
