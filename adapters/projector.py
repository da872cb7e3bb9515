"""Keeps the case-state read model in step with the log.

The library's `Projection` gives the one-event path; the projector reads the log in batches after
the position the view recorded, folds each batch with the pure fold, and writes the changed rows
with the new position in one transaction. Two projectors racing over the same batch cannot both
apply it: the second one's position write is refused and its transaction rolled back.
"""

import threading
from typing import Any, cast
from uuid import UUID

import psycopg
import structlog
from eventsourcing.persistence import IntegrityError, PersistenceError, Tracking
from eventsourcing.projection import Projection
from psycopg import sql

from adapters.application import Parcours
from adapters.case_views import CaseStateView, PostgresCaseStateView, SQLiteCaseStateView
from adapters.recorders import PostgresRecorder
from domain.events import Recorded
from projections.case_state import CaseRow, apply, fold

log = structlog.get_logger(__name__)


class CaseStateProjection(Projection[Any]):
    """One event at a time, as the library's projection runner drives it."""

    name = "case_state"

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        recorded = cast(Recorded, domain_event)
        view = cast(CaseStateView, self.view)
        row = view.get(recorded.originator_id)
        view.save([apply(row, recorded)], tracking)


def open_case_view(app: Parcours) -> CaseStateView:
    view_class = SQLiteCaseStateView if app.settings.store == "sqlite" else PostgresCaseStateView
    return cast(CaseStateView, app.factory.tracking_recorder(view_class))


class Projector:
    def __init__(self, app: Parcours, view: CaseStateView | None = None, batch: int | None = None):
        self.app = app
        self.view = view or open_case_view(app)
        self.batch = batch or app.settings.projection_batch
        self.tracking_name = f"{app.name}.{CaseStateProjection.name}"

    def position(self) -> int:
        return self.view.max_tracking_id(self.tracking_name) or 0

    def catch_up(self, until: int | None = None) -> int:
        """Apply every event recorded after the view's position (or up to `until`)."""
        applied = 0
        decode = self.app.mapper.decode_state
        while True:
            position = self.position()
            if until is not None and position >= until:
                return applied
            notifications = self.app.recorder.select_notifications(
                start=position, limit=self.batch, inclusive_of_start=False
            )
            if not notifications:
                return applied
            records = [
                Recorded(cast(UUID, n.originator_id), n.originator_version, decode(n))
                for n in notifications
            ]
            touched = {r.originator_id for r in records}
            rows: dict[UUID, CaseRow] = fold(records, self.view.rows(touched))
            try:
                self.view.save(
                    [rows[i] for i in touched], Tracking(self.tracking_name, notifications[-1].id)
                )
            except IntegrityError:
                log.info("projection.batch_already_applied", position=notifications[-1].id)
                continue
            applied += len(records)

    def rebuild(self) -> int:
        """Forget the read model and fold the whole log again."""
        self.view.reset(self.tracking_name)
        return self.catch_up()

    def run_forever(self, stop: threading.Event) -> None:
        """Catch up, then wait for new events (LISTEN on PostgreSQL, polling on SQLite)."""
        waiter = _Waiter(self.app)
        try:
            while not stop.is_set():
                try:
                    applied = self.catch_up()
                except (PersistenceError, psycopg.Error) as e:
                    log.warning("projection.store_unavailable", error=str(e))
                    stop.wait(self.app.settings.poll_interval)
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
                s = self.settings
                self.conn = psycopg.connect(
                    host=s.postgres_host,
                    port=s.postgres_port,
                    user=s.postgres_user,
                    password=s.postgres_password,
                    dbname=s.postgres_dbname,
                    autocommit=True,
                    connect_timeout=5,
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
