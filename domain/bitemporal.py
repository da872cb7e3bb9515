"""Two dates for every fact: when it took effect (`effective_on`) and when the system learned it
(`meta.recorded_at`). An audit asks for a case as it stood on a day (`as_of`), as it was known
at a moment (`known_at`), or both: what we believed at `known_at` about the situation on `as_of`.

Order of the filters: first what was known (corrections recorded later are not known, so the
original step shows), then the corrections known then are applied (`effective_history`), then
the steps that had taken effect by `as_of` (by their corrected date) are kept.
"""

from collections.abc import Sequence
from datetime import date, datetime

from domain.corrections import effective_history
from domain.events import Recorded


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


def as_of(effective: Sequence[Recorded], day: date) -> list[Recorded]:
    """The steps of an effective history that had taken effect on or before `day`."""
    return [r for r in effective if r.event.effective_on <= day]


def bitemporal(
    history: Sequence[Recorded], day: date | None = None, moment: datetime | None = None
) -> list[Recorded]:
    """The effective history as known at `moment`, cut at `day` (None: now, for either)."""
    known = history if moment is None else known_at(history, moment)
    effective = effective_history(known)
    return effective if day is None else as_of(effective, day)
