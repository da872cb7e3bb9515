"""Recording time → log position: what the log held at any past moment, found by index.

The library keeps each event's recording time inside its payload (`meta.recorded_at`), so the log
itself cannot be searched by it. This read model keeps one row per log position with that time
and the running maximum of the times up to it (`high_water`), written in the same transaction as
its tracking row like every read model.

The rule for "known at t": an event is known at t when it was recorded at or before t, and a
case's history known at t is the longest run of its versions so recorded (a case never shows a
version without the ones before it). Recording times follow the log only roughly: concurrent
writers read their clock before they append (an event stamped 10:00:00.100 may take a position
before one stamped 10:00:00.050), and imported histories keep their original times. So:
- `prefix_known_at(t)`: the last position of the prefix whose every event was recorded by t
  (the last position whose `high_water` ≤ t; one descent of its index);
- `position_known_at(t)`: the last position of any event recorded by t, found among the few
  "late-stamped" rows after that prefix (stamped before an event logged earlier; a partial
  index holds only them); nothing after it is known at t;
- `read_known_at(t)`: the prefix whole, then, up to `position_known_at`, the events the rule
  keeps.
"""

import weakref
from collections.abc import Iterator, Sequence, Set
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple, Protocol, cast
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder
from psycopg.sql import SQL, Identifier

from adapters.eventlog.reading import read_batch, read_log
from adapters.eventlog.store import Parcours
from adapters.readmodels.quarantine import apply_isolated, open_quarantine
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
    def probe(self, rows: Sequence[tuple[int, int]]) -> None: ...
    def prefix_known_at(self, moment: int) -> int: ...
    def last_known_at(self, moment: int, after: int) -> int: ...
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
            f"CREATE INDEX IF NOT EXISTS {t}_late ON {t} (position, recorded_at) "
            "WHERE recorded_at < high_water",
        ]

    def save(self, rows: Sequence[tuple[int, int]], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as c:
            self._insert_tracking(c, tracking)
            self._write(c, rows)

    def probe(self, rows: Sequence[tuple[int, int]]) -> None:
        with self.datastore.transaction(commit=False) as c:
            self._write(c, rows)

    def _write(self, c: Any, rows: Sequence[tuple[int, int]]) -> None:
        c.execute(f"SELECT high_water FROM {self.table} ORDER BY position DESC LIMIT 1")
        last = c.fetchone()
        c.executemany(
            f"INSERT INTO {self.table} VALUES (?,?,?)",
            _with_high_water(rows, int(last[0]) if last else None),
        )

    def prefix_known_at(self, moment: int) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT position FROM {self.table} WHERE high_water <= ? "
                "ORDER BY high_water DESC, position DESC LIMIT 1",
                (moment,),
            )
            row = c.fetchone()
        return int(row[0]) if row else 0

    def last_known_at(self, moment: int, after: int) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT max(position) FROM {self.table} INDEXED BY {self.table}_late "
                "WHERE recorded_at < high_water AND position > ? AND recorded_at <= ?",
                (after, moment),
            )
            row = c.fetchone()
        return int(row[0]) if row and row[0] is not None else after

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
            SQL(
                "CREATE INDEX IF NOT EXISTS {i} ON {s}.{t} (position, recorded_at) "
                "WHERE recorded_at < high_water"
            ).format(i=Identifier(f"{table}_late"), s=s, t=t),
        ]
        self._last = SQL("SELECT high_water FROM {s}.{t} ORDER BY position DESC LIMIT 1").format(
            s=s, t=t
        )
        self._insert = SQL(
            "INSERT INTO {s}.{t} SELECT * FROM unnest(%b::bigint[], %b::bigint[], %b::bigint[])"
        ).format(s=s, t=t)
        self._prefix = SQL(
            "SELECT position FROM {s}.{t} WHERE high_water <= %s "
            "ORDER BY high_water DESC, position DESC LIMIT 1"
        ).format(s=s, t=t)
        self._late = SQL(
            "SELECT max(position) AS position FROM {s}.{t} "
            "WHERE recorded_at < high_water AND position > %s AND recorded_at <= %s"
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
            self._write(curs, rows)

    def probe(self, rows: Sequence[tuple[int, int]]) -> None:
        with self.datastore.transaction(commit=False) as curs:
            self._write(curs, rows)

    def _write(self, curs: Any, rows: Sequence[tuple[int, int]]) -> None:
        curs.execute(self._last)
        last = curs.fetchone()
        full = _with_high_water(rows, int(last["high_water"]) if last else None)
        if full:
            curs.execute(self._insert, [list(column) for column in zip(*full, strict=True)])

    def prefix_known_at(self, moment: int) -> int:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._prefix, (moment,))
            row = curs.fetchone()
        return int(row["position"]) if row else 0

    def last_known_at(self, moment: int, after: int) -> int:
        with self.datastore.transaction(commit=False) as curs:
            curs.execute(self._late, (after, moment))
            row = curs.fetchone()
        return int(row["position"]) if row and row["position"] is not None else after

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
    """The read model: one row per log position (every event type, the log is one sequence).
    It keeps no state per case: a quarantined event's position stays out of the index, and the
    case leaves quarantine with its next event indexed."""

    name = "recording_index"

    def __init__(self, view: RecordingIndexView) -> None:
        self.view = view

    def position(self, tracking_name: str) -> int:
        return self.view.max_tracking_id(tracking_name) or 0

    def fold(
        self, records: Sequence[Recorded], refold: Set[UUID]
    ) -> dict[UUID, list[tuple[int, int]]]:
        out: dict[UUID, list[tuple[int, int]]] = {}
        for r in records:
            out.setdefault(r.originator_id, []).append(
                (r.position or 0, micros(r.event.meta.recorded_at))
            )
        return out

    def save(self, values: dict[UUID, list[tuple[int, int]]], tracking: Tracking) -> None:
        self.view.save(_ordered(values), tracking)

    def probe(self, values: dict[UUID, list[tuple[int, int]]]) -> None:
        self.view.probe(_ordered(values))

    def reset(self, tracking_name: str) -> None:
        self.view.reset(tracking_name)


def _ordered(values: dict[UUID, list[tuple[int, int]]]) -> list[tuple[int, int]]:
    return sorted(row for rows in values.values() for row in rows)


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
    quarantine = open_quarantine(app)
    name = _tracking_name(app)
    while True:
        position = model.position(name)
        records = read_batch(app, position, app.settings.projection_batch)
        if not records:
            return position
        try:
            apply_isolated(model, records, Tracking(name, records[-1].position), quarantine)
        except IntegrityError:
            continue


class KnownAt(NamedTuple):
    prefix: int
    """Every event up to this position was recorded by the moment."""
    last: int
    """No event after this position was."""


def known_bounds(app: Parcours, known_at: datetime) -> KnownAt:
    catch_up(app)
    view = open_recording_index(app)
    moment = micros(known_at)
    prefix = view.prefix_known_at(moment)
    return KnownAt(prefix, view.last_known_at(moment, prefix))


def position_known_at(app: Parcours, known_at: datetime) -> int:
    """The last log position of an event recorded at or before `known_at` (0: none was);
    the events of the log known then all lie at or before it."""
    return known_bounds(app, known_at).last


def prefix_known_at(app: Parcours, known_at: datetime) -> int:
    """The last position of the log prefix whose every event was recorded by `known_at`."""
    return known_bounds(app, known_at).prefix


def read_known_at(
    app: Parcours, known_at: datetime, batch: int | None = None
) -> Iterator[list[Recorded]]:
    """The log as it was known at `known_at`, in batches, in position order: the events
    recorded by then, each case's up to its first version recorded later."""
    bounds = known_bounds(app, known_at)
    if bounds.last == 0:
        return
    keep = KnownFilter(known_at, bounds.prefix)
    for records in read_log(app, 0, bounds.last, batch):
        known = keep(records)
        if known:
            yield known


class KnownFilter:
    """Keeps, from batches read in log order, the events known at a moment (the rule above);
    every event up to `prefix` is."""

    def __init__(self, known_at: datetime, prefix: int) -> None:
        self.moment = known_at if known_at.tzinfo is not None else known_at.replace(tzinfo=UTC)
        self.prefix = prefix
        self.stopped: set[UUID] = set()

    def __call__(self, records: list[Recorded]) -> list[Recorded]:
        if records and records[-1].position <= self.prefix:
            return records
        out: list[Recorded] = []
        for r in records:
            if r.position <= self.prefix:
                out.append(r)
            elif r.originator_id in self.stopped:
                continue
            elif r.event.meta.recorded_at > self.moment:
                self.stopped.add(r.originator_id)
            else:
                out.append(r)
        return out
