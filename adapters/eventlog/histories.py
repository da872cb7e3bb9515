"""Every case's history, one case at a time, in key order: what cohort extracts fold.

The stored events are read by one cursor ordered by (originator_id, originator_version), the
primary key of the events table, so no sort is needed and only one history is in memory at a
time (server-side cursor on PostgreSQL, a plain cursor over the file on SQLite).
"""

import sqlite3
from collections.abc import Iterator
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from adapters.eventlog.recorders import PostgresRecorder
from adapters.eventlog.store import Parcours
from domain.catalogue import CASE_EVENT_TYPES
from domain.events import Recorded

CASE_TOPICS = frozenset(kind.__name__ for kind in CASE_EVENT_TYPES)
FETCH = 5000
"""Rows fetched per round trip."""

Row = tuple[UUID | str, int, str, bytes]


def _rows_postgres(app: Parcours) -> Iterator[Row]:
    recorder = app.recorder
    assert isinstance(recorder, PostgresRecorder)
    query = SQL(
        "SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
        "ORDER BY originator_id, originator_version"
    ).format(
        schema=Identifier(recorder.datastore.schema),
        table=Identifier(recorder.events_table_name),
    )
    with (
        recorder.datastore.get_connection() as conn,
        conn.transaction(),
        conn.cursor(name="parcours_histories", row_factory=tuple_row) as cursor,
    ):
        cursor.itersize = FETCH
        cursor.execute(query)
        yield from cursor


def _rows_sqlite(app: Parcours) -> Iterator[Row]:
    table = app.recorder.events_table_name
    conn = sqlite3.connect(f"file:{app.settings.sqlite_file}?mode=ro", uri=True)
    try:
        cursor = conn.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {table} "
            "ORDER BY originator_id, originator_version"
        )
        while batch := cursor.fetchmany(FETCH):
            yield from batch
    finally:
        conn.close()


def stored_histories(app: Parcours) -> Iterator[list[StoredEvent]]:
    """Each case's stored events, undecoded, cases in id order; other aggregates skipped."""
    rows = _rows_sqlite(app) if app.settings.store == "sqlite" else _rows_postgres(app)
    current: UUID | str | None = None
    case_id = UUID(int=0)
    history: list[StoredEvent] = []
    for originator_id, version, topic, state in rows:
        if topic not in CASE_TOPICS:
            continue
        if originator_id != current:
            if history:
                yield history
            history = []
            current = originator_id
            case_id = originator_id if isinstance(originator_id, UUID) else UUID(originator_id)
        history.append(
            StoredEvent(
                originator_id=case_id, originator_version=version, topic=topic, state=bytes(state)
            )
        )
    if history:
        yield history


def decoded(app: Parcours, stored: list[StoredEvent]) -> list[Recorded]:
    decode = app.mapper.decode_state
    return [Recorded(s.originator_id, s.originator_version, decode(s)) for s in stored]  # type: ignore[arg-type]


def histories(app: Parcours) -> Iterator[list[Recorded]]:
    """Each case's decoded history, cases in id order."""
    for stored in stored_histories(app):
        yield decoded(app, stored)
