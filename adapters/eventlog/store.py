"""The event log: the eventsourcing Application over SQLite or PostgreSQL, its history reads,
the idempotency keys it stored, and the append of pre-decided events. Deciding what to append
is the service layer's (api/services/commands.py).
"""

import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar, cast
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
from eventsourcing.application import Application
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import EventStore, Mapper, PersistenceError, Recording

from adapters.eventlog.mapper import EventMapper
from adapters.eventlog.recorders import IdempotencyRecord, PostgresRecorder, SQLiteRecorder
from adapters.eventlog.transcoder import MsgspecTranscoder
from adapters.metrics.counted import count_appended
from adapters.settings import Settings
from domain.dossier import Dossier, fold_history
from domain.events import Evenement, Recorded

Clock = Callable[[], datetime]

STORE_ERRORS: tuple[type[Exception], ...] = (PersistenceError, psycopg.Error, sqlite3.Error)
"""What either store raises when it fails (not a refusal, not a broken history): the callers
that quarantine what a fold raises let these through."""
E = TypeVar("E", bound=Evenement)


def utc_now() -> datetime:
    return datetime.now(UTC)


class CountedEventStore(EventStore[UUID]):
    """The library's event store, counting what it committed by type for the metrics."""

    def put(
        self, domain_events: Sequence[DomainEventProtocol[UUID]], **kwargs: Any
    ) -> list[Recording[UUID]]:
        recordings = super().put(domain_events, **kwargs)
        count_appended(r.notification.topic for r in recordings)
        return recordings


class Parcours(Application[UUID]):
    """The event log of every case, on SQLite or PostgreSQL as the environment says."""

    name = "Parcours"
    recorder: SQLiteRecorder | PostgresRecorder
    mapper: EventMapper

    def __init__(self, settings: Settings | None = None, clock: Clock = utc_now) -> None:
        self.settings = settings or Settings.from_env()
        self.settings.check_start()
        self.clock = clock
        self.tz = ZoneInfo(self.settings.timezone)
        super().__init__(env=self.settings.library_env())

    def construct_mapper(self) -> Mapper[UUID]:
        return EventMapper(
            transcoder=MsgspecTranscoder(),
            compressor=self.factory.compressor(),
            cipher=self.factory.cipher(),
        )

    def construct_event_store(self) -> EventStore[UUID]:
        return CountedEventStore(mapper=self.mapper, recorder=self.recorder)

    # --- reads --------------------------------------------------------------------------------

    def history(self, case_id: UUID, up_to: int | None = None) -> list[Recorded]:
        """A case's events, up to version `up_to` when given (a read model refolding a case
        must not see past the batch it applies)."""
        return cast(list[Recorded], list(self.events.get(case_id, lte=up_to)))

    def load(self, case_id: UUID) -> tuple[Dossier, int]:
        """The case as the rules see it (corrections applied) and its version."""
        history = self.history(case_id)
        return fold_history(history), len(history)

    def today(self) -> date:
        return self.clock().astimezone(self.tz).date()

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        """What the request with this idempotency key wrote, if it was recorded."""
        return self.recorder.find_idempotency(key)

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def append_many(self, batch: Sequence[Recorded]) -> None:
        """Append pre-decided events (the synthetic generator and imports): one transaction."""
        self.events.put(batch)
