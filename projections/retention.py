"""Whose identity has outlived its retention period on a given day, from the case-state rows.

The period (docs/personal-data.md, "Retention"; `PARCOURS_IDENTITY_RETENTION_DAYS`, two years
by default) runs from the day the path ended: the exit (`SortieEnregistree`) or the closure of
the right (`DroitClos`), whichever came first, while no new right was opened (a re-opening
starts a new episode: the case is open again and its row carries no end). The identity is
erased on the day the period ends and any day after.
"""

from collections.abc import Iterable
from datetime import date, timedelta
from uuid import UUID

import msgspec

from domain.dossier import Statut
from projections.case_state import CaseRow

ENDED = frozenset({Statut.SORTI, Statut.CLOS})


class Echeance(msgspec.Struct, frozen=True, kw_only=True):
    """A case whose identity's retention is over: when its path ended, and since when the
    identity could be erased."""

    case_id: UUID
    fin_parcours: date
    effacable_le: date


def end_of_path(row: CaseRow) -> date | None:
    """The day the case's path ended (exit or closure, the earlier); None while it is open."""
    if row.statut not in ENDED:
        return None
    ends = [d for d in (row.date_sortie, row.date_cloture) if d is not None]
    return min(ends) if ends else None


def past_retention(rows: Iterable[CaseRow], today: date, days: int) -> list[Echeance]:
    """The cases whose path ended `days` days or more before `today`, by case id."""
    period = timedelta(days=days)
    due = []
    for row in rows:
        end = end_of_path(row)
        if end is not None and end + period <= today:
            due.append(Echeance(case_id=row.case_id, fin_parcours=end, effacable_le=end + period))
    return sorted(due, key=lambda e: e.case_id)


def ended_without_date(rows: Iterable[CaseRow]) -> list[UUID]:
    """Closed cases whose row has no closure date (folded before the row kept it): a
    `parcours rebuild` gives them one."""
    return sorted(r.case_id for r in rows if r.statut in ENDED and end_of_path(r) is None)
