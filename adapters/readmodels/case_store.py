"""Stores of the case-state read model on SQLite and PostgreSQL.

Each view is one of the library's tracking recorders: rows and the log position they reflect are
written in the same transaction, so a crash never leaves a row ahead of, or behind, its position,
and a batch already applied is refused instead of applied twice.
"""

from collections.abc import Iterable, Sequence
from typing import Any, Protocol
from uuid import UUID

import msgspec
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from psycopg.sql import SQL, Identifier

from projections.case_state import CaseRow

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(CaseRow).decode


class CaseFilter(msgspec.Struct, frozen=True, kw_only=True):
    structure_id: str | None = None
    referent_id: str | None = None
    statut: str | None = None


def _params(row: CaseRow) -> tuple[Any, ...]:
    return (
        row.case_id,
        row.structure_id,
        row.referent_id,
        row.statut.value,
        row.date_entree,
        row.version,
        _encode(row),
    )


def _where(f: CaseFilter, mark: str) -> tuple[str, list[str]]:
    clauses, values = [], []
    for column in ("structure_id", "referent_id", "statut"):
        value = getattr(f, column)
        if value is not None:
            clauses.append(f"{column} = {mark}")
            values.append(value)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", values


class CaseStateView(Protocol):
    """What the projector and the API need from a case-state store."""

    def max_tracking_id(self, application_name: str) -> int | None: ...

    def save(self, rows: Sequence[CaseRow], tracking: Tracking) -> None: ...
    def probe(self, rows: Sequence[CaseRow]) -> None: ...
    def rows(self, case_ids: Iterable[UUID]) -> dict[UUID, CaseRow]: ...
    def get(self, case_id: UUID) -> CaseRow | None: ...
    def find(self, f: CaseFilter, limit: int, offset: int) -> tuple[list[CaseRow], int]: ...
    def all_rows(self) -> dict[UUID, CaseRow]: ...
    def reset(self, tracking_name: str) -> None: ...


class SQLiteCaseStateView(SQLiteTrackingRecorder):
    def __init__(self, datastore: SQLiteDatastore, table: str = "case_state", **kwargs: Any):
        self.table = table
        super().__init__(datastore, **kwargs)

    def construct_create_table_statements(self) -> list[str]:
        t = self.table
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {t} (case_id TEXT PRIMARY KEY, structure_id TEXT, "
            "referent_id TEXT, statut TEXT NOT NULL, date_entree TEXT, version INTEGER NOT NULL, "
            "data BLOB NOT NULL) WITHOUT ROWID",
            f"CREATE INDEX IF NOT EXISTS {t}_structure ON {t} (structure_id, statut)",
            f"CREATE INDEX IF NOT EXISTS {t}_referent ON {t} (referent_id, statut)",
            f"CREATE INDEX IF NOT EXISTS {t}_statut ON {t} (statut)",
        ]

    def save(self, rows: Sequence[CaseRow], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as c:
            self._insert_tracking(c, tracking)
            self._write(c, rows)

    def probe(self, rows: Sequence[CaseRow]) -> None:
        with self.datastore.transaction(commit=False) as c:
            self._write(c, rows)

    def _write(self, c: Any, rows: Sequence[CaseRow]) -> None:
        c.executemany(
            f"INSERT OR REPLACE INTO {self.table} VALUES (?,?,?,?,?,?,?)",
            [_sqlite_params(r) for r in rows],
        )

    def rows(self, case_ids: Iterable[UUID]) -> dict[UUID, CaseRow]:
        ids = [i.hex for i in case_ids]
        out: dict[UUID, CaseRow] = {}
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                c.execute(
                    f"SELECT data FROM {self.table} WHERE case_id IN "
                    f"({','.join('?' * len(chunk))})",
                    chunk,
                )
                for (data,) in c.fetchall():
                    row = _decode(data)
                    out[row.case_id] = row
        return out

    def get(self, case_id: UUID) -> CaseRow | None:
        return self.rows([case_id]).get(case_id)

    def find(self, f: CaseFilter, limit: int, offset: int) -> tuple[list[CaseRow], int]:
        where, values = _where(f, "?")
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT count(*) FROM {self.table}{where}", values)
            total = int(c.fetchone()[0])
            c.execute(
                f"SELECT data FROM {self.table}{where} ORDER BY date_entree, case_id "
                "LIMIT ? OFFSET ?",
                [*values, limit, offset],
            )
            return [_decode(data) for (data,) in c.fetchall()], total

    def all_rows(self) -> dict[UUID, CaseRow]:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT data FROM {self.table}")
            rows = [_decode(data) for (data,) in c.fetchall()]
        return {r.case_id: r for r in rows}

    def reset(self, tracking_name: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"DELETE FROM {self.table}")
            c.execute("DELETE FROM tracking WHERE application_name=?", (tracking_name,))


def _sqlite_params(row: CaseRow) -> tuple[Any, ...]:
    case_id, structure, referent, statut, entree, version, data = _params(row)
    return (case_id.hex, structure, referent, statut, entree and entree.isoformat(), version, data)


class PostgresCaseStateView(PostgresTrackingRecorder):
    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        tracking_table_name: str = "case_state_tracking",
        table: str = "case_state",
    ):
        super().__init__(datastore, tracking_table_name=tracking_table_name)
        self.table = Identifier(table)
        self.schema = Identifier(self.datastore.schema)
        s, t = self.schema, self.table
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {s}.{t} (case_id uuid PRIMARY KEY, "
                "structure_id text, referent_id text, statut text NOT NULL, date_entree date, "
                "version bigint NOT NULL, data bytea NOT NULL)"
            ).format(s=s, t=t),
            SQL("CREATE INDEX IF NOT EXISTS {i} ON {s}.{t} (structure_id, statut)").format(
                i=Identifier(f"{table}_structure"), s=s, t=t
            ),
            SQL("CREATE INDEX IF NOT EXISTS {i} ON {s}.{t} (referent_id, statut)").format(
                i=Identifier(f"{table}_referent"), s=s, t=t
            ),
            SQL("CREATE INDEX IF NOT EXISTS {i} ON {s}.{t} (statut)").format(
                i=Identifier(f"{table}_statut"), s=s, t=t
            ),
        ]
        self._upsert = SQL(
            "INSERT INTO {s}.{t} SELECT * FROM unnest(%b::uuid[], %b::text[], %b::text[], "
            "%b::text[], %b::date[], %b::bigint[], %b::bytea[]) ON CONFLICT (case_id) DO UPDATE "
            "SET structure_id=excluded.structure_id, referent_id=excluded.referent_id, "
            "statut=excluded.statut, date_entree=excluded.date_entree, "
            "version=excluded.version, data=excluded.data"
        ).format(s=s, t=t)

    def save(self, rows: Sequence[CaseRow], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self._insert_tracking(curs, tracking)
            self._write(curs, rows)

    def probe(self, rows: Sequence[CaseRow]) -> None:
        with self.datastore.transaction(commit=False) as curs:
            self._write(curs, rows)

    def _write(self, curs: Any, rows: Sequence[CaseRow]) -> None:
        if rows:
            columns = zip(*map(_params, rows), strict=True)
            curs.execute(self._upsert, [list(column) for column in columns])

    def rows(self, case_ids: Iterable[UUID]) -> dict[UUID, CaseRow]:
        ids = list(case_ids)
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT data FROM {s}.{t} WHERE case_id = ANY(%s)").format(
                    s=self.schema, t=self.table
                ),
                (ids,),
            )
            rows = [_decode(r["data"]) for r in curs.fetchall()]
        return {r.case_id: r for r in rows}

    def get(self, case_id: UUID) -> CaseRow | None:
        return self.rows([case_id]).get(case_id)

    def find(self, f: CaseFilter, limit: int, offset: int) -> tuple[list[CaseRow], int]:
        where, values = _where(f, "%s")
        base = SQL("FROM {s}.{t}").format(s=self.schema, t=self.table) + SQL(where)
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT count(*) AS n ") + base, values)
            row = curs.fetchone()
            total = int(row["n"]) if row else 0
            curs.execute(
                SQL("SELECT data ")
                + base
                + SQL(" ORDER BY date_entree, case_id LIMIT %s OFFSET %s"),
                [*values, limit, offset],
            )
            return [_decode(r["data"]) for r in curs.fetchall()], total

    def all_rows(self) -> dict[UUID, CaseRow]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("SELECT data FROM {s}.{t}").format(s=self.schema, t=self.table))
            rows = [_decode(r["data"]) for r in curs.fetchall()]
        return {r.case_id: r for r in rows}

    def reset(self, tracking_name: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DELETE FROM {s}.{t}").format(s=self.schema, t=self.table))
            curs.execute(
                SQL("DELETE FROM {s}.{t} WHERE application_name=%s").format(
                    s=self.schema, t=Identifier(self.tracking_table_name)
                ),
                (tracking_name,),
            )
