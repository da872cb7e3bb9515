"""Recording time → log position: what the log held at any past moment, in one indexed lookup.

The library keeps each event's recording time inside its payload (`meta.recorded_at`), so the log
itself cannot be searched by it. This read model keeps one row per log position with that time
and the running maximum of the times up to it (`high_water`), written in the same transaction as
its tracking row like every read model.

The rule for "known at t": the longest prefix of the log whose every event was recorded at or
before t, i.e. the last position whose `high_water` ≤ t. Concurrent writers read their clock
before they append, so an event stamped 10:00:00.100 may take a position before one stamped
10:00:00.050; a reader at 10:00:00.075 could see neither, and the rule keeps neither (taking
"every event stamped ≤ t" instead would leave a hole in the log). What a report read at t is
always within that prefix, and consecutive windows of recording time partition the log.
`high_water` never decreases along the log, so the lookup is one descent of its index.
"""

import weakref
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from psycopg.sql import SQL, Identifier

from adapters.application import Parcours
from adapters.log import read_batch, read_log
from domain.events import Recorded

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICRO


class RecordingIndexView(Protocol):
    def max_tracking_id(self, application_name: str) -> int | None: ...
    def save(self, rows: Sequence[tuple[int, int]], tracking: Tracking) -> None: ...
    def known_at(self, moment: int) -> int: ...
    def reset(self, tracking_name: str) -> None: ...


class SQLiteRecordingIndex(SQLiteTrackingRecorder):
    table = "recording_index"

    def construct_create_table_statements(self) -> list[str]:
        t = self.table
        return [
            *super().construct_create_table_statements(),
            f"CREATE TABLE IF NOT EXISTS {t} (position INTEGER PRIMARY KEY, "
            "recorded_at INTEGER NOT NULL, high_water INTEGER NOT NULL)",
            f"CREATE INDEX IF NOT EXISTS {t}_high_water ON {t} (high_water, position)",
        ]

    def save(self, rows: Sequence[tuple[int, int]], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as c:
            self._insert_tracking(c, tracking)
            c.execute(f"SELECT high_water FROM {self.table} ORDER BY position DESC LIMIT 1")
            last = c.fetchone()
            c.executemany(
                f"INSERT INTO {self.table} VALUES (?,?,?)",
                _with_high_water(rows, int(last[0]) if last else None),
            )

    def known_at(self, moment: int) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT position FROM {self.table} WHERE high_water <= ? "
                "ORDER BY high_water DESC, position DESC LIMIT 1",
                (moment,),
            )
            row = c.fetchone()
        return int(row[0]) if row else 0

    def reset(self, tracking_name: str) -> None:
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"DELETE FROM {self.table}")
            c.execute("DELETE FROM tracking WHERE application_name=?", (tracking_name,))


class PostgresRecordingIndex(PostgresTrackingRecorder):
    def __init__(
        self,
        datastore: PostgresDatastore,
        *,
        tracking_table_name: str = "recording_index_tracking",
        table: str = "recording_index",
    ):
        super().__init__(datastore, tracking_table_name=tracking_table_name)
        s, t = Identifier(self.datastore.schema), Identifier(table)
        self.sql_create_statements += [
            SQL(
                "CREATE TABLE IF NOT EXISTS {s}.{t} (position bigint PRIMARY KEY, "
                "recorded_at bigint NOT NULL, high_water bigint NOT NULL)"
            ).format(s=s, t=t),
            SQL("CREATE INDEX IF NOT EXISTS {i} ON {s}.{t} (high_water, position)").format(
                i=Identifier(f"{table}_high_water"), s=s, t=t
            ),
        ]
        self._last = SQL("SELECT high_water FROM {s}.{t} ORDER BY position DESC LIMIT 1").format(
            s=s, t=t
        )
        self._insert = SQL(
            "INSERT INTO {s}.{t} SELECT * FROM unnest(%b::bigint[], %b::bigint[], %b::bigint[])"
        ).format(s=s, t=t)
        self._known = SQL(
            "SELECT position FROM {s}.{t} WHERE high_water <= %s "
            "ORDER BY high_water DESC, position DESC LIMIT 1"
        ).format(s=s, t=t)
        self._reset = [
            SQL("DELETE FROM {s}.{t}").format(s=s, t=t),
            SQL("DELETE FROM {s}.{t} WHERE application_name=%s").format(
                s=s, t=Identifier(tracking_table_name)
            ),
        ]

    def save(self, rows: Sequence[tuple[int, int]], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as curs:
            self._insert_tracking(curs, tracking)
            curs.execute(self._last)
            last = curs.fetchone()
            full = _with_high_water(rows, int(last["high_water"]) if last else None)
            if full:
                curs.execute(self._insert, [list(column) for column in zip(*full, strict=True)])

    def known_at(self, moment: int) -> int:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._known, (moment,))
            row = curs.fetchone()
        return int(row["position"]) if row else 0

    def reset(self, tracking_name: str) -> None:
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(self._reset[0])
            curs.execute(self._reset[1], (tracking_name,))


def _with_high_water(
    rows: Sequence[tuple[int, int]], last: int | None
) -> list[tuple[int, int, int]]:
    out: list[tuple[int, int, int]] = []
    high = last
    for position, recorded_at in rows:
        high = recorded_at if high is None else max(high, recorded_at)
        out.append((position, recorded_at, high))
    return out


class RecordingIndexModel:
    """The read model: one row per log position (every event type, the log is one sequence)."""

    name = "recording_index"

    def __init__(self, view: RecordingIndexView) -> None:
        self.view = view

    def position(self, tracking_name: str) -> int:
        return self.view.max_tracking_id(tracking_name) or 0

    def apply(self, records: Sequence[Recorded], tracking: Tracking) -> None:
        self.view.save([(r.position, micros(r.event.meta.recorded_at)) for r in records], tracking)

    def reset(self, tracking_name: str) -> None:
        self.view.reset(tracking_name)


_VIEWS: "weakref.WeakKeyDictionary[Parcours, RecordingIndexView]" = weakref.WeakKeyDictionary()


def open_recording_index(app: Parcours) -> RecordingIndexView:
    """The application's index store (one per application, tables created on first use)."""
    view = _VIEWS.get(app)
    if view is None:
        kind: Any = (
            SQLiteRecordingIndex if app.settings.store == "sqlite" else PostgresRecordingIndex
        )
        view = _VIEWS[app] = cast(RecordingIndexView, app.factory.tracking_recorder(kind))
    return view


def _tracking_name(app: Parcours) -> str:
    return f"{app.name}.{RecordingIndexModel.name}"


def catch_up(app: Parcours) -> int:
    """Index what the projector has not indexed yet (a read never waits for the worker); the
    tracking row keeps a batch raced by the worker from being applied twice."""
    model = RecordingIndexModel(open_recording_index(app))
    name = _tracking_name(app)
    while True:
        position = model.position(name)
        records = read_batch(app, position, app.settings.projection_batch)
        if not records:
            return position
        try:
            model.apply(records, Tracking(name, records[-1].position))
        except IntegrityError:
            continue


def position_known_at(app: Parcours, known_at: datetime) -> int:
    """The last log position of the prefix known at `known_at` (0: nothing was known)."""
    catch_up(app)
    return open_recording_index(app).known_at(micros(known_at))


def read_known_at(
    app: Parcours, known_at: datetime, batch: int | None = None
) -> Iterator[list[Recorded]]:
    """The log as it was known at `known_at`, in batches, in position order."""
    stop = position_known_at(app, known_at)
    if stop == 0:
        return
    yield from read_log(app, 0, stop, batch)
