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

from collections.abc import Iterator, Sequence, Set
from datetime import UTC, datetime, timedelta
from typing import NamedTuple
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Tracking

from adapters.eventlog.reading import read_batch, read_log
from adapters.eventlog.store import Parcours
from adapters.readmodels.quarantine import apply_isolated, open_quarantine
from adapters.readmodels.tables import (
    Column,
    Index,
    Kind,
    Store,
    Table,
    TableSpec,
    Tx,
    open_table,
)
from domain.events import Recorded

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch (a naive datetime is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICRO


RECORDING_INDEX = TableSpec(
    "recording_index",
    columns=(
        Column("position", Kind.INT),
        Column("recorded_at", Kind.INT),
        Column("high_water", Kind.INT),
    ),
    key=("position",),
    indexes=(
        Index("high_water", ("high_water", "position")),
        Index("late", ("position", "recorded_at"), where="recorded_at < high_water"),
    ),
)


class RecordingIndexView(Store[Sequence[tuple[int, int]]]):
    """Rows of (position, recorded_at), each given the running maximum of the times up to it."""

    def write(self, tx: Tx, values: Sequence[tuple[int, int]]) -> None:
        last = tx.select(("high_water",), order="position DESC", limit=1)
        tx.insert(_with_high_water(values, int(last[0][0]) if last else None))

    def prefix_known_at(self, moment: int) -> int:
        found = self.table.select(
            ("position",),
            "high_water <= %s",
            (moment,),
            order="high_water DESC, position DESC",
            limit=1,
        )
        return int(found[0][0]) if found else 0

    def last_known_at(self, moment: int, after: int) -> int:
        found = self.table.select(
            ("max(position)",),
            "recorded_at < high_water AND position > %s AND recorded_at <= %s",
            (after, moment),
            index="late",
        )
        return int(found[0][0]) if found and found[0][0] is not None else after


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
    version = 1
    spec = RECORDING_INDEX

    def __init__(self, view: RecordingIndexView) -> None:
        self.view = view

    @classmethod
    def over(cls, app: Parcours, table: Table) -> "RecordingIndexModel":
        return cls(RecordingIndexView(table))

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


def open_recording_index(app: Parcours) -> RecordingIndexView:
    """The application's index store (its tables created on first use)."""
    return RecordingIndexView(open_table(app, RECORDING_INDEX))


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
