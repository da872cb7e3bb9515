"""The rule of a change of the rights-and-duties flag, and the dated automatic-orientation rules."""

from datetime import UTC, date, datetime

import pytest

from domain import commands as c
from domain import events as ev
from domain.decide import Contexte, decide
from domain.dossier import Dossier, fold
from domain.errors import DomainError
from domain.orientation_auto import JEUX, SEINE_ET_MARNE, Situation, en_vigueur, orienter
from domain.vocabulary import ModeOrientation, MotifCloture, OrganismePayeur, TypeOrganisme
from domain.vocabulary import TypeOrientation as T

META = ev.Meta(recorded_at=datetime(2024, 6, 1, tzinfo=UTC), recorded_by="flux-m", request_id="f")
CTX = Contexte(today=date(2024, 6, 1), meta=META)
ENTREE = c.EnregistrerEntree(
    effective_on=date(2024, 1, 3),
    numero_dossier="CAF-1",
    organisme_payeur=OrganismePayeur.CAF,
    date_flux=date(2024, 1, 4),
    date_reception_flux=date(2024, 1, 8),
)


def _case(*commands: c.Commande) -> Dossier:
    state = Dossier()
    for command in commands:
        state = fold(decide(state, command, CTX), state)
    return state


def test_flag_change_is_recorded_and_folded() -> None:
    state = _case(ENTREE)
    change = c.ModifierDroitsDevoirs(effective_on=date(2024, 5, 31), soumis_droits_devoirs=False)
    events = decide(state, change, CTX)
    assert events == [
        ev.DroitsDevoirsModifies(
            effective_on=date(2024, 5, 31), meta=META, soumis_droits_devoirs=False
        )
    ]
    assert fold(events, state).soumis_droits_devoirs is False


def test_flag_change_refused_when_unchanged_before_entry_or_after_closure() -> None:
    state = _case(ENTREE)
    same = c.ModifierDroitsDevoirs(effective_on=date(2024, 5, 31), soumis_droits_devoirs=True)
    with pytest.raises(DomainError) as unchanged:
        decide(state, same, CTX)
    assert (unchanged.value.code, unchanged.value.field) == (
        "droits_devoirs_inchanges",
        "soumis_droits_devoirs",
    )
    early = c.ModifierDroitsDevoirs(effective_on=date(2023, 12, 1), soumis_droits_devoirs=False)
    with pytest.raises(DomainError) as before:
        decide(state, early, CTX)
    assert before.value.code == "date_anterieure"
    closed = _case(ENTREE, c.CloreDroit(effective_on=date(2024, 3, 1), motif=MotifCloture.DECES))
    later = c.ModifierDroitsDevoirs(effective_on=date(2024, 5, 31), soumis_droits_devoirs=False)
    with pytest.raises(DomainError) as clos:
        decide(closed, later, CTX)
    assert clos.value.code == "episode_clos"


def test_rule_set_in_force_by_date() -> None:
    assert en_vigueur(JEUX, date(2019, 12, 31)) is None
    assert en_vigueur(JEUX, date(2020, 1, 1)) is SEINE_ET_MARNE


@pytest.mark.parametrize(
    ("pole_emploi", "departement", "expected"),
    [
        (True, False, (T.PROFESSIONNELLE, TypeOrganisme.FRANCE_TRAVAIL)),
        (True, True, (T.PROFESSIONNELLE, TypeOrganisme.FRANCE_TRAVAIL)),
        (False, True, (T.SOCIALE, TypeOrganisme.DEPARTEMENT)),
        (False, False, None),
    ],
)
def test_seine_et_marne_rules(
    pole_emploi: bool, departement: bool, expected: tuple[T, TypeOrganisme] | None
) -> None:
    on = date(2024, 2, 1)
    command = orienter(SEINE_ET_MARNE, Situation(pole_emploi, departement), on)
    if expected is None:
        assert command is None
        return
    assert command is not None
    assert (command.type_orientation, command.organisme) == expected
    assert (command.mode, command.effective_on) == (ModeOrientation.AUTOMATIQUE, on)
