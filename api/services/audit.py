"""Audit reads over the store: one case or the whole département as it stood on a day
(`as_of`) and as it was known at a moment (`known_at`), what changed since, and the log of a
recording-time window. The folds are the pure ones (`projections`); this module only reads.

What was known at t follows one rule for one case (`domain.bitemporal.known_at`, on its history)
and for the département (`adapters.readmodels.recording_index`, which bounds the log to read), so both
always agree: the events recorded by t, each case's up to its first version recorded later.
"""

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any, Generic, TypeVar
from uuid import UUID

import msgspec

from adapters.access_log import Acces, AccessFilter, AccessLog
from adapters.eventlog.reading import case_history, read_log
from adapters.eventlog.store import STORE_ERRORS, Parcours
from adapters.readmodels.models import history_of
from adapters.readmodels.quarantine import describe
from adapters.readmodels.recording_index import KnownFilter, known_bounds
from api.services.retention import ACCESS_RETENTION_DAYS
from domain.bitemporal import known_at as known_part
from domain.corrections import corrected_version, is_correction
from domain.events import Recorded, is_fait
from projections import case_state, suivi
from projections.case_state import CaseRow, case_row
from projections.suivi import Suivi, suivre
from projections.timeline import CaseExport, TimelineEntry, timeline

S = TypeVar("S")
T = TypeVar("T")


def aware(app: Parcours, moment: datetime) -> datetime:
    """A moment with its time zone (a naive one is read in the département's zone)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=app.tz)


# --- one case -------------------------------------------------------------------------------


class CaseAt(msgspec.Struct, frozen=True, kw_only=True):
    """One case as known at a moment, about a day."""

    case_id: UUID
    known_at: datetime | None
    as_of: date | None
    position: int
    """The log position of the case's last event known at `known_at` (0: none)."""
    state: CaseRow | None
    timeline: list[TimelineEntry]


def case_at(
    app: Parcours,
    case_id: UUID,
    as_of: date | None = None,
    known_at: datetime | None = None,
    history: list[Recorded] | None = None,
) -> CaseAt:
    """The case's state and timeline as known at `known_at` about `as_of` (None: now)."""
    raw = case_history(app, case_id) if history is None else history
    moment = None if known_at is None else aware(app, known_at)
    known = raw if moment is None else known_part(raw, moment)
    return CaseAt(
        case_id=case_id,
        known_at=moment,
        as_of=as_of,
        position=known[-1].position if known else 0,
        state=case_row(known, as_of),
        timeline=timeline(known, as_of),
    )


# --- the whole département ------------------------------------------------------------------


class _LogFold(Generic[S]):
    """Per-case states folded over the log in memory, advanced position by position.

    A correction refolds its case from the store (its history up to the correction, an indexed
    read by id); any other step is applied when it had taken effect by `as_of`. One fold serves
    every per-case projection: `step` applies an event, `refold` rebuilds from a raw history.
    A case the fold cannot apply (an event that got into the log under the rules' back) is left
    out and named in `broken` with the error, until a correction refolds it."""

    def __init__(
        self,
        app: Parcours,
        step: Callable[[S | None, Recorded], S],
        refold: Callable[[Sequence[Recorded], date | None], S | None],
        as_of: date | None,
        known: KnownFilter | None = None,
    ) -> None:
        self.app = app
        self.step = step
        self.refold = refold
        self.as_of = as_of
        self.known = known
        self.history = history_of(app)
        self.rows: dict[UUID, S] = {}
        self.broken: dict[UUID, str] = {}
        self.position = 0
        self.read = 0

    def advance(self, stop: int, progress: Callable[[int], None] | None = None) -> None:
        if stop <= self.position:
            return
        for batch in read_log(self.app, self.position, stop):
            for r in batch if self.known is None else self.known(batch):
                if is_fait(r.event):
                    self._apply(r)
            self.position = batch[-1].position
            self.read += len(batch)
            if progress is not None:
                progress(len(batch))
        self.position = max(self.position, stop)

    def _apply(self, r: Recorded) -> None:
        case = r.originator_id
        try:
            if is_correction(r.event):
                self.broken.pop(case, None)
                state = self.refold(self.history(case, r.originator_version), self.as_of)
                if state is None:
                    self.rows.pop(case, None)
                else:
                    self.rows[case] = state
            elif case in self.broken:
                return
            elif self.as_of is None or r.event.effective_on <= self.as_of:
                self.rows[case] = self.step(self.rows.get(case), r)
        except STORE_ERRORS:
            raise
        except Exception as e:
            self.rows.pop(case, None)
            self.broken[case] = describe(e)

    @property
    def quarantaine(self) -> list[UUID]:
        return sorted(self.broken, key=str)


def _fold_at(
    app: Parcours,
    step: Callable[[S | None, Recorded], S],
    refold: Callable[[Sequence[Recorded], date | None], S | None],
    known_at: datetime | None,
    as_of: date | None,
) -> _LogFold[S]:
    if known_at is None:
        fold = _LogFold(app, step, refold, as_of)
        fold.advance(app.max_position())
        return fold
    moment = aware(app, known_at)
    bounds = known_bounds(app, moment)
    fold = _LogFold(app, step, refold, as_of, KnownFilter(moment, bounds.prefix))
    fold.advance(bounds.last)
    return fold


class StatesAt(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    rows: dict[UUID, CaseRow]
    events_read: int
    quarantaine: list[UUID] = []
    """Cases left out: their history cannot be folded."""


class EpisodesAt(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    cases: dict[UUID, list[Suivi]]
    events_read: int
    quarantaine: list[UUID] = []
    """Cases left out: their history cannot be folded."""

    def episodes(self) -> list[Suivi]:
        return [s for case in self.cases.values() for s in case]


_CACHE: "weakref.WeakKeyDictionary[Parcours, OrderedDict[tuple[Any, ...], Any]]"
_CACHE = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 4


def _cached(app: Parcours, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """The last few folds are kept while the log does not grow (the key holds its position),
    so paging through a result or asking JSON then CSV folds once."""
    with _CACHE_LOCK:
        cached = _CACHE.setdefault(app, OrderedDict()).get(key)
    if cached is not None:
        result: T = cached
        return result
    result = compute()
    with _CACHE_LOCK:
        entries = _CACHE.setdefault(app, OrderedDict())
        entries[key] = result
        while len(entries) > _CACHE_SIZE:
            entries.popitem(last=False)
    return result


def states_at(
    app: Parcours, known_at: datetime | None = None, as_of: date | None = None
) -> StatesAt:
    """Every case's row as known at `known_at` about `as_of`, folded from the log."""
    moment = None if known_at is None else aware(app, known_at)

    def compute() -> StatesAt:
        fold = _fold_at(app, case_state.evolve, case_row, moment, as_of)
        return StatesAt(
            position=fold.position,
            rows=fold.rows,
            events_read=fold.read,
            quarantaine=fold.quarantaine,
        )

    return _cached(app, ("etats", moment, as_of, app.max_position()), compute)


def _evolve_suivi(episodes: list[Suivi] | None, r: Recorded) -> list[Suivi]:
    return suivi.evolve([] if episodes is None else episodes, r)


def _resuivre(history: Sequence[Recorded], as_of: date | None) -> list[Suivi] | None:
    return suivre(history, as_of) or None


def episodes_at(
    app: Parcours, known_at: datetime | None = None, as_of: date | None = None
) -> EpisodesAt:
    """Every case's follow-up (the episodes the délais indicators read) as known at
    `known_at` about `as_of`, folded from the log: a report sent at `known_at` comes out
    again exactly, whatever was keyed, backdated or corrected since."""
    moment = None if known_at is None else aware(app, known_at)

    def compute() -> EpisodesAt:
        fold = _fold_at(app, _evolve_suivi, _resuivre, moment, as_of)
        return EpisodesAt(
            position=fold.position,
            cases=fold.rows,
            events_read=fold.read,
            quarantaine=fold.quarantaine,
        )

    return _cached(app, ("suivi", moment, as_of, app.max_position()), compute)


def sorted_rows(rows: dict[UUID, CaseRow]) -> list[CaseRow]:
    """The order of case lists: entry date, then id (cases without an entry date last)."""
    return sorted(rows.values(), key=lambda r: (r.date_entree or date.max, str(r.case_id)))


# --- what changed since ----------------------------------------------------------------------

COMPARED = tuple(
    f for f in CaseRow.__struct_fields__ if f not in ("case_id", "version", "updated_at")
)
"""The fields of a case's state a diff compares (its version and last recording time always
move with a new event, and say nothing of the state)."""


class FieldChange(msgspec.Struct, frozen=True, kw_only=True):
    field: str
    then: Any
    now: Any


class Explanation(msgspec.Struct, frozen=True, kw_only=True):
    """An event recorded after `known_at` on a changed case."""

    version: int
    position: int
    type: str
    effective_on: date
    recorded_at: datetime
    recorded_by: str
    structure_id: str | None
    motif: str | None
    corrige: int | None


class CaseChange(msgspec.Struct, frozen=True, kw_only=True):
    case_id: UUID
    change: str
    """`nouveau` (no row then), `modifie`, or `disparu` (a row then, none now)."""
    fields: list[FieldChange]
    version_then: int | None
    version_now: int | None
    events: list[Explanation] = []


class Diff(msgspec.Struct, frozen=True, kw_only=True):
    known_at: datetime
    as_of: date | None
    position_then: int
    position_now: int
    changes: list[CaseChange]
    quarantaine: list[UUID] = []
    """Cases left out of the comparison: their history, then or now, cannot be folded."""


def _plain(value: Any) -> Any:
    return msgspec.to_builtins(value)


def _compare(case_id: UUID, then: CaseRow | None, now: CaseRow | None) -> CaseChange | None:
    fields = [
        FieldChange(field=f, then=_plain(getattr(then, f, None)), now=_plain(getattr(now, f, None)))
        for f in COMPARED
        if getattr(then, f, None) != getattr(now, f, None)
    ]
    if then is not None and now is not None and not fields:
        return None
    change = "nouveau" if then is None else "disparu" if now is None else "modifie"
    return CaseChange(
        case_id=case_id,
        change=change,
        fields=fields,
        version_then=then.version if then else None,
        version_now=now.version if now else None,
    )


def diff(app: Parcours, known_at: datetime, as_of: date | None = None) -> Diff:
    """The cases whose state (as of `as_of`, or now) differs between what was known at
    `known_at` and what is known now, field by field, in case-id order."""
    moment = aware(app, known_at)
    then = states_at(app, moment, as_of)
    now = states_at(app, None, as_of)
    broken = {*then.quarantaine, *now.quarantaine}
    changes = [
        change
        for case_id in sorted((then.rows.keys() | now.rows.keys()) - broken, key=str)
        if (change := _compare(case_id, then.rows.get(case_id), now.rows.get(case_id))) is not None
    ]
    return Diff(
        known_at=moment,
        as_of=as_of,
        position_then=then.position,
        position_now=now.position,
        changes=changes,
        quarantaine=sorted(broken, key=str),
    )


def explain(
    app: Parcours,
    change: CaseChange,
    known_at: datetime,
    history: list[Recorded] | None = None,
) -> CaseChange:
    """`change` with the events of its case not known at `known_at`: new steps, late entries,
    corrections."""
    if history is None:
        history = case_history(app, change.case_id)
    known = len(known_part(history, aware(app, known_at)))
    events = [
        Explanation(
            version=r.originator_version,
            position=r.position,
            type=type(r.event).__name__,
            effective_on=r.event.effective_on,
            recorded_at=r.event.meta.recorded_at,
            recorded_by=r.event.meta.recorded_by,
            structure_id=r.event.meta.structure_id,
            motif=getattr(r.event, "motif", None),
            corrige=corrected_version(r.event),
        )
        for r in history[known:]
    ]
    return msgspec.structs.replace(change, events=events)


def case_changes(
    app: Parcours,
    case_id: UUID,
    known_at: datetime,
    as_of: date | None = None,
    history: list[Recorded] | None = None,
) -> CaseChange | None:
    """One case's line of `diff`, explained: its state (as of `as_of`, or now) as known at
    `known_at` against what is known now, the fields that differ and the events in cause; None
    when nothing differs."""
    raw = case_history(app, case_id) if history is None else history
    moment = aware(app, known_at)
    then = case_row(known_part(raw, moment), as_of)
    now = case_row(raw, as_of)
    change = _compare(case_id, then, now)
    return None if change is None else explain(app, change, moment, raw)


# --- the log of a recording-time window -------------------------------------------------------


class LogLine(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a log extract: enough to recompute anything, no identity data (the log holds
    only opaque references; names and NIR live in the identity store)."""

    position: int
    case_id: UUID
    """The originator: the case for a path event, the aggregate for any other."""
    version: int
    type: str
    effective_on: date
    recorded_at: datetime
    payload: Any


_encode = msgspec.json.Encoder().encode


class Window(msgspec.Struct, frozen=True, kw_only=True):
    """A recording-time window: the events recorded after `start` and at or before `end`
    (None: from the beginning, up to now), all found between positions `after` and `stop`."""

    start: datetime | None
    end: datetime | None
    after: int
    stop: int


def log_window(app: Parcours, start: datetime | None, end: datetime | None) -> Window:
    """The window and the part of the log that holds it: after the prefix recorded by
    `start`, up to the last event recorded by `end`. Consecutive windows partition the log,
    each event in the window of its own recording time."""
    start = None if start is None else aware(app, start)
    end = None if end is None else aware(app, end)
    after = 0 if start is None else known_bounds(app, start).prefix
    stop = app.max_position() if end is None else known_bounds(app, end).last
    return Window(start=start, end=end, after=after, stop=max(after, stop))


def _inside(w: Window, moment: datetime) -> bool:
    return (w.start is None or moment > w.start) and (w.end is None or moment <= w.end)


def log_lines(app: Parcours, window: Window, batch: int = 5000) -> Iterator[bytes]:
    """JSON lines of the window's events, in log order, a batch of lines at a time."""
    if window.stop <= window.after:
        return
    for records in read_log(app, window.after, window.stop, batch):
        chunk = b"".join(
            _encode(
                LogLine(
                    position=r.position,
                    case_id=r.originator_id,
                    version=r.originator_version,
                    type=type(r.event).__name__,
                    effective_on=r.event.effective_on,
                    recorded_at=r.event.meta.recorded_at,
                    payload=r.event,
                )
            )
            + b"\n"
            for r in records
            if _inside(window, r.event.meta.recorded_at)
        )
        if chunk:
            yield chunk


# --- a case's export --------------------------------------------------------------------------


def export(app: Parcours, at: CaseAt, who: str) -> CaseExport:
    return CaseExport(
        case_id=at.case_id,
        generated_at=app.clock(),
        generated_by=who,
        known_at=at.known_at,
        as_of=at.as_of,
        position=at.position,
        state=at.state,
        timeline=at.timeline,
    )


def export_json(export: CaseExport) -> bytes:
    return msgspec.json.format(_encode(export), indent=2)


# --- the access log ---------------------------------------------------------------------------


def access_filter(
    app: Parcours,
    case_id: UUID | None = None,
    agent: str | None = None,
    du: date | None = None,
    au: date | None = None,
    outcome: str | None = None,
) -> AccessFilter:
    """The accesses to a case, by an agent, from the day `du` to the day `au` included (days
    of the département's time zone)."""
    return AccessFilter(
        case_id=case_id,
        agent=agent,
        start=None if du is None else datetime.combine(du, time(), app.tz),
        end=None if au is None else datetime.combine(au + timedelta(days=1), time(), app.tz),
        outcome=outcome,
    )


def accesses(
    app: Parcours, f: AccessFilter, limit: int | None = None, offset: int = 0
) -> tuple[list[Acces], int]:
    """A page of the access log (newest first) and how many accesses `f` selects."""
    return AccessLog.of(app).find(f, limit, offset)


def purge_accesses(app: Parcours, days: int = ACCESS_RETENTION_DAYS) -> tuple[datetime, int]:
    """Delete the accesses older than `days` (the end of their retention): the cut-off and
    how many were deleted."""
    before = app.clock() - timedelta(days=days)
    return before, AccessLog.of(app).purge(before)
