"""The service layer: the eventsourcing Application that loads a case, lets the domain decide,
and appends the events in one transaction (with the request's idempotency key, if any).
"""

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import cast
from uuid import UUID
from zoneinfo import ZoneInfo

import msgspec
from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, Mapper

from adapters.eventlog.mapper import EventMapper
from adapters.eventlog.reading import position_of
from adapters.eventlog.recorders import IdempotencyRecord, PostgresRecorder, SQLiteRecorder
from adapters.eventlog.transcoder import MsgspecTranscoder
from adapters.settings import Settings
from domain.commands import Commande, EnregistrerEntree
from domain.decide import Contexte, decide_on_history
from domain.dossier import Dossier, fold_history
from domain.errors import DomainError
from domain.events import Meta, Recorded

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Author(msgspec.Struct, frozen=True, kw_only=True):
    """Who is recording, from where, under which request."""

    user: str
    structure_id: str | None = None
    request_id: str


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """What a command did: the case's new version and the log position of its last event."""

    case_id: UUID
    version: int
    position: int | None
    created: bool
    replayed: bool = False


class VersionConflict(Exception):
    def __init__(self, expected: int | None, actual: int) -> None:
        super().__init__(f"expected version {expected}, current version {actual}")
        self.expected = expected
        self.actual = actual


class IdempotencyKeyReused(Exception):
    """The key was already used for a different request."""


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

    def load(self, case_id: UUID) -> tuple[Dossier, int]:
        """The case as the rules see it (corrections applied) and its version."""
        history = self.history(case_id)
        return fold_history(history), len(history)

    def today(self) -> date:
        return self.clock().astimezone(self.tz).date()

    # --- writes -------------------------------------------------------------------------------

    def handle(
        self,
        case_id: UUID,
        command: Commande,
        author: Author,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        fingerprint: str = "",
        attempts: int = 3,
    ) -> Outcome:
        """Decide and append; replays an idempotent request; retries a lost race when the
        caller did not pin a version."""
        if idempotency_key is not None:
            replay = self._replay(idempotency_key, fingerprint)
            if replay is not None:
                return replay
        for attempt in range(attempts):
            history = self.history(case_id)
            version = len(history)
            now = self.clock()
            meta = Meta(
                recorded_at=now,
                recorded_by=author.user,
                structure_id=author.structure_id,
                request_id=idempotency_key or author.request_id,
            )
            ctx = Contexte(today=now.astimezone(self.tz).date(), meta=meta)
            try:
                if expected_version is not None and expected_version != version:
                    raise VersionConflict(expected_version, version)
                events = decide_on_history(history, command, ctx)
            except (DomainError, VersionConflict):
                # The same request may have been recorded since the first look for its key
                # (a concurrent retry): the case moved on because of it, so answer its replay.
                if idempotency_key is not None:
                    replay = self._replay(idempotency_key, fingerprint)
                    if replay is not None:
                        return replay
                raise
            recorded = [Recorded(case_id, version + i, e) for i, e in enumerate(events, 1)]
            created = isinstance(command, EnregistrerEntree)
            key = None
            if idempotency_key is not None:
                key = IdempotencyRecord(
                    key=idempotency_key,
                    fingerprint=fingerprint,
                    case_id=case_id,
                    version=recorded[-1].originator_version,
                    status=201 if created else 200,
                )
            try:
                recordings = self.events.put(recorded, idempotency=key)
            except IntegrityError:
                if idempotency_key is not None:
                    replay = self._replay(idempotency_key, fingerprint)
                    if replay is not None:
                        return replay
                if expected_version is not None or attempt == attempts - 1:
                    _, actual = self.load(case_id)
                    raise VersionConflict(expected_version, actual) from None
                continue
            return Outcome(
                case_id=case_id,
                version=recorded[-1].originator_version,
                position=recordings[-1].notification.id,
                created=created,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def _replay(self, key: str, fingerprint: str) -> Outcome | None:
        record = self.recorder.find_idempotency(key)
        if record is None:
            return None
        if record.fingerprint != fingerprint:
            raise IdempotencyKeyReused(key)
        return Outcome(
            case_id=record.case_id,
            version=record.version,
            position=position_of(self, record.case_id, record.version),
            created=record.status == 201,
            replayed=True,
        )

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0

    def append_many(self, batch: Sequence[Recorded]) -> None:
        """Append pre-decided events (the synthetic generator and imports): one transaction."""
        self.events.put(batch)
