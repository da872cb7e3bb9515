"""The event log's readers (adapters.eventlog.reading) on a real SQLite file and PostgreSQL:
they all return the same events at the same positions, decode through the mapper's compressor
when the store has one, and name an event no decoder reads with IllegibleEvent."""

import sqlite3
from collections.abc import Iterator
from uuid import UUID

import psycopg
import pytest
from eventsourcing.compressor import ZlibCompressor
from eventsourcing.persistence import Mapper
from psycopg.sql import SQL, Identifier

from adapters.eventlog.mapper import EventMapper
from adapters.eventlog.reading import (
    IllegibleEvent,
    case_histories,
    case_history,
    decoded,
    events_of,
    histories,
    legible_histories,
    position_of,
    read_batch,
    read_log,
    stored_histories,
)
from adapters.eventlog.store import Parcours
from adapters.eventlog.transcoder import MsgspecTranscoder
from adapters.settings import Settings
from domain.events import EntreeEnregistree, Recorded
from tests.cohort_history import ALL, CASE_A, CASE_B, CASE_C

CASES = (CASE_A, CASE_B, CASE_C)


class Compressed(Parcours):
    """A store whose payloads are compressed: the readers go through the mapper's unwrap."""

    def construct_mapper(self) -> Mapper[UUID]:
        return EventMapper(transcoder=MsgspecTranscoder(), compressor=ZlibCompressor())


@pytest.fixture(params=[Parcours, Compressed], ids=["plain", "compressed"])
def loaded(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Parcours]:
    app: Parcours = request.param(settings)
    app.append_many(ALL)
    yield app
    app.close()


def _by_case(records: list[Recorded]) -> dict[UUID, list[Recorded]]:
    out: dict[UUID, list[Recorded]] = {}
    for r in records:
        out.setdefault(r.originator_id, []).append(r)
    return out


def _alter_payload(app: Parcours, position: int) -> None:
    """Overwrite a stored payload in the database, as a hand-made UPDATE would."""
    table, garbage = app.recorder.events_table_name, b'{"type":"ReferentDesigne"'
    if app.settings.store == "sqlite":
        with sqlite3.connect(app.settings.sqlite_file) as conn:
            conn.execute(f"UPDATE {table} SET state = ? WHERE rowid = ?", (garbage, position))
        return
    with psycopg.connect(**app.settings.postgres_conninfo(), autocommit=True) as conn:
        conn.execute(
            SQL("UPDATE {} SET state = %s WHERE notification_id = %s").format(
                Identifier(app.settings.postgres_schema, table)
            ),
            (garbage, position),
        )


def test_every_reader_returns_the_same_events_at_the_same_positions(loaded: Parcours) -> None:
    log = [r for batch in read_log(loaded, batch=4) for r in batch]
    assert [r.position for r in log] == list(range(1, len(ALL) + 1))
    assert [(r.originator_id, r.originator_version, r.event) for r in log] == [
        (r.originator_id, r.originator_version, r.event) for r in ALL
    ]
    expected = _by_case(log)
    assert case_histories(loaded, CASES) == expected
    assert {case_id: case_history(loaded, case_id) for case_id in CASES} == expected
    assert {h[0].originator_id: h for h in histories(loaded)} == expected
    assert [h[0].originator_id for h in histories(loaded)] == sorted(CASES, key=str)
    assert [position_of(loaded, r.originator_id, r.originator_version) for r in log] == [
        r.position for r in log
    ]
    assert list(events_of(loaded, EntreeEnregistree, batch=1)) == [
        r.event for r in ALL if isinstance(r.event, EntreeEnregistree)
    ]
    # The library's own read agrees (it carries no position).
    assert [r.event for r in loaded.history(CASE_A)] == [r.event for r in expected[CASE_A]]


def test_bounds_and_absences(loaded: Parcours) -> None:
    assert [r.position for r in read_batch(loaded, 2, 3)] == [3, 4, 5]
    assert [r.position for r in read_batch(loaded, 2, 10, stop=4)] == [3, 4]
    assert read_batch(loaded, len(ALL), 10) == []
    stop = case_history(loaded, CASE_B)[0].position
    bounded = case_histories(loaded, CASES, stop=stop)
    assert all(r.position <= stop for h in bounded.values() for r in h)
    assert CASE_B in bounded
    unknown = UUID(int=7)
    assert case_histories(loaded, [unknown]) == {}
    assert case_histories(loaded, []) == {}
    assert case_history(loaded, unknown) == []
    assert position_of(loaded, CASE_A, 999) is None


def test_an_event_no_decoder_reads_is_named_by_every_reader(loaded: Parcours) -> None:
    target = case_history(loaded, CASE_B)[-1]
    _alter_payload(loaded, target.position)
    before = target.position - 1

    with pytest.raises(IllegibleEvent) as batch:
        read_batch(loaded, 0, len(ALL))
    assert [r.position for r in read_batch(loaded, 0, len(ALL), stop=before)][-1] == before
    with pytest.raises(IllegibleEvent) as one:
        case_history(loaded, CASE_B)
    with pytest.raises(IllegibleEvent) as extract:
        list(histories(loaded))
    for raised in (batch, one, extract):
        assert (raised.value.position, raised.value.case_id) == (target.position, CASE_B)
        assert raised.value.topic == type(target.event).__name__
    # The other cases are still read; an extract reads every row and decodes what it keeps.
    stored = {h[0].case_id: h for h in stored_histories(loaded)}
    assert set(stored) == set(CASES)
    assert decoded(loaded, stored[CASE_A]) == case_history(loaded, CASE_A)
    with pytest.raises(IllegibleEvent):
        decoded(loaded, stored[CASE_B])


@pytest.mark.postgres
def test_a_rebuild_worker_reads_what_it_can_and_names_the_rest(pg_settings: Settings) -> None:
    app = Parcours(pg_settings)
    try:
        app.append_many(ALL)
        target = case_history(app, CASE_B)[-1]
        _alter_payload(app, target.position)
        table = Identifier(app.settings.postgres_schema, app.recorder.events_table_name)
        ghost = UUID(int=9)
        with psycopg.connect(**app.settings.postgres_conninfo()) as conn:
            found, illegible = legible_histories(conn, table, {CASE_A, CASE_B, ghost}, len(ALL))
        assert found[CASE_A] == case_history(app, CASE_A)
        assert [r.originator_version for r in found[CASE_B]] == list(
            range(1, target.originator_version)
        )
        assert found[ghost] == []
        assert set(illegible) == {CASE_B}
        assert illegible[CASE_B].position == target.position
    finally:
        app.close()
