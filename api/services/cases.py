"""A step on a case: the domain decides on the case's history (corrections applied) and the
events are appended at the version read, with the request's idempotency key, if any."""

from uuid import UUID

import msgspec

from adapters.eventlog.store import Parcours
from api.services.commands import Author, execute
from domain.commands import Commande, EnregistrerEntree
from domain.decide import decide_on_history
from domain.events import Recorded


class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    """What a command did: the case's new version and the log position of its last event."""

    case_id: UUID
    version: int
    position: int | None
    created: bool
    replayed: bool = False


def handle(
    app: Parcours,
    case_id: UUID,
    command: Commande,
    author: Author,
    *,
    history: list[Recorded] | None = None,
    expected_version: int | None = None,
    idempotency_key: str | None = None,
    fingerprint: str = "",
    attempts: int = 3,
) -> Outcome:
    """Decide and append; replays an idempotent request; retries a lost race when the
    caller did not pin a version. `history`: the case's events as the caller just read them
    to admit the request (then not read again unless a race is lost)."""
    appended = execute(
        app,
        case_id,
        lambda events, ctx: decide_on_history(events, command, ctx),
        author,
        history=history,
        expected_version=expected_version,
        idempotency_key=idempotency_key,
        fingerprint=fingerprint,
        creates=isinstance(command, EnregistrerEntree),
        attempts=attempts,
    )
    return Outcome(
        case_id=appended.aggregate_id,
        version=appended.version,
        position=appended.position,
        created=appended.created,
        replayed=appended.replayed,
    )
