"""Response examples for the OpenAPI document, computed by running the request examples through
the domain and the fold, so the documentation cannot drift from what the API answers."""

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import msgspec

from api.http.steps import ENTREE, STEPS
from domain.decide import Contexte, decide
from domain.dossier import Dossier, evolve
from domain.events import Meta, Recorded
from projections.case_state import fold
from projections.timeline import timeline

CASE_ID = UUID("0b7c3a9e-4f7e-4c8e-9d4a-2f1e6b5c7d80")
_META = Meta(
    recorded_at=datetime(2024, 2, 6, 9, 30, tzinfo=UTC),
    recorded_by="agent-7",
    structure_id="ccas-creteil",
    request_id="3f9c2d1e",
)


def _history() -> list[Recorded]:
    state, out = Dossier(), list[Recorded]()
    chosen = {"orientation", "referent", "rdv", "issue-rdv", "cer"}
    for step in [ENTREE, *(s for s in STEPS if s.slug in chosen)]:
        command = msgspec.convert(step.example, step.command)
        for event in decide(state, command, Contexte(today=date(2024, 12, 31), meta=_META)):
            state = evolve(state, event)
            out.append(Recorded(CASE_ID, len(out) + 1, event))
    return out


def _plain(value: Any) -> Any:
    return msgspec.json.decode(msgspec.json.encode(value))


HISTORY = _history()
CASE = _plain(fold(HISTORY)[CASE_ID])
TIMELINE = _plain(timeline(HISTORY[:2]))
PAGE = {"items": [CASE], "total": 1, "limit": 50, "offset": 0, "position": 1289}
RESULT = {"case_id": str(CASE_ID), "version": 2, "position": 1289, "replayed": False}
