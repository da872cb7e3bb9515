"""Two dates for every fact: when it took effect (`effective_on`) and when the system learned it
(`meta.recorded_at`). An audit asks for a case as it stood on a day (`as_of`), as it was known
at a moment (`known_at`), or both: what we believed at `known_at` about the situation on `as_of`.

Order of the filters: first what was known (corrections recorded later are not known, so the
original step shows), then the corrections known then are applied (`effective_history`), then
the steps that had taken effect by `as_of` (by their corrected date) are kept.
"""

from collections.abc import Sequence
from datetime import date, datetime

from domain.corrections import effective_history, is_correction
from domain.events import EtapeRectifiee, Recorded


def known_at(history: Sequence[Recorded], moment: datetime) -> list[Recorded]:
    """The case's events recorded at or before `moment`.

    A case's events are recorded one version after the other, so what was known is a prefix of
    its history: it stops at the first event stamped after `moment` (an event stamped earlier
    but appended after it, by a skewed clock, was not yet visible then)."""
    out: list[Recorded] = []
    for r in history:
        if r.event.meta.recorded_at > moment:
            break
        out.append(r)
    return out


def as_of(history: Sequence[Recorded], day: date) -> list[Recorded]:
    """The events that had taken effect on or before `day`, a rectified step by its corrected
    date. Corrections are kept whatever their own date (a correction is retroactive), so
    `effective_history(as_of(h, d)) == as_of(effective_history(h), d)`."""
    dates = {
        r.event.version_rectifiee: r.event.effective_on_corrige
        for r in history
        if isinstance(r.event, EtapeRectifiee)
    }
    return [
        r
        for r in history
        if is_correction(r.event) or dates.get(r.originator_version, r.event.effective_on) <= day
    ]


def bitemporal(
    history: Sequence[Recorded], day: date | None = None, moment: datetime | None = None
) -> list[Recorded]:
    """The effective history as known at `moment`, cut at `day` (None: now, for either)."""
    known = history if moment is None else known_at(history, moment)
    effective = effective_history(known)
    return effective if day is None else as_of(effective, day)
