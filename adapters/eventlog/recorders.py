"""The library's application recorders, extended to keep idempotency keys in the same transaction
as the events a request appended: a replayed request finds its key and writes nothing, and a crash
can never leave events without their key or a key without its events.

The library has no public hook for a row of our own in the events' transaction, so the
recorders override its private insert methods (kwargs of `EventStore.put` reach them): what is
overridden, why, and what to check when upgrading the library is in docs/eventlog.md, and
tests/unit/test_library_hooks.py fails when those methods change.
"""

import hashlib
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier, Literal

SPARSE_TOPICS = ("StructureDeclaree", "CohorteEnregistree")
"""Event types a few of which lie across the whole log, read by type (`reading.events_of`)."""


def sparse_key() -> str:
    """Names the partial index after its topics: a new list makes a new index."""
    return hashlib.sha256(",".join(SPARSE_TOPICS).encode()).hexdigest()[:8]


class IdempotencyRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What a request with an `Idempotency-Key` wrote, enough to answer its replay."""

    key: str
    fingerprint: str
    case_id: UUID
    version: int
    status: int


class SQLiteRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS idempotency ("
            "key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, case_id TEXT NOT NULL, "
            "version INTEGER NOT NULL, status INTEGER NOT NULL) WITHOUT ROWID",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        record: IdempotencyRecord | None = kwargs.get("idempotency")
        if record is not None:
            c.execute(
                "INSERT INTO idempotency VALUES (?,?,?,?,?)",
                (record.key, record.fingerprint, record.case_id.hex, record.version, record.status),
            )
        return ids

    def find_idempotency(self, key: str) -> IdempotencyRecord | None:
        with self.datastore.transaction(commit=False) as c:
            c.execute("SELECT * FROM idempotency WHERE key=?", (key,))
            row = c.fetchone()
        if row is None:
            return None
        return IdempotencyRecord(
            key=row["key"],
            fingerprint=row["fingerprint"],
            case_id=UUID(row["case_id"]),
            version=row["version"],
            status=row["status"],
        )


class PostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events"):
        if datastore.enable_db_functions:
            # The library's database function inserts the events without calling
            # `_insert_stored_events`: the key would be silently left out.
            msg = "POSTGRES_ENABLE_DB_FUNCTIONS would write events without their idempotency key"
            raise ValueError(msg)
        super().__init__(datastore, events_table_name=events_table_name)
        self.idempotency_table = Identifier(
            events_table_name.removesuffix("_events") + "_idempotency"
        )
        schema = Identifier(self.datastore.schema)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} ("
                "key text PRIMARY KEY, fingerprint text NOT NULL, case_id uuid NOT NULL, "
                "version bigint NOT NULL, status int NOT NULL)"
            ).format(schema=schema, table=self.idempotency_table)
        )
        # The few events of a type read across the whole log (structure declarations, saved
        # cohorts: `reading.events_of`) found without walking the log: a partial index of
        # their rows only, which the cases' appends do not touch.
        sparse = SQL(", ").join(Literal(t) for t in SPARSE_TOPICS)
        self.sql_create_statements.append(
            SQL(
                "CREATE INDEX IF NOT EXISTS {index} ON {schema}.{table} (topic, notification_id) "
                "WHERE topic IN ({sparse})"
            ).format(
                index=Identifier(f"{self.events_table_name}_sparse_{sparse_key()}"),
                schema=schema,
                table=Identifier(self.events_table_name),
                sparse=sparse,
            )
        )
        insert_key = SQL("INSERT INTO {schema}.{table} VALUES (%s,%s,%s,%s,%s)").format(
            schema=schema, table=self.idempotency_table
        )
        self._select_key = SQL("SELECT * FROM {schema}.{table} WHERE key=%s").format(
            schema=schema, table=self.idempotency_table
        )
        insert_arrays = SQL(
            "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id"
        ).format(schema=schema, table=Identifier(self.events_table_name))
        self._insert_arrays = insert_arrays
        # The key rides in the events' statement: one statement, one error on a lost race.
        self._insert_arrays_and_key = SQL("WITH key AS ({key}) {insert}").format(
            key=insert_key, insert=insert_arrays
        )

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        """The library's insert (table lock, NOTIFY, one statement), with one binary array per
        column instead of an array of composites, which psycopg dumps as escaped text.

        The idempotency key is inserted by the same statement, under the table lock and where
        the library syncs the pipeline and turns a unique violation into an IntegrityError. A
        second statement queued behind a failing one would be aborted in the pipeline (an
        OperationalError, or a prepared statement psycopg believes exists), so a lost race
        would not read as one."""
        self._lock_table(curs)
        self._notify_channel(curs)
        columns = (
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        )
        record: IdempotencyRecord | None = kwargs.get("idempotency")
        if record is None:
            curs.execute(self._insert_arrays, columns)
        else:
            key = (record.key, record.fingerprint, record.case_id, record.version, record.status)
            curs.execute(self._insert_arrays_and_key, (*key, *columns))

    def find_idempotency(self, key: str) -> IdempotencyRecord | None:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_key, (key,))
            row = curs.fetchone()
        if row is None:
            return None
        return IdempotencyRecord(
            key=row["key"],
            fingerprint=row["fingerprint"],
            case_id=row["case_id"],
            version=row["version"],
            status=row["status"],
        )
