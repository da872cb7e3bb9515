"""A case's history as it now stands once corrections are applied.

An erroneous step is never edited nor deleted: a later correction event names the version it
corrects (`EtapeAnnulee` voids it, `EtapeRectifiee` gives it another date of effect). Every read
that wants "what happened" folds `effective_history`: the case-state read model, the case's
own state for the rules (`domain.dossier.fold_history`), statistics, financing, cohort
extracts. Audits show the raw history, corrections next to what they correct.

Rules of application (the commands that record corrections check them, `domain.decide`):
- a voided step is left out, whatever else names it; voiding wins over a rectification;
- a step rectified several times takes the date of its latest rectification;
- the corrections themselves are left out, and the order of the steps is their version order
  (a rectified date does not move a step in the sequence the rules saw).
"""

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from msgspec.structs import replace

from domain.events import CORRECTION_TYPES, EtapeAnnulee, EtapeRectifiee, Evenement, Recorded


def is_correction(event: Evenement) -> bool:
    """Whether `event` changes how earlier steps read (a read model refolds the case)."""
    return isinstance(event, CORRECTION_TYPES)


def corrected_version(event: Evenement) -> int | None:
    """The version a correction event names (None for any other event). Partial fold: only
    the corrections count."""
    match event:
        case EtapeAnnulee():
            return event.version_annulee
        case EtapeRectifiee():
            return event.version_rectifiee
        case _:
            return None


def effective_history(history: Sequence[Recorded]) -> list[Recorded]:
    """The history without the steps declared void nor the correction events, each rectified
    step carrying its corrected date of effect."""
    voided: set[int] = set()
    dates: dict[int, date] = {}
    for r in history:
        match r.event:
            case EtapeAnnulee(version_annulee=version):
                voided.add(version)
            case EtapeRectifiee(version_rectifiee=version, effective_on_corrige=corrected):
                dates[version] = corrected
            case _:
                pass
    out: list[Recorded] = []
    for r in history:
        if is_correction(r.event) or r.originator_version in voided:
            continue
        day = dates.get(r.originator_version)
        if day is not None and day != r.event.effective_on:
            r = Recorded(
                r.originator_id,
                r.originator_version,
                replace(r.event, effective_on=day),
                r.position,
            )
        out.append(r)
    return out


def effective_events(events: Sequence[Evenement]) -> list[Evenement]:
    """`effective_history` for a bare list of a case's events (version = index + 1)."""
    numbered = [Recorded(UUID(int=0), i, e) for i, e in enumerate(events, 1)]
    return [r.event for r in effective_history(numbered)]
