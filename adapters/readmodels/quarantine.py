"""Cases a read model could not apply, set aside so that one bad event stops nothing.

A read model applies a batch of the log case by case in effect: when its fold raises on a case,
or its store refuses the case's row (PostgreSQL refuses a NUL character in a text column), that
case is quarantined for that model: recorded here with the log position and type of the event
it could not apply, the error and when. The batch is applied for every other case and the
model's position moves on. The quarantined case keeps the row its history folded to before that
event, whatever the batches were, so a rebuild gives the same rows as the live path.

A later event of a quarantined case refolds it from its whole history: once the bad step is
voided (`annulation`), the refold succeeds, the row is right again and the case leaves
quarantine. Entries are written before the batch (writing one twice changes nothing) and
released after it: a crash in between leaves at worst a case listed while its row is right,
until its next event.
"""

import sqlite3
from collections.abc import Iterable, Sequence, Set
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

import msgspec
import psycopg
import structlog
from eventsourcing.persistence import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    Tracking,
)

from adapters.eventlog.reading import IllegibleEvent
from adapters.eventlog.store import STORE_ERRORS, Parcours
from adapters.readmodels.tables import Column, Kind, Table, TableSpec, open_table
from domain.events import Recorded

log = structlog.get_logger("projection")

ERROR_LENGTH = 500


class Quarantined(msgspec.Struct, frozen=True, kw_only=True):
    """One case a read model could not apply."""

    model: str
    case_id: UUID
    position: int
    """The log position of the event the model could not apply."""
    event_type: str
    error: str
    since: datetime


def entry_for(model: str, bad: Recorded, error: BaseException, now: datetime) -> Quarantined:
    """The entry setting `bad`'s case aside for `model`."""
    return Quarantined(
        model=model,
        case_id=bad.originator_id,
        position=bad.position or 0,
        event_type=type(bad.event).__name__,
        error=describe(error),
        since=now,
    )


def entry_for_illegible(model: str, illegible: IllegibleEvent, now: datetime) -> Quarantined:
    """The entry setting aside the case of an event no decoder reads."""
    return Quarantined(
        model=model,
        case_id=illegible.case_id,
        position=illegible.position,
        event_type=illegible.topic.rpartition(":")[2],
        error=describe(illegible),
        since=now,
    )


def describe(error: BaseException) -> str:
    """The error as one bounded line a store accepts (no NUL)."""
    text = f"{type(error).__name__}: {error}".replace("\x00", "\\x00")
    return text[:ERROR_LENGTH]


QUARANTINE = TableSpec(
    "projection_quarantine",
    columns=(
        Column("model", Kind.TEXT),
        Column("case_id", Kind.UUID),
        Column("position", Kind.INT),
        Column("event_type", Kind.TEXT),
        Column("error", Kind.TEXT),
        Column("since", Kind.TIME),
    ),
    key=("model", "case_id"),
    keep=("since",),
    migrated=True,
)


def _row(e: Quarantined) -> tuple[Any, ...]:
    return (e.model, e.case_id, e.position, e.event_type, e.error, e.since)


class QuarantineStore:
    """The quarantined cases of every read model (a case held again keeps its `since`)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def hold(self, entries: Iterable[Quarantined]) -> None:
        with self.table.writing() as tx:
            tx.upsert(map(_row, entries))

    def release(self, model: str, case_ids: Iterable[UUID]) -> None:
        with self.table.writing() as tx:
            tx.delete_keys([(model, i) for i in case_ids])

    def held(self, model: str) -> set[UUID]:
        return {i for (i,) in self.table.select(("case_id",), "model = %s", (model,))}

    def held_by_model(self) -> dict[str, set[UUID]]:
        out: dict[str, set[UUID]] = {}
        for model, case_id in self.table.select(("model", "case_id")):
            out.setdefault(model, set()).add(case_id)
        return out

    def entries(self, model: str | None = None) -> list[Quarantined]:
        where, values = ("model = %s", (model,)) if model else ("", ())
        rows = self.table.select(QUARANTINE.names, where, values, order="position")
        return [
            Quarantined(model=m, case_id=i, position=int(p), event_type=t, error=e, since=since)
            for m, i, p, t, e, since in rows
        ]

    def clear(self, model: str) -> None:
        with self.table.writing() as tx:
            tx.delete("model = %s", (model,))

    def replace(self, model: str, entries: Iterable[Quarantined]) -> None:
        """The model's entries become `entries`, in one transaction (after a rebuild)."""
        with self.table.writing() as tx:
            tx.delete("model = %s", (model,))
            tx.insert(map(_row, entries))


def open_quarantine(app: Parcours) -> QuarantineStore:
    """The application's quarantine (its table made by the migrations, `adapters.migrations`)."""
    return QuarantineStore(open_table(app, QUARANTINE))


# --- applying a batch case by case -----------------------------------------------------------


class CaseModel(Protocol):
    """A read model as the quarantine drives it: values folded per case, then saved."""

    name: str

    def fold(self, records: Sequence[Recorded], refold: Set[UUID]) -> dict[UUID, Any]:
        """The new values of the cases `records` touch (read from the store and advanced);
        those in `refold` folded again from their whole history up to their last record."""
        ...

    def save(self, values: dict[UUID, Any], tracking: Tracking) -> None: ...

    def probe(self, values: dict[UUID, Any]) -> None:
        """Write `values` in a transaction rolled back: raises what the store refuses."""
        ...


_INFRASTRUCTURE = (
    OperationalError,
    InterfaceError,
    IntegrityError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg.IntegrityError,
    sqlite3.OperationalError,
    sqlite3.InterfaceError,
    sqlite3.IntegrityError,
)
"""Errors of the store itself (down, busy, a batch already applied): never a case's fault."""

_REFUSALS = (
    DataError,
    psycopg.DataError,
    sqlite3.DataError,
    ValueError,
    UnicodeError,
    OverflowError,
    msgspec.EncodeError,
)
"""What a store answers to a value it will not keep."""


def _infrastructure(error: BaseException) -> bool:
    if isinstance(error, _INFRASTRUCTURE):
        return True
    return isinstance(error, STORE_ERRORS) and not isinstance(error, _REFUSALS)


def _by_case(records: Sequence[Recorded]) -> dict[UUID, list[Recorded]]:
    out: dict[UUID, list[Recorded]] = {}
    for r in records:
        out.setdefault(r.originator_id, []).append(r)
    return out


def _attempt(
    model: CaseModel, records: Sequence[Recorded], refold: Set[UUID], probe: bool
) -> tuple[dict[UUID, Any], BaseException | None]:
    try:
        values = model.fold(records, refold)
        if probe and values:
            model.probe(values)
    except Exception as e:
        if _infrastructure(e):
            raise
        return {}, e
    return values, None


def _isolate(
    model: CaseModel,
    case_id: UUID,
    records: list[Recorded],
    refold: Set[UUID],
    probe: bool,
    now: datetime,
) -> tuple[dict[UUID, Any], Quarantined | None]:
    """The case's value after its records, or, when one cannot be applied, its value before
    that record and the quarantine entry naming it."""
    values, error = _attempt(model, records, refold, probe)
    if error is None:
        return values, None
    before: dict[UUID, Any] = {}
    for k in range(1, len(records) + 1):
        values, error = _attempt(model, records[:k], refold, probe)
        if error is not None:
            return before, entry_for(model.name, records[k - 1], error, now)
        before = values
    return before, None  # pragma: no cover - the whole failed, so a prefix does


SYSTEMIC = 10
"""More cases than this, and more than half of a batch's, failing the same model at once is a
fault of the model (a bug, a missing rule file), not of the cases: nothing is quarantined, the
model stops where it is and health says it lags, until the fault is repaired."""


class SystemicFailure(RuntimeError):
    def __init__(self, model: str, failed: int, cases: int, first: str) -> None:
        super().__init__(
            f"read model {model}: {failed} of the {cases} cases of a batch fail ({first}); "
            "a fault of the model, nothing quarantined"
        )


def apply_isolated(
    model: CaseModel,
    records: Sequence[Recorded],
    tracking: Tracking,
    store: QuarantineStore,
    held: set[UUID] | None = None,
) -> list[Quarantined]:
    """Apply `records` to `model` with its tracking position, every case that cannot be
    applied quarantined (`held`: the model's cases in quarantine, when the caller read them
    already); returns the entries made (an IntegrityError still says the batch was applied
    already)."""
    if held is None:
        held = store.held(model.name)
    cases = _by_case(records)
    refold = held & cases.keys()
    values, error = _attempt(model, records, refold, probe=False)
    entries: list[Quarantined] = []
    now = datetime.now(UTC)
    if error is not None:
        values = {}
        for case_id, own in cases.items():
            value, entry = _isolate(model, case_id, own, refold & {case_id}, False, now)
            values.update(value)
            if entry is not None:
                entries.append(entry)
    if len(entries) > max(SYSTEMIC, len(cases) // 2):
        raise SystemicFailure(model.name, len(entries), len(cases), entries[0].error)
    if entries:
        store.hold(entries)
    try:
        model.save(values, tracking)
    except Exception as e:
        if _infrastructure(e) or not isinstance(e, _REFUSALS):
            raise
        refused = _refused(model, values)
        if not refused:
            raise
        more: list[Quarantined] = []
        for case_id in refused:
            value, entry = _isolate(model, case_id, cases[case_id], refold & {case_id}, True, now)
            values.pop(case_id, None)
            values.update(value)
            if entry is not None:
                more.append(entry)
        store.hold(more)
        entries += more
        model.save(values, tracking)
    for entry in entries:
        log.error(
            "projection.quarantined",
            model=entry.model,
            case_id=str(entry.case_id),
            position=entry.position,
            event_type=entry.event_type,
            error=entry.error,
        )
    released = refold - {e.case_id for e in entries}
    if released:
        store.release(model.name, released)
        log.info("projection.released", model=model.name, cases=[str(i) for i in released])
    return entries


def _refused(model: CaseModel, values: dict[UUID, Any]) -> list[UUID]:
    """The cases whose rows the store refuses, found by halves (each probe rolled back)."""

    def refuses(ids: list[UUID]) -> bool:
        try:
            model.probe({i: values[i] for i in ids})
        except Exception as e:
            if _infrastructure(e) or not isinstance(e, _REFUSALS):
                raise
            return True
        return False

    def search(ids: list[UUID]) -> list[UUID]:
        if not ids or not refuses(ids):
            return []
        if len(ids) == 1:
            return ids
        half = len(ids) // 2
        return search(ids[:half]) + search(ids[half:])

    return search(list(values))
