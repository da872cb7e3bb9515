"""Who is past the identity's retention on a day: the boundary days, the end of the path taken
from the exit or the closure (the earlier), open and re-opened cases never."""

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import pytest

from domain.dossier import Statut
from projections.case_state import CaseRow
from projections.retention import end_of_path, ended_without_date, past_retention

DAYS = 730
END = date(2023, 3, 1)


def row(n: int, statut: Statut, **dates: date | None) -> CaseRow:
    return CaseRow(
        case_id=UUID(int=n),
        version=3,
        updated_at=datetime(2023, 1, 1, tzinfo=UTC),
        statut=statut,
        **dates,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("today", "due"),
    [
        (END + timedelta(days=DAYS - 1), False),  # one day before the period ends
        (END + timedelta(days=DAYS), True),  # the day it ends
        (END + timedelta(days=DAYS + 1), True),  # the day after
    ],
)
def test_the_boundary_days(today: date, due: bool) -> None:
    closed = row(1, Statut.CLOS, date_cloture=END)
    exited = row(2, Statut.SORTI, date_sortie=END)
    found = past_retention([closed, exited], today, DAYS)
    assert [e.case_id for e in found] == ([closed.case_id, exited.case_id] if due else [])
    if due:
        assert found[0].fin_parcours == END
        assert found[0].effacable_le == END + timedelta(days=DAYS)


def test_the_path_ends_at_the_exit_or_the_closure_whichever_came_first() -> None:
    both = row(1, Statut.CLOS, date_sortie=date(2022, 5, 1), date_cloture=date(2022, 9, 1))
    assert end_of_path(both) == date(2022, 5, 1)
    assert past_retention([both], date(2024, 4, 30), DAYS) != []  # 730 days, 2024 is leap
    assert past_retention([both], date(2024, 4, 29), DAYS) == []


@pytest.mark.parametrize("statut", [Statut.A_ORIENTER, Statut.ORIENTE, Statut.INCONNU])
def test_an_open_case_is_never_due(statut: Statut) -> None:
    # A re-opened case is open again: its row's episode starts afresh, without an end.
    open_case = row(1, statut, date_sortie=None)
    assert end_of_path(open_case) is None
    assert past_retention([open_case], date(2099, 1, 1), DAYS) == []


def test_a_row_folded_before_the_closure_date_existed_is_named() -> None:
    old = row(1, Statut.CLOS)
    assert past_retention([old], date(2099, 1, 1), DAYS) == []
    assert ended_without_date([old, row(2, Statut.ORIENTE)]) == [old.case_id]
