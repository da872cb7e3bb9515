"""The events table as the project reads it: every query of it that is not the library's own,
and one way to decode what they return.

- the log in position order, a batch at a time (`read_batch`, `read_log`): what every read
  model, export and audit fold reads;
- some cases' histories (`case_history`, `case_histories`): the audit of a case, flux imports;
- every case's history in key order, one case at a time (`stored_histories`, `histories`):
  cohort extracts;
- a share of the log and some cases' histories on a worker's own connection (`share_rows`,
  `legible_histories`): the parallel rebuild of the follow-up on PostgreSQL;
- the position of one event (`position_of`): the answer to a replayed request;
- every event of one type in log order (`events_of`): structure declarations, saved cohort
  definitions, through a partial index of their rows on PostgreSQL (`recorders.SPARSE_TOPICS`),
  else the library's own query;
- the log exactly as stored, in position order, on the caller's snapshot (`stored_rows`), and
  whether it holds a row (`log_holds_rows`): backups and restores (`adapters/backup.py`);
- the stored rows and their hash-chain links of a position range, undecoded, on a connection
  of its own that a worker process can open (`chain_reader`, `chained_rows`, `chain_before`,
  `chain_end`): `parcours audit verify`, one share of the log per process.

Speed is kept where it is measured (scripts/bench_store.py, scripts/bench_cohort.py): binary
cursors (no hex round trip for payloads) and prepared statements on PostgreSQL, a server-side
cursor for the key-ordered histories (one history in memory at a time), a read-only connection
of its own over the SQLite file for the long reads, one msgspec decoder per event type.

One decode path: a row's payload goes through the mapper's cipher and compressor when the store
has them, then through its topic's decoder (`mapper.DECODERS`: a row of an older version of its
type is brought to today's shape there); a row that cannot be read raises IllegibleEvent naming
it (the log is never rewritten, so readers set its case aside: the quarantine), a row of a
version newer than this release reads raises `mapper.NewerEventVersion` (the reader stops).
Filters by type name every version's topic (`mapper.topics_of`).
"""

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple, Protocol, TypeVar
from uuid import UUID

import psycopg
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier, Literal

from adapters.eventlog.chain import Link
from adapters.eventlog.chain_shares import ChainTables, chain_reader, chained_rows
from adapters.eventlog.mapper import CODEC, DECODERS, VERSION_MARK, EventMapper, topics_of
from adapters.eventlog.recorders import SPARSE_TOPICS, PostgresRecorder, SQLiteRecorder
from adapters.settings import Settings
from adapters.sql import FETCH, SQLITE_CHUNK
from domain.events import EVENT_TYPES, Evenement, Recorded


class Log(Protocol):
    """What a reader needs of the store (the `Parcours` application has it; the store's own
    module reads through here too, so this module cannot import it)."""

    @property
    def recorder(self) -> SQLiteRecorder | PostgresRecorder: ...

    @property
    def mapper(self) -> EventMapper: ...

    @property
    def settings(self) -> Settings: ...


# --- decoding -------------------------------------------------------------------------------

Unwrap = Callable[[bytes], bytes] | None
"""The mapper's decryption and decompression of a payload; None when payloads are plain."""

Row = tuple[int, Any, int, str, bytes]
"""One stored event as the queries return it: position, case id (a UUID, or its hex on
SQLite), version, topic, payload."""


class IllegibleEvent(ValueError):
    """A stored event no decoder reads (a payload altered in the database, a type unknown to
    this release): the log is never rewritten, so the readers set its case aside instead."""

    def __init__(self, position: int, case_id: UUID, topic: str, error: Exception) -> None:
        super().__init__(f"event at position {position} ({topic}) cannot be read: {error}")
        self.position = position
        self.case_id = case_id
        self.topic = topic


def decode_row(
    position: int, case_id: UUID, version: int, topic: str, state: bytes, unwrap: Unwrap = None
) -> Recorded:
    """One stored row as a recorded event, or IllegibleEvent naming it (NewerEventVersion for a
    version of its type this release does not know)."""
    try:
        payload = state if unwrap is None else unwrap(state)
        event: Evenement = DECODERS[topic].decode(payload)
    except Exception as e:
        CODEC.refuse_newer(topic, position, f" (case {case_id})")
        raise IllegibleEvent(position, case_id, topic, e) from e
    return Recorded(case_id, version, event, position)


def _unwrap(log: Log) -> Unwrap:
    return None if log.mapper.plain else log.mapper.unwrap


def _uuid(case_id: UUID | str) -> UUID:
    return case_id if isinstance(case_id, UUID) else UUID(case_id)


def _decoded(rows: Sequence[Row], unwrap: Unwrap) -> list[Recorded]:
    """The rows decoded, plain ones at full speed; the first illegible one raised."""
    if unwrap is None:
        try:
            if rows and isinstance(rows[0][1], str):
                return [
                    Recorded(UUID(case_id), version, DECODERS[topic].decode(state), position)
                    for position, case_id, version, topic, state in rows
                ]
            return [
                Recorded(case_id, version, DECODERS[topic].decode(state), position)
                for position, case_id, version, topic, state in rows
            ]
        except Exception:  # noqa: S110 - an unknown topic, a bad payload, a refused upcast:
            pass  # decoded again one by one below, to name the row
    return [decode_row(p, _uuid(c), v, t, s, unwrap) for p, c, v, t, s in rows]


# --- connections ----------------------------------------------------------------------------


def _table(recorder: PostgresRecorder) -> Identifier:
    return Identifier(recorder.datastore.schema, recorder.events_table_name)


def _fetch_postgres(
    recorder: PostgresRecorder, query: Composed, params: Sequence[Any]
) -> list[tuple[Any, ...]]:
    """A prepared query's rows on a pooled connection, through a binary cursor."""
    with (
        recorder.datastore.get_connection() as conn,
        conn.cursor(binary=True, row_factory=tuple_row) as cursor,
    ):
        cursor.execute(query, params, prepare=True)
        return cursor.fetchall()


def _fetch_sqlite(recorder: SQLiteRecorder, query: str, params: Sequence[Any]) -> list[Row]:
    """A short query's rows on a pooled connection."""
    with recorder.datastore.transaction(commit=False) as c:
        c.execute(query, params)
        return [tuple(r) for r in c.fetchall()]


@contextmanager
def _sqlite_file(log: Log) -> Iterator[sqlite3.Connection]:
    """A read-only connection of its own over the file, for a long read (the pool's stay
    free for the writers)."""
    conn = sqlite3.connect(f"file:{log.settings.sqlite_file}?mode=ro", uri=True, timeout=30)
    try:
        yield conn
    finally:
        conn.close()


# --- the log in position order --------------------------------------------------------------


def _log_rows(log: Log, after: int, limit: int, stop: int | None) -> list[Row]:
    recorder = log.recorder
    params: list[int] = [after] if stop is None else [after, stop]
    params.append(limit)
    if isinstance(recorder, PostgresRecorder):
        query = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
            "WHERE notification_id > %s"
        ).format(_table(recorder))
        if stop is not None:
            query += SQL(" AND notification_id <= %s")
        query += SQL(" ORDER BY notification_id LIMIT %s")
        return _fetch_postgres(recorder, query, params)
    sql = (
        "SELECT rowid, originator_id, originator_version, topic, state "
        f"FROM {recorder.events_table_name} WHERE rowid > ?"
    )
    if stop is not None:
        sql += " AND rowid <= ?"
    sql += " ORDER BY rowid LIMIT ?"
    with _sqlite_file(log) as conn:
        return conn.execute(sql, params).fetchall()


def read_batch(log: Log, after: int, limit: int, stop: int | None = None) -> list[Recorded]:
    """Up to `limit` events recorded after position `after` (and up to `stop`), decoded;
    IllegibleEvent for the first one that cannot be."""
    return _decoded(_log_rows(log, after, limit, stop), _unwrap(log))


def read_log(
    log: Log, after: int = 0, stop: int | None = None, batch: int | None = None
) -> Iterator[list[Recorded]]:
    """Batches of events after position `after` up to `stop` (inclusive), until the end."""
    size = batch or log.settings.projection_batch
    while True:
        records = read_batch(log, after, size, stop)
        if not records:
            return
        yield records
        after = records[-1].position
        if stop is not None and after >= stop:
            return


# --- the log with its hash chain -------------------------------------------------------------


def chain_end(log: Log) -> int:
    """Where a verification stops: the last position of the events or the links, read in
    that order so that an append committing between the two reads lies wholly before it (its
    events and links are committed together) and every later one wholly after."""
    recorder = log.recorder
    if isinstance(recorder, PostgresRecorder):
        events = _fetch_postgres(
            recorder, SQL("SELECT max(notification_id) FROM {}").format(_table(recorder)), ()
        )
        links = _fetch_postgres(
            recorder,
            SQL("SELECT max(position) FROM {}").format(
                Identifier(recorder.datastore.schema, recorder.chain_table)
            ),
            (),
        )
    else:
        with _sqlite_file(log) as conn:
            events = conn.execute(f"SELECT max(rowid) FROM {recorder.events_table_name}").fetchall()
            links = conn.execute("SELECT max(position) FROM chaine").fetchall()
    return max(events[0][0] or 0, links[0][0] or 0)


def chain_tables(log: Log) -> ChainTables:
    """The log's and its chain's tables, and how to connect to them."""
    recorder = log.recorder
    if isinstance(recorder, PostgresRecorder):
        return ChainTables(
            True,
            log.settings.postgres_conninfo(),
            recorder.datastore.schema,
            recorder.events_table_name,
            recorder.chain_table,
        )
    return ChainTables(
        False,
        {"file": str(log.settings.sqlite_file)},
        "",
        recorder.events_table_name,
        "chaine",
    )


def chained_batch(
    log: Log, after: int, limit: int, stop: int
) -> tuple[list[tuple[Any, ...]], list[Link] | None]:
    """`chained_rows` on a connection of its own."""
    with chain_reader(chain_tables(log)) as fetch:
        return chained_rows(fetch, after, limit, stop)


# --- some cases' histories ------------------------------------------------------------------


def _cases_query(table: Identifier, bounded: bool) -> Composed:
    query = SQL(
        "SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
        "WHERE originator_id = ANY(%s)"
    ).format(table)
    if bounded:
        query += SQL(" AND notification_id <= %s")
    return query + SQL(" ORDER BY originator_id, originator_version")


def _case_rows(log: Log, ids: list[UUID], stop: int | None) -> list[Row]:
    recorder = log.recorder
    bound = [] if stop is None else [stop]
    if isinstance(recorder, PostgresRecorder):
        query = _cases_query(_table(recorder), stop is not None)
        return _fetch_postgres(recorder, query, [ids, *bound])
    rows: list[Row] = []
    for start in range(0, len(ids), SQLITE_CHUNK):
        chunk = [u.hex for u in ids[start : start + SQLITE_CHUNK]]
        sql = (
            "SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {recorder.events_table_name} WHERE originator_id IN "
            f"({','.join('?' * len(chunk))})"
        )
        if stop is not None:
            sql += " AND rowid <= ?"
        sql += " ORDER BY originator_id, originator_version"
        rows += _fetch_sqlite(recorder, sql, [*chunk, *bound])
    return rows


def _grouped(
    rows: Iterable[Row], unwrap: Unwrap
) -> tuple[dict[UUID, list[Recorded]], dict[UUID, IllegibleEvent]]:
    """Rows in (case, version) order as each case's history, each stopping before its first
    illegible event (given beside)."""
    found: dict[UUID, list[Recorded]] = {}
    illegible: dict[UUID, IllegibleEvent] = {}
    for position, case_id, version, topic, state in rows:
        case = _uuid(case_id)
        history = found.setdefault(case, [])
        if case in illegible:
            continue
        try:
            history.append(decode_row(position, case, version, topic, state, unwrap))
        except IllegibleEvent as e:
            illegible[case] = e
    return found, illegible


def case_histories(
    log: Log, case_ids: Iterable[UUID], stop: int | None = None
) -> dict[UUID, list[Recorded]]:
    """Each case's events (up to position `stop`) in version order, with their positions;
    cases without any are left out. IllegibleEvent for an event that cannot be read."""
    wanted = list(set(case_ids))
    if not wanted:
        return {}
    found, illegible = _grouped(_case_rows(log, wanted, stop), _unwrap(log))
    for e in illegible.values():
        raise e
    return found


def case_history(log: Log, case_id: UUID) -> list[Recorded]:
    """The case's events in version order, with their positions (read by the case's id, which
    the events table's primary key starts with)."""
    return case_histories(log, [case_id]).get(case_id, [])


def position_of(log: Log, case_id: UUID, version: int) -> int | None:
    """Log position (notification id) of one stored event."""
    recorder = log.recorder
    if isinstance(recorder, PostgresRecorder):
        query = SQL(
            "SELECT notification_id FROM {} WHERE originator_id = %s AND originator_version = %s"
        ).format(_table(recorder))
        rows = _fetch_postgres(recorder, query, (case_id, version))
    else:
        rows = _fetch_sqlite(
            recorder,
            f"SELECT rowid FROM {recorder.events_table_name} "
            "WHERE originator_id = ? AND originator_version = ?",
            (case_id.hex, version),
        )
    return int(rows[0][0]) if rows else None


E = TypeVar("E", bound=Evenement)


def events_of(log: Log, kind: type[E], batch: int = 1000) -> Iterator[E]:
    """Every event of one type in log order (the library's topic-filtered query, every
    version's topic), decoded here; IllegibleEvent for one that cannot be."""
    unwrap, start = _unwrap(log), 0
    topics = topics_of(kind)
    recorder = log.recorder
    if isinstance(recorder, PostgresRecorder) and set(topics) <= set(SPARSE_TOPICS):
        # The topics as literals: the planner then uses the partial index of these rows (it
        # lists every version's topic of these types: docs/eventlog.md, "Event versions").
        query = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
            "WHERE topic IN ({}) ORDER BY notification_id"
        ).format(_table(recorder), SQL(", ").join(Literal(t) for t in topics))
        for row in _fetch_postgres(recorder, query, ()):
            event = decode_row(row[0], _uuid(row[1]), row[2], row[3], row[4], unwrap).event
            assert isinstance(event, kind)
            yield event
        return
    while notes := log.recorder.select_notifications(
        start=start, limit=batch, topics=topics, inclusive_of_start=False
    ):
        for n in notes:
            event = decode_row(
                n.id, _uuid(n.originator_id), n.originator_version, n.topic, n.state, unwrap
            ).event
            assert isinstance(event, kind)
            yield event
        start = notes[-1].id


# --- every case's history, in key order -----------------------------------------------------

CASE_TOPICS = frozenset(topics_of(*EVENT_TYPES))
"""Every topic of a case's events, each version of each type."""
CASE_NAMES = frozenset(kind.__name__ for kind in EVENT_TYPES)


class StoredRow(NamedTuple):
    """One stored event, not decoded yet (an extract decodes only the cases it may keep)."""

    position: int
    case_id: UUID
    version: int
    topic: str
    state: bytes


def _key_ordered_rows(log: Log) -> Iterator[Row]:
    """Every stored event by (originator_id, originator_version), the primary key: no sort,
    and rows come as they are read."""
    recorder = log.recorder
    if isinstance(recorder, PostgresRecorder):
        query = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
            "ORDER BY originator_id, originator_version"
        ).format(_table(recorder))
        with (
            recorder.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(name="parcours_histories", binary=True, row_factory=tuple_row) as cursor,
        ):
            cursor.itersize = FETCH
            cursor.execute(query)
            yield from cursor
        return
    with _sqlite_file(log) as file:
        rows = file.execute(
            "SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {recorder.events_table_name} ORDER BY originator_id, originator_version"
        )
        while batch := rows.fetchmany(FETCH):
            yield from batch


def stored_histories(log: Log) -> Iterator[list[StoredRow]]:
    """Each case's stored events, undecoded, cases in id order; other aggregates skipped."""
    current: UUID | str | None = None
    case_id = UUID(int=0)
    history: list[StoredRow] = []
    for position, originator_id, version, topic, state in _key_ordered_rows(log):
        if topic not in CASE_TOPICS:
            if topic.partition(VERSION_MARK)[0] in CASE_NAMES:  # a newer version: not skipped
                CODEC.refuse_newer(topic, position, f" (case {originator_id})")
            continue
        if originator_id != current:
            if history:
                yield history
            history = []
            current = originator_id
            case_id = _uuid(originator_id)
        history.append(StoredRow(position, case_id, version, topic, state))
    if history:
        yield history


def decoded(log: Log, stored: Iterable[StoredRow]) -> list[Recorded]:
    """Stored rows decoded; IllegibleEvent for the first that cannot be."""
    unwrap = _unwrap(log)
    return [decode_row(*row, unwrap) for row in stored]


def histories(log: Log) -> Iterator[list[Recorded]]:
    """Each case's decoded history, cases in id order."""
    for stored in stored_histories(log):
        yield decoded(log, stored)


# --- a worker's own connection (the parallel rebuild on PostgreSQL) --------------------------
# The worker has no store, only a connection and the table's name; the rebuild reads plain
# payloads (no cipher, no compressor).


def share_rows(
    cursor: psycopg.ServerCursor[Any],
    table: Identifier,
    stop: int,
    topics: Sequence[str],
    parts: int,
    part: int,
    size: int,
) -> Iterator[list[tuple[bytes, str, bytes]]]:
    """The events of `topics` up to position `stop` whose case id's last byte falls in `part`
    of `parts` (every case's events reach one share), in log order, `size` at a time: (case
    id as 16 bytes, topic, payload); bytes key a fold's dict without building a UUID each.
    Rows of any other version of those types come too (`Name@n`): a version newer than this
    release then reaches the fold, whose decoders refuse it, instead of being left out."""
    versions = sorted({f"{topic.partition(VERSION_MARK)[0]}{VERSION_MARK}%" for topic in topics})
    cursor.execute(
        SQL(
            "SELECT uuid_send(originator_id), topic, state FROM {} "
            "WHERE notification_id <= %s AND (topic = ANY(%s) OR topic LIKE ANY(%s)) "
            "AND get_byte(uuid_send(originator_id), 15) %% %s = %s "
            "ORDER BY notification_id"
        ).format(table),
        (stop, list(topics), versions, parts, part),
    )
    while rows := cursor.fetchmany(size):
        yield rows


def legible_histories(
    conn: psycopg.Connection[Any], table: Identifier, case_ids: Iterable[UUID], stop: int
) -> tuple[dict[UUID, list[Recorded]], dict[UUID, IllegibleEvent]]:
    """Each case's events up to position `stop` in version order, stopping before the first
    event no decoder reads (given beside); a case without events has an empty history."""
    wanted = list(case_ids)
    found: dict[UUID, list[Recorded]] = {}
    illegible: dict[UUID, IllegibleEvent] = {}
    if wanted:
        with conn.cursor(binary=True, row_factory=tuple_row) as cursor:
            cursor.execute(_cases_query(table, bounded=True), (wanted, stop))
            found, illegible = _grouped(cursor, None)
    return {case_id: found.get(case_id, []) for case_id in wanted}, illegible


# --- the log as stored, on a snapshot of the caller's (a backup and its restore) ---------------


def log_holds_rows(log: Log, conn: sqlite3.Connection | psycopg.Connection[Any]) -> bool:
    """Whether the events table has a row, in the caller's transaction on `conn` (a restore
    checks its target is empty in the transaction that loads it)."""
    recorder = log.recorder
    if isinstance(recorder, PostgresRecorder):
        assert isinstance(conn, psycopg.Connection)
        query = SQL("SELECT 1 FROM {} LIMIT 1").format(_table(recorder))
        return conn.execute(query).fetchone() is not None
    assert isinstance(conn, sqlite3.Connection)
    found = conn.execute(f"SELECT 1 FROM {recorder.events_table_name} LIMIT 1").fetchone()
    return found is not None


def stored_rows(
    log: Log, conn: sqlite3.Connection | psycopg.Connection[Any], size: int = FETCH
) -> Iterator[list[Row]]:
    """Every stored event exactly as the table holds it (payloads not unwrapped: an encrypted
    log stays encrypted), in position order, `size` at a time, read in the transaction the
    caller opened on `conn` (a backup reads every table in one snapshot)."""
    recorder = log.recorder
    if isinstance(recorder, PostgresRecorder):
        assert isinstance(conn, psycopg.Connection)
        query = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state FROM {} "
            "ORDER BY notification_id"
        ).format(_table(recorder))
        with conn.cursor(name="parcours_backup", binary=True, row_factory=tuple_row) as cursor:
            cursor.itersize = size
            cursor.execute(query)
            while rows := cursor.fetchmany(size):
                yield rows
        return
    assert isinstance(conn, sqlite3.Connection)
    lite = conn.execute(
        "SELECT rowid, originator_id, originator_version, topic, state "
        f"FROM {recorder.events_table_name} ORDER BY rowid"
    )
    while batch := lite.fetchmany(size):
        yield batch
