"""A case's timeline for an auditor: every event as recorded, who keyed it, from which
structure, when, the date it took effect (as corrected, and as first keyed), why where given,
and each correction shown both in its place and next to the step it corrects. Pure."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import cast
from uuid import UUID

import msgspec

from domain.corrections import corrected_version, effective_history
from domain.events import EtapeAnnulee, EtapeRectifiee, Fait, Recorded
from projections.case_state import CaseRow


class StatutEtape(StrEnum):
    VALIDE = "valide"
    RECTIFIEE = "rectifiee"
    ANNULEE = "annulee"
    CORRECTION = "correction"


class Correction(msgspec.Struct, frozen=True, kw_only=True):
    """A correction as shown next to the step it corrects."""

    version: int
    type: str
    motif: str
    effective_on_corrige: date | None
    recorded_at: datetime
    recorded_by: str
    structure_id: str | None


class TimelineEntry(msgspec.Struct, frozen=True, kw_only=True):
    version: int
    position: int | None
    """Place in the whole log (None when read without it)."""
    type: str
    effective_on: date
    """The date it took effect, as corrected (the correction's own date for a correction)."""
    effective_on_enregistre: date
    """The date first keyed."""
    recorded_at: datetime
    recorded_by: str
    structure_id: str | None
    request_id: str
    motif: str | None
    statut: StatutEtape
    corrige: int | None = None
    """For a correction: the version it corrects."""
    corrections: list[Correction] = []
    """For a corrected step: the corrections naming it, in recording order."""
    event: Fait


def _motif(recorded: Recorded) -> str | None:
    motif = getattr(recorded.event, "motif", None)
    return motif if isinstance(motif, str) else None


def timeline(history: Sequence[Recorded], as_of: date | None = None) -> list[TimelineEntry]:
    """The entries of `history` (as known: pass the known prefix), in version order; with
    `as_of`, the steps that had taken effect by then (corrected dates) and their corrections."""
    by_target: dict[int, list[Recorded]] = defaultdict(list)
    for r in history:
        target = corrected_version(r.event)
        if target is not None:
            by_target[target].append(r)
    effective = {r.originator_version: r.event.effective_on for r in effective_history(history)}
    latest: dict[int, date] = {}
    for target, corrections in by_target.items():
        for c in corrections:
            if isinstance(c.event, EtapeRectifiee):
                latest[target] = c.event.effective_on_corrige
    shown: set[int] = set()
    out: list[TimelineEntry] = []
    for r in history:
        v, e = r.originator_version, r.event
        target = corrected_version(e)
        if target is not None:
            if target not in shown:
                continue
            statut, day = StatutEtape.CORRECTION, e.effective_on
        else:
            day = effective.get(v, latest.get(v, e.effective_on))
            if as_of is not None and day > as_of:
                continue
            shown.add(v)
            corrections = by_target.get(v, [])
            if any(isinstance(c.event, EtapeAnnulee) for c in corrections):
                statut = StatutEtape.ANNULEE
            elif corrections:
                statut = StatutEtape.RECTIFIEE
            else:
                statut = StatutEtape.VALIDE
        out.append(
            TimelineEntry(
                version=v,
                position=r.position or None,
                type=type(e).__name__,
                effective_on=day,
                effective_on_enregistre=e.effective_on,
                recorded_at=e.meta.recorded_at,
                recorded_by=e.meta.recorded_by,
                structure_id=e.meta.structure_id,
                request_id=e.meta.request_id,
                motif=_motif(r),
                statut=statut,
                corrige=target,
                corrections=[_correction(c) for c in by_target.get(v, [])]
                if target is None
                else [],
                event=cast(Fait, e),
            )
        )
    return out


def _correction(r: Recorded) -> Correction:
    e = r.event
    return Correction(
        version=r.originator_version,
        type=type(e).__name__,
        motif=_motif(r) or "",
        effective_on_corrige=e.effective_on_corrige if isinstance(e, EtapeRectifiee) else None,
        recorded_at=e.meta.recorded_at,
        recorded_by=e.meta.recorded_by,
        structure_id=e.meta.structure_id,
    )


class CaseExport(msgspec.Struct, frozen=True, kw_only=True):
    """What an auditor files: the case as known then, about a day, and its whole timeline."""

    case_id: UUID
    generated_at: datetime
    generated_by: str
    known_at: datetime | None
    as_of: date | None
    position: int
    state: CaseRow | None
    timeline: list[TimelineEntry]
