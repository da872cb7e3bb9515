"""Accompaniments: which structures accompany a person and why (the orientation's structure as
référent, the others as started and ended by the orientation service). Pure rules."""

from datetime import date

import pytest

from domain import commands as c
from domain import events as ev
from domain.dossier import Statut
from domain.vocabulary import (
    MotifCloture,
    ObjetAccompagnement,
    TypeOrganisme,
    TypeOrientation,
    TypeSortie,
)
from tests.unit.test_rules import ENTREE, ORIENTATION, PRO, given, given_from, refused, when

ASC = ObjetAccompagnement.ASC
REFERENT = ObjetAccompagnement.REFERENT
DEBUT = c.DebuterAccompagnement(effective_on=date(2024, 4, 2), structure_id="asso-1", objet=ASC)
FIN = c.TerminerAccompagnement(
    effective_on=date(2024, 9, 30), structure_id="asso-1", objet=ASC, motif="objectifs atteints"
)


def test_the_oriented_structure_accompanies_as_referent_without_an_event() -> None:
    assert given(ENTREE).accompagnants == {}
    assert given(ENTREE, PRO).accompagnants == {"ft-1": frozenset({REFERENT})}


def test_an_accompaniment_started_adds_its_structure_until_it_ends() -> None:
    state = given(ENTREE, PRO)
    [started] = when(state, DEBUT)
    assert started == ev.AccompagnementDebute(
        effective_on=date(2024, 4, 2), meta=started.meta, structure_id="asso-1", objet=ASC
    )
    state = given_from(state, DEBUT)
    assert state.accompagnants == {"ft-1": frozenset({REFERENT}), "asso-1": frozenset({ASC})}
    [ended] = when(state, FIN)
    assert isinstance(ended, ev.AccompagnementTermine)
    assert (ended.structure_id, ended.objet, ended.motif) == ("asso-1", ASC, "objectifs atteints")
    assert given_from(state, FIN).accompagnants == {"ft-1": frozenset({REFERENT})}


def test_the_same_structure_and_purpose_are_not_opened_twice() -> None:
    state = given(ENTREE, PRO, DEBUT)
    refused(state, DEBUT, "accompagnement_en_cours", "structure_id")
    orientation_referent = c.DebuterAccompagnement(
        effective_on=date(2024, 4, 2), structure_id="ft-1", objet=REFERENT
    )
    refused(state, orientation_referent, "accompagnement_en_cours", "structure_id")
    other = c.DebuterAccompagnement(effective_on=date(2024, 4, 2), structure_id="asso-2", objet=ASC)
    assert len(when(state, other)) == 1


def test_only_an_open_accompaniment_ends_and_not_before_it_started() -> None:
    state = given(ENTREE, PRO)
    refused(state, FIN, "accompagnement_non_ouvert", "structure_id")
    by_orientation = c.TerminerAccompagnement(
        effective_on=date(2024, 4, 2), structure_id="ft-1", objet=REFERENT
    )
    refused(state, by_orientation, "accompagnement_non_ouvert", "structure_id")
    state = given_from(state, DEBUT)
    early = c.TerminerAccompagnement(
        effective_on=date(2024, 4, 1), structure_id="asso-1", objet=ASC
    )
    refused(state, early, "date_anterieure", "effective_on")
    refused(given_from(state, FIN), FIN, "accompagnement_non_ouvert", "structure_id")


def test_dates_not_before_the_entry_nor_in_the_future() -> None:
    state = given(ENTREE)
    referent = c.DebuterAccompagnement(
        effective_on=date(2024, 1, 2), structure_id="asso-1", objet=REFERENT
    )
    refused(state, referent, "date_anterieure", "effective_on")
    future = c.DebuterAccompagnement(
        effective_on=date(2025, 1, 1), structure_id="asso-1", objet=REFERENT
    )
    refused(state, future, "date_future", "effective_on")


def test_an_asc_accompaniment_needs_a_current_professional_orientation() -> None:
    refused(given(ENTREE), DEBUT, "orientation_requise", "effective_on")
    refused(given(ENTREE, ORIENTATION), DEBUT, "asc_hors_orientation_professionnelle")
    early = c.DebuterAccompagnement(effective_on=date(2024, 1, 24), structure_id="a", objet=ASC)
    refused(given(ENTREE, PRO), early, "date_anterieure", "effective_on")


@pytest.mark.parametrize(
    "fin",
    [
        c.EnregistrerSortie(effective_on=date(2024, 6, 1), type_sortie=TypeSortie.EMPLOI_CDI),
        c.CloreDroit(effective_on=date(2024, 6, 1), motif=MotifCloture.RESSOURCES_SUPERIEURES),
    ],
)
def test_after_a_sortie_or_a_closure_none_starts_but_one_open_may_end(fin: c.Commande) -> None:
    state = given(ENTREE, PRO, DEBUT, fin)
    assert state.statut in (Statut.SORTI, Statut.CLOS)
    other = c.DebuterAccompagnement(effective_on=date(2024, 6, 2), structure_id="b", objet=ASC)
    refused(state, other, "episode_clos")
    assert len(when(state, FIN)) == 1


def test_a_reorientation_moves_the_referent_and_keeps_the_others_a_new_episode_ends_them() -> None:
    state = given(ENTREE, PRO, DEBUT)
    reorientation = c.DeciderReorientation(
        effective_on=date(2024, 5, 2),
        type_orientation=TypeOrientation.PROFESSIONNELLE,
        organisme=TypeOrganisme.MISSION_LOCALE,
        structure_id="ml-1",
        motif="moins de 26 ans",
    )
    state = given_from(state, reorientation)
    assert state.accompagnants == {"ml-1": frozenset({REFERENT}), "asso-1": frozenset({ASC})}
    state = given_from(
        state,
        c.EnregistrerSortie(effective_on=date(2024, 6, 1), type_sortie=TypeSortie.EMPLOI_CDI),
        c.RouvrirDroit(
            effective_on=date(2024, 7, 1),
            date_flux=date(2024, 7, 2),
            date_reception_flux=date(2024, 7, 3),
        ),
    )
    assert state.accompagnants == {}
    refused(state, FIN, "accompagnement_non_ouvert", "structure_id")
