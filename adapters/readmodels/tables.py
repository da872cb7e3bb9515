"""Read-model tables: one spec per table, one implementation per store.

A read model's store is a `TableSpec` (name, typed columns, key, indexes) and thin typed code
turning its values into rows and back; what differs between SQLite and PostgreSQL (column types,
placeholders, UUIDs and dates kept as text on SQLite, bulk writes by `unnest` arrays and COPY on
PostgreSQL, by `executemany` on SQLite) lives here once, in `SQLiteTable` and `PostgresTable`.

Each table is one of the library's tracking recorders: rows and the log position they reflect
are written in the same transaction, so a crash never leaves a row ahead of, or behind, its
position, and a batch already applied is refused (IntegrityError) instead of applied twice.
"""

import functools
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum
from typing import Any, ClassVar, Generic, TypedDict, TypeVar, Unpack, cast
from uuid import UUID

import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

from adapters.eventlog.store import Parcours
from adapters.migrations import ensure_migrated
from adapters.sql import FETCH, SQLITE_CHUNK


class Kind(Enum):
    """A column's type, which each store spells its own way."""

    UUID = "uuid"
    TEXT = "text"
    INT = "int"
    BOOL = "bool"
    DATE = "date"
    TIME = "time"
    BYTES = "bytes"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    null: bool = False


@dataclass(frozen=True)
class Index:
    """An index named `<table>_<suffix>`, partial when `where` is given."""

    suffix: str
    columns: tuple[str, ...]
    where: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    indexes: tuple[Index, ...] = ()
    keep: tuple[str, ...] = ()
    """Columns an upsert leaves as they were (the row's first value is kept)."""
    migrated: bool = False
    """Made by `adapters.migrations` (data kept, not a read model rebuilt from the log):
    opening it creates nothing, the migrations run first."""

    def named(self, name: str) -> "TableSpec":
        """The same table under another name (a second copy beside the first)."""
        return replace(self, name=name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def updated(self) -> tuple[str, ...]:
        return tuple(n for n in self.names if n not in self.key and n not in self.keep)


Row = Sequence[Any]


class Options(TypedDict, total=False):
    """How a select orders and bounds its rows; `index`: the index it must use (a hint SQLite
    needs, PostgreSQL does not)."""

    order: str
    limit: int
    offset: int
    index: str


class Tx:
    """The statements of one transaction on one table; `%s` placeholders on both stores."""

    def __init__(self, table: "Table", cursor: Any) -> None:
        self.table = table
        self.cursor = cursor

    # What each store does its own way.

    def fetch(
        self, query: str, params: Sequence[Any] = (), columns: Sequence[str] = ()
    ) -> list[tuple[Any, ...]]:
        """The rows `query` selects (`columns`: their names, to read them back typed)."""
        raise NotImplementedError

    def run(self, query: str, params: Sequence[Any] = ()) -> None:
        raise NotImplementedError

    def upsert(self, rows: Iterable[Row]) -> None:
        """Insert the rows, replacing those with the same key (but their `keep` columns)."""
        raise NotImplementedError

    def insert(self, rows: Iterable[Row]) -> None:
        """Insert the rows; one with a key already there is refused."""
        raise NotImplementedError

    def by_key(self, columns: Sequence[str], keys: Iterable[Any]) -> list[tuple[Any, ...]]:
        """`columns` of the rows whose (one-column) key is in `keys`."""
        raise NotImplementedError

    def delete_keys(self, keys: Sequence[Row]) -> None:
        """Delete the rows with these keys (each a tuple of the key's columns)."""
        raise NotImplementedError

    # The same on both stores.

    def select(
        self,
        columns: Sequence[str],
        where: str = "",
        params: Sequence[Any] = (),
        **options: Unpack[Options],
    ) -> list[tuple[Any, ...]]:
        query = f"SELECT {', '.join(columns)} FROM {self.table.ref}"
        query += self.table.hint(options.get("index")) + _where(where)
        values = list(params)
        if order := options.get("order"):
            query += f" ORDER BY {order}"
        for clause in ("limit", "offset"):
            if (value := options.get(clause)) is not None:
                query += f" {clause.upper()} %s"
                values.append(value)
        return self.fetch(query, values, columns)

    def count(self, where: str = "", params: Sequence[Any] = ()) -> int:
        return int(
            self.fetch(f"SELECT count(*) FROM {self.table.ref}{_where(where)}", params)[0][0]
        )

    def delete(self, where: str = "", params: Sequence[Any] = ()) -> None:
        self.run(f"DELETE FROM {self.table.ref}{_where(where)}", params)

    def position(self, tracking_name: str) -> int:
        """The tracking position of `tracking_name` as this transaction sees it."""
        found = self.fetch(
            f"SELECT max(notification_id) FROM {self.table.tracking_ref} "
            "WHERE application_name = %s",
            (tracking_name,),
        )
        return int(found[0][0] or 0)


def _where(where: str) -> str:
    return f" WHERE {where}" if where else ""


class Table:
    """What the read-model stores need from a table, on either store."""

    spec: ClassVar[TableSpec]
    ref: str
    """The table as a query names it."""
    tracking_ref: str

    def max_tracking_id(self, application_name: str) -> int | None:
        raise NotImplementedError

    def writing(
        self, tracking: Tracking | None = None, *, commit: bool = True
    ) -> AbstractContextManager[Tx]:
        """A write transaction recording `tracking` first; rolled back if not `commit`."""
        raise NotImplementedError

    def reading(self, *, snapshot: bool = False) -> AbstractContextManager[Tx]:
        """A read-only transaction (`snapshot`: every statement sees the same state)."""
        raise NotImplementedError

    def scan(
        self, columns: Sequence[str], where: str = "", params: Sequence[Any] = ()
    ) -> Iterator[tuple[Any, ...]]:
        """The rows selected, without holding them all in memory where the store allows."""
        raise NotImplementedError

    def hint(self, index: str | None) -> str:
        return ""

    def select(
        self,
        columns: Sequence[str],
        where: str = "",
        params: Sequence[Any] = (),
        **options: Unpack[Options],
    ) -> list[tuple[Any, ...]]:
        """`Tx.select` in a transaction of its own."""
        with self.reading() as tx:
            return tx.select(columns, where, params, **options)

    def by_key(self, columns: Sequence[str], keys: Iterable[Any]) -> list[tuple[Any, ...]]:
        with self.reading() as tx:
            return tx.by_key(columns, keys)

    def ref_of(self, name: str) -> str:
        """Another table of the same store as a query names it."""
        raise NotImplementedError

    def swap_from(
        self, staging: str, tracking: Tracking, then: Callable[[Tx], None] = lambda tx: None
    ) -> None:
        """The table `staging` (this spec's columns and key, no index) replaces this one, with
        its indexes, the tracking position `tracking` and whatever `then` writes, in one
        transaction: a reader sees the old table whole until the commit, the new one after."""
        raise NotImplementedError

    def reset(self, tracking_name: str) -> None:
        """Every row and the tracking position of `tracking_name` gone, in one transaction."""
        with self.writing() as tx:
            tx.delete()
            tx.run(f"DELETE FROM {self.tracking_ref} WHERE application_name = %s", (tracking_name,))


# --- SQLite ----------------------------------------------------------------------------------

_SQLITE_TYPES = {
    Kind.UUID: "TEXT",
    Kind.TEXT: "TEXT",
    Kind.INT: "INTEGER",
    Kind.BOOL: "INTEGER",
    Kind.DATE: "TEXT",
    Kind.TIME: "TEXT",
    Kind.BYTES: "BLOB",
}
_TO_SQLITE: dict[Kind, Callable[[Any], Any]] = {
    Kind.UUID: lambda v: v.hex,
    Kind.DATE: lambda v: v.isoformat(),
    Kind.TIME: lambda v: v.isoformat(),
}
_FROM_SQLITE: dict[Kind, Callable[[Any], Any]] = {
    Kind.UUID: UUID,
    Kind.BOOL: bool,
    Kind.DATE: date.fromisoformat,
    Kind.TIME: datetime.fromisoformat,
}


def _nullable(f: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else f(v)


def _converters(
    columns: Iterable[Column], table: dict[Kind, Callable[[Any], Any]]
) -> list[tuple[int, Callable[[Any], Any]]]:
    out = []
    for i, c in enumerate(columns):
        f = table.get(c.kind)
        if f is not None:
            out.append((i, _nullable(f) if c.null else f))
    return out


def _converted(
    rows: Iterable[Row], converters: list[tuple[int, Callable[[Any], Any]]]
) -> list[Row]:
    if not converters:
        return list(rows)
    out: list[Row] = []
    for row in rows:
        values = list(row)
        for i, f in converters:
            values[i] = f(values[i])
        out.append(values)
    return out


def _sqlite_param(value: Any) -> Any:
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, date):
        return value.isoformat()
    return value


class SQLiteTx(Tx):
    table: "SQLiteTable"

    def fetch(
        self, query: str, params: Sequence[Any] = (), columns: Sequence[str] = ()
    ) -> list[tuple[Any, ...]]:
        self.cursor.execute(query.replace("%s", "?"), [_sqlite_param(v) for v in params])
        rows = self.cursor.fetchall()
        return [tuple(r) for r in _converted(rows, self.table.readers(columns))]

    def run(self, query: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(query.replace("%s", "?"), [_sqlite_param(v) for v in params])

    def upsert(self, rows: Iterable[Row]) -> None:
        self.cursor.executemany(self.table.upsert_sql, _converted(rows, self.table.writers))

    def insert(self, rows: Iterable[Row]) -> None:
        self.cursor.executemany(self.table.insert_sql, _converted(rows, self.table.writers))

    def by_key(self, columns: Sequence[str], keys: Iterable[Any]) -> list[tuple[Any, ...]]:
        (key,) = self.table.spec.key
        ids = list(keys)
        out: list[tuple[Any, ...]] = []
        for start in range(0, len(ids), SQLITE_CHUNK):
            chunk = ids[start : start + SQLITE_CHUNK]
            out += self.select(columns, f"{key} IN ({','.join(['%s'] * len(chunk))})", chunk)
        return out

    def delete_keys(self, keys: Sequence[Row]) -> None:
        where = " AND ".join(f"{k} = ?" for k in self.table.spec.key)
        self.cursor.executemany(
            f"DELETE FROM {self.table.ref} WHERE {where}",
            [[_sqlite_param(v) for v in key] for key in keys],
        )


class SQLiteTable(SQLiteTrackingRecorder, Table):
    """A read-model table in the SQLite file of the log (UUIDs, dates and times as text)."""

    def __init__(
        self, datastore: SQLiteDatastore, *, spec: TableSpec | None = None, **kwargs: Any
    ) -> None:
        if spec is not None:
            self.spec = spec  # type: ignore[misc]
        s = self.spec
        self.ref = s.name
        self.tracking_ref = "tracking"
        self.insert_sql = (
            f"INSERT INTO {s.name} ({', '.join(s.names)}) VALUES ({','.join('?' * len(s.names))})"
        )
        self.upsert_sql = self.insert_sql + _on_conflict(s)
        self.writers = _converters(s.columns, _TO_SQLITE)
        self._kinds = {c.name: c for c in s.columns}
        super().__init__(datastore, **kwargs)

    def readers(self, columns: Sequence[str]) -> list[tuple[int, Callable[[Any], Any]]]:
        return _converters(
            (self._kinds.get(n, Column(n, Kind.BYTES)) for n in columns), _FROM_SQLITE
        )

    def construct_create_table_statements(self) -> list[str]:
        s = self.spec
        columns = ", ".join(
            f"{c.name} {_SQLITE_TYPES[c.kind]}{'' if c.null else ' NOT NULL'}" for c in s.columns
        )
        # A one-integer key is the rowid itself; any other key keeps the rows in its order.
        rowid = len(s.key) == 1 and self._kinds[s.key[0]].kind is Kind.INT
        if s.migrated:
            return super().construct_create_table_statements()
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {s.name} ({columns}, PRIMARY KEY ({', '.join(s.key)}))"
            + ("" if rowid else " WITHOUT ROWID"),
            *self.index_statements(s.name),
        ]

    def index_statements(self, name: str) -> list[str]:
        """The spec's indexes on the table `name`, named after it."""
        s = self.spec
        return [
            f"CREATE INDEX IF NOT EXISTS {name}_{i.suffix} ON {name} "
            f"({', '.join(i.columns)}){_where(i.where)}"
            for i in s.indexes
        ]

    def hint(self, index: str | None) -> str:
        return f" INDEXED BY {self.spec.name}_{index}" if index else ""

    def ref_of(self, name: str) -> str:
        return name

    def swap_from(
        self, staging: str, tracking: Tracking, then: Callable[[Tx], None] = lambda tx: None
    ) -> None:
        # SQLite cannot rename an index: they are built here, under the write lock; readers
        # (WAL) go on reading the old table meanwhile.
        name = self.spec.name
        with self.writing() as tx:
            tx.run(f"DROP TABLE IF EXISTS {name}")
            tx.run(f"ALTER TABLE {staging} RENAME TO {name}")
            for statement in self.index_statements(name):
                tx.run(statement)
            _move_tracking(self, tx, tracking)
            then(tx)

    @contextmanager
    def writing(self, tracking: Tracking | None = None, *, commit: bool = True) -> Iterator[Tx]:
        with self.datastore.transaction(commit=commit) as c:
            if tracking is not None:
                self._insert_tracking(c, tracking)
            yield SQLiteTx(self, c)

    @contextmanager
    def reading(self, *, snapshot: bool = False) -> Iterator[Tx]:
        # Every SQLite transaction is a snapshot: its reads see the file as at its first one.
        with self.datastore.transaction(commit=False) as c:
            yield SQLiteTx(self, c)

    def scan(
        self, columns: Sequence[str], where: str = "", params: Sequence[Any] = ()
    ) -> Iterator[tuple[Any, ...]]:
        yield from self.select(columns, where, params)


def _on_conflict(s: TableSpec) -> str:
    """The upsert's clause, the same on both stores."""
    updated = ", ".join(f"{n} = excluded.{n}" for n in s.updated)
    action = f"UPDATE SET {updated}" if updated else "NOTHING"
    return f" ON CONFLICT ({', '.join(s.key)}) DO {action}"


# --- PostgreSQL ------------------------------------------------------------------------------

_PG_TYPES = {
    Kind.UUID: "uuid",
    Kind.TEXT: "text",
    Kind.INT: "bigint",
    Kind.BOOL: "boolean",
    Kind.DATE: "date",
    Kind.TIME: "timestamptz",
    Kind.BYTES: "bytea",
}


def _quoted(*names: str) -> str:
    return ".".join('"' + n.replace('"', '""') + '"' for n in names)


class PostgresTx(Tx):
    table: "PostgresTable"

    def fetch(
        self, query: str, params: Sequence[Any] = (), columns: Sequence[str] = ()
    ) -> list[tuple[Any, ...]]:
        self.cursor.execute(query, params)
        rows: list[tuple[Any, ...]] = self.cursor.fetchall()
        return rows

    def run(self, query: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(query, params)

    def _arrays(self, query: str, rows: Iterable[Row]) -> None:
        """One statement for every row: each column sent as one binary array."""
        rows = list(rows)
        if rows:
            self.cursor.execute(query, [list(c) for c in zip(*rows, strict=True)])

    def upsert(self, rows: Iterable[Row]) -> None:
        self._arrays(self.table.upsert_sql, rows)

    def insert(self, rows: Iterable[Row]) -> None:
        self._arrays(self.table.insert_sql, rows)

    def by_key(self, columns: Sequence[str], keys: Iterable[Any]) -> list[tuple[Any, ...]]:
        (key,) = self.table.spec.key
        return self.select(columns, f"{key} = ANY(%s)", (list(keys),))

    def delete_keys(self, keys: Sequence[Row]) -> None:
        s = self.table.spec
        self._arrays(
            f"DELETE FROM {self.table.ref} WHERE ({', '.join(s.key)}) IN "
            f"(SELECT * FROM {_unnest(s, s.key)})",
            keys,
        )


def _unnest(s: TableSpec, names: Sequence[str]) -> str:
    kinds = {c.name: c.kind for c in s.columns}
    return f"unnest({', '.join(f'%b::{_PG_TYPES[kinds[n]]}[]' for n in names)})"


class PostgresTable(PostgresTrackingRecorder, Table):
    """A read-model table in the schema of the log; rows written by binary arrays (one
    statement per batch) or, for a rebuild, by binary COPY into a staging table."""

    def __init__(
        self, datastore: PostgresDatastore, *, spec: TableSpec | None = None, **kwargs: Any
    ) -> None:
        if spec is not None:
            self.spec = spec  # type: ignore[misc]
        super().__init__(datastore, **kwargs)
        s = self.spec
        self.schema = datastore.schema
        self.ref = _quoted(self.schema, s.name)
        self.tracking_ref = _quoted(self.schema, self.tracking_table_name)
        self.staging_name = f"{s.name}_rebuild"
        self.staging_ref = _quoted(self.schema, self.staging_name)
        self.insert_sql = (
            f"INSERT INTO {self.ref} ({', '.join(s.names)}) SELECT * FROM {_unnest(s, s.names)}"
        )
        self.upsert_sql = self.insert_sql + _on_conflict(s)
        if not s.migrated:
            self.sql_create_statements += [
                SQL(
                    f"CREATE TABLE IF NOT EXISTS {self.ref} ({self._columns()}, {self._key()})"
                ).format(),
                *self._indexes(),
            ]

    def _columns(self) -> str:
        return ", ".join(
            f"{c.name} {_PG_TYPES[c.kind]}{'' if c.null else ' NOT NULL'}"
            for c in self.spec.columns
        )

    def _key(self) -> str:
        return f"PRIMARY KEY ({', '.join(self.spec.key)})"

    def _indexes(self) -> list[Composed]:
        s = self.spec
        return [
            SQL(
                f"CREATE INDEX IF NOT EXISTS {_quoted(f'{s.name}_{i.suffix}')} ON {self.ref} "
                f"({', '.join(i.columns)}){_where(i.where)}"
            ).format()
            for i in s.indexes
        ]

    @contextmanager
    def writing(self, tracking: Tracking | None = None, *, commit: bool = True) -> Iterator[Tx]:
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(force_rollback=not commit),
        ):
            if tracking is not None:
                with conn.cursor() as c:
                    self._insert_tracking(c, tracking)
            with conn.cursor(row_factory=tuple_row) as curs:
                yield PostgresTx(self, curs)

    @contextmanager
    def reading(self, *, snapshot: bool = False) -> Iterator[Tx]:
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(force_rollback=True),
            conn.cursor(binary=True, row_factory=tuple_row) as curs,
        ):
            if snapshot:
                curs.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield PostgresTx(self, curs)

    def scan(
        self, columns: Sequence[str], where: str = "", params: Sequence[Any] = ()
    ) -> Iterator[tuple[Any, ...]]:
        query = f"SELECT {', '.join(columns)} FROM {self.ref}{_where(where)}"
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(name=f"scan_{self.spec.name}", binary=True, row_factory=tuple_row) as c,
        ):
            c.itersize = FETCH
            c.execute(query, params)
            yield from c

    # A rebuild beside the table: readers see the old rows until the new ones are whole, and a
    # failed rebuild leaves the old ones as they were.

    def begin_staging(self) -> None:
        """An empty staging table; no key nor index while its rows are loaded: both are
        built at the swap."""
        with self.writing() as tx:
            tx.run(f"DROP TABLE IF EXISTS {self.staging_ref}")
            tx.run(f"CREATE TABLE {self.staging_ref} ({self._columns()})")

    def swap_in(self, tracking: Tracking, then: Callable[[Tx], None] = lambda tx: None) -> None:
        """The staging table becomes the table, with its key, its indexes and the tracking
        position `tracking`: key and indexes built on the staging table first, while the
        table serves reads; then one transaction that only renames (`swap_from`)."""
        with self.writing() as tx:
            tx.run(f"ALTER TABLE {self.staging_ref} ADD {self._key()}")
        self.swap_from(self.staging_name, tracking, then)

    def ref_of(self, name: str) -> str:
        return _quoted(self.schema, name)

    def swap_from(
        self, staging: str, tracking: Tracking, then: Callable[[Tx], None] = lambda tx: None
    ) -> None:
        # The indexes are built on the staging table first, under its name, while the old
        # table serves; the swap itself only renames (the old table is locked for that long).
        s = self.spec
        with self.writing() as tx:
            for i in s.indexes:
                tx.run(
                    f"CREATE INDEX IF NOT EXISTS {_quoted(f'{staging}_{i.suffix}')} "
                    f"ON {self.ref_of(staging)} ({', '.join(i.columns)}){_where(i.where)}"
                )
        with self.writing() as tx:
            tx.run(f"DROP TABLE IF EXISTS {self.ref}")
            tx.run(f"ALTER TABLE {self.ref_of(staging)} RENAME TO {_quoted(s.name)}")
            tx.run(
                f"ALTER TABLE {self.ref} RENAME CONSTRAINT {_quoted(f'{staging}_pkey')} "
                f"TO {_quoted(f'{s.name}_pkey')}"
            )
            for i in s.indexes:
                tx.run(
                    f"ALTER INDEX {self.ref_of(f'{staging}_{i.suffix}')} "
                    f"RENAME TO {_quoted(f'{s.name}_{i.suffix}')}"
                )
            _move_tracking(self, tx, tracking)
            then(tx)

    def abandon_staging(self) -> None:
        with self.writing() as tx:
            tx.run(f"DROP TABLE IF EXISTS {self.staging_ref}")


def _move_tracking(table: SQLiteTable | PostgresTable, tx: Tx, tracking: Tracking) -> None:
    """The tracking position of `tracking.application_name` set to `tracking` (0: none)."""
    tx.run(
        f"DELETE FROM {table.tracking_ref} WHERE application_name = %s",
        (tracking.application_name,),
    )
    if tracking.notification_id:
        table._insert_tracking(tx.cursor, tracking)


def copy_rows(
    conn: psycopg.Connection[Any], spec: TableSpec, target: Identifier, rows: Iterable[Row]
) -> None:
    """Write `rows` into `target` (a table of `spec`'s columns) by binary COPY: the fast path
    of a rebuild, usable from a process of its own with its own connection."""
    kinds = [c.kind for c in spec.columns]
    columns = SQL(", ").join(map(Identifier, spec.names))
    with (
        conn.cursor() as cursor,
        cursor.copy(SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(target, columns)) as copy,
    ):
        copy.set_types([_PG_TYPES[k] for k in kinds])
        for row in rows:
            copy.write_row(row)


# --- opening a table -------------------------------------------------------------------------

T = TypeVar("T", SQLiteTable, PostgresTable)


@functools.cache
def _bound(kind: type[T], spec: TableSpec) -> type[T]:
    """`kind` with `spec` as its class attribute: the library's factory builds tracking
    recorders from a class alone."""
    return type(f"{kind.__name__}_{spec.name}", (kind,), {"spec": spec})


_OPEN: "weakref.WeakKeyDictionary[Parcours, dict[TableSpec, Table]]" = weakref.WeakKeyDictionary()
_OPENING = threading.Lock()


def open_table(app: Parcours, spec: TableSpec) -> Table:
    """The application's table of `spec` on its store, with the tracking table the library's
    factory names (one per application, created on first use). A read model's table is created
    from its spec when missing (its version: `adapters.readmodels.versions`); a `migrated` one
    is the migrations' (`adapters.migrations`), run first."""
    tables = _OPEN.setdefault(app, {})
    table = tables.get(spec)
    if table is None:
        if spec.migrated:
            ensure_migrated(app.settings)
        # One opener at a time: two requests creating the same table at once collide in
        # PostgreSQL's catalogue even with IF NOT EXISTS (a duplicate type name).
        with _OPENING:
            table = tables.get(spec)
            if table is None:
                kind = SQLiteTable if app.settings.store == "sqlite" else PostgresTable
                recorder = app.factory.tracking_recorder(_bound(kind, spec))
                table = tables[spec] = cast(Table, recorder)
    return table


def fresh_table(app: Parcours, spec: TableSpec) -> Table:
    """A table of `spec` opened anew and created if missing, not kept among the application's
    tables: a staging table, dropped or renamed once done."""
    kind = SQLiteTable if app.settings.store == "sqlite" else PostgresTable
    with _OPENING:
        return cast(Table, app.factory.tracking_recorder(_bound(kind, spec)))


V = TypeVar("V")


class Store(Generic[V]):
    """A read model's store: its table and how the model's values become rows (`rows`)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def rows(self, values: V) -> Iterable[Row]:
        raise NotImplementedError

    def write(self, tx: Tx, values: V) -> None:
        tx.upsert(self.rows(values))

    def max_tracking_id(self, application_name: str) -> int | None:
        return self.table.max_tracking_id(application_name)

    def save(self, values: V, tracking: Tracking) -> None:
        """The values' rows and the position they reflect, in one transaction."""
        with self.table.writing(tracking) as tx:
            self.write(tx, values)

    def probe(self, values: V) -> None:
        """Write the values in a transaction rolled back: raises what the store refuses."""
        with self.table.writing(commit=False) as tx:
            self.write(tx, values)

    def reset(self, tracking_name: str) -> None:
        self.table.reset(tracking_name)
