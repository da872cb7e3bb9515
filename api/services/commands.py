"""Every write of the service layer, one way: load an aggregate's history, let a decide function
return its events, append them at the version read in one transaction.

A lost race (another writer appended first) is decided again on the new history, unless the
caller pinned the version it saw; a request with an idempotency key answers the replay of what
it first wrote, its key stored in the same transaction as its events.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

import msgspec
from eventsourcing.persistence import IntegrityError

from adapters.eventlog.reading import position_of
from adapters.eventlog.recorders import IdempotencyRecord
from adapters.eventlog.store import Parcours
from adapters.rules import load_regimes
from domain.decide import Contexte
from domain.errors import DomainError
from domain.events import Evenement, Meta, Recorded

T = TypeVar("T")
Decide = Callable[[list[Recorded], Contexte], Sequence[Evenement]]
"""What the aggregate records, given its history and the moment (today, who records)."""


class Author(msgspec.Struct, frozen=True, kw_only=True):
    """Who is recording, from where, under which request."""

    user: str
    structure_id: str | None = None
    request_id: str


class VersionConflict(Exception):
    """The aggregate is no longer at the version the caller expected."""

    def __init__(self, expected: int | None, actual: int) -> None:
        super().__init__(f"expected version {expected}, current version {actual}")
        self.expected = expected
        self.actual = actual


class IdempotencyKeyReused(Exception):
    """The key was already used for a different request."""


LostRace = Callable[[int | None, int], Exception]
"""The error for a race lost for good, given the version expected and the current one."""


@dataclass(frozen=True)
class Appended:
    """What a command wrote (or, replayed, had written): the aggregate's new version, the log
    position of its last event, and the events themselves (none on a replay)."""

    aggregate_id: UUID
    version: int
    position: int | None
    created: bool
    replayed: bool = False
    recorded: Sequence[Recorded] = ()


def context(app: Parcours, author: Author, request_id: str | None = None) -> Contexte:
    """The moment as the rules see it: today in the département's time zone, and the `Meta`
    every event of this request carries (`request_id` for the author's, e.g. an idempotency
    key)."""
    now = app.clock()
    meta = Meta(
        recorded_at=now,
        recorded_by=author.user,
        structure_id=author.structure_id,
        request_id=request_id or author.request_id,
    )
    return Contexte(today=now.astimezone(app.tz).date(), meta=meta, regimes=load_regimes())


def retrying(write: Callable[[int], T], attempts: int) -> T:
    """`write(attempt)` until it does not lose a race: an IntegrityError (another writer
    appended at the same version first) tries again, the last one is raised."""
    for attempt in range(attempts):
        try:
            return write(attempt)
        except IntegrityError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def execute(
    app: Parcours,
    aggregate_id: UUID,
    decide: Decide,
    author: Author,
    *,
    history: list[Recorded] | None = None,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
    fingerprint: str = "",
    creates: bool | None = None,
    lost_race: LostRace = VersionConflict,
    attempts: int = 3,
) -> Appended:
    """Decide on the aggregate's history and append.

    `history`: the aggregate's events when the caller has just read them (to admit the request):
    the first attempt decides on them instead of reading again. `creates`: whether the command
    creates the aggregate (default: it had no event). A refusal (DomainError) or a conflict on
    a request with a key first looks whether the same request was recorded meanwhile (a
    concurrent retry) and answers its replay."""

    def replayed() -> Appended | None:
        return None if idempotency_key is None else _replay(app, idempotency_key, fingerprint)

    def attempt(n: int) -> Appended:
        events = history if history is not None and n == 0 else app.history(aggregate_id)
        version = len(events)
        try:
            if expected_version is not None and expected_version != version:
                raise VersionConflict(expected_version, version)
            decided = decide(events, context(app, author, idempotency_key))
        except (DomainError, VersionConflict):
            if (replay := replayed()) is not None:
                return replay
            raise
        recorded = [Recorded(aggregate_id, version + i, e) for i, e in enumerate(decided, 1)]
        created = version == 0 if creates is None else creates
        key = None
        if idempotency_key is not None:
            key = IdempotencyRecord(
                key=idempotency_key,
                fingerprint=fingerprint,
                case_id=aggregate_id,
                version=recorded[-1].originator_version,
                status=201 if created else 200,
            )
        try:
            recordings = app.events.put(recorded, idempotency=key)
        except IntegrityError:
            if (replay := replayed()) is not None:
                return replay
            if expected_version is not None:
                raise lost_race(expected_version, len(app.history(aggregate_id))) from None
            raise
        return Appended(
            aggregate_id=aggregate_id,
            version=recorded[-1].originator_version,
            position=recordings[-1].notification.id,
            created=created,
            recorded=recorded,
        )

    if (replay := replayed()) is not None:
        return replay
    try:
        return retrying(attempt, attempts)
    except IntegrityError:
        raise lost_race(expected_version, len(app.history(aggregate_id))) from None


def _replay(app: Parcours, key: str, fingerprint: str) -> Appended | None:
    record = app.idempotency(key)
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        raise IdempotencyKeyReused(key)
    return Appended(
        aggregate_id=record.case_id,
        version=record.version,
        position=position_of(app, record.case_id, record.version),
        created=record.status == 201,
        replayed=True,
    )


def refused(code: str, detail: str, field: str) -> LostRace:
    """A race lost for good answered as the rules' refusal `code` (an aggregate whose callers
    pin no version: a structure, a cohort, the tariff book, a partner's statements)."""
    return lambda _expected, _actual: DomainError(code, detail, field=field)
