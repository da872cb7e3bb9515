"""Keeps the read models in step with the log.

The projector reads the log once per batch, after the lowest position its read models reached,
and hands each model the events it has not applied yet; each model writes its rows with the new
position in one transaction. Two projectors racing over the same batch cannot both apply it: the
second one's position write is refused and its transaction rolled back.

A case a model cannot apply is quarantined (`adapters.readmodels.quarantine`) and the model
goes on; the loop of `run_forever` outlives any error, logged, so a worker or the demo's
projector thread never stops for good. `health` says how far each model lags and which cases
it set aside.
"""

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any

import msgspec
import psycopg
import structlog
from eventsourcing.persistence import IntegrityError, PersistenceError, Tracking
from psycopg import sql

from adapters.eventlog.reading import IllegibleEvent, read_batch
from adapters.eventlog.recorders import PostgresRecorder
from adapters.eventlog.store import Parcours
from adapters.readmodels.case_store import CaseStateView
from adapters.readmodels.models import CaseStateModel, ReadModel, history_of, open_read_models
from adapters.readmodels.quarantine import (
    Quarantined,
    apply_isolated,
    entry_for_illegible,
    open_quarantine,
)
from domain.events import Recorded

log = structlog.get_logger(__name__)


class Projector:
    """Drives `models` (every read model by default; only the case state over `view` if given)."""

    def __init__(
        self,
        app: Parcours,
        view: CaseStateView | None = None,
        batch: int | None = None,
        models: list[ReadModel] | None = None,
    ):
        self.app = app
        if models is None:
            if view is not None:
                models = [CaseStateModel(view, history_of(app))]
            else:
                models = open_read_models(app)
        self.models = models
        self.batch = batch or app.settings.projection_batch
        self.quarantine = open_quarantine(app)

    @property
    def view(self) -> CaseStateView:
        """The case-state store (what case lists read)."""
        for model in self.models:
            if isinstance(model, CaseStateModel):
                return model.view
        raise LookupError("no case-state read model")

    def model(self, name: str) -> ReadModel:
        return next(m for m in self.models if m.name == name)

    def tracking_name(self, model: ReadModel) -> str:
        return f"{self.app.name}.{model.name}"

    def positions(self) -> dict[str, int]:
        return {m.name: m.position(self.tracking_name(m)) for m in self.models}

    def position(self) -> int:
        """The position every read model has reached."""
        return min(self.positions().values(), default=0)

    def catch_up(self, until: int | None = None) -> int:
        """Apply every event recorded after the models' positions (or up to `until`); returns
        how many events were read and applied to at least one model. The next batch is read
        while the current one is folded and written."""
        applied = 0
        with ThreadPoolExecutor(max_workers=1) as reader:
            ahead: tuple[int, Future[list[Recorded]]] | None = None
            while True:
                positions = self.positions()
                start = min(positions.values(), default=0)
                if until is not None and start >= until:
                    return applied
                try:
                    if ahead is not None and ahead[0] == start:
                        records = ahead[1].result()
                    else:
                        records = read_batch(self.app, start, self.batch)
                except IllegibleEvent as e:
                    ahead = None
                    records = read_batch(self.app, start, self.batch, stop=e.position - 1)
                    if not records:  # the illegible event comes first: set its case aside
                        self._set_aside(e, positions)
                        applied += 1
                        continue
                if not records:
                    return applied
                last = records[-1].position
                ahead = (last, reader.submit(read_batch, self.app, last, self.batch))
                self._apply(records, positions, start, last)
                applied += len(records)

    def _set_aside(self, illegible: IllegibleEvent, positions: dict[str, int]) -> None:
        """Quarantine the case of an event no decoder reads, for every model that has not
        passed it, and move those models past it (its case's later events refold it from
        its history, which fails the same way until the event is read again)."""
        now = datetime.now(UTC)
        held = self.quarantine.held_by_model()
        for model in self.models:
            if positions[model.name] >= illegible.position:
                continue
            self.quarantine.hold([entry_for_illegible(model.name, illegible, now)])
            log.error("projection.illegible", model=model.name, position=illegible.position)
            tracking = Tracking(self.tracking_name(model), illegible.position)
            with suppress(IntegrityError):
                apply_isolated(model, [], tracking, self.quarantine, held.get(model.name, set()))

    def _apply(
        self, records: list[Recorded], positions: dict[str, int], start: int, last: int
    ) -> None:
        held = self.quarantine.held_by_model()  # one read for every model
        for model in self.models:
            reached = positions[model.name]
            todo = records if reached <= start else [r for r in records if r.position > reached]
            if not todo:
                continue
            try:
                apply_isolated(
                    model,
                    todo,
                    Tracking(self.tracking_name(model), last),
                    self.quarantine,
                    held.get(model.name, set()),
                )
            except IntegrityError:
                log.info("projection.batch_already_applied", model=model.name, position=last)

    def rebuild(self) -> int:
        """Forget the read models and fold the whole log again: a model with a rebuild of its
        own runs it (and replaces its quarantine with the swap), the others are reset, their
        quarantine cleared after the reset, and caught up. Until a model is rebuilt, its cases
        in quarantine stay held: none of them is advanced from a row that missed an event.
        Returns how many events were read."""
        read = 0
        for model in self.models:
            own = getattr(model, "rebuild", None)
            done = own(self.tracking_name(model)) if own is not None else None
            if done is None:
                model.reset(self.tracking_name(model))
                self.quarantine.clear(model.name)
            else:
                read = max(read, done)
        return max(read, self.catch_up())

    def run_forever(self, stop: threading.Event) -> None:
        """Catch up, then wait for new events (LISTEN on PostgreSQL, polling on SQLite). No
        error ends the loop: it is logged and the loop waits (longer after each failure in a
        row, up to 30 s) before trying again."""
        waiter = _Waiter(self.app)
        failures = 0
        try:
            while not stop.is_set():
                try:
                    applied = self.catch_up()
                    failures = 0
                except (PersistenceError, psycopg.Error) as e:
                    log.warning("projection.store_unavailable", error=str(e))
                    stop.wait(self.app.settings.poll_interval)
                    continue
                except Exception:
                    failures += 1
                    log.exception("projection.failed", failures=failures)
                    stop.wait(min(30.0, self.app.settings.poll_interval * 2 ** min(failures, 10)))
                    continue
                if applied:
                    log.info("projection.caught_up", applied=applied, position=self.position())
                    continue
                waiter.wait(stop, self.app.settings.poll_interval)
        finally:
            waiter.close()


class _Waiter:
    """Blocks until the log may have grown: a NOTIFY on PostgreSQL, a timer on SQLite.

    The LISTEN connection is opened lazily and reopened after a server restart.
    """

    def __init__(self, app: Parcours) -> None:
        self.settings = app.settings
        recorder = app.recorder
        self.channel = recorder.channel_name if isinstance(recorder, PostgresRecorder) else None
        self.conn: psycopg.Connection[Any] | None = None

    def wait(self, stop: threading.Event, timeout: float) -> None:
        if self.channel is None:
            stop.wait(timeout)
            return
        try:
            if self.conn is None:
                self.conn = psycopg.connect(
                    **self.settings.postgres_conninfo(), autocommit=True, connect_timeout=5
                )
                self.conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            for _ in self.conn.notifies(timeout=timeout, stop_after=1):
                pass
        except psycopg.Error as e:
            log.warning("projection.listen_failed", error=str(e))
            self.close()
            stop.wait(timeout)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


SHOWN = 100
"""Quarantined cases listed per model by `/health` (all are counted)."""


class ModelHealth(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    position: int
    lag: int
    """Events of the log the model has not applied yet."""
    quarantaine: list[Quarantined]
    """The first `SHOWN` cases in quarantine, in log order."""
    quarantaine_total: int


class Health(msgspec.Struct, frozen=True, kw_only=True):
    """What `/health` and `parcours status` report."""

    status: str
    """`ok`, or `degraded` with the reasons."""
    reasons: list[str]
    store: str
    log_position: int
    projection_position: int
    max_lag: int
    models: list[ModelHealth]

    def without_cases(self) -> "Health":
        """The report for an open probe: counts and reasons, no case id nor error (those
        are for `parcours status` and the auditors' `/audit/quarantaine`)."""
        return msgspec.structs.replace(
            self,
            models=[msgspec.structs.replace(m, quarantaine=[]) for m in self.models],
        )


def health(projector: Projector) -> Health:
    """Each read model's position, lag and quarantined cases; degraded when a model lags more
    than `PARCOURS_HEALTH_MAX_LAG` events or holds a case in quarantine."""
    app = projector.app
    log_position = app.max_position()
    max_lag = app.settings.health_max_lag
    entries = projector.quarantine.entries()
    models: list[ModelHealth] = []
    reasons: list[str] = []
    for name, position in projector.positions().items():
        lag = max(0, log_position - position)
        held = [e for e in entries if e.model == name]
        models.append(
            ModelHealth(
                name=name,
                position=position,
                lag=lag,
                quarantaine=held[:SHOWN],
                quarantaine_total=len(held),
            )
        )
        if lag > max_lag:
            reasons.append(f"{name}: {lag} événements de retard (seuil {max_lag})")
        if held:
            reasons.append(f"{name}: {len(held)} dossier(s) en quarantaine")
    return Health(
        status="degraded" if reasons else "ok",
        reasons=reasons,
        store=app.settings.store,
        log_position=log_position,
        projection_position=min((m.position for m in models), default=0),
        max_lag=max_lag,
        models=models,
    )
