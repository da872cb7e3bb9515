"""The event log: the eventsourcing Application over SQLite or PostgreSQL, its history reads,
the idempotency keys it stored, and the append of pre-decided events. Deciding what to append
is the service layer's (api/services/commands.py).
"""

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import TypeVar, cast
from uuid import UUID
from zoneinfo import ZoneInfo

from eventsourcing.application import Application
from eventsourcing.persistence import Mapper

from adapters.eventlog.mapper import EventMapper
from adapters.eventlog.recorders import IdempotencyRecord, PostgresRecorder, SQLiteRecorder
from adapters.eventlog.transcoder import MsgspecTranscoder
from adapters.settings import Settings
from domain.dossier import Dossier, fold_history
from domain.events import Evenement, Recorded

Clock = Callable[[], datetime]
E = TypeVar("E", bound=Evenement)


def utc_now() -> datetime:
    return datetime.now(UTC)


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

    # --- reads --------------------------------------------------------------------------------

    def history(self, case_id: UUID, up_to: int | None = None) -> list[Recorded]:
        """A case's events, up to version `up_to` when given (a read model refolding a case
        must not see past the batch it applies)."""
        return cast(list[Recorded], list(self.events.get(case_id, lte=up_to)))

    def of_kind(self, kind: type[E]) -> Iterator[E]:
        """Every event of one kind across the log, in recording order (read by pages)."""
        start = 0
        while notes := self.recorder.select_notifications(
            start=start, limit=1000, topics=[kind.__name__], inclusive_of_start=False
        ):
            for note in notes:
                event = self.mapper.decode_state(note)
                assert isinstance(event, kind)
                yield event
            start = notes[-1].id

    def load(self, case_id: UUID) -> tuple[Dossier, int]:
        """The case as the rules see it (corrections applied) and its version."""
        history = self.history(case_id)
        return fold_history(history), len(history)

    def today(self) -> date:
        return self.clock().astimezone(self.tz).date()

    def idempotency(self, key: str) -> IdempotencyRecord | None:
        """What the request with this idempotency key wrote, if it was recorded."""
        return self.recorder.find_idempotency(key)

    def position_of(self, aggregate_id: UUID, version: int) -> int | None:
        """The log position of one stored event."""
        return self.recorder.position_of(aggregate_id, version)

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def append_many(self, batch: Sequence[Recorded]) -> None:
        """Append pre-decided events (the synthetic generator and imports): one transaction."""
        self.events.put(batch)
