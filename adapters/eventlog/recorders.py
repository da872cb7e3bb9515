"""The library's application recorders, extended to keep idempotency keys in the same transaction
as the events a request appended: a replayed request finds its key and writes nothing, and a crash
can never leave events without their key or a key without its events.

The library has no public hook for a row of our own in the events' transaction, so the
recorders override its private insert methods (kwargs of `EventStore.put` reach them): what is
overridden, why, and what to check when upgrading the library is in docs/eventlog.md, and
tests/unit/test_library_hooks.py fails when those methods change.

The same transaction writes each event's link of the hash chain (`chain.py`): the previous
link is read under the write lock (SQLite's single writer, PostgreSQL's table lock), the new
links are computed here and inserted in one statement. A log that holds events but no link
(a département upgrading) is chained once when the tables are created.
"""

import hashlib
from collections.abc import Sequence
from itertools import pairwise
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier, Literal

from adapters.eventlog.chain import GENESIS, Link, PointDeControle, chain_hashes, links_for

CHAIN_BATCH = 5000
"""Events chained per statement when a log without links adopts the chain."""

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


def _point(row: tuple[Any, ...]) -> PointDeControle:
    position, racine, horodatage, motif, cle, signature = row
    stamp = horodatage if isinstance(horodatage, str) else horodatage.isoformat()
    return PointDeControle(
        position=position,
        racine=racine,
        horodatage=stamp,
        motif=motif,
        cle=cle,
        signature=signature,
    )


def _link(row: DictRow) -> Link:
    return Link(row["position"], row["precedente"], bytes(row["empreinte"]))


def _link_columns(links: Sequence[Link]) -> tuple[list[int], list[int], list[bytes]]:
    return (
        [link.position for link in links],
        [link.previous for link in links],
        [link.hash for link in links],
    )


class SQLiteRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS idempotency ("
            "key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, case_id TEXT NOT NULL, "
            "version INTEGER NOT NULL, status INTEGER NOT NULL) WITHOUT ROWID",
            "CREATE TABLE IF NOT EXISTS chaine ("
            "position INTEGER PRIMARY KEY, precedente INTEGER NOT NULL, empreinte BLOB NOT NULL)",
            "CREATE TABLE IF NOT EXISTS point_controle ("
            "id INTEGER PRIMARY KEY, position INTEGER NOT NULL, racine TEXT NOT NULL, "
            "horodatage TEXT NOT NULL, motif TEXT NOT NULL, cle TEXT NOT NULL, "
            "signature TEXT NOT NULL)",
        ]

    chained = True
    """Whether appends write their links (off only in the benchmark that measures them)."""

    def create_table(self) -> None:
        super().create_table()
        self.adopt_chain()

    def adopt_chain(self) -> int:
        """Chain a log that holds events but no link yet (once: a département adopting the
        chain), in one write transaction; the number of events chained."""
        chained = 0
        with self.datastore.transaction(commit=True) as c:
            c.execute("SELECT 1 FROM chaine LIMIT 1")
            if c.fetchone() is not None:
                return 0
            last: Link | None = None
            while True:
                c.execute(
                    "SELECT rowid, originator_id, originator_version, topic, state "
                    f"FROM {self.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                    (0 if last is None else last.position, CHAIN_BATCH),
                )
                rows = c.fetchall()
                if not rows:
                    return chained
                links = links_for(last, ((r[0], UUID(r[1]), r[2], r[3], r[4]) for r in rows))
                c.executemany("INSERT INTO chaine VALUES (?,?,?)", links)
                last, chained = links[-1], chained + len(links)

    @staticmethod
    def _last_link(c: SQLiteCursor) -> Link | None:
        c.execute(
            "SELECT position, precedente, empreinte FROM chaine ORDER BY position DESC LIMIT 1"
        )
        row = c.fetchone()
        return None if row is None else Link(row[0], row[1], row[2])

    def last_link(self) -> Link | None:
        """The chain's last link: what a checkpoint signs."""
        with self.datastore.transaction(commit=False) as c:
            return self._last_link(c)

    def store_checkpoint(self, point: PointDeControle) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(
                "INSERT INTO point_controle (position, racine, horodatage, motif, cle, signature) "
                "VALUES (?,?,?,?,?,?)",
                (
                    point.position,
                    point.racine,
                    point.horodatage,
                    point.motif,
                    point.cle,
                    point.signature,
                ),
            )

    def checkpoints(self, limit: int = 100) -> list[PointDeControle]:
        """The latest checkpoints, newest first."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT position, racine, horodatage, motif, cle, signature FROM point_controle "
                "ORDER BY id DESC LIMIT ?",
                (limit,),
            )
            rows = c.fetchall()
        return [_point(tuple(r)) for r in rows]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        ids = super()._insert_events(c, stored_events, **kwargs)
        if ids and self.chained:
            # The events' inserts hold the file's write lock: the last link is ours to follow.
            last = self._last_link(c)
            previous, digest = (0, GENESIS) if last is None else (last.position, last.hash)
            hashes = chain_hashes(
                digest,
                (
                    (i, e.originator_id, e.originator_version, e.topic, e.state)
                    for i, e in zip(ids, stored_events, strict=True)
                ),
            )
            c.executemany(
                "INSERT INTO chaine VALUES (?,?,?)",
                zip(ids, [previous, *ids[:-1]], hashes, strict=True),
            )
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
        prefix = events_table_name.removesuffix("_events")
        chain = Identifier(prefix + "_chaine")
        self.chain_table = prefix + "_chaine"
        points = Identifier(prefix + "_point_controle")
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} (position bigint PRIMARY KEY, "
                "precedente bigint NOT NULL, empreinte bytea NOT NULL)"
            ).format(schema=schema, table=chain)
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.{table} (id bigserial PRIMARY KEY, "
                "position bigint NOT NULL, racine text NOT NULL, horodatage text NOT NULL, "
                "motif text NOT NULL, cle text NOT NULL, signature text NOT NULL)"
            ).format(schema=schema, table=points)
        )
        self._last_link_sql = SQL(
            "SELECT position, precedente, empreinte FROM {schema}.{table} "
            "ORDER BY position DESC LIMIT 1"
        ).format(schema=schema, table=chain)
        self._any_link = SQL("SELECT 1 FROM {schema}.{table} LIMIT 1").format(
            schema=schema, table=chain
        )
        self._insert_links = SQL(
            "INSERT INTO {schema}.{table} "
            "SELECT * FROM unnest(%b::bigint[], %b::bigint[], %b::bytea[])"
        ).format(schema=schema, table=chain)
        # An append's links: the positions as one array, the hashes as one buffer of 32 bytes
        # each, each previous position taken from the row before (one array to send, not
        # three). The library reads the new events' positions from this last statement.
        self._insert_links_returning = SQL(
            "INSERT INTO {schema}.{table} SELECT p, coalesce(lag(p) OVER (ORDER BY o), %s), "
            "substring(%b::bytea FROM (o::int - 1) * 32 + 1 FOR 32) "
            "FROM unnest(%b::bigint[]) WITH ORDINALITY AS t(p, o) "
            "RETURNING position AS notification_id"
        ).format(schema=schema, table=chain)
        self._unchained = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{table} WHERE notification_id > %s ORDER BY notification_id LIMIT %s"
        ).format(schema=schema, table=Identifier(self.events_table_name))
        self._insert_point = SQL(
            "INSERT INTO {schema}.{table} (position, racine, horodatage, motif, cle, signature) "
            "VALUES (%s,%s,%s,%s,%s,%s)"
        ).format(schema=schema, table=points)
        self._select_points = SQL(
            "SELECT position, racine, horodatage, motif, cle, signature FROM {schema}.{table} "
            "ORDER BY id DESC LIMIT %s"
        ).format(schema=schema, table=points)

    chained = True
    """Whether appends write their links (off only in the benchmark that measures them)."""

    def create_table(self) -> None:
        super().create_table()
        self.adopt_chain()

    def adopt_chain(self) -> int:
        """Chain a log that holds events but no link yet (once: a département adopting the
        chain), in one transaction under the events' write lock (appends wait meanwhile); the
        number of events chained."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._any_link)
            if curs.fetchone() is not None:
                return 0
            self._lock_table(curs)
            # Another process starting at the same moment may have chained it meanwhile.
            curs.execute(self._any_link)
            if curs.fetchone() is not None:
                return 0
            return self._chain_rows(curs, None, 0)

    def _chain_rows(self, curs: Cursor[DictRow], last: Link | None, after: int) -> int:
        """Link the rows after position `after`, following `last`, batch by batch."""
        chained = 0
        while True:
            curs.execute(self._unchained, (after, CHAIN_BATCH))
            rows = curs.fetchall()
            if not rows:
                return chained
            links = links_for(
                last,
                (
                    (
                        r["notification_id"],
                        r["originator_id"],
                        r["originator_version"],
                        r["topic"],
                        bytes(r["state"]),
                    )
                    for r in rows
                ),
            )
            curs.execute(self._insert_links, _link_columns(links))
            last, after, chained = links[-1], links[-1].position, chained + len(links)

    def position_locked(self, curs: Cursor[DictRow]) -> int:
        """The log's last position, read by a writer of our own holding the table lock (the
        flux import's COPY) before it writes: `chain_written` links what follows it."""
        curs.execute(self.max_notification_id_statement)
        row = curs.fetchone()
        return int(row["max"] or 0) if row is not None else 0

    def chain_written(self, curs: Cursor[DictRow], after: int) -> int:
        """Link the events a writer of our own put after position `after` in its transaction,
        under the table lock it holds (the flux import's COPY returns no positions)."""
        if not self.chained:
            return 0
        curs.execute(self._last_link_sql)
        found = curs.fetchone()
        return self._chain_rows(curs, None if found is None else _link(found), after)

    def last_link(self) -> Link | None:
        """The chain's last link: what a checkpoint signs."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._last_link_sql)
            row = curs.fetchone()
        return None if row is None else _link(row)

    def store_checkpoint(self, point: PointDeControle) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(
                self._insert_point,
                (
                    point.position,
                    point.racine,
                    point.horodatage,
                    point.motif,
                    point.cle,
                    point.signature,
                ),
            )

    def checkpoints(self, limit: int = 100) -> list[PointDeControle]:
        """The latest checkpoints, newest first."""
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._select_points, (limit,))
            rows = curs.fetchall()
        return [
            _point(
                (r["position"], r["racine"], r["horodatage"], r["motif"], r["cle"], r["signature"])
            )
            for r in rows
        ]

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
        if self.chained:
            # Under the table lock, the last link is ours to follow: read with the lock (one
            # round trip per append, none per event), then the links in one statement.
            curs.execute(self._last_link_sql, prepare=True)
            found = curs.fetchone()
            last = None if found is None else _link(found)
        if record is None:
            curs.execute(self._insert_arrays, columns)
        else:
            key = (record.key, record.fingerprint, record.case_id, record.version, record.status)
            curs.execute(self._insert_arrays_and_key, (*key, *columns))
        if not self.chained:
            return
        ids = [row["notification_id"] for row in curs.fetchall()]
        pairs = list(zip(ids, stored_events, strict=True))
        if any(a >= b for a, b in pairwise(ids)):
            pairs.sort(key=lambda pair: pair[0])
        previous, digest = (0, GENESIS) if last is None else (last.position, last.hash)
        hashes = chain_hashes(
            digest,
            ((i, e.originator_id, e.originator_version, e.topic, e.state) for i, e in pairs),
        )
        curs.execute(
            self._insert_links_returning, (previous, b"".join(hashes), [i for i, _ in pairs])
        )

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
