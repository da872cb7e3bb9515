"""Every event type goes through every fold: an exhaustive fold that forgot one fails here (its
`assert_never` raises), as it fails the type check; a partial fold must at least fold it.

The instances are drawn from the event classes' own fields (bounded like stored events), so a
new event type is covered the day it enters its union, with no line to add here."""

import types
from datetime import UTC, date, datetime
from enum import Enum
from typing import Any, Union, get_args, get_origin
from uuid import UUID

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.http.access import STEP_ROLES
from api.http.steps import CORRECTIONS, ENTREE, EVENT_SLUGS, STEPS
from domain import commands as cmd
from domain import events as ev
from domain.catalogue import ALL_EVENT_TYPES
from domain.decide import command_of
from domain.dossier import Dossier, evolve
from domain.events import EVENT_TYPES
from domain.vocabulary import OrganismePayeur
from projections import activity, case_state, cohort, suivi

CASE = UUID(int=7)
DAY = date(2024, 3, 1)
META = ev.Meta(recorded_at=datetime(2024, 3, 2, tzinfo=UTC), recorded_by="a", request_id="r")
ENTRY = ev.EntreeEnregistree(
    effective_on=DAY,
    meta=META,
    numero_dossier="CAF-1",
    organisme_payeur=OrganismePayeur.CAF,
    date_flux=DAY,
    date_reception_flux=DAY,
    soumis_droits_devoirs=True,
)


def _strategy(kind: Any) -> st.SearchStrategy[Any]:
    """Values of a field's type, in the bounds of a stored event (no fold meets others)."""
    if get_origin(kind) in (Union, types.UnionType):
        return st.one_of([_strategy(arg) for arg in get_args(kind)])
    if kind is type(None):
        return st.none()
    if kind is ev.Meta:
        return st.just(META)
    if get_origin(kind) is list:
        return st.lists(_strategy(get_args(kind)[0]), max_size=3)
    if isinstance(kind, type) and issubclass(kind, Enum):
        return st.sampled_from(kind)
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        return _instances(kind)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        date: st.dates(date(2023, 1, 1), date(2024, 12, 31)),
        int: st.integers(1, 12),
        bool: st.booleans(),
        str: st.text("abcdef-", min_size=1, max_size=8),
    }
    return simple[kind]


def _instances(kind: type[msgspec.Struct]) -> st.SearchStrategy[Any]:
    fields = msgspec.structs.fields(kind)
    return st.builds(kind, **{f.name: _strategy(f.type) for f in fields})


def _folds(event: ev.Evenement) -> None:
    """The event through every fold of a case, after an entry (so that a step has its
    episode) and alone (a step before any entry)."""
    for history in ([ENTRY, event], [event]):
        records = [ev.Recorded(CASE, v, e) for v, e in enumerate(history, 1)]
        state = Dossier()
        for e in history:
            state = evolve(state, e)
            command_of(e)
        rows = case_state.fold(records)
        assert set(rows) <= {CASE}
        episodes: list[suivi.Suivi] = []
        for r in records:
            suivi.evolve(episodes, r)
        fiche = activity.nouveau(CASE)
        for r in records:
            activity.evolve(fiche, r)
        assert fiche.activite.version == len(records)
        cohort.episodes(records)
        assert len(cohort.lignes_evenements("k", records)) <= len(records)


@pytest.mark.parametrize("kind", EVENT_TYPES, ids=lambda k: k.__name__)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_every_fold_folds_every_event_type(kind: type[ev.Evenement], data: st.DataObject) -> None:
    _folds(data.draw(_instances(kind)))


@pytest.mark.parametrize("kind", EVENT_TYPES, ids=lambda k: k.__name__)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_every_step_replays_as_a_command_and_corrections_as_none(
    kind: type[ev.Evenement], data: st.DataObject
) -> None:
    event = data.draw(_instances(kind))
    command = command_of(event)
    assert (command is None) == (kind in ev.CORRECTION_TYPES)
    if command is not None:
        assert type(command) in cmd.STEP_COMMANDS
        assert command.effective_on == event.effective_on


@pytest.mark.parametrize("kind", suivi.IGNORED, ids=lambda k: k.__name__)
@settings(max_examples=5, deadline=None)
@given(data=st.data())
def test_the_events_the_follow_up_ignores_leave_it_as_it_is(
    kind: type[ev.Evenement], data: st.DataObject
) -> None:
    before = suivi.evolve([], ev.Recorded(CASE, 1, ENTRY))
    after = suivi.evolve(
        suivi.evolve([], ev.Recorded(CASE, 1, ENTRY)),
        ev.Recorded(CASE, 2, data.draw(_instances(kind))),
    )
    assert after == before


def _subclasses(kind: type) -> set[type]:
    """The production subclasses of `kind` (a test's own throw-away event types, defined in
    `tests/`, are not the application's)."""
    found = {sub for direct in kind.__subclasses__() for sub in {direct, *_subclasses(direct)}}
    return {sub for sub in found if not sub.__module__.startswith("tests.")}


def test_every_event_class_is_in_the_union_the_log_decodes() -> None:
    assert _subclasses(ev.Evenement) == set(ALL_EVENT_TYPES)
    assert set(EVENT_TYPES) <= set(ALL_EVENT_TYPES)


def test_every_command_class_is_in_a_command_union() -> None:
    assert _subclasses(cmd.Commande) == {*cmd.STEP_COMMANDS, *cmd.CORRECTION_COMMANDS}


def test_every_routed_command_has_its_roles_and_a_example_it_decodes() -> None:
    for step in [ENTREE, *STEPS, *CORRECTIONS]:
        assert msgspec.convert(step.example, step.command).effective_on <= date.today()
    for step in [ENTREE, *STEPS]:
        assert step.slug in STEP_ROLES, f"api/http/access.py: roles of /{step.slug}"
    slugs = [s.slug for s in [ENTREE, *STEPS, *CORRECTIONS]]
    assert len(slugs) == len(set(slugs))


def test_every_step_event_names_the_route_whose_roles_may_correct_it() -> None:
    steps = set(ev.EVENT_TYPES) - set(ev.CORRECTION_TYPES)
    assert set(EVENT_SLUGS) == steps
