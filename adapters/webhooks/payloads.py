"""What a subscription receives of an event: whether it may (its kinds, its structures'
reach), and the body sent (Standard Webhooks' `type`, `timestamp`, `data`).

Reach, like an agent's reads: a subscription limited to structures receives the events of the
cases one of them accompanies, judged at that event's place in the log (before or after it: a
partner learns that a case left it). The reach folds each case's history as the deliverer
reads it, corrections included (`domain.dossier.fold_history`); a case met for the first time
is read up to the batch's start.
"""

import uuid
from collections.abc import Sequence
from typing import Any
from uuid import UUID

import msgspec

from adapters.eventlog.reading import IllegibleEvent, Log, case_histories
from adapters.identity import Identite
from domain.abonnements import Abonnement, Finalite
from domain.dossier import fold_history
from domain.events import Recorded, is_fait

NAMESPACE = uuid.UUID("0f3a9c51-6a2e-4d8b-9a61-4d1f2f7b9e10")
IDENTIFYING = frozenset({"numero_dossier"})
"""Event fields only a subscription whose purpose is identification receives."""
WITHHELD = frozenset({"nir"})
"""Identity fields no partner receives: the NIR's use is restricted by law to the exchanges
authorised for it (`docs/webhooks.md`, "What a partner receives")."""
CACHED_CASES = 50_000
"""Case histories a subscription's reach keeps in memory (read again from the log beyond)."""

_encode = msgspec.json.Encoder().encode


def webhook_id(abonnement_id: str, record: Recorded) -> str:
    """Stable per subscription and event (case id and version): every try and every replay of
    one delivery share it, so a receiver drops duplicates by it."""
    name = f"{abonnement_id}/{record.originator_id}/{record.originator_version}"
    return f"msg_{uuid.uuid5(NAMESPACE, name).hex}"


def event_type(record: Recorded) -> str:
    return f"dossier.{type(record.event).__name__}"


def personne(identity: Identite | None) -> dict[str, Any] | None:
    """The person as an identifying subscription receives them: the vault's record without
    what no partner receives; None when the vault holds no one (never known, or erased)."""
    if identity is None:
        return None
    fields: dict[str, Any] = msgspec.to_builtins(identity)
    for name in WITHHELD:
        fields.pop(name, None)
    return fields


def body(subscription: Abonnement, record: Recorded, identity: Identite | None = None) -> bytes:
    """The JSON sent: the case id, the event's place, and the event's data (without the
    identifying fields and the recording agent unless the purpose allows them). A subscription
    whose purpose is identification also receives the person (`personne`, from the identity
    vault as it is when the event is sent: null once erased)."""
    event: dict[str, Any] = msgspec.to_builtins(record.event)
    data: dict[str, Any] = {
        "dossier_id": str(record.originator_id),
        "version": record.originator_version,
        "position": record.position,
        "evenement": event,
    }
    if subscription.finalite is Finalite.IDENTIFICATION:
        data["personne"] = personne(identity)
    else:
        for name in IDENTIFYING:
            event.pop(name, None)
        event["meta"].pop("recorded_by", None)
    return _encode(
        {"type": event_type(record), "timestamp": event["meta"]["recorded_at"], "data": data}
    )


class Reach:
    """Which events of a batch a subscription receives."""

    def __init__(self, log: Log, subscription: Abonnement) -> None:
        self.log = log
        self.subscription = subscription
        self.kinds = frozenset(subscription.types)
        self.structures = (
            None if subscription.structures is None else frozenset(subscription.structures)
        )
        self._histories: dict[UUID, list[Recorded] | None] = {}
        """Each case's history up to the last event selected; None for a case whose history
        cannot be read (no partner's, as it is no agent's)."""

    def forget(self) -> None:
        """Drop the cached histories (after a replay moved the cursor back)."""
        self._histories.clear()

    def select(self, records: Sequence[Recorded], start: int) -> list[Recorded]:
        """The case events of `records` (read after position `start`) this subscription
        receives, in log order."""
        cases = [r for r in records if is_fait(r.event)]
        if self.structures is None:
            return [r for r in cases if type(r.event).__name__ in self.kinds]
        self._load({r.originator_id for r in cases}, start)
        chosen: list[Recorded] = []
        for r in cases:
            history = self._histories[r.originator_id]
            if history is None:
                continue
            before = self._reaches(history)
            history.append(r)
            if type(r.event).__name__ in self.kinds and (before or self._reaches(history)):
                chosen.append(r)
        return chosen

    def _reaches(self, history: list[Recorded]) -> bool:
        if not history:
            return False
        try:
            accompagnants = fold_history(history).accompagnants
        except Exception:  # a case its own rules cannot fold: no partner's, like no agent's
            return False
        assert self.structures is not None
        return not self.structures.isdisjoint(accompagnants)

    def _load(self, cases: set[UUID], start: int) -> None:
        missing = [c for c in cases if c not in self._histories]
        if not missing:
            return
        if len(self._histories) + len(missing) > CACHED_CASES:
            self._histories.clear()
            missing = list(cases)
        try:
            found = case_histories(self.log, missing, stop=start) if start > 0 else {}
        except IllegibleEvent:
            found = {}
            for case in missing:
                try:
                    found |= case_histories(self.log, [case], stop=start)
                except IllegibleEvent:
                    self._histories[case] = None
        for case in missing:
            if case not in self._histories:
                self._histories[case] = found.get(case, [])
