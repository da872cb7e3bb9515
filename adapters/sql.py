"""A plain connection to the configured store for the side tables (identities, import
reports) that live next to the log but outside the event-sourcing library."""

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql

from adapters.private_files import private_sqlite
from adapters.settings import Settings

SQLITE_CHUNK = 500
"""Keys per `IN (…)` list on SQLite, under its bound on the parameters of one statement."""
FETCH = 5000
"""Rows per round trip of a server-side cursor (a scan, the key-ordered read of the log)."""


class Db:
    """One connection per transaction; `%s` placeholders on both stores."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.postgres = settings.store == "postgres"

    @contextmanager
    def transaction(self) -> Iterator["Tx"]:
        if self.postgres:
            s = self.settings
            with psycopg.connect(**s.postgres_conninfo(), connect_timeout=10) as conn:
                conn.execute(
                    sql.SQL("SET search_path TO {}").format(sql.Identifier(s.postgres_schema))
                )
                yield Tx(conn, postgres=True)
            return
        private_sqlite(self.settings.sqlite_file, self.settings.data_dir)
        lite = sqlite3.connect(self.settings.sqlite_file, timeout=30, isolation_level=None)
        try:
            # Erased rows are overwritten on disk, not left in free pages.
            lite.execute("PRAGMA secure_delete=ON")
            lite.execute("PRAGMA journal_mode=WAL")
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
