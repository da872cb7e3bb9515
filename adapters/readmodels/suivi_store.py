"""Store of the episodes' follow-up (`projections.suivi`) on SQLite and PostgreSQL.

One row per case: its episodes as one msgspec document, with the current structure, référent and
whether the last episode is open as columns, so a worklist reads only its structure's cases. Rows
and the log position they reflect are written in one transaction (a tracking recorder).
"""

from collections.abc import Iterable, Iterator
from typing import Any, Protocol
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from psycopg.sql import SQL, Composed, Identifier

from projections.suivi import Suivi

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(list[Suivi]).decode

FETCH = 5000


def _columns(episodes: list[Suivi]) -> tuple[str | None, str | None, bool]:
    last = episodes[-1]
    o = last.orientations[-1] if last.orientations else None
    referent = None
    if last.referents and (o is None or last.referents[-1][0] >= o.le):
        referent = last.referents[-1][1]
    return (o.structure_id if o else None), referent, last.date_fin is None


def refused(episodes: list[Suivi]) -> str | None:
    """Why PostgreSQL would refuse the case's row (a NUL in a text column), checked before a
    COPY, which cannot set one row aside."""
    structure, referent, _ = _columns(episodes)
    if "\x00" in (structure or "") + (referent or ""):
        return "caractère NUL dans une colonne texte (structure_id, referent_id)"
    return None


class SuiviStore(Protocol):
    def max_tracking_id(self, application_name: str) -> int | None: ...
    def save(self, cases: dict[UUID, list[Suivi]], tracking: Tracking) -> None: ...
    def probe(self, cases: dict[UUID, list[Suivi]]) -> None: ...
    def cases(self, case_ids: Iterable[UUID]) -> dict[UUID, list[Suivi]]: ...
    def scan(
        self,
        structure_id: str | None = None,
        referent_id: str | None = None,
        open_only: bool = False,
    ) -> Iterator[list[Suivi]]: ...
    def reset(self, tracking_name: str) -> None: ...


def _where(
    structure_id: str | None, referent_id: str | None, open_only: bool, mark: str
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    values: list[Any] = []
    if structure_id is not None:
        clauses.append(f"structure_id = {mark}")
        values.append(structure_id)
    if referent_id is not None:
        clauses.append(f"referent_id = {mark}")
        values.append(referent_id)
    if open_only:
        clauses.append("ouvert")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", values


class SQLiteSuiviStore(SQLiteTrackingRecorder):
    table = "suivi"

    def construct_create_table_statements(self) -> list[str]:
        t = self.table
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {t} (case_id TEXT PRIMARY KEY, structure_id TEXT, "
            "referent_id TEXT, ouvert INTEGER NOT NULL, data BLOB NOT NULL) WITHOUT ROWID",
            f"CREATE INDEX IF NOT EXISTS {t}_structure ON {t} (structure_id, ouvert)",
            f"CREATE INDEX IF NOT EXISTS {t}_referent ON {t} (referent_id, ouvert)",
        ]

    def save(self, cases: dict[UUID, list[Suivi]], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as c:
            self._insert_tracking(c, tracking)
            self._write(c, cases)

    def probe(self, cases: dict[UUID, list[Suivi]]) -> None:
        with self.datastore.transaction(commit=False) as c:
            self._write(c, cases)

    def _write(self, c: Any, cases: dict[UUID, list[Suivi]]) -> None:
        rows = [(k.hex, *_columns(v), _encode(v)) for k, v in cases.items() if v]
        c.executemany(f"INSERT OR REPLACE INTO {self.table} VALUES (?,?,?,?,?)", rows)

    def cases(self, case_ids: Iterable[UUID]) -> dict[UUID, list[Suivi]]:
        ids = [i.hex for i in case_ids]
        out: dict[UUID, list[Suivi]] = {}
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                c.execute(
                    f"SELECT case_id, data FROM {self.table} WHERE case_id IN ({marks})", chunk
                )
                for case_id, data in c.fetchall():
                    out[UUID(case_id)] = _decode(data)
        return out

    def scan(
        self,
        structure_id: str | None = None,
        referent_id: str | None = None,
        open_only: bool = False,
    ) -> Iterator[list[Suivi]]:
        where, values = _where(structure_id, referent_id, open_only, "?")
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT data FROM {self.table}{where}", values)
            rows = c.fetchall()
        for (data,) in rows:
            yield _decode(data)

    def reset(self, tracking_name: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"DELETE FROM {self.table}")
            c.execute("DELETE FROM tracking WHERE application_name=?", (tracking_name,))


_PG_COLUMNS = SQL(
    "case_id uuid NOT NULL, structure_id text, referent_id text, ouvert boolean NOT NULL, "
    "data bytea NOT NULL"
)


class PostgresSuiviStore(PostgresTrackingRecorder):
    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        tracking_table_name: str = "suivi_tracking",
        table: str = "suivi",
    ):
        super().__init__(datastore, tracking_table_name=tracking_table_name)
        self.table_name = table
        self.table = Identifier(table)
        self.schema = Identifier(self.datastore.schema)
        s, t = self.schema, self.table
        self.sql_create_statements += [
            SQL("CREATE TABLE IF NOT EXISTS {s}.{t} ({c}, PRIMARY KEY (case_id))").format(
                s=s, t=t, c=_PG_COLUMNS
            ),
            *self.index_statements(),
        ]
        self._upsert = SQL(
            "INSERT INTO {s}.{t} SELECT * FROM unnest(%b::uuid[], %b::text[], %b::text[], "
            "%b::boolean[], %b::bytea[]) ON CONFLICT (case_id) DO UPDATE "
            "SET structure_id=excluded.structure_id, referent_id=excluded.referent_id, "
            "ouvert=excluded.ouvert, data=excluded.data"
        ).format(s=s, t=t)

    def index_statements(self) -> list[Composed]:
        """What worklists read by: a structure's or a référent's (open) cases."""
        return [
            SQL("CREATE INDEX IF NOT EXISTS {i} ON {s}.{t} ({c}, ouvert)").format(
                i=Identifier(f"{self.table_name}_{column.removesuffix('_id')}"),
                s=self.schema,
                t=self.table,
                c=Identifier(column),
            )
            for column in ("structure_id", "referent_id")
        ]

    def save(self, cases: dict[UUID, list[Suivi]], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self._insert_tracking(curs, tracking)
            self._write(curs, cases)

    def probe(self, cases: dict[UUID, list[Suivi]]) -> None:
        with self.datastore.transaction(commit=False) as curs:
            self._write(curs, cases)

    def _write(self, curs: Any, cases: dict[UUID, list[Suivi]]) -> None:
        rows = [(k, *_columns(v), _encode(v)) for k, v in cases.items() if v]
        if rows:
            columns = zip(*rows, strict=True)
            curs.execute(self._upsert, [list(column) for column in columns])

    def cases(self, case_ids: Iterable[UUID]) -> dict[UUID, list[Suivi]]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT case_id, data FROM {s}.{t} WHERE case_id = ANY(%s)").format(
                    s=self.schema, t=self.table
                ),
                (list(case_ids),),
            )
            return {r["case_id"]: _decode(r["data"]) for r in curs.fetchall()}

    def scan(
        self,
        structure_id: str | None = None,
        referent_id: str | None = None,
        open_only: bool = False,
    ) -> Iterator[list[Suivi]]:
        where, values = _where(structure_id, referent_id, open_only, "%s")
        query = SQL("SELECT data FROM {s}.{t}").format(s=self.schema, t=self.table) + SQL(where)
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(name="parcours_suivi") as cursor,
        ):
            cursor.itersize = FETCH
            cursor.execute(query, values)
            for row in cursor:
                yield _decode(row["data"])

    def reset(self, tracking_name: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DELETE FROM {s}.{t}").format(s=self.schema, t=self.table))
            curs.execute(
                SQL("DELETE FROM {s}.{t} WHERE application_name=%s").format(
                    s=self.schema, t=Identifier(self.tracking_table_name)
                ),
                (tracking_name,),
            )


_COPY_COLUMNS = SQL(", ").join(
    map(Identifier, ("case_id", "structure_id", "referent_id", "ouvert", "data"))
)
_COPY_TYPES = ["uuid", "text", "text", "bool", "bytea"]


def copy_cases(
    conn: psycopg.Connection[Any], table: Identifier, cases: dict[UUID, list[Suivi]]
) -> None:
    """Write folded cases into `table` by binary COPY (the fast path of a rebuild)."""
    with (
        conn.cursor() as cursor,
        cursor.copy(
            SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(table, _COPY_COLUMNS)
        ) as copy,
    ):
        copy.set_types(_COPY_TYPES)
        for case_id, episodes in cases.items():
            if episodes:
                copy.write_row((case_id, *_columns(episodes), _encode(episodes)))


class PostgresSuiviRebuild:
    """A rebuild of the PostgreSQL follow-up table beside it: rows are copied into a staging
    table, then swapped in with the tracking position in one transaction, so readers see the
    old model until the new one is whole and a failed rebuild leaves the old one as it was."""

    def __init__(self, store: PostgresSuiviStore) -> None:
        self.store = store
        self.staging_name = f"{store.table_name}_rebuild"
        self.staging = SQL("{}.{}").format(store.schema, Identifier(self.staging_name))

    def begin(self) -> None:
        with self.store.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DROP TABLE IF EXISTS {}").format(self.staging))
            # No key nor index while the rows are copied: both are built at the swap.
            curs.execute(SQL("CREATE TABLE {} ({})").format(self.staging, _PG_COLUMNS))

    def swap_in(self, tracking: Tracking) -> None:
        s, t = self.store.schema, self.store.table
        with self.store.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DROP TABLE {}.{}").format(s, t))
            curs.execute(SQL("ALTER TABLE {} RENAME TO {}").format(self.staging, t))
            curs.execute(SQL("ALTER TABLE {}.{} ADD PRIMARY KEY (case_id)").format(s, t))
            for statement in self.store.index_statements():
                curs.execute(statement)
            curs.execute(
                SQL("DELETE FROM {}.{} WHERE application_name=%s").format(
                    s, Identifier(self.store.tracking_table_name)
                ),
                (tracking.application_name,),
            )
            self.store._insert_tracking(curs, tracking)

    def abandon(self) -> None:
        with self.store.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DROP TABLE IF EXISTS {}").format(self.staging))
