"""A plain connection to the configured store for the side tables (identities, import
reports) that live next to the log but outside the event-sourcing library."""

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from psycopg_pool import ConnectionPool

from adapters.private_files import private_sqlite
from adapters.settings import Settings

SQLITE_CHUNK = 500
"""Keys per `IN (…)` list on SQLite, under its bound on the parameters of one statement."""
FETCH = 5000
"""Rows per round trip of a server-side cursor (a scan, the key-ordered read of the log)."""


POOL_SIZE = 4
"""Connections a pooled `Db` keeps on PostgreSQL (a server's screens: one per page shown)."""


class Db:
    """One connection per transaction; `%s` placeholders on both stores. `pooled` (a long-lived
    server's): on PostgreSQL, the connections come from a small pool, opened once, instead of
    one new connection per transaction (tens of milliseconds each); `close` closes it."""

    def __init__(
        self, settings: Settings, *, pooled: bool = False, kept_sqlite: bool = False
    ) -> None:
        self.settings = settings
        self.postgres = settings.store == "postgres"
        self.pooled = pooled
        self.kept_sqlite = kept_sqlite
        """On SQLite, one connection per thread kept open (a door answering at a high rate:
        no open, pragmas and close around each short transaction)."""
        self._pool: ConnectionPool[psycopg.Connection[Any]] | None = None
        self._lock = threading.Lock()
        self._local = threading.local()
        self._kept: list[sqlite3.Connection] = []

    def _connections(self) -> "ConnectionPool[psycopg.Connection[Any]]":
        with self._lock:
            if self._pool is None:
                s = self.settings
                path = sql.SQL("SET search_path TO {}").format(sql.Identifier(s.postgres_schema))

                def configure(conn: psycopg.Connection[Any]) -> None:
                    conn.execute(path)
                    conn.commit()

                self._pool = ConnectionPool(
                    kwargs={**s.postgres_conninfo(), "connect_timeout": 10},
                    min_size=1,
                    max_size=POOL_SIZE,
                    configure=configure,
                    open=True,
                    name="db",
                )
            return self._pool

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
            for lite in self._kept:
                lite.close()
            self._kept.clear()
            self._local = threading.local()

    def _sqlite(self) -> sqlite3.Connection:
        private_sqlite(self.settings.sqlite_file, self.settings.data_dir)
        lite = sqlite3.connect(
            self.settings.sqlite_file, timeout=30, isolation_level=None, check_same_thread=False
        )
        # Erased rows are overwritten on disk, not left in free pages.
        lite.execute("PRAGMA secure_delete=ON")
        lite.execute("PRAGMA journal_mode=WAL")
        return lite

    def _kept_sqlite(self) -> sqlite3.Connection:
        found: sqlite3.Connection | None = getattr(self._local, "lite", None)
        if found is None:
            found = self._sqlite()
            self._local.lite = found
            with self._lock:
                self._kept.append(found)
        return found

    @contextmanager
    def transaction(self) -> Iterator["Tx"]:
        if self.postgres and self.pooled:
            with self._connections().connection() as conn:
                yield Tx(conn, postgres=True)
            return
        if self.postgres:
            s = self.settings
            with psycopg.connect(**s.postgres_conninfo(), connect_timeout=10) as conn:
                conn.execute(
                    sql.SQL("SET search_path TO {}").format(sql.Identifier(s.postgres_schema))
                )
                yield Tx(conn, postgres=True)
            return
        if self.kept_sqlite:
            lite = self._kept_sqlite()
            lite.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(lite, postgres=False)
                lite.execute("COMMIT")
            except BaseException:
                if lite.in_transaction:  # kept for the next: never left inside a transaction
                    lite.execute("ROLLBACK")
                raise
            return
        lite = self._sqlite()
        try:
            lite.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(lite, postgres=False)
            except BaseException:
                lite.execute("ROLLBACK")
                raise
            lite.execute("COMMIT")
        finally:
            lite.close()


class Tx:
    """The statements of one transaction."""

    def __init__(self, conn: Any, *, postgres: bool) -> None:
        self.conn = conn
        self.postgres = postgres

    def _q(self, query: str) -> str:
        return query if self.postgres else query.replace("%s", "?")

    def execute(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.execute(self._q(query), tuple(params))
        if cur.description is None:
            return []
        return [tuple(row) for row in cur.fetchall()]

    def executemany(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        if self.postgres:
            with self.conn.cursor() as cur:
                cur.executemany(query, rows)
        else:
            self.conn.executemany(self._q(query), rows)

    def blob(self, value: bytes) -> Any:
        return value
