"""A RDV moved to another day: before its outcome only, to a real other day, not before the
move; the follow-up reads the new day."""

from uuid import uuid4

from domain import commands as c
from domain import events as ev
from domain.events import Recorded
from projections.suivi import suivre
from tests.unit.test_decide import (
    ENTREE,
    RDV,
    REFERENT,
    SEEN,
    SOCIALE,
    D,
    given,
    on,
    refused,
    when,
)

MOVE = c.DeplacerRdv(effective_on=D(2024, 2, 1), numero=1, date_rdv=D(2024, 2, 12))


def test_a_planned_rdv_moves_and_its_outcome_is_then_dated_from_the_new_day() -> None:
    state = given(ENTREE, SOCIALE, REFERENT, RDV)
    [moved] = when(state, MOVE)
    assert isinstance(moved, ev.RdvDeplace)
    assert (moved.numero, moved.date_rdv) == (1, D(2024, 2, 12))
    state = given(MOVE, state=state)
    assert state.rdvs[1].date_rdv == D(2024, 2, 12)
    refused(state, SEEN, "date_anterieure", "effective_on")  # seen before the new day
    assert when(state, on(SEEN, effective_on=D(2024, 2, 12)))


def test_a_move_is_refused_after_the_outcome_to_the_same_day_or_before_the_move() -> None:
    state = given(ENTREE, SOCIALE, REFERENT, RDV)
    refused(state, on(MOVE, numero=2), "rdv_inconnu", "numero")
    refused(state, on(MOVE, date_rdv=D(2024, 2, 5)), "rdv_meme_date", "date_rdv")
    refused(state, on(MOVE, date_rdv=D(2024, 1, 31)), "date_anterieure", "date_rdv")
    refused(state, on(MOVE, effective_on=D(2024, 1, 28)), "date_anterieure", "effective_on")
    refused(given(SEEN, state=state), MOVE, "issue_deja_enregistree", "numero")


def test_the_follow_up_reads_the_new_day() -> None:
    case_id = uuid4()
    history: list[ev.Evenement] = []
    state = given()
    for command in (ENTREE, SOCIALE, REFERENT, RDV, MOVE):
        new = when(state, command)
        history.extend(new)
        state = given(command, state=state)
    events = [Recorded(case_id, n, e) for n, e in enumerate(history, 1)]
    [episode] = suivre(events)
    assert [(r.numero, r.date_rdv) for r in episode.rdvs] == [(1, D(2024, 2, 12))]
