"""Store of the financing activity (`projections.activity`) on SQLite and PostgreSQL.

One row per case: its priced activity and its follow-up episodes as two msgpack documents, and
whether the case was ever oriented to an AAVE (only those episodes are read back, by the AAVE
indicators). Rows and the log position they reflect are written in one transaction; a snapshot
reads the rows and that position in one transaction too, so a statement says exactly which
state of the log it priced.
"""

from collections.abc import Iterable
from typing import Any, Protocol
from uuid import UUID

import msgspec
from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from adapters.collector import collector_paused
from projections.activity import Activite
from projections.activity import FicheActivite as Dossier
from projections.suivi import Suivi

_encode = msgspec.msgpack.Encoder().encode
_activite = msgspec.msgpack.Decoder(Activite).decode
_suivi = msgspec.msgpack.Decoder(list[Suivi]).decode


class Snapshot(msgspec.Struct):
    position: int
    activites: list[Activite]
    suivis: list[Suivi]
    """Episodes of the cases ever oriented to an AAVE (when asked for)."""


def _row(d: Dossier) -> tuple[Any, ...]:
    a = d.activite
    return (a.case_id, a.version, a.aave, _encode(a), _encode(d.suivi))


class ActiviteStore(Protocol):
    def max_tracking_id(self, application_name: str) -> int | None: ...
    def save(self, cases: Iterable[Dossier], tracking: Tracking) -> None: ...
    def probe(self, cases: Iterable[Dossier]) -> None: ...
    def cases(self, case_ids: Iterable[UUID]) -> dict[UUID, Dossier]: ...
    def snapshot(self, tracking_name: str, with_aave: bool) -> Snapshot: ...
    def reset(self, tracking_name: str) -> None: ...


class SQLiteActiviteStore(SQLiteTrackingRecorder):
    table = "financement_activite"

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {self.table} (case_id TEXT PRIMARY KEY, "
            "version INTEGER NOT NULL, aave INTEGER NOT NULL, activite BLOB NOT NULL, "
            "suivi BLOB NOT NULL) WITHOUT ROWID",
        ]

    def save(self, cases: Iterable[Dossier], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as c:
            self._insert_tracking(c, tracking)
            self._write(c, cases)

    def probe(self, cases: Iterable[Dossier]) -> None:
        with self.datastore.transaction(commit=False) as c:
            self._write(c, cases)

    def _write(self, c: Any, cases: Iterable[Dossier]) -> None:
        rows = [(k.hex, *rest) for k, *rest in map(_row, cases)]
        c.executemany(f"INSERT OR REPLACE INTO {self.table} VALUES (?,?,?,?,?)", rows)

    def cases(self, case_ids: Iterable[UUID]) -> dict[UUID, Dossier]:
        ids = [i.hex for i in case_ids]
        out: dict[UUID, Dossier] = {}
        with self.datastore.transaction(commit=False) as c:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                c.execute(
                    f"SELECT case_id, activite, suivi FROM {self.table} WHERE case_id IN ({marks})",
                    chunk,
                )
                for case_id, activite, suivi in c.fetchall():
                    out[UUID(case_id)] = Dossier(activite=_activite(activite), suivi=_suivi(suivi))
        return out

    def snapshot(self, tracking_name: str, with_aave: bool) -> Snapshot:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                "SELECT max(notification_id) FROM tracking WHERE application_name=?",
                (tracking_name,),
            )
            position = c.fetchone()[0] or 0
            c.execute(f"SELECT activite FROM {self.table}")
            rows = c.fetchall()
            with collector_paused():
                activites = [_activite(row[0]) for row in rows]
            suivis: list[Suivi] = []
            if with_aave:
                c.execute(f"SELECT suivi FROM {self.table} WHERE aave")
                for (data,) in c.fetchall():
                    suivis.extend(_suivi(data))
        return Snapshot(position, activites, suivis)

    def reset(self, tracking_name: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"DELETE FROM {self.table}")
            c.execute("DELETE FROM tracking WHERE application_name=?", (tracking_name,))


class PostgresActiviteStore(PostgresTrackingRecorder):
    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        tracking_table_name: str = "financement_tracking",
        table: str = "financement_activite",
    ):
        super().__init__(datastore, tracking_table_name=tracking_table_name)
        self.table = Identifier(table)
        self.schema = Identifier(self.datastore.schema)
        s, t = self.schema, self.table
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {s}.{t} (case_id uuid PRIMARY KEY, "
                "version bigint NOT NULL, aave boolean NOT NULL, activite bytea NOT NULL, "
                "suivi bytea NOT NULL)"
            ).format(s=s, t=t),
        ]
        self._upsert = SQL(
            "INSERT INTO {s}.{t} SELECT * FROM unnest(%b::uuid[], %b::bigint[], %b::boolean[], "
            "%b::bytea[], %b::bytea[]) ON CONFLICT (case_id) DO UPDATE "
            "SET version=excluded.version, aave=excluded.aave, activite=excluded.activite, "
            "suivi=excluded.suivi"
        ).format(s=s, t=t)

    def save(self, cases: Iterable[Dossier], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self._insert_tracking(curs, tracking)
            self._write(curs, cases)

    def probe(self, cases: Iterable[Dossier]) -> None:
        with self.datastore.transaction(commit=False) as curs:
            self._write(curs, cases)

    def _write(self, curs: Any, cases: Iterable[Dossier]) -> None:
        rows = [_row(d) for d in cases]
        if rows:
            columns = zip(*rows, strict=True)
            curs.execute(self._upsert, [list(column) for column in columns])

    def cases(self, case_ids: Iterable[UUID]) -> dict[UUID, Dossier]:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(
                SQL("SELECT case_id, activite, suivi FROM {s}.{t} WHERE case_id = ANY(%s)").format(
                    s=self.schema, t=self.table
                ),
                (list(case_ids),),
            )
            return {
                r["case_id"]: Dossier(activite=_activite(r["activite"]), suivi=_suivi(r["suivi"]))
                for r in curs.fetchall()
            }

    def snapshot(self, tracking_name: str, with_aave: bool) -> Snapshot:
        s, t = self.schema, self.table
        with (
            self.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(binary=True, row_factory=tuple_row) as curs,
        ):
            curs.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            curs.execute(
                SQL("SELECT max(notification_id) FROM {s}.{t} WHERE application_name=%s").format(
                    s=s, t=Identifier(self.tracking_table_name)
                ),
                (tracking_name,),
            )
            found = curs.fetchone()
            position = int(found[0]) if found and found[0] is not None else 0
            curs.execute(SQL("SELECT activite FROM {s}.{t}").format(s=s, t=t))
            rows = curs.fetchall()
            with collector_paused():
                activites = [_activite(row[0]) for row in rows]
            suivis: list[Suivi] = []
            if with_aave:
                curs.execute(SQL("SELECT suivi FROM {s}.{t} WHERE aave").format(s=s, t=t))
                for (data,) in curs.fetchall():
                    suivis.extend(_suivi(data))
        return Snapshot(position, activites, suivis)

    def reset(self, tracking_name: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("DELETE FROM {s}.{t}").format(s=self.schema, t=self.table))
            curs.execute(
                SQL("DELETE FROM {s}.{t} WHERE application_name=%s").format(
                    s=self.schema, t=Identifier(self.tracking_table_name)
                ),
                (tracking_name,),
            )
